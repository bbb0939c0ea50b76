"""update_rollback: the TestResource's stored value is changed."""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='update_rollback',
    fault='the value the TestResource stored is overwritten in Heat\'s '
          'database while Heat is down, so what a rollback must restore '
          'is no longer what pre-upgrade recorded',
    moment='heat-down', phase='post-upgrade',
    expect='outputs after the upgrade differ',
    inject=lambda tb: tb.set_resource_data('test', 'value', 'tampered'))
