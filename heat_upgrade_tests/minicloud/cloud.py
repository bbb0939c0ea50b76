"""The mini-cloud of one run: MariaDB, RabbitMQ, Keystone, Swift, Neutron
and Heats.

MariaDB and RabbitMQ live for the whole run; Keystone, Swift and Neutron
may stop and come back as another release; any number of heat-api and
heat-engine processes, each of a given release, come and go as the plan
says. The
fixture's cleanup stops whatever is still running, in reverse order, also
after a failure or Ctrl-C.
"""

from concurrent import futures
import configparser
import os
from pathlib import Path
import re
import secrets

import fixtures

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.minicloud import heat
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import mariadb
from heat_upgrade_tests.minicloud import neutron
from heat_upgrade_tests.minicloud import rabbitmq
from heat_upgrade_tests.minicloud import swift
from heat_upgrade_tests import processes

MEMBER_CLOUD = 'minicloud'
ADMIN_CLOUD = 'minicloud-admin'
MEMBER_PROJECT = 'heat-upgrade-tests'
MEMBER_USER = 'heat-upgrade-member'

# The phases' bounds on the mini-cloud (doc/source/failures.rst).
NO_PROGRESS_TIMEOUT = 15
ENGINE_PROBE_TIMEOUT = 8
# A poll is one stack show without outputs (a database read in the
# engine): once a second costs the engine little and saves half a second
# on average of every wait the phases make (2 s by default).
POLL_INTERVAL = 1.0


def _together(*jobs):
    """Run ``jobs`` side by side; their results, in order.

    Every job runs to its end (each registers its own cleanup) before the
    first error, if any, is raised: nothing is left half-started unseen.
    """
    pool = futures.ThreadPoolExecutor(max_workers=len(jobs))
    running = [pool.submit(job) for job in jobs]
    try:
        futures.wait(running)
    except BaseException:
        # A Ctrl-C reaches this thread only. The jobs' waits give up at
        # their next poll, and every job ends (its fixture stopping what it
        # started, or registered for the cloud's cleanup) before the
        # interruption goes on to stop the rest.
        processes.INTERRUPTED.set()
        try:
            futures.wait(running)
        finally:
            processes.INTERRUPTED.clear()
        raise
    finally:
        pool.shutdown(wait=True)
    return [job.result() for job in running]


def _password() -> str:
    # Hex only: a password starting with '-' would be read as an option by
    # rabbitmqctl, and URL or config syntax needs no escaping.
    return secrets.token_hex(16)


