"""The one protocol every service of the mini-cloud implements.

A plan says ``start: swift@new``, ``stop: heat-engine@old#2``, ``migrate:
keystone@new``; the plan runner looks the service up in ``services.
REGISTRY`` and calls the same three methods whatever it is. A service is
one module under ``minicloud/`` with one ``Service`` subclass, its keys in
``upgrade/releases.yaml`` (how it installs, its release in each series),
its port options in ``config.py`` and its steps in the plans that upgrade
it (``doc/source/adding-a-service.rst``).
"""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar, TYPE_CHECKING

import fixtures

from heat_upgrade_tests import exceptions
from heat_upgrade_tests import processes

if TYPE_CHECKING:  # the cloud holds its services; no import at run time
    from heat_upgrade_tests.minicloud import cloud as cloud_mod


class Release:
    """One installed release of a service: its series, version and venv."""

    def __init__(self, service: str, series: str, version: str, venv: Path,
                 tree: Path | None = None):
        self.service = service
        self.series = series
        self.version = version
        self.venv = Path(venv)
        # A source tree installed in development mode (the patch under
        # review), or None for a release from PyPI.
        self.tree = Path(tree) if tree is not None else None

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self.service!r}, {self.series!r}, '
                f'{self.version!r})')

    @property
    def label(self) -> str:
        """``2026.2 (30.0.0)``: how plans and steps print it."""
        return f'{self.series} ({self.version})'

    @property
    def key(self) -> str:
        """Names its processes and logs; unique within one run."""
        return self.series if self.tree is None else f'{self.series}-src'

    def bin(self, name: str) -> Path:
        """The path of one of the release's executables."""
        return self.venv / 'bin' / name


class Service:
    """A service of the mini-cloud, as the plans and the cloud see it.

    The class attributes say what the plans may do with it; the methods do
    it. ``start`` and ``stop`` take the process a plan step names
    (``heat-api``, or the service's own name for all of its processes),
    its ``instance`` (``#2``) and ``bus`` where the service has those; a
    service of one process ignores them.
    """

    # Its name in plans and releases.yaml.
    name: ClassVar[str]
    # How a plan prints it (``Swift``).
    title: ClassVar[str]
    # The names plan steps may give its processes (default: its name).
    process_names: ClassVar[tuple[str, ...]] = ()
    # Printed for ``migrate`` (``neutron-db-manage upgrade heads``); None:
    # no database, a plan cannot migrate it.
    migrate_tool: ClassVar[str | None] = None
    # The ``[minicloud]`` options of its ports, checked free before a run.
    port_options: ClassVar[tuple[str, ...]] = ()
    # Started with the mini-cloud, of the release the plan starts it as
    # (False: the plans start it, like Heat).
    starts_with_cloud: ClassVar[bool] = True
    # Of a release (releases.yaml names one per series); False: the
    # machine's binaries (MariaDB, RabbitMQ), for the whole run.
    versioned: ClassVar[bool] = True
    # A database of its own in the run's MariaDB, named after it
    # (``db_url`` once prepared).
    has_database: ClassVar[bool] = False
    # A user of its own on the run's RabbitMQ, named after it
    # (``transport_url()`` once prepared).
    uses_bus: ClassVar[bool] = False
    # Part of the compute workload: run only with ``[minicloud] compute``.
    compute: ClassVar[bool] = False

    def __init__(self, cloud: 'cloud_mod.MiniCloud'):
        self.cloud = cloud
        # The fixture running it (the services with one), once started.
        self.server: fixtures.Fixture | None = None
        self.db_url: str | None = None

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return cls.process_names or (cls.name,)

    def prepare(self) -> None:
        """Its database and bus user, before any start.

        As ``has_database`` and ``uses_bus`` say; a service writing a
        configuration of its own extends it (``super().prepare()`` first).
        """
        cloud = self.cloud
        if self.has_database:
            self.db_url = cloud.db.create_database(
                self.name, self.name, cloud.password(f'db_{self.name}'))
        if self.uses_bus:
            cloud.rabbit.add_user(self.name, self._bus_password())

    def transport_url(self, vhost: str = '/') -> str:
        """Its oslo.messaging URL on the run's RabbitMQ (``vhost``)."""
        return self.cloud.rabbit.transport_url(self.name,
                                               self._bus_password(), vhost)

    def _bus_password(self) -> str:
        return self.cloud.password(f'rabbit_{self.name}')

    def start(self, release: Release | None, process: str | None = None,
              instance: int | None = None, bus: str | None = None) -> str:
        """Start it (again, of ``release``); what the step prints."""
        raise NotImplementedError

    def stop(self, release: Release | None = None,
             process: str | None = None,
             instance: int | None = None) -> str:
        """Stop it, bounded; what the step prints."""
        self.server.stop()
        return ''

    def migrate(self, release: Release) -> str:
        """Migrate its database with ``release``'s tool; what it says."""
        raise exceptions.MiniCloudError(f'{self.name} has no database')

    def register(self) -> None:
        """Its users, services and endpoints in Keystone, once it is up."""

    @property
    def url(self) -> str | None:
        """Where it serves (its API), or None."""
        return None

    def running(self) -> Sequence[processes.ManagedProcess]:
        """Its running processes (told to stop at the end of a run)."""
        return ()

    def serve(self, release: Release,
              make: Callable[[], fixtures.Fixture]) -> None:
        """Start the service's fixture, or start it again as ``release``.

        The first start uses the fixture ``make`` builds (the cloud cleans
        it up); a later one (after ``stop``: an upgrade) serves the same
        data and configuration from ``release``'s venv.
        """
        if self.server is None:
            self.server = processes.use(self.cloud, make())
            return
        self.server.venv = release.venv
        self.server.start()
