"""keystone_project: the project's description is changed in Keystone."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.admin.identity.update_project(tb.record['outputs']['project_id'],
                                     description='tampered')


DRILL = drills.Drill(
    check='keystone_project',
    fault='the project\'s description is changed in Keystone, behind '
          'Heat\'s back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='the project\'s description in Keystone',
    inject=inject)
