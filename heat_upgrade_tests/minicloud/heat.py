"""Heat releases of the mini-cloud: configuration, schema, engine, API.

Each release runs from its own venv. Both releases read the same
``heat.conf`` (the deployment's settings survive the upgrade, as on a real
cloud) followed by a per-release file pointing into that release's venv
(api-paste.ini, environment.d, templates).

Heat 25 and later ship no ``heat-api`` script (``heat-wsgi-api`` is a
development server), so the API of every release is served the same way:
uwsgi with ``heat.wsgi.api:application``, which exists in 24.1.2 to
27.0.1. ``heat-engine`` runs as a process of its own.
"""

from pathlib import Path

import fixtures

from heat_upgrade_tests import datafiles
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import venvs
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests import processes
from heat_upgrade_tests import releases

ENGINE_READY_LINE = 'Starting engine_worker'
# Each engine worker process logs ENGINE_READY_LINE once it listens.
DEFAULT_ENGINE_WORKERS = 2


class HeatRelease:
    """One installed Heat release: its series, version and venv."""

    def __init__(self, series: str, version: str, venv: Path,
                 tree: Path | None = None):
        self.series = series
        self.version = version
        self.venv = Path(venv)
        # A source tree installed in development mode (the patch under
        # review), or None for a release from PyPI.
        self.tree = Path(tree) if tree is not None else None

    def __repr__(self) -> str:
        return f'HeatRelease({self.series!r}, {self.version!r})'

    @property
    def label(self) -> str:
        return f'heat {self.version} ({self.series})'

    @property
    def bin_dir(self) -> Path:
        return self.venv / 'bin'

    def bin(self, name: str) -> Path:
        """The path of one of the release's executables."""
        return self.bin_dir / name

    @property
    def etc_dir(self) -> Path:
        """Where pip put api-paste.ini, environment.d and templates.

        A development install may leave the data files in the tree: then
        the tree's ``etc/heat`` serves.
        """
        installed = self.venv / 'etc' / 'heat'
        if self.tree is not None and not (
                installed / 'api-paste.ini').is_file():
            return self.tree / 'etc' / 'heat'
        return installed

    @property
    def key(self) -> str:
        """Names its processes and logs; unique within one run."""
        return self.series if self.tree is None else f'{self.series}-src'


def requirements(series: releases.Series) -> list[str]:
    """What the venv of ``series``' Heat holds (pins come separately)."""
    return [f'openstack-heat=={series.heat_version}', 'PyMySQL', 'pyuwsgi']


def ensure_release(series: releases.Series, cache_dir: Path,
                   log_file: Path, timeout: float = 900) -> HeatRelease:
    """Build (or reuse) the venv of ``series``' Heat; return the release."""
    venv = venvs.ensure_venv(cache_dir, f'heat-{series.name}',
                             requirements(series), series.heat_constraints,
                             log_file, timeout=timeout)
    return HeatRelease(series.name, series.heat_version, venv)


def render_heat_conf(path: Path, *, transport_url: str, db_url: str,
                     auth_url: str, host: str, api_port: int,
                     heat_password: str, domain_admin_password: str,
                     cfn_port: int = 8000, region: str = keystone.REGION,
                     num_engine_workers: int = DEFAULT_ENGINE_WORKERS,
                     debug: bool = False) -> Path:
    """Write the deployment's heat.conf (mode 0600), shared by releases.

    ``auth_url`` is Keystone's, with or without ``/v3``. The CloudFormation
    API is registered and named in the metadata URLs but not run.
    """
    keystone_url = auth_url.rstrip('/')
    if keystone_url.endswith('/v3'):
        keystone_url = keystone_url[:-len('/v3')]
    path = Path(path)
    return datafiles.render_template('heat.conf', path, {
        'debug': str(bool(debug)).lower(),
        'transport_url': transport_url,
        'db_url': db_url,
        'region': region,
        'stack_domain': keystone.STACK_DOMAIN,
        'stack_domain_admin': keystone.STACK_DOMAIN_ADMIN,
        'domain_admin_password': domain_admin_password,
        'num_engine_workers': num_engine_workers,
        'cfn_url': f'http://{host}:{cfn_port}',
        'heat_url': f'http://{host}:{api_port}',
        'keystone_url': keystone_url,
        'heat_password': heat_password,
        'lock_path': path.parent / 'lock',
    })


def render_release_conf(path: Path, release: HeatRelease) -> Path:
    """Write the per-release file read after heat.conf."""
    if not (release.etc_dir / 'api-paste.ini').is_file():
        raise exceptions.MiniCloudError(
            f'{release.label}: no api-paste.ini in {release.etc_dir}')
    return datafiles.render_template('heat-release.conf', Path(path),
                                     {'etc_dir': release.etc_dir})


def _config_args(config_files: list[Path]) -> list[str]:
    args = []
    for path in config_files:
        args += ['--config-file', str(path)]
    return args


def _manage(release: HeatRelease, config_files: list[Path], command: str,
            log_file: Path, timeout: float) -> str:
    return processes.run(
        [release.bin('heat-manage'), *_config_args(config_files), command],
        log_file, f'{release.label} heat-manage {command}', timeout=timeout)


def db_sync(release: HeatRelease, config_files: list[Path], log_file: Path,
            timeout: float = 300) -> str:
    """Migrate the schema with the release's heat-manage; return its head.

    The migrations' output goes to ``log_file``.
    """
    _manage(release, config_files, 'db_sync', log_file, timeout)
    return db_version(release, config_files, log_file, timeout)


