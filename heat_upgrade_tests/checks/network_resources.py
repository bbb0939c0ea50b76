"""Networks, subnets, ports and security groups, found in Neutron with
Heat down."""

from heat_upgrade_tests.checks import base


@base.register
class NetworkResources(base.ResourceCheck):
    name = 'network_resources'
    idempotent_id = '1879eec3-f0c5-404b-8fbf-cdc9d8d5dda6'
    description = ('OS::Neutron::Net, Subnet, SecurityGroup (tcp/22 and '
                   'icmp rules) and a Port in that group.')
    template = 'network_resources.yaml'
    required_services = ('network',)
    required_resource_types = ('OS::Neutron::Port',)
    proves = {
        'during-upgrade': 'with Heat down, Neutron has the network, the '
                          'subnet, the group with its two rules and the '
                          'port in the group',
        'post-upgrade': 'the same ids; an update renames the port and '
                        'changes the group\'s description in Neutron, in '
                        'place',
        'destroy': 'every object is gone from Neutron',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record,
                          {'description': 'made before the upgrade',
                           'port_name': f'hut-{ctx.run_id}'})

    def verify(self, ctx, record):
        self.verify_outside_heat(ctx, record)

    def verify_outside_heat(self, ctx, record):
        network = ctx.conn.network
        ids = record.outputs
        found = {'network': network.find_network(ids['net_id'],
                                                 ignore_missing=True),
                 'subnet': network.find_subnet(ids['subnet_id'],
                                               ignore_missing=True),
                 'security group': network.find_security_group(
                     ids['security_group_id'], ignore_missing=True),
                 'port': network.find_port(ids['port_id'],
                                           ignore_missing=True)}
        for kind, obj in found.items():
            if obj is None:
                self.fail(f'{kind} made by stack {record.stack.name} '
                          f'is gone from Neutron')
        protocols = sorted(r['protocol'] for r in
                           found['security group'].security_group_rules
                           if r['direction'] == 'ingress')
        self.assert_equal(['icmp', 'tcp'], protocols,
                          'ingress rules of the security group')
        if ids['security_group_id'] not in found['port'].security_group_ids:
            self.fail('the port is no longer in the security group')

    def update(self, ctx, record):
        """Rename the port, redescribe the group; Neutron has both."""
        outputs = self.update_stack(
            ctx, record, {'description': 'updated after the upgrade',
                          'port_name': f'hut-{ctx.run_id}-renamed'})
        self.assert_equal(record.outputs, outputs,
                          'ids after the update (objects were replaced)')
        network = ctx.conn.network
        self.assert_equal(f'hut-{ctx.run_id}-renamed',
                          network.get_port(outputs['port_id']).name,
                          'the port\'s name in Neutron')
        self.assert_equal('updated after the upgrade',
                          network.get_security_group(
                              outputs['security_group_id']).description,
                          'the group\'s description in Neutron')
