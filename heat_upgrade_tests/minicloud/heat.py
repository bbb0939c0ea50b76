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
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests import processes

ENGINE_READY_LINE = 'Starting engine_worker'
# Each engine worker process logs ENGINE_READY_LINE once it listens.
DEFAULT_ENGINE_WORKERS = 2


class HeatRelease(service.Release):
    """One installed Heat release: its series, version and venv."""

    def __init__(self, series: str, version: str, venv: Path,
                 tree: Path | None = None):
        super().__init__('heat', series, version, venv, tree)

    def __repr__(self) -> str:
        return f'HeatRelease({self.series!r}, {self.version!r})'

    @property
    def label(self) -> str:
        return f'heat {self.version} ({self.series})'

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
    keystone_url = keystone.base_url(auth_url)
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


class _HeatProcess(fixtures.Fixture):
    """One process of a Heat release (heat-engine, heat-api), its own log.

    ``terminate`` sends SIGTERM only, so that several processes stop
    together (``processes.stop_all``); ``stop`` waits, bounded, then
    SIGKILLs.
    """

    kind = ''

    def __init__(self, release: HeatRelease, config_files: list[Path],
                 log_dir: Path, workers: int, start_timeout: float,
                 stop_timeout: float, instance: int):
        super().__init__()
        self.release = release
        self.config_files = [Path(p) for p in config_files]
        self.log_dir = Path(log_dir)
        self.workers = workers
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.instance = instance
        self.stem = _stem(self.kind, release, instance)
        self.log_file = self.log_dir / f'{self.stem}.log'
        self.process: processes.ManagedProcess | None = None
        # The virtual host it was moved to (None: heat.conf's).
        self.bus: str | None = None

    def terminate(self) -> None:
        """SIGTERM only: ``stop`` then waits (processes.stop_all)."""
        if self.process is not None:
            self.process.terminate()

    def stop(self) -> None:
        """Stop it (SIGTERM, bounded wait, then SIGKILL)."""
        if self.process is not None:
            self.process.stop()


class HeatEngine(_HeatProcess):
    """The release's ``heat-engine``, with its own log file.

    Ready once each of its ``workers`` processes has logged "Starting
    engine_worker"; fails early if the process exits. A graceful stop
    takes 10-12 s: Heat waits for its threads.
    """

    kind = 'heat-engine'

    def __init__(self, release: HeatRelease, config_files: list[Path],
                 log_dir: Path, workers: int = DEFAULT_ENGINE_WORKERS,
                 start_timeout: float = 120, stop_timeout: float = 60,
                 instance: int = 1):
        super().__init__(release, config_files, log_dir, workers,
                         start_timeout, stop_timeout, instance)
        self._log_offset = 0

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


class HeatApi(_HeatProcess):
    """The release's Heat API, ``heat.wsgi.api:application`` under uwsgi.

    The configuration files reach Heat through ``--pyargv`` and an
    explicit ``--log-file``: with only ``log_dir``, the log file gets a
    nonsense name under uwsgi. Ready when ``GET /`` lists the versions.
    """

    kind = 'heat-api'

    def __init__(self, release: HeatRelease, config_files: list[Path],
                 host: str, port: int, log_dir: Path, workers: int = 2,
                 start_timeout: float = 120, stop_timeout: float = 30,
                 instance: int = 1):
        super().__init__(release, config_files, log_dir, workers,
                         start_timeout, stop_timeout, instance)
        self.host = host
        self.port = port

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