class MiniCloud(fixtures.Fixture):
    """The long-lived services of one run, and the Heat of the moment."""

    def __init__(self, conf, run_dir: Path, keystone_venv: Path,
                 swift_venv: Path | None = None,
                 neutron_venv: Path | None = None):
        super().__init__()
        # None: the service is not run (the catalogue then lacks it).
        self.swift_venv = swift_venv
        self.neutron_venv = neutron_venv
        self.swift: swift.Swift | None = None
        self.neutron: neutron.Neutron | None = None
        self.conf = conf
        self.opts = conf.minicloud
        self.run_dir = Path(run_dir)
        self.log_dir = self.run_dir / 'logs'
        self.keystone_venv = keystone_venv
        self.heat_conf = self.run_dir / 'etc' / 'heat' / 'heat.conf'
        self.clouds_yaml = self.run_dir / 'clouds.yaml'
        self.phase_conf = self.run_dir / 'heat-upgrade-tests.conf'
        self.state_dir = self.run_dir / 'state'
        self.results_dir = self.run_dir / 'results'
        self.api: heat.HeatApi | None = None
        self.engine: heat.HeatEngine | None = None
        self.heat_release: heat.HeatRelease | None = None
        # (service, release key, instance) -> its running fixture.
        self.heat_processes: dict[tuple[str, str, int], fixtures.Fixture] = {}
        self._passwords = {name: _password() for name in (
            'admin', 'member', 'heat', 'domain_admin', 'db_keystone',
            'db_heat', 'rabbit', 'swift', 'neutron', 'db_neutron',
            'rabbit_neutron')}

    def member_password(self) -> str:
        """The member's password, for the disruption sampler's token."""
        return self._passwords['member']

    @property
    def host(self) -> str:
        return self.opts.host

    @property
    def heat_api_url(self) -> str:
        return f'http://{self.host}:{self.opts.heat_api_port}'

    def _setUp(self) -> None:
        timeout = self.opts.service_timeout
        pw = self._passwords
        # MariaDB and RabbitMQ need nothing of each other.
        self.db, self.rabbit = _together(
            lambda: processes.use(self, mariadb.MariaDB(
                self.run_dir / 'mariadb', self.opts.mysql_port,
                self.log_dir, host=self.host, start_timeout=timeout)),
            lambda: processes.use(self, rabbitmq.RabbitMQ(
                self.run_dir / 'rabbitmq', self.opts.rabbit_port,
                self.opts.rabbit_dist_port, self.opts.epmd_port,
                self.log_dir, host=self.host, start_timeout=timeout)))
        keystone_db = self.db.create_database('keystone', 'keystone',
                                              pw['db_keystone'])
        self.heat_db_url = self.db.create_database('heat', 'heat',
                                                   pw['db_heat'])
        self.rabbit.add_user('heat', pw['rabbit'])
        self.keystone = keystone.Keystone(
            self.keystone_venv, self.run_dir / 'keystone', keystone_db,
            self.host, self.opts.keystone_port, pw['admin'], self.log_dir,
            start_timeout=timeout)
        auth_url = self.keystone.auth_url
        # Swift's servers and Neutron's migration and processes need no
        # Keystone to start (only to serve): all three start at once, and
        # each registers in Keystone once it is up.
        jobs = [lambda: self._start_keystone(auth_url)]
        if self.swift_venv is not None:
            jobs.append(lambda: self._start_swift(auth_url))
        if self.neutron_venv is not None:
            jobs.append(lambda: self._start_neutron(auth_url))
        _together(*jobs)
        if self.swift is not None:
            swift.register(auth_url, pw['admin'], pw['swift'],
                           self.swift.endpoint)
        if self.neutron is not None:
            self._register_neutron(auth_url)
        keystone.write_clouds_yaml(self.clouds_yaml, auth_url, {
            MEMBER_CLOUD: {'username': MEMBER_USER,
                           'password': pw['member'],
                           'project_name': MEMBER_PROJECT},
            ADMIN_CLOUD: {'username': 'admin', 'password': pw['admin'],
                          'project_name': 'admin'},
        })
        heat.render_heat_conf(
            self.heat_conf,
            transport_url=self.rabbit.transport_url('heat', pw['rabbit']),
            db_url=self.heat_db_url, auth_url=auth_url, host=self.host,
            api_port=self.opts.heat_api_port, heat_password=pw['heat'],
            domain_admin_password=pw['domain_admin'],
            cfn_port=self.opts.heat_cfn_port)
        self.write_phase_conf(self.phase_conf, self.state_dir)

    def write_phase_conf(self, path: Path, state_dir: Path,
                         enabled_checks: list[str] | None = None,
                         series: bool = True,
                         overrides: dict[str, dict[str, object]] | None = None
                         ) -> Path:
        """The phases' configuration file: where the cloud and state are.

        Without ``series`` it leaves the upgrade's series out, for the
        phases to learn them elsewhere (the grenade hooks' environment).
        ``overrides`` (section -> option -> value) replace or add options,
        for a run of its own (a drill's, a benchmark round's).
        """
        parser = configparser.ConfigParser()
        phases_opts = self.conf.phases
        timeouts = self.conf.timeouts
        parser['cloud'] = {'cloud': MEMBER_CLOUD, 'admin_cloud': ADMIN_CLOUD,
                           'clouds_file': str(self.clouds_yaml)}
        # The series of the upgrade, for checks' minimum series and known
        # failures (the plan sets them).
        for opt in ('from_series', 'to_series'):
            if series and self.conf.cloud[opt]:
                parser['cloud'][opt] = self.conf.cloud[opt]
        parser['phases'] = {
            'state_dir': str(state_dir),
            'results_dir': str(self.results_dir / Path(state_dir).name),
            'concurrency': str(phases_opts.concurrency),
            'stacks_per_check': str(phases_opts.stacks_per_check),
            'enabled_checks': ','.join(
                enabled_checks if enabled_checks is not None
                else phases_opts.enabled_checks),
            'disabled_checks': ','.join(phases_opts.disabled_checks),
            # The plans stop Swift after their no-api phase (grenade before).
            'swift_serves_at_no_api': str(self.swift is not None)}
        if phases_opts.check_order_seed is not None:
            parser['phases']['check_order_seed'] = str(
                phases_opts.check_order_seed)
        parser['timeouts'] = {
            'stack_timeout': str(timeouts.stack_timeout),
            'poll_interval': str(min(timeouts.poll_interval,
                                     POLL_INTERVAL)),
            'api_timeout': str(timeouts.api_timeout),
            'heat_down_probe_timeout': str(
                timeouts.heat_down_probe_timeout),
            # Its heat.conf heartbeats every 5 s and lets heat-api wait
            # 30 s for an engine: a dead engine is found within a minute.
            'no_progress_timeout': str(min(
                timeouts.no_progress_timeout, NO_PROGRESS_TIMEOUT)),
            'engine_probe_timeout': str(min(
                timeouts.engine_probe_timeout, ENGINE_PROBE_TIMEOUT))}
        for section, options in (overrides or {}).items():
            if not parser.has_section(section):
                parser[section] = {}
            for option, value in options.items():
                parser[section][option] = str(value)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, 'w') as f:
            parser.write(f)
        return path

    def heat_config_files(self, release: 'heat.HeatRelease',
                          bus: str | None = None) -> list[Path]:
        release_conf = self.run_dir / 'etc' / 'heat' / \
            f'release-{release.key}-{release.version}.conf'
        if not release_conf.exists():
            heat.render_release_conf(release_conf, release)
        files = [self.heat_conf, release_conf]
        if bus is not None:
            files.append(self.bus_conf(bus))
        return files

    def bus_conf(self, bus: str) -> Path:
        """A third config file moving a process to its own virtual host.

        Heat's rolling upgrade runs the new engines and API on a RabbitMQ
        virtual host of their own (``heat-BUS``), created here with the
        same user; the file holds the password, so it is mode 0600.
        """
        path = self.run_dir / 'etc' / 'heat' / f'bus-{bus}.conf'
        if not path.exists():
            vhost = f'heat-{bus}'
            self.rabbit.add_vhost(vhost)
            self.rabbit.add_user('heat', self._passwords['rabbit'], vhost)
            url = self.rabbit.transport_url('heat', self._passwords['rabbit'],
                                            vhost)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write(f'[DEFAULT]\ntransport_url = {url}\n')
        return path

    def db_sync(self, release: 'heat.HeatRelease') -> str:
        """Migrate Heat's database with ``release``; its new version."""
        files = self.heat_config_files(release)
        log = self.log_dir / f'heat-manage-{release.key}.log'
        heat.db_sync(release, files, log)
        return heat.db_version(release, files, log)

    # -- Heat's processes, any number of each release -------------------------
    def api_port(self, instance: int = 1) -> int:
        """heat-api #1 serves the registered port; #N ten ports per N up."""
        return self.opts.heat_api_port + 10 * (instance - 1)

    def start_heat_engine(self, release: 'heat.HeatRelease',
                          instance: int = 1,
                          bus: str | None = None) -> 'heat.HeatEngine':
        key = ('heat-engine', release.key, instance)
        if key in self.heat_processes:
            raise exceptions.MiniCloudError(
                f'{release.label} heat-engine #{instance} already runs')
        engine = processes.use(self, heat.HeatEngine(
            release, self.heat_config_files(release, bus), self.log_dir,
            start_timeout=self.opts.service_timeout, instance=instance))
        engine.bus = bus
        self.heat_processes[key] = engine
        self.engine = engine
        if self.heat_release is None:
            self.heat_release = release
        return engine

    def start_heat_api(self, release: 'heat.HeatRelease',
                       instance: int = 1,
                       bus: str | None = None) -> 'heat.HeatApi':
        key = ('heat-api', release.key, instance)
        port = self.api_port(instance)
        for (kind, _, other), process in self.heat_processes.items():
            if kind == 'heat-api' and other == instance:
                raise exceptions.MiniCloudError(
                    f'{process.release.label} heat-api #{instance} already '
                    f'serves port {port}: start another instance '
                    f'(heat-api@RELEASE#{instance + 1}) or stop it first')
        api = processes.use(self, heat.HeatApi(
            release, self.heat_config_files(release, bus), self.host, port,
            self.log_dir, start_timeout=self.opts.service_timeout,
            instance=instance))
        api.bus = bus
        self.heat_processes[key] = api
        self.api = api
        # The Heat the phases talk to: heat-manage of it, for the hooks.
        self.heat_release = release
        return api

    def start_heat(self, release: 'heat.HeatRelease') -> None:
        """heat-engine then heat-api of ``release`` (one of each)."""
        self.start_heat_engine(release)
        self.start_heat_api(release)

    def stop_heat_processes(self, kind: str | None = None,
                            release: 'heat.HeatRelease | None' = None,
                            instance: int | None = None) -> list[str]:
        """Stop the matching Heat processes (APIs first); their names.

        ``kind`` is ``heat-api``, ``heat-engine`` or None for both.
        """
        matching = [key for key in self.heat_processes
                    if (kind is None or key[0] == kind) and
                    (release is None or key[1] == release.key) and
                    (instance is None or key[2] == instance)]
        matching.sort(key=lambda k: k[0] != 'heat-api')
        stopping = [self.heat_processes.pop(key) for key in matching]
        # Told to stop all at once (APIs first), then each waited for: the
        # engines' graceful stops overlap the APIs'.
        for process in stopping:
            process.terminate()
        stopped = []
        for process in stopping:
            process.stop()
            stopped.append(f'{process.release.label} {process.stem}')
        apis = [p for k, p in self.heat_processes.items()
                if k[0] == 'heat-api']
        engines = [p for k, p in self.heat_processes.items()
                   if k[0] == 'heat-engine']
        self.api = apis[-1] if apis else None
        self.engine = engines[-1] if engines else None
        if self.api is not None:
            self.heat_release = self.api.release
        elif self.engine is not None:
            self.heat_release = self.engine.release
        return stopped

    def engines(self) -> list['heat.HeatEngine']:
        """The heat-engine processes running now."""
        return [p for k, p in self.heat_processes.items()
                if k[0] == 'heat-engine']

    def terminate_services(self) -> None:
        """SIGTERM to every service but MariaDB and RabbitMQ, no wait.

        For the end of a run: their graceful stops then overlap, and the
        cleanup (in reverse order of start) only waits for each.
        """
        running = list(self.heat_processes.values())
        for service in (self.neutron, self.swift):
            if service is not None:
                running.extend(service.processes)
        keystone_process = getattr(getattr(self, 'keystone', None),
                                   'process', None)
        if keystone_process is not None:
            running.append(keystone_process)
        for process in running:
            process.terminate()

    def stop_heat(self) -> None:
        """Stop every Heat process."""
        self.stop_heat_processes()

    def switch_endpoint(self, service_type: str, url: str) -> int:
        """Point every endpoint of ``service_type`` at ``url``'s host.

        The path of each endpoint (``/v1/%(tenant_id)s``) is kept; the
        number of endpoints changed is returned.
        """
        idp = self.admin_connection().identity
        services = [s for s in idp.services() if s.type == service_type]
        if not services:
            raise exceptions.MiniCloudError(
                f'no {service_type} service in the catalogue')
        changed = 0
        for service in services:
            for endpoint in idp.endpoints(service_id=service.id):
                new = re.sub(r'^[a-z]+://[^/]+', url.rstrip('/'),
                             endpoint.url)
                if new != endpoint.url:
                    idp.update_endpoint(endpoint, url=new)
                    changed += 1
        return changed

    # -- Swift and Neutron ----------------------------------------------------
    def _start_keystone(self, auth_url: str) -> None:
        processes.use(self, self.keystone)
        pw = self._passwords
        keystone.register_heat(
            auth_url, pw['admin'], pw['heat'], pw['domain_admin'],
            self.heat_api_url,
            f'http://{self.host}:{self.opts.heat_cfn_port}')
        keystone.create_member(auth_url, pw['admin'], MEMBER_PROJECT,
                               MEMBER_USER, pw['member'])

    def _start_swift(self, auth_url: str) -> None:
        opts = self.opts
        self.swift = processes.use(self, swift.Swift(
            self.swift_venv, self.run_dir / 'swift', self.host,
            {'proxy': opts.swift_proxy_port,
             'object': opts.swift_object_port,
             'container': opts.swift_container_port,
             'account': opts.swift_account_port},
            auth_url, self._passwords['swift'], self.log_dir,
            start_timeout=opts.service_timeout))

    def _start_neutron(self, auth_url: str) -> None:
        pw = self._passwords
        db_url = self.db.create_database('neutron', 'neutron',
                                         pw['db_neutron'])
        self.rabbit.add_user('neutron', pw['rabbit_neutron'])
        self.neutron = processes.use(self, neutron.Neutron(
            self.neutron_venv, self.run_dir / 'neutron', db_url,
            self.rabbit.transport_url('neutron', pw['rabbit_neutron']),
            auth_url, pw['neutron'], self.host, self.opts.neutron_port,
            self.log_dir, start_timeout=self.opts.service_timeout,
            db=self.db, db_name='neutron'))

    def _register_neutron(self, auth_url: str) -> None:
        """Neutron's user and endpoints, then the external network."""
        pw = self._passwords
        neutron.register(auth_url, pw['admin'], pw['neutron'],
                         f'http://{self.host}:{self.opts.neutron_port}')
        conn = keystone.admin_connection(auth_url, pw['admin'])
        try:
            neutron.make_public_network(conn)
        finally:
            conn.close()

    def service(self, name: str):
        """The running fixture of ``swift`` or ``neutron``."""
        found = {'swift': self.swift, 'neutron': self.neutron}.get(name)
        if found is None:
            raise exceptions.MiniCloudError(
                f'{name} does not run on this mini-cloud')
        return found

    def stop_service(self, name: str) -> None:
        self.service(name).stop()

    def start_service(self, name: str, venv: Path) -> None:
        service = self.service(name)
        service.venv = Path(venv)
        service.start()

    def service_db_sync(self, name: str, venv: Path) -> str:
        """Migrate ``name``'s database with the release of ``venv``."""
        return self.service(name).db_sync(venv)

    # -- Keystone -------------------------------------------------------------
    def stop_keystone(self) -> None:
        """Stop Keystone: with Heat stopped too, no API answers."""
        self.keystone.stop()

    def start_keystone(self, venv: Path | None = None) -> None:
        """Serve Keystone again, from ``venv`` (another release) if given."""
        if venv is not None:
            self.keystone.venv = Path(venv)
        self.keystone.start()

    def keystone_db_sync(self, venv: Path) -> None:
        """Migrate Keystone's database with the Keystone of ``venv``."""
        self.keystone.db_sync(venv)

    def admin_connection(self):
        """An openstacksdk connection as the cloud's admin."""
        import openstack
        os.environ['OS_CLIENT_CONFIG_FILE'] = str(self.clouds_yaml)
        return openstack.connect(cloud=ADMIN_CLOUD)

    def log_files(self) -> list[Path]:
        return sorted(self.log_dir.glob('*.log'))
