"""Placement for the mini-cloud: where Nova's scheduler finds room.

The real Placement of a series (PyPI), served as devstack serves it:
``placement.wsgi.api:application`` under uwsgi, configured through
``OS_PLACEMENT_CONFIG_DIR`` (the application takes no command line), on
the run's MariaDB; no message bus. nova-compute reports its inventory
here and the scheduler asks it where a server fits. The database is
migrated by the release's own ``placement-manage db sync``.
"""

from pathlib import Path

import fixtures

from heat_upgrade_tests import datafiles
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests import processes

SERVICE_USER = 'placement'


class Placement(fixtures.Fixture):
    """Placement's API of the release in ``venv``, under uwsgi."""

    def __init__(self, venv: Path, run_dir: Path, db_url: str,
                 auth_url: str, password: str, host: str, port: int,
                 log_dir: Path, start_timeout: float = 120):
        super().__init__()
        self.venv = Path(venv)
        self.run_dir = Path(run_dir)
        self.db_url = db_url
        self.auth_url = auth_url
        self.password = password
        self.host = host
        self.port = port
        self.log_dir = Path(log_dir)
        self.start_timeout = start_timeout
        self.conf_file = self.run_dir / 'placement.conf'
        self.process: processes.ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f'http://{self.host}:{self.port}'

    def _setUp(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        datafiles.render_template('placement.conf', self.conf_file, {
            'log_file': self.log_dir / 'placement-api.log',
            'db_url': self.db_url,
            'keystone_url': keystone.base_url(self.auth_url),
            'password': self.password,
            'lock_path': self.run_dir / 'lock',
        })
        self.addCleanup(self.stop)
        self.db_sync()
        self.start()

    def db_sync(self, venv: Path | None = None) -> str:
        """``placement-manage db sync`` of ``venv`` (default: the running)."""
        venv = Path(venv or self.venv)
        processes.run(
            [venv / 'bin' / 'placement-manage', '--config-file',
             str(self.conf_file), 'db', 'sync'],
            self.log_dir / 'placement-manage.log',
            f'{venv.name} placement-manage db sync',
            timeout=max(self.start_timeout, 300))
        return f'placement database synced by {venv.name}'

    def start(self, venv: Path | None = None) -> None:
        """The API of ``venv`` (default: as before), until it answers."""
        if venv is not None:
            self.venv = Path(venv)
        if self.process is not None:
            return
        process = processes.ManagedProcess(
            'placement-api', keystone.uwsgi_argv(
                self.venv, 'placement.wsgi.api:application', self.host,
                self.port, workers=1),
            self.log_dir / 'placement-api-uwsgi.log',
            env={'OS_PLACEMENT_CONFIG_DIR': str(self.run_dir)},
            term_leader_only=True)
        process.setUp()
        self.process = process
        process.wait_ready(lambda: keystone.http_ok(self.url + '/'),
                           self.start_timeout,
                           f'placement-api to answer on {self.url}')

    def stop(self) -> None:
        """Stop the API (bounded); the cleanup does it anyway."""
        running, self.process = self.process, None
        if running is not None:
            processes.stop_all([running])


class PlacementService(service.Service):
    """Placement's API, for Nova's scheduler and compute."""

    name = 'placement'
    title = 'Placement'
    migrate_tool = 'placement-manage db sync'
    port_options = ('placement_port',)
    has_database = True
    compute = True

    def start(self, release, process=None, instance=None, bus=None) -> str:
        cloud = self.cloud
        self.serve(release, lambda: Placement(
            release.venv, cloud.run_dir / 'placement', self.db_url,
            cloud.auth_url, cloud.password(SERVICE_USER), cloud.host,
            cloud.opts.placement_port, cloud.log_dir,
            start_timeout=cloud.opts.service_timeout))
        return f'placement at {self.url}'

    def migrate(self, release) -> str:
        return self.server.db_sync(release.venv)

    def register(self) -> None:
        cloud = self.cloud
        keystone.register_service(
            cloud.auth_url, cloud.password('admin'),
            SERVICE_USER, cloud.password(SERVICE_USER), 'placement',
            'placement', 'Placement', self.url)

    @property
    def url(self) -> str:
        return f'http://{self.cloud.host}:{self.cloud.opts.placement_port}'

    def running(self):
        server = self.server
        return [server.process] if server and server.process else []
