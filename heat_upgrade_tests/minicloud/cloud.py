"""The mini-cloud of one run: the services of ``services.REGISTRY``.

MariaDB and RabbitMQ live for the whole run; Keystone, Swift and Neutron
may stop and come back as another release; any number of heat-api and
heat-engine processes, each of a given release, come and go as the plan
says. Every service is driven through one protocol (``service.Service``):
the cloud only starts them in order and registers them in Keystone. The
fixture's cleanup stops whatever is still running, in reverse order, also
after a failure or Ctrl-C.
"""

from concurrent import futures
import configparser
import os
from pathlib import Path
import re
import secrets
import threading

import fixtures

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests.minicloud import services
from heat_upgrade_tests import processes

MEMBER_CLOUD = 'minicloud'
ADMIN_CLOUD = 'minicloud-admin'
MEMBER_PROJECT = keystone.MEMBER_PROJECT
MEMBER_USER = keystone.MEMBER_USER

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
    """The services of one run, each behind the one protocol."""

    def __init__(self, conf, run_dir: Path,
                 releases: dict[str, service.Release | None]):
        super().__init__()
        # What each service starting with the cloud starts as: Keystone's
        # is needed; None or absent: the service is not run (and the
        # catalogue lacks it).
        self.conf = conf
        self.opts = conf.minicloud
        self.run_dir = Path(run_dir)
        self.log_dir = self.run_dir / 'logs'
        self.start_releases = {name: release for name, release in
                               releases.items() if release is not None}
        if 'keystone' not in self.start_releases:
            raise exceptions.MiniCloudError(
                'the mini-cloud needs a Keystone to start')
        self.clouds_yaml = self.run_dir / 'clouds.yaml'
        self.phase_conf = self.run_dir / 'heat-upgrade-tests.conf'
        self.state_dir = self.run_dir / 'state'
        self.results_dir = self.run_dir / 'results'
        self._passwords: dict[str, str] = {}
        # Services prepare and register side by side: one password each.
        self._passwords_lock = threading.Lock()
        # The services of this run, in start order (registry order).
        self.services: dict[str, service.Service] = {
            name: cls(self) for name, cls in services.REGISTRY.items()
            if (self.opts.compute or not cls.compute) and (
                not cls.versioned or not cls.starts_with_cloud
                or name in self.start_releases)}

    def password(self, name: str) -> str:
        """The run's password called ``name`` (made at first use)."""
        with self._passwords_lock:
            return self._passwords.setdefault(name, _password())

    def member_password(self) -> str:
        """The member's password, for the disruption sampler's token."""
        return self.password('member')

    @property
    def host(self) -> str:
        return self.opts.host

    @property
    def auth_url(self) -> str:
        return f'http://{self.host}:{self.opts.keystone_port}/v3'

    def service(self, name: str) -> service.Service:
        """The service running ``name`` (a plan's process name)."""
        found = self.services.get(services.of_process(name).name)
        if found is None:
            raise exceptions.MiniCloudError(
                f'{name} does not run on this mini-cloud')
        return found

    # What the rest of the project reads most.
    db = property(lambda self: self.services['mariadb'].server)
    rabbit = property(lambda self: self.services['rabbitmq'].server)
    keystone = property(lambda self: self.services['keystone'].server)
    heat = property(lambda self: self.services['heat'])
    heat_db_url = property(lambda self: self.heat.db_url)
    heat_api_url = property(lambda self: self.heat.url)

    def _setUp(self) -> None:
        fixed = [s for s in self.services.values() if not s.versioned]
        # MariaDB and RabbitMQ need nothing of each other.
        _together(*(lambda s=s: s.start(None) for s in fixed))
        # Then every other service side by side: each prepares (databases,
        # bus users, configuration), and those starting with the cloud
        # start (they need no Keystone to start, only to serve). Keystone
        # registers the services the plans start once it is up; the
        # others register themselves once all are up.
        ks = self.services['keystone']
        later = [s for s in self.services.values()
                 if s.versioned and not s.starts_with_cloud]
        others = [s for name, s in self.services.items()
                  if name in self.start_releases and s is not ks]

        def keystone_up() -> None:
            ks.prepare()
            ks.start(self.start_releases['keystone'])
            for each in later:
                each.register()
            ks.register()

        def up(each: service.Service) -> None:
            each.prepare()
            each.start(self.start_releases[each.name])

        _together(keystone_up, *(lambda s=s: up(s) for s in others),
                  *(lambda s=s: s.prepare() for s in later))
        for each in others:
            each.register()
        keystone.write_clouds_yaml(self.clouds_yaml, self.auth_url, {
            MEMBER_CLOUD: {'username': MEMBER_USER,
                           'password': self.password('member'),
                           'project_name': MEMBER_PROJECT},
            ADMIN_CLOUD: {'username': 'admin',
                          'password': self.password('admin'),
                          'project_name': 'admin'},
        })
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
        switch = self.services.get('ovn')
        if switch is not None and switch.probe is not None:
            parser['cloud']['probe_namespace'] = switch.probe.name
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
            'swift_serves_at_no_api': str('swift' in self.services)}
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

    def terminate_services(self) -> None:
        """SIGTERM to every service but MariaDB and RabbitMQ, no wait.

        For the end of a run: their graceful stops then overlap, and the
        cleanup (in reverse order of start) only waits for each.
        """
        for each in self.services.values():
            for process in each.running():
                process.terminate()

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

    def admin_connection(self):
        """An openstacksdk connection as the cloud's admin."""
        import openstack
        os.environ['OS_CLIENT_CONFIG_FILE'] = str(self.clouds_yaml)
        return openstack.connect(cloud=ADMIN_CLOUD)
