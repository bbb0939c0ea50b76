"""autoscaling_signal: the scaling policy's stack user is deleted."""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='autoscaling_signal',
    fault='the scaling policy\'s stack user is deleted in Keystone, behind '
          'Heat\'s back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='of the scaling policy is gone from Keystone',
    inject=lambda tb: tb.admin.identity.delete_user(
        tb.record['stack_user']))
