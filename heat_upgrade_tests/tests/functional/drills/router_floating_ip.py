"""router_floating_ip: the floating IP is taken off its port in Neutron."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.admin.network.update_ip(tb.record['outputs']['floating_ip_id'],
                               port_id=None)


DRILL = drills.Drill(
    check='router_floating_ip',
    fault='the floating IP is disassociated from its port in Neutron, '
          'behind Heat\'s back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='the port the floating IP is on',
    inject=inject)
