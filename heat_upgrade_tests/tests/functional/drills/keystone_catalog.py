"""keystone_catalog: the endpoint is deleted in Keystone."""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='keystone_catalog',
    fault='the endpoint is deleted in Keystone, behind Heat\'s back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='is gone from Keystone',
    inject=lambda tb: tb.admin.identity.delete_endpoint(
        tb.record['outputs']['endpoint_id']))
