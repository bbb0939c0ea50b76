"""A server serving HTTP, probed with every API down (gate only).

The point of an upgrade test for a deployer: the workload keeps running.
With every API down, the server is probed through its floating IP on the
data plane only (an HTTP GET with a timeout, as curl -m would); with Heat
down, the server and its port are found through Nova and Neutron.
"""

from heat_upgrade_tests.checks import _gate
from heat_upgrade_tests.checks import base

BOOT_BOUND = 300


@base.register
class ServerHttp(base.ResourceCheck):
    name = 'server_http'
    idempotent_id = 'fc92e1ee-00da-486c-97f9-d6cc1ff3aa77'
    description = ('An OS::Nova::Server (CirrOS) on a network, subnet, '
                   'router and security group of its own, with a floating '
                   'IP; its user_data serves HTTP on port 80.')
    template = 'server_http.yaml'
    required_services = ('compute', 'network', 'image')
    required_resource_types = ('OS::Nova::Server', 'OS::Neutron::FloatingIP')
    proves = {
        'pre-upgrade': 'the server answers HTTP on its floating IP with '
                       'the message of its user_data',
        'during-upgrade': 'with Heat down, Nova has the server ACTIVE and '
                          'Neutron its port in the security group',
        'no-api': 'with every API down, the server still answers HTTP',
        'post-upgrade': 'the same outputs; an update changes the security '
                        'group\'s description in Neutron, in place; the '
                        'server still answers',
        'destroy': 'the server is gone from Nova',
    }

    def url(self, record):
        return f'http://{record.outputs["floating_ip"]}/'

    def create(self, ctx, record):
        self.create_stack(ctx, record,
                          dict(_gate.server_parameters(ctx.conn),
                               message=f'hut-{ctx.run_id}'))

    def verify(self, ctx, record):
        self.verify_http(record, BOOT_BOUND)

    def verify_http(self, record, bound):
        message = record.parameters['message']
        body = _gate.wait_http(self.url(record), message, bound)
        if body is None or message not in body:
            self.fail(f'the server does not answer HTTP at '
                      f'{self.url(record)} with {message!r} (got '
                      f'{body!r})')

    def verify_outside_heat(self, ctx, record):
        outputs = record.outputs
        server = ctx.conn.compute.find_server(outputs['server_id'],
                                              ignore_missing=True)
        if server is None:
            self.fail(f'server {outputs["server_id"]} is gone from Nova')
        self.assert_equal('ACTIVE', server.status, 'the server\'s status')
        port = ctx.conn.network.find_port(outputs['port_id'],
                                          ignore_missing=True)
        if port is None:
            self.fail(f'port {outputs["port_id"]} is gone from Neutron')
        if outputs['security_group_id'] not in port.security_group_ids:
            self.fail('the port is no longer in the security group')

    def verify_data_plane(self, ctx, record):
        self.verify_http(record, 60)

    def update(self, ctx, record):
        """Redescribe the group; Neutron has it; the server still answers."""
        outputs = self.update_stack(
            ctx, record, {'sg_description': 'updated after the upgrade'})
        self.assert_equal(record.outputs, outputs, 'outputs after the '
                          'update (something was replaced)')
        group = ctx.conn.network.get_security_group(
            outputs['security_group_id'])
        self.assert_equal('updated after the upgrade', group.description,
                          'the security group\'s description in Neutron')
        self.verify_http(record, 60)
