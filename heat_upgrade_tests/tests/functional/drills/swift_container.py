"""swift_container: the object is deleted in Swift."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.member.object_store.delete_object(
        'upgrade-probe', container=tb.record['outputs']['name'])


DRILL = drills.Drill(
    check='swift_container',
    fault='the object the check put in the container is deleted in '
          'Swift, behind Heat\'s back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='is gone from Swift',
    inject=inject)
