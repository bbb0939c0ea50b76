"""values_and_outputs: its RandomString is removed from Heat's database."""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='values_and_outputs',
    fault='the RandomString\'s rows are deleted from Heat\'s database while '
          'Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect='outputs after the upgrade differ',
    inject=lambda tb: tb.remove_resource('random'))
