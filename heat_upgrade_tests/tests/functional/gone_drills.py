"""Drills of the destroy phase's table of what a stack makes (``_gone``).

For each resource type of the table whose service the mini-cloud runs, an
object of that type is made directly in its service (never through Heat),
as a stack's leftover would be; the table's lookup must name it, and must
no longer name it once it is deleted. Types whose service the mini-cloud
lacks (Cinder; Nova without the compute part) are recorded with that
reason and drilled where the service runs. Run once the new Heat is up
(the cloud is complete); the results are asserted by
``test_gone_drills``.
"""

import traceback
import uuid

from heat_upgrade_tests.checks import _gone
from heat_upgrade_tests.checks import _workload
from heat_upgrade_tests import clients
from heat_upgrade_tests.minicloud import neutron

# A server's delete, waited for before its network goes.
SERVER_GONE_TIMEOUT = 120
# What ``_workload.server_parameters`` reads: no [cloud] image, so the
# mini-cloud's guest (by its property).
_NO_IMAGE_OPTION = type('Conf', (), {'cloud': type('Cloud', (), {
    'image': None})()})()

# type -> {'named': the leftover line, 'after_delete': lines once deleted,
# 'skipped': why not drilled, 'error': a traceback}
RESULTS: dict[str, dict] = {}


def _network(conn, tag):
    net = conn.network.create_network(name=f'hut-gone-{tag}')
    return net, [lambda: conn.network.delete_network(net)]


def _subnet(conn, tag):
    net, undo = _network(conn, tag)
    subnet = conn.network.create_subnet(
        network_id=net.id, ip_version=4, cidr='10.251.0.0/24',
        name=f'hut-gone-{tag}')
    return subnet, [lambda: conn.network.delete_subnet(subnet)] + undo


def _port(conn, tag):
    net, undo = _network(conn, tag)
    port = conn.network.create_port(network_id=net.id,
                                    name=f'hut-gone-{tag}')
    return port, [lambda: conn.network.delete_port(port)] + undo


def _floating_ip(conn, tag):
    public = conn.network.find_network(neutron.PUBLIC_NET)
    ip = conn.network.create_ip(floating_network_id=public.id)
    return ip, [lambda: conn.network.delete_ip(ip)]


def _simple(make, delete):
    def create(conn, tag):
        made = make(conn, f'hut-gone-{tag}')
        return made, [lambda: delete(conn, made)]
    return create


def _endpoint(conn, tag):
    service = conn.identity.create_service(type=f'hut-gone-{tag}',
                                           name=f'hut-gone-{tag}')
    endpoint = conn.identity.create_endpoint(
        service_id=service.id, interface='public',
        url=f'http://hut-gone.invalid/{tag}')
    return endpoint, [lambda: conn.identity.delete_endpoint(endpoint),
                      lambda: conn.identity.delete_service(service)]


def _server(conn, tag):
    """A server of the run-time guest on a network of its own.

    Nova's delete returns before the server is gone: the undo waits for
    it (bounded), so that its port and network can go.
    """
    net, undo = _subnet(conn, tag)
    params = _workload.server_parameters(conn, _NO_IMAGE_OPTION)
    server = conn.compute.create_server(
        name=f'hut-gone-{tag}', image_id=params['image'],
        flavor_id=params['flavor'], networks=[{'uuid': net.network_id}])

    def delete():
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=SERVER_GONE_TIMEOUT)
    return server, [delete] + undo


def _container(conn, tag):
    name = f'hut-gone-{tag}'
    conn.object_store.create_container(name=name)
    made = type('Container', (), {'id': name})()
    return made, [lambda: conn.object_store.delete_container(name)]


CREATORS = {
    'OS::Neutron::Net': _network,
    'OS::Neutron::Subnet': _subnet,
    'OS::Neutron::Port': _port,
    'OS::Neutron::Router': _simple(
        lambda c, n: c.network.create_router(name=n),
        lambda c, o: c.network.delete_router(o)),
    'OS::Neutron::FloatingIP': _floating_ip,
    'OS::Neutron::SecurityGroup': _simple(
        lambda c, n: c.network.create_security_group(name=n),
        lambda c, o: c.network.delete_security_group(o)),
    'OS::Swift::Container': _container,
    'OS::Nova::Server': _server,
    'OS::Nova::KeyPair': _simple(
        lambda c, n: c.compute.create_keypair(name=n),
        lambda c, o: c.compute.delete_keypair(o)),
    'OS::Nova::ServerGroup': _simple(
        lambda c, n: c.compute.create_server_group(
            name=n, policy='soft-anti-affinity'),
        lambda c, o: c.compute.delete_server_group(o)),
    'OS::Keystone::Project': _simple(
        lambda c, n: c.identity.create_project(name=n, domain_id='default'),
        lambda c, o: c.identity.delete_project(o)),
    'OS::Keystone::User': _simple(
        lambda c, n: c.identity.create_user(name=n, domain_id='default'),
        lambda c, o: c.identity.delete_user(o)),
    'OS::Keystone::Group': _simple(
        lambda c, n: c.identity.create_group(name=n, domain_id='default'),
        lambda c, o: c.identity.delete_group(o)),
    'OS::Keystone::Role': _simple(
        lambda c, n: c.identity.create_role(name=n),
        lambda c, o: c.identity.delete_role(o)),
    # Disabled: Keystone deletes no enabled domain.
    'OS::Keystone::Domain': _simple(
        lambda c, n: c.identity.create_domain(name=n, is_enabled=False),
        lambda c, o: c.identity.delete_domain(o)),
    'OS::Keystone::Region': _simple(
        lambda c, n: c.identity.create_region(id=n),
        lambda c, o: c.identity.delete_region(o)),
    'OS::Keystone::Service': _simple(
        lambda c, n: c.identity.create_service(type=n, name=n),
        lambda c, o: c.identity.delete_service(o)),
    'OS::Keystone::Endpoint': _endpoint,
}


def drill(conn, type_name: str) -> dict:
    """Make one object of ``type_name``; is it named, then not?"""
    lookup = _gone.TABLE[type_name]
    if not clients.has_service(conn, lookup.service):
        return {'skipped': f'needs the {lookup.service} service, not in '
                           f'the mini-cloud\'s catalog'}
    tag = uuid.uuid4().hex[:8]
    made, undo = CREATORS[type_name](conn, tag)
    leftover = [_gone.Made(type_name, 'drill', made.id)]
    try:
        named = _gone.left_behind(conn, conn, leftover)
    finally:
        for step in undo:
            step()
    return {'named': named, 'id': made.id,
            'after_delete': _gone.left_behind(conn, conn, leftover)}


class GoneDrills:
    """The drill set (see ``scenario.DRILL_SETS``)."""

    def __init__(self, results: dict):
        self.results = results

    def post_upgrade(self, plan):
        conn = plan.cloud.admin_connection()
        for type_name in _gone.TABLE:
            try:
                RESULTS[type_name] = drill(conn, type_name)
            except Exception:
                RESULTS[type_name] = {'error': traceback.format_exc()}

    def hooks(self):
        return {'post-upgrade': self.post_upgrade}
