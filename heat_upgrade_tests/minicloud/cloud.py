"""The mini-cloud of one run: MariaDB, RabbitMQ, Keystone, and a Heat.

MariaDB, RabbitMQ and Keystone live for the whole run; Heat releases come
and go as the plan upgrades them. The fixture's cleanup stops whatever is
still running, in reverse order, also after a failure or Ctrl-C.
"""

import configparser
import os
from pathlib import Path
import secrets

import fixtures

from heat_upgrade_tests.minicloud import heat
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import mariadb
from heat_upgrade_tests.minicloud import processes
from heat_upgrade_tests.minicloud import rabbitmq

MEMBER_CLOUD = 'minicloud'
ADMIN_CLOUD = 'minicloud-admin'
MEMBER_PROJECT = 'heat-upgrade-tests'
MEMBER_USER = 'heat-upgrade-member'


def _password() -> str:
    # Hex only: a password starting with '-' would be read as an option by
    # rabbitmqctl, and URL or config syntax needs no escaping.
    return secrets.token_hex(16)


class MiniCloud(fixtures.Fixture):
    """The long-lived services of one run, and the Heat of the moment."""

    def __init__(self, conf, run_dir: Path, keystone_venv: Path):
        super().__init__()
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
        self._passwords = {name: _password() for name in (
            'admin', 'member', 'heat', 'domain_admin', 'db_keystone',
            'db_heat', 'rabbit')}

    @property
    def host(self) -> str:
        return self.opts.host

    @property
    def heat_api_url(self) -> str:
        return f'http://{self.host}:{self.opts.heat_api_port}'

    def _setUp(self) -> None:
        timeout = self.opts.service_timeout
        pw = self._passwords
        self.db = processes.use(self, mariadb.MariaDB(
            self.run_dir / 'mariadb', self.opts.mysql_port, self.log_dir,
            host=self.host, start_timeout=timeout))
        self.rabbit = processes.use(self, rabbitmq.RabbitMQ(
            self.run_dir / 'rabbitmq', self.opts.rabbit_port,
            self.opts.rabbit_dist_port, self.opts.epmd_port, self.log_dir,
            host=self.host, start_timeout=timeout))
        keystone_db = self.db.create_database('keystone', 'keystone',
                                              pw['db_keystone'])
        self.heat_db_url = self.db.create_database('heat', 'heat',
                                                   pw['db_heat'])
        self.rabbit.add_user('heat', pw['rabbit'])
        self.keystone = processes.use(self, keystone.Keystone(
            self.keystone_venv, self.run_dir / 'keystone', keystone_db,
            self.host, self.opts.keystone_port, pw['admin'], self.log_dir,
            start_timeout=timeout))
        auth_url = self.keystone.auth_url
        keystone.register_heat(
            auth_url, pw['admin'], pw['heat'], pw['domain_admin'],
            self.heat_api_url,
            f'http://{self.host}:{self.opts.heat_cfn_port}')
        keystone.create_member(auth_url, pw['admin'], MEMBER_PROJECT,
                               MEMBER_USER, pw['member'])
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
                         series: bool = True) -> Path:
        """The phases' configuration file: where the cloud and state are.

        Without ``series`` it leaves the upgrade's series out, for the
        phases to learn them elsewhere (the grenade hooks' environment).
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
            'enabled_checks': ','.join(
                enabled_checks if enabled_checks is not None
                else phases_opts.enabled_checks),
            'disabled_checks': ','.join(phases_opts.disabled_checks)}
        parser['timeouts'] = {
            'stack_timeout': str(timeouts.stack_timeout),
            'poll_interval': str(timeouts.poll_interval),
            'api_timeout': str(timeouts.api_timeout),
            'heat_down_probe_timeout': str(
                timeouts.heat_down_probe_timeout)}
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, 'w') as f:
            parser.write(f)
        return path

    def heat_config_files(self, release: 'heat.HeatRelease') -> list[Path]:
        release_conf = self.run_dir / 'etc' / 'heat' / \
            f'release-{release.version}.conf'
        if not release_conf.exists():
            heat.render_release_conf(release_conf, release)
        return [self.heat_conf, release_conf]

    def db_sync(self, release: 'heat.HeatRelease') -> str:
        """Migrate Heat's database with ``release``; its new version."""
        files = self.heat_config_files(release)
        log = self.log_dir / f'heat-manage-{release.version}.log'
        heat.db_sync(release, files, log)
        return heat.db_version(release, files, log)

    def start_heat(self, release: 'heat.HeatRelease') -> None:
        files = self.heat_config_files(release)
        timeout = self.opts.service_timeout
        self.engine = processes.use(self, heat.HeatEngine(
            release, files, self.log_dir, start_timeout=timeout))
        self.api = processes.use(self, heat.HeatApi(
            release, files, self.host, self.opts.heat_api_port,
            self.log_dir, start_timeout=timeout))
        self.heat_release = release

    def stop_heat(self) -> None:
        for service in (self.api, self.engine):
            if service is not None:
                service.stop()
        self.api = self.engine = None

    def stop_keystone(self) -> None:
        """Stop Keystone: with Heat stopped too, no API answers."""
        self.keystone.stop()

    def start_keystone(self) -> None:
        self.keystone.start()

    def admin_connection(self):
        """An openstacksdk connection as the cloud's admin."""
        import openstack
        os.environ['OS_CLIENT_CONFIG_FILE'] = str(self.clouds_yaml)
        return openstack.connect(cloud=ADMIN_CLOUD)

    def log_files(self) -> list[Path]:
        return sorted(self.log_dir.glob('*.log'))
