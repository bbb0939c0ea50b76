"""A router with an interface and a floating IP, found in Neutron.

Neutron's API and database only: no L3 agent runs on the mini-cloud, so
the router forwards nothing and the floating IP answers nothing; what is
proved is that the objects, and their links, survive the upgrade.
"""

from heat_upgrade_tests.checks import base
from heat_upgrade_tests import exceptions


@base.register
class RouterFloatingIp(base.ResourceCheck):
    name = 'router_floating_ip'
    idempotent_id = '9b2c4e71-3d8f-4a6e-b5c1-7e0d2f9a8c34'
    description = ('OS::Neutron::Router with a gateway on the external '
                   'network, a RouterInterface on a subnet, and an '
                   'OS::Neutron::FloatingIP on a port of that subnet.')
    template = 'router_floating_ip.yaml'
    required_services = ('network',)
    required_resource_types = ('OS::Neutron::Router',
                               'OS::Neutron::FloatingIP')
    proves = {
        'during-upgrade': 'with Heat down, Neutron has the router with '
                          'its gateway and interface, and the floating IP '
                          'on the port',
        'post-upgrade': 'the same ids; an update renames the router in '
                        'Neutron, in place',
        'destroy': 'the router and the floating IP are gone from Neutron',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, self._parameters(ctx))

    def _parameters(self, ctx):
        """The create's: the first external network, the router's name."""
        public = list(ctx.conn.network.networks(is_router_external=True))
        if not public:
            raise exceptions.CheckSkipped('no external network for the '
                                          'router\'s gateway')
        return {'public_net': public[0].id,
                'router_name': f'hut-router-{ctx.run_id}'}

    def verify(self, ctx, record):
        self.verify_outside_heat(ctx, record)

    def verify_outside_heat(self, ctx, record):
        network = ctx.conn.network
        ids = record.outputs
        router = network.find_router(ids['router_id'], ignore_missing=True)
        if router is None:
            self.fail(f'router made by stack {record.stack.name} is gone '
                      f'from Neutron')
        gateway = (router.external_gateway_info or {}).get('network_id')
        self.assert_equal(record.parameters['public_net'], gateway,
                          'the router\'s gateway network')
        interfaces = [p for p in network.ports(device_id=router.id)
                      if any(ip['subnet_id'] == ids['subnet_id']
                             for ip in p.fixed_ips)]
        if not interfaces:
            self.fail('the router has no interface on the subnet any more')
        fip = network.find_ip(ids['floating_ip_id'], ignore_missing=True)
        if fip is None:
            self.fail('the floating IP is gone from Neutron')
        self.assert_equal(ids['port_id'], fip.port_id,
                          'the port the floating IP is on')
        self.assert_equal(ids['floating_ip_address'],
                          fip.floating_ip_address, 'the floating IP')

    def update(self, ctx, record):
        """Rename the router; Neutron has the new name, in place."""
        outputs = self.update_stack(
            ctx, record, {'router_name': f'hut-router-{ctx.run_id}-renamed'})
        self.assert_equal(record.outputs, outputs,
                          'ids after the update (objects were replaced)')
        self.assert_equal(f'hut-router-{ctx.run_id}-renamed',
                          ctx.conn.network.get_router(
                              outputs['router_id']).name,
                          'the router\'s name in Neutron')
        self.verify_outside_heat(ctx, record)
