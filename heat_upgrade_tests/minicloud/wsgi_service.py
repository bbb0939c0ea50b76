"""An OpenStack API served by uwsgi: configured, migrated, registered.

Placement and Glance (and Nova's API next) run the same way on the
mini-cloud: the release's WSGI module under uwsgi
(``keystone.uwsgi_argv``), one configuration file rendered into a
directory the application is pointed at by an environment variable (it
takes no command line), its database migrated by the release's own tool,
its service user and endpoints in Keystone. ``Api`` says what differs;
``WsgiApi`` runs it; ``ApiService`` is its side of the service protocol.
"""

from collections.abc import Callable
import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import fixtures

from heat_upgrade_tests import datafiles
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests import processes


@dataclasses.dataclass(frozen=True)
class Api:
    """What one API is: names, module, configuration, migration.

    ``sync`` is the migration's argv after the venv's ``bin/``, with
    ``{conf}`` for the configuration file; ``release_values(venv, run_dir)``
    adds the template's values that depend on the release or need
    directories made (a paste file in the venv, stores).
    """

    name: str
    module: str
    template: str
    config_dir_env: str
    sync: tuple[str, ...]
    catalog: str
    description: str
    release_values: Callable[[Path, Path], dict[str, Any]] = (
        lambda venv, run_dir: {})

    @property
    def process(self) -> str:
        return f'{self.name}-api'

    @property
    def sync_title(self) -> str:
        """``placement-manage db sync``: the migration, as plans print it."""
        return ' '.join(a for a in self.sync
                        if a not in ('--config-file', '{conf}'))


class WsgiApi(fixtures.Fixture):
    """``api`` of the release in ``venv``: configured, migrated, serving."""

    def __init__(self, api: Api, venv: Path, run_dir: Path, db_url: str,
                 auth_url: str, password: str, host: str, port: int,
                 log_dir: Path, start_timeout: float = 120):
        super().__init__()
        self.api = api
        self.venv = Path(venv)
        self.run_dir = Path(run_dir)
        self.db_url = db_url
        self.auth_url = auth_url
        self.password = password
        self.host = host
        self.port = port
        self.log_dir = Path(log_dir)
        self.start_timeout = start_timeout
        self.conf_file = self.run_dir / api.template
        self.process: processes.ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f'http://{self.host}:{self.port}'

    def _setUp(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.addCleanup(self.stop)
        self.db_sync()
        self.start()

    def _configure(self, venv: Path) -> None:
        """The configuration file, for ``venv`` (rendered at each use)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        datafiles.render_template(self.api.template, self.conf_file, {
            'log_file': self.log_dir / f'{self.api.process}.log',
            'db_url': self.db_url,
            'keystone_url': keystone.base_url(self.auth_url),
            'password': self.password,
            'lock_path': self.run_dir / 'lock',
            **self.api.release_values(venv, self.run_dir),
        })

    def db_sync(self, venv: Path | None = None) -> str:
        """The migration of ``venv`` (default: the running release's)."""
        venv = Path(venv or self.venv)
        self._configure(venv)
        tool, *args = self.api.sync
        processes.run(
            [venv / 'bin' / tool,
             *(a.format(conf=self.conf_file) for a in args)],
            self.log_dir / f'{tool}.log',
            f'{venv.name} {self.api.sync_title}',
            timeout=max(self.start_timeout, 300))
        return f'{self.api.name} database migrated by {venv.name}'

    def start(self, venv: Path | None = None) -> None:
        """The API of ``venv`` (default: as before), until it answers."""
        if venv is not None:
            self.venv = Path(venv)
        if self.process is not None:
            return
        self._configure(self.venv)
        process = processes.ManagedProcess(
            self.api.process, keystone.uwsgi_argv(
                self.venv, self.api.module, self.host, self.port,
                workers=1),
            self.log_dir / f'{self.api.process}-uwsgi.log',
            env={self.api.config_dir_env: str(self.run_dir)},
            term_leader_only=True)
        process.setUp()
        self.process = process
        process.wait_ready(lambda: keystone.http_ok(self.url + '/'),
                           self.start_timeout,
                           f'{self.api.process} to answer on {self.url}')

    def stop(self) -> None:
        """Stop the API (bounded); the cleanup does it anyway."""
        running, self.process = self.process, None
        if running is not None:
            processes.stop_all([running])


class ApiService(service.Service):
    """A service that is one ``WsgiApi`` (its ``api``), with a database."""

    api: ClassVar[Api]
    has_database = True

    @property
    def _port(self) -> int:
        return self.cloud.opts[self.port_options[0]]

    def start(self, release, process=None, instance=None, bus=None) -> str:
        cloud = self.cloud
        self.serve(release, lambda: WsgiApi(
            self.api, release.venv, cloud.run_dir / self.name, self.db_url,
            cloud.auth_url, cloud.password(self.name), cloud.host,
            self._port, cloud.log_dir,
            start_timeout=cloud.opts.service_timeout))
        return f'{self.name} at {self.url}'

    def migrate(self, release) -> str:
        return self.server.db_sync(release.venv)

    def register(self) -> None:
        cloud = self.cloud
        keystone.register_service(
            cloud.auth_url, cloud.password('admin'), self.name,
            cloud.password(self.name), self.name, self.api.catalog,
            self.api.description, self.url)

    @property
    def url(self) -> str:
        return f'http://{self.cloud.host}:{self._port}'

    def running(self):
        server = self.server
        return [server.process] if server and server.process else []
