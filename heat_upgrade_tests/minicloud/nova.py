"""Nova for the mini-cloud: servers on the run's libvirt, ports on its OVN.

The real Nova of a series (PyPI), laid out as devstack's "singleconductor"
Nova: ``nova.wsgi.osapi_compute:application`` under uwsgi (configured
through ``OS_NOVA_CONFIG_DIR``), ``nova-conductor``, ``nova-scheduler``
and ``nova-compute`` as processes of their own, one cell (``cell1``) and
``cell0``, on the run's MariaDB and RabbitMQ. nova-compute drives the
run's private libvirt (``minicloud/libvirt.py``) with the accelerator a
probe boot chose (``minicloud/accelerator.py``: ``qemu``, TCG, where KVM
does not boot a guest), plugs ports into the run's Open vSwitch, whose
OVN Neutron binds them to, and gives every server a config drive (no
metadata service runs).

Databases are made as devstack makes them: ``nova-manage api_db sync``,
``cell_v2 map_cell0``, ``db sync``, ``cell_v2 create_cell``; the compute
host is mapped (``cell_v2 discover_hosts``) once it has reported to
Placement. An upgrade runs the new release's ``api_db sync``, ``db
sync`` and ``db online_data_migrations``, as grenade does.

The conductor, the scheduler and the compute refuse to start, or report
nothing, until Nova's service user is in Keystone (they talk to
Placement as that user), so the first start is the databases and the
API, and ``register`` starts the rest once Nova is registered; every
later start (a plan's) starts all four processes.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
import socket

import fixtures
import openstack

from heat_upgrade_tests import config
from heat_upgrade_tests import datafiles
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import guest
from heat_upgrade_tests.minicloud import accelerator
from heat_upgrade_tests.minicloud import keystone
from heat_upgrade_tests.minicloud import ovn
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests import processes

API = 'nova-api'
CONDUCTOR = 'nova-conductor'
SCHEDULER = 'nova-scheduler'
COMPUTE = 'nova-compute'
# In start order: the compute finds a conductor and a scheduler.
PROCESSES = (API, CONDUCTOR, SCHEDULER, COMPUTE)
# The API database, cell0's and cell1's (the one cell of servers).
DATABASES = ('nova_api', 'nova_cell0', 'nova')
CELL = 'cell1'
# Nova's services linger after SIGTERM (FIELD-NOTES: alive after 20 s);
# graceful_shutdown_timeout in nova.conf bounds their own wait.
STOP_TIMEOUT = 15
# The flavor the mini-cloud makes: the tiny guest needs 128 MiB.
FLAVOR = {'name': 'hut.nano', 'ram': 128, 'vcpus': 1, 'disk': 1}
# The privsep contexts nova-compute and os-vif start (helper_command).
PRIVSEP_SECTIONS = ('privsep', 'nova_sys_admin', 'privsep_osbrick',
                    'vif_plug_ovs_privileged',
                    'vif_plug_linux_bridge_privileged')


class Nova(fixtures.Fixture):
    """Nova of the release in ``venv``: API, conductor, scheduler, compute.

    ``values`` are nova.conf's (``upgrade/templates/nova.conf``) and
    ``db_urls`` the three databases' URLs (``DATABASES``).
    """

    def __init__(self, venv: Path, run_dir: Path, db_urls: Mapping[str, str],
                 values: Mapping[str, object], host: str, port: int,
                 log_dir: Path, start_timeout: float = 120):
        super().__init__()
        self.venv = Path(venv)
        self.run_dir = Path(run_dir)
        self.db_urls = dict(db_urls)
        self.values = dict(values)
        self.host = host
        self.port = port
        self.log_dir = Path(log_dir)
        self.start_timeout = start_timeout
        self.conf_file = self.run_dir / 'nova.conf'
        self.db_conf = self.run_dir / 'nova-db.conf'
        self.processes: dict[str, processes.ManagedProcess] = {}

    @property
    def url(self) -> str:
        return f'http://{self.host}:{self.port}'

    def _setUp(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._configure()
        self.addCleanup(self.stop)
        self.fresh_databases()
        self.start(names=(API,))

    # -- configuration ------------------------------------------------------
    def _configure(self) -> None:
        for sub in ('state', 'instances', 'lock'):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        datafiles.render_template('nova.conf', self.conf_file, {
            **self.values,
            'state_path': self.run_dir / 'state',
            'instances_path': self.run_dir / 'instances',
            'lock_path': self.run_dir / 'lock',
        })
        datafiles.render_template('nova-db.conf', self.db_conf, {
            'api_db_url': self.db_urls['nova_api'],
            'db_url': self.db_urls['nova'],
        })

    def release_conf(self, venv: Path) -> Path:
        """The release's own settings: its paste file, its privsep helper.

        The privsep helper is the release's, run directly (the run is
        root; no sudo, no rootwrap), reading what nova-compute reads.
        """
        venv = Path(venv)
        path = self.run_dir / f'release-{venv.name}.conf'
        helper = (f'{venv / "bin" / "privsep-helper"} --config-file '
                  f'{self.conf_file} --config-file {path}')
        text = ('[wsgi]\n'
                f'api_paste_config = {venv / "etc/nova/api-paste.ini"}\n')
        for section in PRIVSEP_SECTIONS:
            text += f'\n[{section}]\nhelper_command = {helper}\n'
        datafiles.write_private(path, text)
        return path

    def config_files(self, venv: Path, process: str) -> list[Path]:
        """What ``process`` reads: nova-compute, no databases."""
        files = [self.conf_file]
        if process != COMPUTE:
            files.append(self.db_conf)
        return [*files, self.release_conf(venv)]

    def _args(self, venv: Path, process: str) -> list[str]:
        return [arg for path in self.config_files(venv, process)
                for arg in ('--config-file', str(path))]

    # -- databases ----------------------------------------------------------
    def manage(self, venv: Path, *args: str) -> str:
        """``nova-manage ARGS`` of ``venv``, bounded; its output."""
        return processes.run(
            [Path(venv) / 'bin' / 'nova-manage', *self._args(venv, API),
             *args], self.log_dir / 'nova-manage.log',
            f'{Path(venv).name} nova-manage {" ".join(args)}',
            timeout=max(self.start_timeout, 300))

    def fresh_databases(self) -> None:
        """The API database, cell0 and cell1, made as devstack makes them."""
        venv = self.venv
        self.manage(venv, 'api_db', 'sync')
        self.manage(venv, 'cell_v2', 'map_cell0', '--database_connection',
                    self.db_urls['nova_cell0'])
        self.manage(venv, 'db', 'sync')
        self.manage(venv, 'cell_v2', 'create_cell', '--name', CELL)

    def db_sync(self, venv: Path) -> str:
        """The upgrade's migrations, of ``venv``, in grenade's order."""
        self.manage(venv, 'api_db', 'sync')
        self.manage(venv, 'db', 'sync')
        self.manage(venv, 'db', 'online_data_migrations')
        return f'nova databases migrated by {Path(venv).name}'

    def discover_hosts(self) -> str:
        """Map the compute host into its cell (once it reported)."""
        return self.manage(self.venv, 'cell_v2', 'discover_hosts',
                           '--verbose')

    # -- processes ----------------------------------------------------------
    def start(self, venv: Path | None = None,
              names: Sequence[str] = PROCESSES) -> None:
        """``names`` of ``venv`` (default: as before), until served.

        Those already running are left as they are.
        """
        if venv is not None:
            self.venv = Path(venv)
        for name in names:
            if name not in self.processes:
                self.processes[name] = self._start(name)
        for name in names:
            reason = self.processes[name].exit_reason()
            if reason:
                raise exceptions.MiniCloudError(reason)
        if API in names:
            self.processes[API].wait_ready(
                lambda: keystone.http_ok(self.url + '/'),
                self.start_timeout, f'nova-api to answer on {self.url}')

    def _start(self, name: str) -> 'processes.ManagedProcess':
        venv = self.venv
        if name == API:
            # The API takes the first file for its paste file (an
            # absolute path is used as it is), and reads them all.
            files = [venv / 'etc' / 'nova' / 'api-paste.ini',
                     *self.config_files(venv, API)]
            process = processes.ManagedProcess(
                name, keystone.uwsgi_argv(
                    venv, 'nova.wsgi.osapi_compute:application', self.host,
                    self.port, workers=1,
                    pyargv=['--log-file', str(self.log_dir / f'{name}.log')]),
                self.log_dir / f'{name}-uwsgi.log',
                env={'OS_NOVA_CONFIG_DIR': str(self.run_dir),
                     'OS_NOVA_CONFIG_FILES': ';'.join(map(str, files))},
                term_leader_only=True, stop_timeout=STOP_TIMEOUT)
        else:
            process = processes.ManagedProcess(
                name, [venv / 'bin' / name, *self._args(venv, name),
                       '--log-file', str(self.log_dir / f'{name}.log')],
                self.log_dir / f'{name}.out', stop_timeout=STOP_TIMEOUT)
        process.setUp()
        return process

    def stop(self, names: Sequence[str] = PROCESSES) -> None:
        """Stop ``names`` (bounded, together); the cleanup stops all."""
        running = [self.processes.pop(name) for name in names
                   if name in self.processes]
        processes.stop_all(running)

    def running(self) -> list['processes.ManagedProcess']:
        return list(self.processes.values())


def make_flavor(conn: openstack.connection.Connection) -> str:
    """The tiny guest's flavor (``FLAVOR``), made once; its id."""
    try:
        found = conn.compute.find_flavor(FLAVOR['name'], ignore_missing=True)
        if found is None:
            found = conn.compute.create_flavor(**FLAVOR)
    except openstack.exceptions.SDKException as exc:
        raise exceptions.MiniCloudError(
            f'creating the flavor {FLAVOR["name"]} in nova failed: {exc}')
    return found.id


