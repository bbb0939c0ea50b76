"""keystone_objects: the user is taken out of its group in Keystone."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    outputs = tb.record['outputs']
    tb.admin.identity.remove_user_from_group(outputs['user_id'],
                                             outputs['group_id'])


DRILL = drills.Drill(
    check='keystone_objects',
    fault='the user is removed from the group in Keystone, behind Heat\'s '
          'back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='is no longer in group',
    inject=inject)
