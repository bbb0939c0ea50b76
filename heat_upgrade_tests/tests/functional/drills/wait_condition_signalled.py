"""wait_condition_signalled: the handle's signal data is wiped."""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='wait_condition_signalled',
    fault='the handle\'s metadata (the signal data) is emptied in Heat\'s '
          'database while Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect='the signal data in the handle\'s metadata',
    inject=lambda tb: tb.set_metadata('handle', {}))
