"""events_and_metadata: an event of the create is deleted."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.db('DELETE FROM event WHERE stack_id = %s ORDER BY id LIMIT 1',
          tb.stack_id)


DRILL = drills.Drill(
    check='events_and_metadata',
    fault='the first event of the stack is deleted from Heat\'s database '
          'while Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect='the events of before the upgrade',
    inject=inject)
