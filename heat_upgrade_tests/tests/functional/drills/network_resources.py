"""network_resources: the port is deleted in Neutron."""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='network_resources',
    fault='the port is deleted in Neutron, behind Heat\'s back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='is gone from Neutron',
    inject=lambda tb: tb.admin.network.delete_port(
        tb.record['outputs']['port_id']))
