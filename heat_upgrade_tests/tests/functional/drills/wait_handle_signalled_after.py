"""wait_handle_signalled_after: the handle's stack user is deleted."""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='wait_handle_signalled_after',
    fault='the handle\'s stack user is deleted in Keystone, behind Heat\'s '
          'back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='of the wait condition handle is gone from Keystone',
    inject=lambda tb: tb.admin.identity.delete_user(
        tb.record['stack_user']))
