"""Glance for the mini-cloud: the images Nova boots, in a file store.

The real Glance of a series (PyPI), served as devstack serves it:
``glance.wsgi.api:application`` under uwsgi, configured through
``OS_GLANCE_CONFIG_DIR``, on the run's MariaDB, its images in a file store
under the run's directory; no message bus. The database is migrated by
the release's own ``glance-manage db_sync``.
"""

from pathlib import Path

import fixtures

from heat_upgrade_tests import datafiles
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests import processes

SERVICE_USER = 'glance'


class Glance(fixtures.Fixture):
    """Glance's API of the release in ``venv``, under uwsgi."""

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
        self.conf_file = self.run_dir / 'glance-api.conf'
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
        """glance-api.conf for ``venv`` (its paste file is its own)."""
        stores = {name: self.run_dir / name
                  for name in ('images', 'staging', 'tasks')}
        for path in stores.values():
            path.mkdir(parents=True, exist_ok=True)
        datafiles.render_template('glance-api.conf', self.conf_file, {
            'log_file': self.log_dir / 'glance-api.log',
            'db_url': self.db_url,
            'keystone_url': keystone.base_url(self.auth_url),
            'password': self.password,
            'lock_path': self.run_dir / 'lock',
            'images_dir': stores['images'],
            'staging_dir': stores['staging'],
            'tasks_dir': stores['tasks'],
            'paste_file': venv / 'etc' / 'glance' / 'glance-api-paste.ini',
        })

    def db_sync(self, venv: Path | None = None) -> str:
        """``glance-manage db_sync`` of ``venv`` (default: the running)."""
        venv = Path(venv or self.venv)
        self._configure(venv)
        processes.run(
            [venv / 'bin' / 'glance-manage', '--config-file',
             str(self.conf_file), 'db_sync'],
            self.log_dir / 'glance-manage.log',
            f'{venv.name} glance-manage db_sync',
            timeout=max(self.start_timeout, 300))
        return f'glance database synced by {venv.name}'

    def start(self, venv: Path | None = None) -> None:
        """The API of ``venv`` (default: as before), until it answers."""
        if venv is not None:
            self.venv = Path(venv)
        if self.process is not None:
            return
        self._configure(self.venv)
        process = processes.ManagedProcess(
            'glance-api', keystone.uwsgi_argv(
                self.venv, 'glance.wsgi.api:application', self.host,
                self.port, workers=1),
            self.log_dir / 'glance-api-uwsgi.log',
            env={'OS_GLANCE_CONFIG_DIR': str(self.run_dir)},
            term_leader_only=True)
        process.setUp()
        self.process = process
        process.wait_ready(lambda: keystone.http_ok(self.url + '/'),
                           self.start_timeout,
                           f'glance-api to answer on {self.url}')

    def stop(self) -> None:
        """Stop the API (bounded); the cleanup does it anyway."""
        running, self.process = self.process, None
        if running is not None:
            processes.stop_all([running])


class GlanceService(service.Service):
    """Glance's API: the images Nova boots."""

    name = 'glance'
    title = 'Glance'
    migrate_tool = 'glance-manage db_sync'
    port_options = ('glance_port',)
    has_database = True
    compute = True

    def start(self, release, process=None, instance=None, bus=None) -> str:
        cloud = self.cloud
        self.serve(release, lambda: Glance(
            release.venv, cloud.run_dir / 'glance', self.db_url,
            cloud.auth_url, cloud.password(SERVICE_USER), cloud.host,
            cloud.opts.glance_port, cloud.log_dir,
            start_timeout=cloud.opts.service_timeout))
        return f'glance at {self.url}'

    def migrate(self, release) -> str:
        return self.server.db_sync(release.venv)

    def register(self) -> None:
        cloud = self.cloud
        keystone.register_service(
            cloud.auth_url, cloud.password('admin'),
            SERVICE_USER, cloud.password(SERVICE_USER), 'glance', 'image',
            'Glance Image Service', self.url)

    @property
    def url(self) -> str:
        return f'http://{self.cloud.host}:{self.cloud.opts.glance_port}'

    def running(self):
        server = self.server
        return [server.process] if server and server.process else []
