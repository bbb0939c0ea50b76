"""What a stack made outside Heat, and whether its service still has it.

Not a check (its name starts with ``_``). The destroy phase lists the
stack's resources (nested stacks included) before it deletes the stack,
then looks each one of a type of ``TABLE`` up in its own service, never
through Heat: anything still there is named, with its type, its name in
the template, its id and the service holding it. One table for every
check, so a check's ``verify_gone`` is left what the table cannot see (a
stack user, a software config, a Swift container made by a signal
handle).

Types left out, on purpose: Heat's own (nested stacks, software configs,
values, random strings: Heat's database, watched by the leak count of the
run) and the links whose physical id names no object of their own
(router interfaces, role assignments, volume attachments: they go with
what they link).
"""

from collections.abc import Callable
import dataclasses
from typing import Any

import openstack

# Deep enough for the catalogue's nesting (a group of template resources
# inside a stack resource).
NESTED_DEPTH = 5


@dataclasses.dataclass(frozen=True)
class Lookup:
    """How one resource type is found in its own service.

    ``find(conn, physical_id)`` returns the object or None; ``service``
    and ``kind`` name it for people (``network``, ``port``).
    """

    service: str
    kind: str
    find: Callable[[Any, str], Any]


def _swift_container(conn, name: str) -> Any:
    try:
        return conn.object_store.get_container_metadata(name)
    except openstack.exceptions.NotFoundException:
        return None


def _finder(proxy: str, method: str) -> Callable[[Any, str], Any]:
    def find(conn, physical_id: str) -> Any:
        return getattr(getattr(conn, proxy), method)(physical_id,
                                                     ignore_missing=True)
    return find


TABLE: dict[str, Lookup] = {
    'OS::Neutron::Net': Lookup('network', 'network',
                               _finder('network', 'find_network')),
    'OS::Neutron::Subnet': Lookup('network', 'subnet',
                                  _finder('network', 'find_subnet')),
    'OS::Neutron::Port': Lookup('network', 'port',
                                _finder('network', 'find_port')),
    'OS::Neutron::Router': Lookup('network', 'router',
                                  _finder('network', 'find_router')),
    'OS::Neutron::FloatingIP': Lookup('network', 'floating IP',
                                      _finder('network', 'find_ip')),
    'OS::Neutron::SecurityGroup': Lookup(
        'network', 'security group',
        _finder('network', 'find_security_group')),
    'OS::Nova::Server': Lookup('compute', 'server',
                               _finder('compute', 'find_server')),
    'OS::Nova::KeyPair': Lookup('compute', 'keypair',
                                _finder('compute', 'find_keypair')),
    'OS::Nova::ServerGroup': Lookup('compute', 'server group',
                                    _finder('compute', 'find_server_group')),
    'OS::Cinder::Volume': Lookup('volume', 'volume',
                                 _finder('block_storage', 'find_volume')),
    'OS::Swift::Container': Lookup('object-store', 'container',
                                   _swift_container),
    'OS::Keystone::Project': Lookup('identity', 'project',
                                    _finder('identity', 'find_project')),
    'OS::Keystone::User': Lookup('identity', 'user',
                                 _finder('identity', 'find_user')),
    'OS::Keystone::Group': Lookup('identity', 'group',
                                  _finder('identity', 'find_group')),
    'OS::Keystone::Role': Lookup('identity', 'role',
                                 _finder('identity', 'find_role')),
    'OS::Keystone::Domain': Lookup('identity', 'domain',
                                   _finder('identity', 'find_domain')),
    'OS::Keystone::Region': Lookup('identity', 'region',
                                   _finder('identity', 'find_region')),
    'OS::Keystone::Service': Lookup('identity', 'service',
                                    _finder('identity', 'find_service')),
    'OS::Keystone::Endpoint': Lookup('identity', 'endpoint',
                                     _finder('identity', 'find_endpoint')),
}


@dataclasses.dataclass(frozen=True)
class Made:
    """One resource the stack made: its type, template name, physical id."""

    type: str
    name: str
    physical_id: str

    def __str__(self) -> str:
        return f'{self.type} {self.name} ({self.physical_id})'


def made(stacks, stack_id: str,
         table: dict[str, Lookup] | None = None) -> list[Made]:
    """The stack's resources of a type of ``table``, nested ones included.

    Asked of Heat (``stacks``: the context's ``StackOps``) before the
    delete: after it, Heat no longer lists them. A resource that never
    got a physical id made nothing; a stack Heat no longer has lists
    nothing.
    """
    table = TABLE if table is None else table
    return [Made(r['resource_type'], r['resource_name'],
                 r['physical_resource_id'])
            for r in stacks.resources(stack_id, NESTED_DEPTH) or []
            if r.get('resource_type') in table and
            r.get('physical_resource_id')]


def left_behind(conn, resources: list[Made],
                table: dict[str, Lookup] | None = None) -> list[str]:
    """What of ``resources`` its own service still has, for people.

    ``conn`` should be the admin's where the check has one: Keystone's
    objects are the admin's to see, and a member sees its own.
    """
    table = TABLE if table is None else table
    left = []
    for resource in resources:
        lookup = table[resource.type]
        if lookup.find(conn, resource.physical_id) is not None:
            left.append(f'{resource} in {lookup.service}')
    return left
