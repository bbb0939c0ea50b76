"""A server serving HTTP through its floating IP, probed with every API down.

The point of an upgrade test for a deployer: the workload keeps running.
With every API down, the server is probed through its floating IP on the
data plane only (an HTTP GET with a timeout, as curl -m would), from the
mini-cloud's namespace on its external network, or from devstack's host;
with Heat down, the server and its port are found through Nova and
Neutron. Where the guest writes a heartbeat to its console (the
mini-cloud's run-time guest; CirrOS does not), the boot id it reports
must stay the one pre-upgrade saw: the server was never rebooted or
rebuilt.
"""

import dataclasses
import re

from heat_upgrade_tests.checks import _workload
from heat_upgrade_tests.checks import base

# How long a server may take to answer: the first time (it may still be
# booting; CirrOS in the gate under TCG takes minutes), and once it has
# answered (an answer then is a server that kept running).
BOOT_BOUND = 300
SERVING_BOUND = 60
# The run-time guest's heartbeat line (installs/guest.py).
HEARTBEAT = re.compile(r'hut-heartbeat boot_id=([0-9a-f-]+) '
                       r'uptime=([0-9.]+)')


def last_heartbeat(console: str) -> tuple[str, float] | None:
    """The boot id and uptime of the console's last heartbeat, if any."""
    found = HEARTBEAT.findall(console or '')
    if not found:
        return None
    boot_id, uptime = found[-1]
    return boot_id, float(uptime)


@dataclasses.dataclass
class ServerRecord(base.CheckRecord):
    # The guest's boot id pre-upgrade read on its console ('' where the
    # guest writes no heartbeat: CirrOS), and its uptime then.
    boot_id: str = ''
    uptime: float = 0.0


@base.register
class ServerHttp(base.ResourceCheck):
    name = 'server_http'
    idempotent_id = 'fc92e1ee-00da-486c-97f9-d6cc1ff3aa77'
    description = ('An OS::Nova::Server on a network, subnet, router and '
                   'security group of its own, with a floating IP; its '
                   'user_data serves HTTP on port 80.')
    template = 'server_http.yaml'
    required_services = ('compute', 'network', 'image')
    required_resource_types = ('OS::Nova::Server', 'OS::Neutron::FloatingIP')
    record_type = ServerRecord
    proves = {
        'pre-upgrade': 'the server answers HTTP on its floating IP with '
                       'the message of its user_data',
        'during-upgrade': 'with Heat down, Nova has the server ACTIVE and '
                          'Neutron its port in the security group',
        'no-api': 'with every API down, the server still answers HTTP',
        'post-upgrade': 'the same outputs and the same boot of the guest; '
                        'an update changes the security group\'s '
                        'description in Neutron, in place; the server '
                        'still answers',
        'destroy': 'the server, its port, floating IP, router, network '
                   'and security group are gone',
    }

    def url(self, record):
        return f'http://{record.outputs["floating_ip"]}/'

    def create(self, ctx, record):
        self.create_stack(ctx, record,
                          dict(_workload.server_parameters(ctx.conn,
                                                           ctx.conf),
                               message=f'hut-{ctx.run_id}'))

    def verify(self, ctx, record):
        """Nova has it ACTIVE; it answers HTTP; the same boot of its guest.

        Nova first: a server gone from Nova fails at once, rather than
        after the HTTP bound.
        """
        self.verify_server_active(ctx, record)
        self.verify_http(ctx, record,
                         SERVING_BOUND if record.boot_id else BOOT_BOUND)
        self.verify_same_boot(ctx, record)

    def verify_http(self, ctx, record, bound):
        message = record.parameters['message']
        body = _workload.wait_http(self.url(record), message, bound,
                                   namespace=ctx.conf.cloud.probe_namespace)
        if body is None or message not in body:
            self.fail(f'the server does not answer HTTP at '
                      f'{self.url(record)} with {message!r} (got '
                      f'{body!r})')

    def verify_same_boot(self, ctx, record):
        """The guest's heartbeat: recorded first, then the same boot id.

        Read through Nova's console API. A guest writing no heartbeat
        (CirrOS) has nothing recorded and nothing compared.
        """
        console = ctx.conn.compute.get_server_console_output(
            record.outputs['server_id'], length=50)['output']
        beat = last_heartbeat(console)
        if not record.boot_id:
            if beat is not None:
                record.boot_id, record.uptime = beat
            return
        if beat is None:
            self.fail(f'server {record.outputs["server_id"]} writes no '
                      f'heartbeat on its console any more (boot '
                      f'{record.boot_id} wrote one)')
        self.assert_equal(record.boot_id, beat[0],
                          'the guest\'s boot id (a new one: the server '
                          'was rebooted or rebuilt)')

    def verify_server_active(self, ctx, record):
        server_id = record.outputs['server_id']
        server = ctx.conn.compute.find_server(server_id, ignore_missing=True)
        if server is None:
            self.fail(f'server {server_id} is gone from Nova')
        self.assert_equal('ACTIVE', server.status, 'the server\'s status')

    def verify_outside_heat(self, ctx, record):
        outputs = record.outputs
        self.verify_server_active(ctx, record)
        port = ctx.conn.network.find_port(outputs['port_id'],
                                          ignore_missing=True)
        if port is None:
            self.fail(f'port {outputs["port_id"]} is gone from Neutron')
        if outputs['security_group_id'] not in port.security_group_ids:
            self.fail('the port is no longer in the security group')

    def verify_data_plane(self, ctx, record):
        self.verify_http(ctx, record, SERVING_BOUND)

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
        self.verify_http(ctx, record, SERVING_BOUND)
