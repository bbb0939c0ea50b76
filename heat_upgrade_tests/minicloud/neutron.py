"""Neutron for the mini-cloud: its API, RPC and periodic workers.

The real Neutron of a series (PyPI), served the way Neutron serves itself
today: ``neutron.wsgi.api:application`` under uwsgi (the ``neutron-api``
of devstack), ``neutron-rpc-server`` and ``neutron-periodic-workers`` as
processes of their own, on the mini-cloud's private MariaDB and RabbitMQ.
ML2 has the flat, VLAN and VXLAN type drivers and no mechanism driver:
networks, subnets, ports, security groups and their rules, routers, their
interfaces and floating IPs all work in the API and the database; ports
are never bound and no packet moves (no agent runs). With the compute
part, ML2/OVN instead (``neutron-ovn.conf``, read after ``neutron.conf``,
and OVN's maintenance worker): ports bind to the run's private OVN
(``minicloud/ovn.py``), OVN answers DHCP and routes. The external network
is made by the admin at start, as devstack makes ``public``.

The database is migrated by the release's own ``neutron-db-manage upgrade
heads``. A fresh database (the start of a run) takes 25-30 s of
migrations on a 2-core machine, so the first fresh migration made by a
venv is dumped into that venv (``SCHEMA_DUMP``) and later fresh starts
load the dump instead: the same schema and rows, made by the same
release's migrations. The dump goes with the venv when it is rebuilt.
Upgrades (``db_sync`` of the new release on the old schema) always run
the real migrations.
"""

from pathlib import Path

import fixtures
import openstack

from heat_upgrade_tests import datafiles
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import mariadb
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests import processes

SERVICE_USER = 'neutron'
PHYSNET = 'public'
PUBLIC_NET = 'public'
PUBLIC_CIDR = '203.0.113.0/24'
CONFIG_FILES = ('neutron.conf', )
WORKERS = ('neutron-rpc-server', 'neutron-periodic-workers')
# With ML2/OVN: what keeps OVN's databases in step with Neutron's.
OVN_WORKERS = ('neutron-ovn-maintenance-worker',)
SCHEMA_DUMP = Path('heat-upgrade-tests') / 'neutron-fresh-schema.sql'


