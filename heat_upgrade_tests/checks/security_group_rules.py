"""A security group's rules changed after the upgrade, seen in Neutron."""

from heat_upgrade_tests.checks import base


@base.register
class SecurityGroupRules(base.ResourceCheck):
    name = 'security_group_rules'
    idempotent_id = '3f7a1c9e-8b2d-4e60-a4f5-1c6b9d0e2a87'
    description = ('An OS::Neutron::SecurityGroup with one tcp rule from '
                   'parameters; the update after the upgrade changes the '
                   'rule\'s port and remote prefix.')
    template = 'security_group_rules.yaml'
    required_services = ('network',)
    required_resource_types = ('OS::Neutron::SecurityGroup',)
    proves = {
        'during-upgrade': 'with Heat down, Neutron has the group with its '
                          'one tcp rule as made',
        'post-upgrade': 'the same group; an update replaces the rule with '
                        'one of another port and prefix, and Neutron has '
                        'exactly that rule',
        'destroy': 'the group is gone from Neutron',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'port': 22, 'remote': '192.0.2.0/24'})

    def verify(self, ctx, record):
        self.verify_rules(ctx, record.outputs['group_id'],
                          record.parameters)

    def verify_outside_heat(self, ctx, record):
        self.verify(ctx, record)

    def verify_rules(self, ctx, group_id, params):
        group = ctx.conn.network.find_security_group(group_id,
                                                     ignore_missing=True)
        if group is None:
            self.fail('the security group is gone from Neutron')
        rules = sorted(
            (r['protocol'], r['port_range_min'], r['port_range_max'],
             r['remote_ip_prefix'])
            for r in group.security_group_rules
            if r['direction'] == 'ingress')
        port = int(params['port'])
        self.assert_equal([('tcp', port, port, params['remote'])], rules,
                          'the ingress rules of the group in Neutron')

    def update(self, ctx, record):
        """Another port and prefix; Neutron has exactly the new rule."""
        parameters = {'port': 443, 'remote': '198.51.100.0/24'}
        outputs = self.update_stack(ctx, record, parameters)
        self.assert_equal(record.outputs, outputs,
                          'the group id after the update (replaced)')
        self.verify_rules(ctx, outputs['group_id'],
                          dict(record.parameters, **parameters))
