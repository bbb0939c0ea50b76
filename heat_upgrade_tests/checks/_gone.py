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
    and ``kind`` name it for people (``network``, ``port``). ``admin``:
    looked up as the admin (Keystone's objects); otherwise as the stack's
    owner, whose own objects some services show only to it (a Swift
    container in its account, a keypair of its user).
    """

    service: str
    kind: str
    find: Callable[[Any, str], Any]
    admin: bool = False


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


def _keystone(kind: str) -> Lookup:
    """Keystone's ``kind``, found by the admin (``find_<kind>``)."""
    return Lookup('identity', kind, _finder('identity', f'find_{kind}'),
                  admin=True)


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
    **{f'OS::Keystone::{kind.title()}': _keystone(kind) for kind in (
        'project', 'user', 'group', 'role', 'domain', 'region', 'service',
        'endpoint')},
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


def left_behind(conn, admin_conn, resources: list[Made],
                table: dict[str, Lookup] | None = None) -> list[str]:
    """What of ``resources`` its own service still has, for people.

    ``conn`` is the stack owner's, ``admin_conn`` the admin's (None: the
    owner's is used for every lookup).
    """
    table = TABLE if table is None else table
    left = []
    for resource in resources:
        lookup = table[resource.type]
        asking = admin_conn if lookup.admin and admin_conn else conn
        if lookup.find(asking, resource.physical_id) is not None:
            left.append(f'{resource} in {lookup.service}')
    return left