class Neutron(fixtures.Fixture):
    """Neutron of the release in ``venv``: API, RPC and periodic workers."""

    def __init__(self, venv: Path, run_dir: Path, db_url: str,
                 transport_url: str, auth_url: str, password: str,
                 host: str, port: int, log_dir: Path,
                 start_timeout: float = 120,
                 db: 'mariadb.MariaDB | None' = None,
                 db_name: str = 'neutron',
                 ovn: dict[str, str] | None = None):
        super().__init__()
        # ML2/OVN's values for neutron-ovn.conf (its connections to OVN's
        # databases, the region); None: agentless ML2.
        self.ovn = ovn
        # The server holding ``db_name``, for the fresh-schema dump; None:
        # always migrate.
        self.db = db
        self.db_name = db_name
        self.venv = Path(venv)
        self.run_dir = Path(run_dir)
        self.db_url = db_url
        self.transport_url = transport_url
        self.auth_url = auth_url
        self.password = password
        self.host = host
        self.port = port
        self.log_dir = Path(log_dir)
        self.start_timeout = start_timeout
        self.conf_file = self.run_dir / 'neutron.conf'
        self.ovn_conf = self.run_dir / 'neutron-ovn.conf'
        self.processes: list[processes.ManagedProcess] = []

    @property
    def url(self) -> str:
        return f'http://{self.host}:{self.port}'

    def _setUp(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        keystone_url = keystone.base_url(self.auth_url)
        datafiles.render_template('neutron.conf', self.conf_file, {
            'log_file': self.log_dir / 'neutron-server.log',
            'transport_url': self.transport_url,
            'db_url': self.db_url,
            'keystone_url': keystone_url,
            'password': self.password,
            'lock_path': self.run_dir / 'lock',
            'physnet': PHYSNET,
        })
        if self.ovn is not None:
            datafiles.render_template('neutron-ovn.conf', self.ovn_conf, {
                'keystone_url': keystone_url,
                'password': self.password,
                **self.ovn,
            })
        self.addCleanup(self.stop)
        self.fresh_schema()
        self.start()

    def fresh_schema(self) -> str:
        """Bring the empty database to the venv's heads; how it was done.

        Loaded from the venv's dump of its own earlier fresh migration if
        there is one; otherwise migrated, then dumped for the next run.
        """
        dump = self.venv / SCHEMA_DUMP
        log = self.log_dir / 'neutron-db-manage.log'
        if self.db is not None and dump.is_file():
            self.db.load(self.db_name, dump, log)
            return f'loaded {dump}'
        heads = self.db_sync()
        if self.db is not None:
            dump.parent.mkdir(exist_ok=True)
            self.db.dump(self.db_name, dump, log)
        return f'migrated to {heads}'

    def release_conf(self, venv: Path) -> Path:
        """The release's own settings: its api-paste.ini."""
        path = self.run_dir / f'release-{Path(venv).name}.conf'
        datafiles.write_private(path, (
            '[DEFAULT]\n'
            f'api_paste_config = {Path(venv) / "etc/neutron/api-paste.ini"}'
            '\n'))
        return path

    def config_files(self, venv: Path) -> list[Path]:
        """What every process reads, in order (later values win)."""
        files = [self.conf_file]
        if self.ovn is not None:
            files.append(self.ovn_conf)
        return [*files, self.release_conf(venv)]

    def _config_args(self, venv: Path) -> list[str]:
        return [arg for path in self.config_files(venv)
                for arg in ('--config-file', str(path))]

    def db_sync(self, venv: Path | None = None) -> str:
        """``neutron-db-manage upgrade heads`` of ``venv``; its heads."""
        venv = Path(venv or self.venv)
        log = self.log_dir / 'neutron-db-manage.log'
        processes.run(
            [venv / 'bin' / 'neutron-db-manage', *self._config_args(venv),
             'upgrade', 'heads'], log,
            f'{venv.name} neutron-db-manage upgrade heads',
            timeout=max(self.start_timeout, 300))
        out = processes.run(
            [venv / 'bin' / 'neutron-db-manage', *self._config_args(venv),
             'current'], log, f'{venv.name} neutron-db-manage current',
            timeout=max(self.start_timeout, 300))
        heads = sorted({line.split()[0] for line in out.splitlines()
                        if '(head)' in line})
        return ' '.join(heads) or 'no head reported'

    def start(self, venv: Path | None = None) -> None:
        """API, RPC and periodic workers of ``venv`` (default: as before)."""
        if venv is not None:
            self.venv = Path(venv)
        if self.processes:
            return
        conf_args = self._config_args(self.venv)
        files = self.config_files(self.venv)
        api = processes.ManagedProcess(
            'neutron-api', keystone.uwsgi_argv(
                self.venv, 'neutron.wsgi.api:application', self.host,
                self.port, workers=1),
            self.log_dir / 'neutron-api-uwsgi.log',
            env={'OS_NEUTRON_CONFIG_DIR': str(self.run_dir),
                 'OS_NEUTRON_CONFIG_FILES': ';'.join(p.name for p in files)},
            term_leader_only=True)
        api.setUp()
        self.processes.append(api)
        for name in WORKERS + (OVN_WORKERS if self.ovn is not None else ()):
            worker = processes.ManagedProcess(
                name, [self.venv / 'bin' / name, *conf_args,
                       '--log-file', str(self.log_dir / f'{name}.log')],
                self.log_dir / f'{name}.out')
            worker.setUp()
            self.processes.append(worker)
        for process in self.processes:
            if process.exit_reason():
                raise exceptions.MiniCloudError(process.exit_reason())
        api.wait_ready(self._answers, self.start_timeout,
                       f'neutron-api to answer on {self.url}')

    def _answers(self) -> bool:
        return keystone.http_ok(self.url + '/')

    def stop(self) -> None:
        """Stop API and workers (bounded); the cleanup does it anyway."""
        running, self.processes = self.processes, []
        processes.stop_all(running)


def register(auth_url: str, admin_password: str, password: str, url: str,
             region: str = keystone.REGION) -> None:
    """The ``neutron`` service user and the ``network`` endpoints."""
    keystone.register_service(
        auth_url, admin_password, SERVICE_USER, password, 'neutron',
        'network', 'Neutron Networking', url, region)


def make_public_network(conn: openstack.connection.Connection) -> str:
    """The admin's external flat network and its subnet; its id.

    What devstack's ``public`` network is to Heat's routers and floating
    IPs. Reused when it exists.
    """
    try:
        net = next(iter(conn.network.networks(name=PUBLIC_NET)), None)
        if net is None:
            net = conn.network.create_network(
                name=PUBLIC_NET, is_router_external=True, is_shared=False,
                provider_network_type='flat',
                provider_physical_network=PHYSNET)
        if not list(conn.network.subnets(network_id=net.id)):
            conn.network.create_subnet(
                network_id=net.id, name=f'{PUBLIC_NET}-subnet',
                ip_version=4, cidr=PUBLIC_CIDR, is_dhcp_enabled=False)
    except openstack.exceptions.SDKException as exc:
        raise exceptions.MiniCloudError(
            f'creating the external network in neutron failed: {exc}')
    return net.id


class NeutronService(service.Service):
    """Neutron's API, RPC and periodic workers; its external network."""

    name = 'neutron'
    title = 'Neutron'
    migrate_tool = 'neutron-db-manage upgrade heads'
    port_options = ('neutron_port',)
    has_database = True
    uses_bus = True

    def start(self, release, process=None, instance=None, bus=None) -> str:
        cloud = self.cloud
        self.serve(release, lambda: Neutron(
            release.venv, cloud.run_dir / 'neutron', self.db_url,
            self.transport_url(),
            cloud.auth_url, cloud.password('neutron'), cloud.host,
            cloud.opts.neutron_port, cloud.log_dir,
            start_timeout=cloud.opts.service_timeout, db=cloud.db,
            db_name='neutron', ovn=self._ovn()))
        return f'neutron at {self.url}'

    def _ovn(self) -> dict[str, str] | None:
        """ML2/OVN's values, with the compute part (its OVN runs first)."""
        switch = self.cloud.services.get('ovn')
        if switch is None:
            return None
        return {'ovn_nb_connection': switch.server.ovn_nb_connection,
                'ovn_sb_connection': switch.server.ovn_sb_connection,
                'region': keystone.REGION}

    def migrate(self, release) -> str:
        return f'neutron at {self.server.db_sync(release.venv)}'

    def register(self) -> None:
        """Neutron's user and endpoints, then the external network."""
        cloud = self.cloud
        register(cloud.auth_url, cloud.password('admin'),
                 cloud.password('neutron'), self.url)
        conn = keystone.admin_connection(cloud.auth_url,
                                         cloud.password('admin'))
        try:
            make_public_network(conn)
        finally:
            conn.close()

    @property
    def url(self) -> str:
        return f'http://{self.cloud.host}:{self.cloud.opts.neutron_port}'

    def running(self):
        return list(self.server.processes) if self.server else []
