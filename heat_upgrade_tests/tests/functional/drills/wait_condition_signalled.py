"""wait_condition_signalled: the handle's signal data is wiped."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.db("UPDATE resource SET rsrc_metadata = '{}' WHERE id = %s",
          tb.resource_row('handle'))


DRILL = drills.Drill(
    check='wait_condition_signalled',
    fault='the handle\'s metadata (the signal data) is emptied in Heat\'s '
          'database while Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect='outputs after the upgrade differ',
    inject=inject)
