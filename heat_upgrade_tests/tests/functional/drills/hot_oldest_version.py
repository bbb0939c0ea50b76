"""hot_oldest_version: the TestResource's stored value is changed."""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='hot_oldest_version',
    fault='the value the TestResource stored is overwritten in Heat\'s '
          'database while Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect='outputs after the upgrade differ',
    inject=lambda tb: tb.set_resource_data('test', 'value', 'tampered'))