def db_version(release: HeatRelease, config_files: list[Path],
               log_file: Path, timeout: float = 120) -> str:
    """The schema revision the database is at, as the release sees it."""
    out = _manage(release, config_files, 'db_version', log_file, timeout)
    lines = out.strip().splitlines()
    if not lines:
        raise exceptions.MiniCloudError(
            f'{release.label} heat-manage db_version printed nothing; '
            f'see {log_file}')
    return lines[-1].strip()


class HeatEngine(fixtures.Fixture):
    """The release's ``heat-engine``, with its own log file.

    Ready once each of its ``workers`` processes has logged "Starting
    engine_worker"; fails early if the process exits. A graceful stop
    takes 10-12 s: Heat waits for its threads.
    """

    def __init__(self, release: HeatRelease, config_files: list[Path],
                 log_dir: Path, workers: int = DEFAULT_ENGINE_WORKERS,
                 start_timeout: float = 120, stop_timeout: float = 60,
                 instance: int = 1):
        super().__init__()
        self.release = release
        self.config_files = [Path(p) for p in config_files]
        self.log_dir = Path(log_dir)
        self.workers = workers
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.instance = instance
        self.stem = _stem('heat-engine', release, instance)
        self.log_file = self.log_dir / f'{self.stem}.log'
        self.process: processes.ManagedProcess | None = None
        self._log_offset = 0
        # The virtual host it was moved to (None: heat.conf's).
        self.bus: str | None = None

    def _setUp(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # Only what this start logs counts: the file may hold older runs.
        self._log_offset = _size(self.log_file)
        argv = [self.release.bin('heat-engine'),
                *_config_args(self.config_files),
                '--log-file', self.log_file]
        self.process = processes.use(self, processes.ManagedProcess(
            f'{self.release.label} {self.stem}', argv,
            self.log_dir / f'{self.stem}.out',
            stop_timeout=self.stop_timeout))
        self.process.wait_ready(
            self._ready, self.start_timeout,
            f'{self.release.label} heat-engine to start its workers')

    def _ready(self) -> bool:
        return _count_in_log(self.log_file, self._log_offset,
                             ENGINE_READY_LINE) >= self.workers

    def terminate(self) -> None:
        """SIGTERM only: ``stop`` then waits (processes.stop_all)."""
        if self.process is not None:
            self.process.terminate()

    def stop(self) -> None:
        """Stop the engine (SIGTERM, bounded wait, then SIGKILL)."""
        if self.process is not None:
            self.process.stop()


class HeatApi(fixtures.Fixture):
    """The release's Heat API, ``heat.wsgi.api:application`` under uwsgi.

    The configuration files reach Heat through ``--pyargv`` and an
    explicit ``--log-file``: with only ``log_dir``, the log file gets a
    nonsense name under uwsgi. Ready when ``GET /`` lists the versions.
    """

    def __init__(self, release: HeatRelease, config_files: list[Path],
                 host: str, port: int, log_dir: Path, workers: int = 2,
                 start_timeout: float = 120, stop_timeout: float = 30,
                 instance: int = 1):
        super().__init__()
        self.release = release
        self.config_files = [Path(p) for p in config_files]
        self.host = host
        self.port = port
        self.log_dir = Path(log_dir)
        self.workers = workers
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.instance = instance
        self.stem = _stem('heat-api', release, instance)
        self.log_file = self.log_dir / f'{self.stem}.log'
        self.process: processes.ManagedProcess | None = None
        self.bus: str | None = None

    @property
    def url(self) -> str:
        return f'http://{self.host}:{self.port}'

    def _setUp(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        pyargv = [*_config_args(self.config_files),
                  '--log-file', str(self.log_file)]
        if any(any(c.isspace() for c in arg) for arg in pyargv):
            # uwsgi splits --pyargv at blanks.
            raise exceptions.MiniCloudError(
                f'paths with blanks cannot be passed to heat-api: {pyargv}')
        argv = keystone.uwsgi_argv(self.release.venv,
                                   'heat.wsgi.api:application', self.host,
                                   self.port, self.workers, pyargv=pyargv)
        self.process = processes.use(self, processes.ManagedProcess(
            f'{self.release.label} {self.stem}', argv,
            self.log_dir / f'{self.stem}-uwsgi.log',
            stop_timeout=self.stop_timeout, term_leader_only=True))
        self.process.wait_ready(
            lambda: keystone.http_ok(self.url + '/'), self.start_timeout,
            f'{self.release.label} heat-api to answer on {self.url}')

    def terminate(self) -> None:
        """SIGTERM only: ``stop`` then waits (processes.stop_all)."""
        if self.process is not None:
            self.process.terminate()

    def stop(self) -> None:
        """Stop serving (SIGTERM, bounded wait, then SIGKILL)."""
        if self.process is not None:
            self.process.stop()


def _stem(service: str, release: HeatRelease, instance: int) -> str:
    """``heat-engine-2026.2`` (``-2`` for a further process): log names."""
    return f'{service}-{release.key}' + (
        f'-{instance}' if instance != 1 else '')


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _count_in_log(path: Path, offset: int, needle: str) -> int:
    try:
        with open(path, 'rb') as f:
            f.seek(offset)
            return f.read().decode(errors='replace').count(needle)
    except FileNotFoundError:
        return 0
