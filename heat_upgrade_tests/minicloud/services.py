"""The registry of the mini-cloud's services: the one list of them.

In the order they start: MariaDB and RabbitMQ (the machine's binaries, for
the whole run; with the compute part, Open vSwitch with OVN, and
libvirt), then Keystone and the services that start with the cloud
(the compute part, Placement, Glance and Nova, only with ``[minicloud]
compute``), then Heat (the plans start it). Adding a service is a module
with one ``service.Service`` subclass, and its line here.
"""

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.minicloud import glance
from heat_upgrade_tests.minicloud import heat
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import libvirt
from heat_upgrade_tests.minicloud import mariadb
from heat_upgrade_tests.minicloud import neutron
from heat_upgrade_tests.minicloud import nova
from heat_upgrade_tests.minicloud import ovn
from heat_upgrade_tests.minicloud import placement
from heat_upgrade_tests.minicloud import rabbitmq
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests.minicloud import swift

REGISTRY: dict[str, type[service.Service]] = {cls.name: cls for cls in (
    mariadb.MariaDBService,
    rabbitmq.RabbitMQService,
    ovn.OVNService,
    libvirt.LibvirtService,
    keystone.KeystoneService,
    swift.SwiftService,
    neutron.NeutronService,
    placement.PlacementService,
    glance.GlanceService,
    nova.NovaService,
    heat.HeatService,
)}


def of_process(name: str) -> type[service.Service]:
    """The service a plan's process name belongs to (``heat-api``: Heat)."""
    for cls in REGISTRY.values():
        if name in cls.names():
            return cls
    raise exceptions.MiniCloudError(f'no service runs {name!r}')


def process_names() -> tuple[str, ...]:
    """Every name a plan step may give a process, in start order."""
    return tuple(n for cls in REGISTRY.values() if cls.versioned
                 for n in cls.names())


def with_cloud(compute: bool = False) -> tuple[str, ...]:
    """The versioned services started with the cloud (Keystone first).

    The compute part (``Service.compute``) only with ``compute``.
    """
    return tuple(name for name, cls in REGISTRY.items()
                 if cls.versioned and cls.starts_with_cloud and
                 (compute or not cls.compute))


def migratable() -> tuple[str, ...]:
    """The services a plan may migrate (those with a database)."""
    return tuple(name for name, cls in REGISTRY.items()
                 if cls.migrate_tool is not None)


def port_options(compute: bool = True) -> tuple[str, ...]:
    """The ``[minicloud]`` port options of the services.

    All of them by default; without ``compute``, those of the services a
    run without the compute part runs.
    """
    return tuple(opt for cls in REGISTRY.values()
                 if compute or not cls.compute
                 for opt in cls.port_options)