def wait_compute_reported(conn: openstack.connection.Connection,
                          timeout: float,
                          process: 'processes.ManagedProcess') -> None:
    """Until Placement has the resource provider of this machine's node.

    nova-compute names its node (and the provider) after the hypervisor's
    host name, the machine's, whatever its own ``[DEFAULT] host``.
    """
    node = socket.gethostname()

    def reported() -> bool:
        try:
            return any(p.name == node
                       for p in conn.placement.resource_providers())
        except openstack.exceptions.SDKException:
            return False
    process.wait_ready(reported, timeout,
                       f'nova-compute to report its node {node} to '
                       f'Placement')


class NovaService(service.Service):
    """Nova's API, conductor, scheduler and compute (compute part)."""

    name = 'nova'
    title = 'Nova'
    process_names = ('nova', *PROCESSES)
    migrate_tool = ('nova-manage api_db sync, db sync, '
                    'db online_data_migrations')
    port_options = ('nova_port',)
    uses_bus = True
    compute = True

    def __init__(self, cloud):
        super().__init__(cloud)
        self.db_urls: dict[str, str] = {}
        self.accelerator: accelerator.Choice | None = None

    def prepare(self) -> None:
        """Its three databases and its bus user."""
        super().prepare()
        cloud = self.cloud
        password = cloud.password('db_nova')
        self.db_urls = {name: cloud.db.create_database(name, 'nova',
                                                       password)
                        for name in DATABASES}

    def choose_accelerator(self) -> accelerator.Choice:
        """KVM if the tiny guest's kernel boots under it, else QEMU (TCG).

        Probed on the run's libvirt before Nova starts, once per boot of
        the machine (``accelerator.remembered``).
        """
        if self.accelerator is None:
            cloud = self.cloud
            cache = Path(config.CACHE_HOME).expanduser()
            image = guest.build(cache, cloud.log_dir / 'guest-build.log')
            self.accelerator = accelerator.remembered(
                cloud.services['libvirt'].server.connection_uri,
                image.kernel, cloud.run_dir / 'accelerator-probe',
                cache / 'accelerator.json')
        return self.accelerator

    def _values(self) -> dict[str, object]:
        cloud = self.cloud
        switch = cloud.services['ovn'].server
        hypervisor = cloud.services['libvirt'].server
        return {
            'transport_url': self.transport_url(),
            'compute_host': ovn.COMPUTE_HOST,
            'host_ip': cloud.host,
            'keystone_url': keystone.base_url(cloud.auth_url),
            'password': cloud.password('nova'),
            'region': keystone.REGION,
            'libvirt_uri': hypervisor.connection_uri,
            'virt_type': self.choose_accelerator().name,
            'ovsdb_connection': switch.ovsdb_connection,
        }

    def start(self, release, process=None, instance=None, bus=None) -> str:
        cloud = self.cloud
        names = PROCESSES if process in (None, 'nova') else (process,)
        if self.server is None:
            self.server = processes.use(cloud, Nova(
                release.venv, cloud.run_dir / 'nova', self.db_urls,
                self._values(), cloud.host, cloud.opts.nova_port,
                cloud.log_dir, start_timeout=cloud.opts.service_timeout))
            return (f'nova-api at {self.url}, guests under '
                    f'{self.accelerator.name} ({self.accelerator.reason}); '
                    f'the other processes start once registered')
        self.server.start(release.venv, names)
        if COMPUTE in names:
            self._compute_reported()
        return f'{", ".join(names)} at {self.url}'

    def stop(self, release=None, process=None, instance=None) -> str:
        names = PROCESSES if process in (None, 'nova') else (process,)
        self.server.stop(names)
        return ''

    def migrate(self, release) -> str:
        return self.server.db_sync(release.venv)

    def register(self) -> None:
        """Nova's user and endpoints, its flavor; then the rest of Nova."""
        cloud = self.cloud
        keystone.register_service(
            cloud.auth_url, cloud.password('admin'), 'nova',
            cloud.password('nova'), 'nova', 'compute', 'Nova Compute',
            f'{self.url}/v2.1')
        conn = keystone.admin_connection(cloud.auth_url,
                                         cloud.password('admin'))
        try:
            make_flavor(conn)
        finally:
            conn.close()
        self.server.start(names=PROCESSES)
        self._compute_reported()

    def _compute_reported(self) -> None:
        """Wait until nova-compute reported, then map its host."""
        cloud = self.cloud
        conn = keystone.admin_connection(cloud.auth_url,
                                         cloud.password('admin'))
        try:
            wait_compute_reported(conn, cloud.opts.service_timeout,
                                  self.server.processes[COMPUTE])
        finally:
            conn.close()
        self.server.discover_hosts()

    @property
    def url(self) -> str:
        return f'http://{self.cloud.host}:{self.cloud.opts.nova_port}'

    def running(self):
        return self.server.running() if self.server else []