class HeatService(service.Service):
    """Heat: any number of heat-api and heat-engine, each of a release.

    Every release reads the same ``heat.conf`` (the deployment's settings
    survive an upgrade) and a per-release file; a process started on a
    ``bus`` reads a third file moving it to a RabbitMQ virtual host of its
    own (Heat's rolling upgrade). The plans start it; it is registered in
    Keystone when the cloud starts.
    """

    name = 'heat'
    title = 'Heat'
    process_names = ('heat', 'heat-api', 'heat-engine')
    migrate_tool = 'db_sync'
    port_options = ('heat_api_port',)
    starts_with_cloud = False
    has_database = True
    uses_bus = True

    def __init__(self, cloud):
        super().__init__(cloud)
        self.conf_file = cloud.run_dir / 'etc' / 'heat' / 'heat.conf'
        # (process, release key, instance) -> its running fixture.
        self.processes: dict[tuple[str, str, int], fixtures.Fixture] = {}
        self.api: HeatApi | None = None
        self.engine: HeatEngine | None = None
        # The Heat the phases talk to (heat-manage of it, for the hooks).
        self.release: HeatRelease | None = None
        # Heat version -> the schema its db_sync left.
        self.db_versions: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f'http://{self.cloud.host}:{self.cloud.opts.heat_api_port}'

    @property
    def cfn_url(self) -> str:
        return f'http://{self.cloud.host}:{self.cloud.opts.heat_cfn_port}'

    def prepare(self) -> None:
        """Its database and bus user, then the deployment's heat.conf."""
        super().prepare()
        cloud = self.cloud
        render_heat_conf(
            self.conf_file, transport_url=self.transport_url(),
            db_url=self.db_url, auth_url=cloud.auth_url, host=cloud.host,
            api_port=cloud.opts.heat_api_port,
            heat_password=cloud.password('heat'),
            domain_admin_password=cloud.password('domain_admin'),
            cfn_port=cloud.opts.heat_cfn_port)

    def register(self) -> None:
        cloud = self.cloud
        keystone.register_heat(
            cloud.auth_url, cloud.password('admin'), cloud.password('heat'),
            cloud.password('domain_admin'), self.url, self.cfn_url)

    # -- configuration ------------------------------------------------------
    def config_files(self, release: HeatRelease,
                     bus: str | None = None) -> list[Path]:
        release_conf = self.conf_file.parent / \
            f'release-{release.key}-{release.version}.conf'
        if not release_conf.exists():
            render_release_conf(release_conf, release)
        files = [self.conf_file, release_conf]
        if bus is not None:
            files.append(self.bus_conf(bus))
        return files

    def bus_conf(self, bus: str) -> Path:
        """A third config file moving a process to its own virtual host.

        Heat's rolling upgrade runs the new engines and API on a RabbitMQ
        virtual host of their own (``heat-BUS``), created here with the
        same user; the file holds the password, so it is mode 0600.
        """
        path = self.conf_file.parent / f'bus-{bus}.conf'
        if not path.exists():
            vhost = f'heat-{bus}'
            self.cloud.rabbit.add_vhost(vhost)
            self.cloud.rabbit.add_user(self.name, self._bus_password(),
                                       vhost)
            datafiles.write_private(
                path, f'[DEFAULT]\ntransport_url = '
                      f'{self.transport_url(vhost)}\n')
        return path

    # -- the protocol -------------------------------------------------------
    def migrate(self, release: HeatRelease) -> str:
        """``heat-manage db_sync`` of ``release``; the schema it left."""
        files = self.config_files(release)
        log = self.cloud.log_dir / f'heat-manage-{release.key}.log'
        db_sync(release, files, log)
        version = db_version(release, files, log)
        self.db_versions[release.version] = version
        return f'schema at {version}'

    def start(self, release: HeatRelease, process: str | None = None,
              instance: int | None = None, bus: str | None = None) -> str:
        """heat-engine, heat-api or both (``heat``) of ``release``."""
        process = process or 'heat'
        started = []
        if process in ('heat', 'heat-engine'):
            engine = self.start_engine(release, instance or 1, bus)
            started.append(engine.stem)
        if process in ('heat', 'heat-api'):
            api = self.start_api(release, instance or 1, bus)
            started.append(f'{api.stem} on {api.url}')
        if bus:
            started.append(f'on virtual host heat-{bus}')
        return ', '.join(started)

    def stop(self, release: HeatRelease | None = None,
             process: str | None = None,
             instance: int | None = None) -> str:
        stopped = self.stop_processes(
            None if process in (None, 'heat') else process, release,
            instance)
        return f'stopped {", ".join(stopped) or "nothing"}'

    def running(self):
        return list(self.processes.values())

    # -- Heat's processes, any number of each release -----------------------
    def api_port(self, instance: int = 1) -> int:
        """heat-api #1 serves the registered port; #N ten ports per N up."""
        return self.cloud.opts.heat_api_port + 10 * (instance - 1)

    def start_engine(self, release: HeatRelease, instance: int = 1,
                     bus: str | None = None) -> 'HeatEngine':
        key = ('heat-engine', release.key, instance)
        if key in self.processes:
            raise exceptions.MiniCloudError(
                f'{release.label} heat-engine #{instance} already runs')
        engine = processes.use(self.cloud, HeatEngine(
            release, self.config_files(release, bus), self.cloud.log_dir,
            start_timeout=self.cloud.opts.service_timeout,
            instance=instance))
        engine.bus = bus
        self.processes[key] = engine
        self.engine = engine
        if self.release is None:
            self.release = release
        return engine

    def start_api(self, release: HeatRelease, instance: int = 1,
                  bus: str | None = None) -> 'HeatApi':
        key = ('heat-api', release.key, instance)
        port = self.api_port(instance)
        for (kind, _, other), process in self.processes.items():
            if kind == 'heat-api' and other == instance:
                raise exceptions.MiniCloudError(
                    f'{process.release.label} heat-api #{instance} already '
                    f'serves port {port}: start another instance '
                    f'(heat-api@RELEASE#{instance + 1}) or stop it first')
        api = processes.use(self.cloud, HeatApi(
            release, self.config_files(release, bus), self.cloud.host, port,
            self.cloud.log_dir, start_timeout=self.cloud.opts.service_timeout,
            instance=instance))
        api.bus = bus
        self.processes[key] = api
        self.api = api
        self.release = release
        return api

    def stop_processes(self, kind: str | None = None,
                       release: HeatRelease | None = None,
                       instance: int | None = None) -> list[str]:
        """Stop the matching Heat processes (APIs first); their names.

        ``kind`` is ``heat-api``, ``heat-engine`` or None for both.
        """
        matching = [key for key in self.processes
                    if (kind is None or key[0] == kind) and
                    (release is None or key[1] == release.key) and
                    (instance is None or key[2] == instance)]
        matching.sort(key=lambda k: k[0] != 'heat-api')
        stopping = [self.processes.pop(key) for key in matching]
        # Told to stop all at once (APIs first), then each waited for: the
        # engines' graceful stops overlap the APIs'.
        for process in stopping:
            process.terminate()
        stopped = []
        for process in stopping:
            process.stop()
            stopped.append(f'{process.release.label} {process.stem}')
        apis = [p for k, p in self.processes.items() if k[0] == 'heat-api']
        self.api = apis[-1] if apis else None
        engines = self.engines()
        self.engine = engines[-1] if engines else None
        if self.api is not None:
            self.release = self.api.release
        elif self.engine is not None:
            self.release = self.engine.release
        return stopped

    def engines(self) -> list['HeatEngine']:
        """The heat-engine processes running now."""
        return [p for k, p in self.processes.items()
                if k[0] == 'heat-engine']
