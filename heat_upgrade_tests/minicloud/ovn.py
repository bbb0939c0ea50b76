"""A private Open vSwitch and OVN: the data plane under ML2/OVN.

Neutron's only driver left for a machine without the Linux bridge agent
is OVN, and Nova plugs its guests into OVS through os-vif. Both talk to
the daemons through their databases, so the run gives them databases of
its own: Debian's ``ovsdb-server`` (one for OVS's ``conf.db``, one each
for OVN's Northbound and Southbound databases), ``ovs-vswitchd``,
``ovn-northd`` and ``ovn-controller``, each with its database file, unix
socket, pid file, log file and control socket under the run's
directory, never in ``/var/run/openvswitch`` or ``/var/run/ovn``. Every
path is given on the command line, and ``OVS_RUNDIR`` and its kin point
what is not (``ovn-controller``'s control socket, the bridges' OpenFlow
sockets) at the same directory.

The machine has no kernel modules, so the bridges use the userspace
datapath (``datapath_type=netdev``); ``ovn-controller`` makes ``br-int``
the same way (``ovn-bridge-datapath-type``). Its chassis is named after
the host Nova will report, so that Neutron binds that host's ports.

One daemon cannot be made private: ``ovs-vswitchd``'s bridges are network
devices of the whole machine (``br-int`` and ``br-ex`` are tap devices of
the host's namespace), and at start it deletes every datapath its own
database does not name, a system Open vSwitch's kernel datapath
included. The fixture refuses to start where another ``ovs-vswitchd``
runs, or where those devices already exist, and names what it found.
"""

from collections.abc import Sequence
import dataclasses
import hashlib
import os
from pathlib import Path
import re
import subprocess

import fixtures

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests import processes

INTEGRATION_BRIDGE = 'br-int'
EXTERNAL_BRIDGE = 'br-ex'
# The provider network Neutron's flat external network will name.
PHYSICAL_NETWORK = 'public'
# The device the userspace datapath itself opens on the host.
NETDEV_DEVICE = 'ovs-netdev'
# The device of the kernel datapath of a system Open vSwitch.
KERNEL_DATAPATH_DEVICE = 'ovs-system'
# Where Debian's daemons put their sockets: never used here.
SYSTEM_RUN_DIRS = ('/var/run/openvswitch', '/var/run/ovn')

# A unix socket path longer than this (108 bytes with the final NUL on
# Linux) is cut, and the daemon cannot listen on it.
MAX_SOCKET_PATH = 107
# Ports at or above this are in the ephemeral range, where an outgoing
# connection may take them first (FIELD-NOTES: a RabbitMQ port was).
EPHEMERAL_PORTS = 32768
# A host name as Nova reports it and as ovs-vsctl takes it unquoted.
_HOSTNAME = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$')
# Everything to the log file; nothing to the console or to syslog (the
# machine's, which this run must not fill).
_LOGGING = ('-vconsole:off', '-vsyslog:off', '-vfile:info')

CTL_TIMEOUT = 30
# Each daemon is ready in a fraction of a second, and the start is a
# chain of six waits.
POLL_INTERVAL = 0.1
EXIT_TIMEOUT = 10
STOP_TIMEOUT = 10


@dataclasses.dataclass(frozen=True)
class Daemon:
    """How one daemon runs: its command line and its control socket.

    ``ctl`` is None for ``ovn-controller``, which in OVN 23.03 takes no
    ``--unixctl`` and names its socket after its pid in ``OVN_RUNDIR``
    (``Layout.controller_ctl``). ``exit_args`` is what ``ovs-appctl``
    sends it to stop.
    """

    name: str
    argv: tuple[str, ...]
    ctl: Path | None
    appctl: str = packages.OVS_APPCTL
    exit_args: tuple[str, ...] = ('exit',)


def check_port(what: str, port: int | None) -> None:
    """Refuse a TCP port that is not an integer in 1-32767.

    None is no port (the unix socket only).
    """
    if port is None:
        return
    if isinstance(port, bool) or not isinstance(port, int):
        raise exceptions.MiniCloudError(
            f'the {what} port must be an integer, not {port!r}')
    if not 0 < port < EPHEMERAL_PORTS:
        raise exceptions.MiniCloudError(
            f'the {what} port {port} is not in 1-{EPHEMERAL_PORTS - 1}: '
            f'ports from {EPHEMERAL_PORTS} up are ephemeral, an outgoing '
            f'connection may take them; choose another')


def check_hostname(hostname: str) -> None:
    """Refuse a host name Nova could not report or ovs-vsctl not take."""
    if not isinstance(hostname, str) or not _HOSTNAME.match(hostname):
        raise exceptions.MiniCloudError(
            f'invalid chassis host name {hostname!r}: use letters, digits, '
            f'dots and dashes (at most 63), as Nova\'s [DEFAULT] host')


@dataclasses.dataclass(frozen=True)
class Layout:
    """Every file of the instance: data and sockets under ``base_dir``.

    Logs go to ``log_dir`` (the run's). One run directory holds the
    sockets, pid files and control sockets of all six daemons, and is
    both ``OVS_RUNDIR`` and ``OVN_RUNDIR``.
    """

    base_dir: Path
    log_dir: Path
    host: str = '127.0.0.1'
    nb_port: int | None = None
    sb_port: int | None = None

    @property
    def db_dir(self) -> Path:
        return self.base_dir / 'db'

    @property
    def run_dir(self) -> Path:
        return self.base_dir / 'run'

    @property
    def etc_dir(self) -> Path:
        return self.base_dir / 'etc'

    @property
    def ovs_db(self) -> Path:
        return self.db_dir / 'conf.db'

    @property
    def nb_db(self) -> Path:
        return self.db_dir / 'ovnnb_db.db'

    @property
    def sb_db(self) -> Path:
        return self.db_dir / 'ovnsb_db.db'

    @property
    def ovs_socket(self) -> Path:
        return self.run_dir / 'db.sock'

    @property
    def nb_socket(self) -> Path:
        return self.run_dir / 'ovnnb_db.sock'

    @property
    def sb_socket(self) -> Path:
        return self.run_dir / 'ovnsb_db.sock'

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f'{name}.pid'

    def ctl(self, name: str) -> Path:
        return self.run_dir / f'{name}.ctl'

    def log_file(self, name: str) -> Path:
        return self.log_dir / f'{name}.log'

    @property
    def ctl_log(self) -> Path:
        """Where the ``ovs-vsctl``/``ovn-nbctl`` calls and answers go."""
        return self.log_dir / 'ovs-ctl.log'

    def controller_ctl(self, pid: int) -> Path:
        """``ovn-controller``'s control socket, named after its pid."""
        return self.run_dir / f'ovn-controller.{pid}.ctl'

    @property
    def environ(self) -> dict[str, str]:
        """Where the tools look for what no option names: here.

        For the daemons and every tool call, and for any other process
        that runs OVS tools with their defaults (libvirtd's
        ``virtualport type='openvswitch'`` runs ``ovs-vsctl`` without
        ``--db``, which then uses ``$OVS_RUNDIR/db.sock``). The
        ``OVN_*_DAEMON`` variables are emptied so that ``ovn-nbctl`` and
        ``ovn-sbctl`` talk to the database named, not to a daemon that a
        caller's environment may name.
        """
        env = {}
        for prefix in ('OVS', 'OVN'):
            env[f'{prefix}_RUNDIR'] = str(self.run_dir)
            env[f'{prefix}_DBDIR'] = str(self.db_dir)
            env[f'{prefix}_LOGDIR'] = str(self.log_dir)
            env[f'{prefix}_SYSCONFDIR'] = str(self.etc_dir)
        env['OVN_NB_DAEMON'] = ''
        env['OVN_SB_DAEMON'] = ''
        return env

    def sockets(self) -> list[Path]:
        """Every unix socket the daemons make, for the length check.

        ``ovn-controller``'s is measured with the longest pid Linux
        gives (``pid_max`` is at most 4194304).
        """
        return ([self.ovs_socket, self.nb_socket, self.sb_socket,
                 self.controller_ctl(4194304)]
                + [d.ctl for d in self.daemons() if d.ctl is not None]
                + [self.run_dir / f'{bridge}.{kind}'
                   for bridge in (INTEGRATION_BRIDGE, EXTERNAL_BRIDGE)
                   for kind in ('mgmt', 'snoop')])

    def check(self) -> None:
        """Refuse bad ports and socket paths too long to listen on."""
        check_port('OVN Northbound database', self.nb_port)
        check_port('OVN Southbound database', self.sb_port)
        if self.nb_port is not None and self.nb_port == self.sb_port:
            raise exceptions.MiniCloudError(
                f'the OVN Northbound and Southbound databases are both '
                f'given port {self.nb_port}; give them two ports')
        for path in self.sockets():
            if len(str(path)) > MAX_SOCKET_PATH:
                raise exceptions.MiniCloudError(
                    f'the socket path {path} is longer than '
                    f'{MAX_SOCKET_PATH} characters; choose a shorter work '
                    f'directory')

    def _ovsdb_server(self, name: str, db: Path, socket: Path,
                      port: int | None) -> Daemon:
        remotes = [f'--remote=punix:{socket}']
        if port is not None:
            remotes.append(f'--remote=ptcp:{port}:{self.host}')
        return Daemon(name, (
            packages.OVSDB_SERVER, str(db), *remotes,
            f'--pidfile={self.pid_file(name)}',
            f'--unixctl={self.ctl(name)}',
            f'--log-file={self.log_file(name)}', *_LOGGING),
            self.ctl(name))

    def daemons(self) -> list[Daemon]:
        """The six daemons, in the order they start."""
        vswitchd, northd = 'ovs-vswitchd', 'ovn-northd'
        controller = 'ovn-controller'
        return [
            self._ovsdb_server('ovsdb-server-ovs', self.ovs_db,
                               self.ovs_socket, None),
            self._ovsdb_server('ovsdb-server-nb', self.nb_db,
                               self.nb_socket, self.nb_port),
            self._ovsdb_server('ovsdb-server-sb', self.sb_db,
                               self.sb_socket, self.sb_port),
            # exit --cleanup: the bridges' tap devices are persistent
            # and would outlive a plain exit (and SIGKILL).
            Daemon(vswitchd, (
                packages.OVS_VSWITCHD, f'unix:{self.ovs_socket}',
                f'--pidfile={self.pid_file(vswitchd)}',
                f'--unixctl={self.ctl(vswitchd)}',
                f'--log-file={self.log_file(vswitchd)}', *_LOGGING),
                self.ctl(vswitchd), exit_args=('exit', '--cleanup')),
            Daemon(northd, (
                packages.OVN_NORTHD, f'--ovnnb-db=unix:{self.nb_socket}',
                f'--ovnsb-db=unix:{self.sb_socket}',
                f'--pidfile={self.pid_file(northd)}',
                f'--unixctl={self.ctl(northd)}',
                f'--log-file={self.log_file(northd)}', *_LOGGING),
                self.ctl(northd), appctl=packages.OVN_APPCTL),
            # Its chassis settings come from the OVS database
            # (chassis_settings).
            Daemon(controller, (
                packages.OVN_CONTROLLER, f'unix:{self.ovs_socket}',
                f'--pidfile={self.pid_file(controller)}',
                f'--log-file={self.log_file(controller)}', *_LOGGING),
                None, appctl=packages.OVN_APPCTL),
        ]

    def chassis_settings(self, hostname: str) -> list[str]:
        """``ovs-vsctl set Open_vSwitch .`` arguments of the chassis.

        ``hostname`` names the chassis as Nova names its host, so that
        Neutron binds that host's ports here. Geneve to 127.0.0.1: one
        chassis, no tunnel is ever made, but ovn-controller wants an
        encapsulation. ``br-ex`` carries the ``public`` physical network
        (the flat external network), and the chassis may host router
        gateways (``enable-chassis-as-gw``: Neutron schedules them only
        on such chassis).
        """
        check_hostname(hostname)
        ids = {
            'system-id': hostname,
            'hostname': hostname,
            'ovn-remote': f'unix:{self.sb_socket}',
            'ovn-encap-type': 'geneve',
            'ovn-encap-ip': '127.0.0.1',
            'ovn-bridge': INTEGRATION_BRIDGE,
            'ovn-bridge-datapath-type': 'netdev',
            'ovn-bridge-mappings': f'{PHYSICAL_NETWORK}:{EXTERNAL_BRIDGE}',
            'ovn-cms-options': 'enable-chassis-as-gw',
        }
        return [f'external-ids:{key}="{value}"'
                for key, value in ids.items()]

    def exit_argv(self, daemon: Daemon, ctl: Path) -> list[str]:
        """The command that asks ``daemon`` (at ``ctl``) to exit."""
        return [daemon.appctl, '-t', str(ctl), f'--timeout={EXIT_TIMEOUT}',
                *daemon.exit_args]


def other_switches(proc: Path = Path('/proc'),
                   net: Path = Path('/sys/class/net'),
                   devices: Sequence[str] = (
                       KERNEL_DATAPATH_DEVICE, NETDEV_DEVICE,
                       INTEGRATION_BRIDGE, EXTERNAL_BRIDGE)) -> list[str]:
    """What stands in the way of a private ``ovs-vswitchd``, in words.

    Another live ``ovs-vswitchd`` (zombies aside), named by pid and
    command line, and each of ``devices`` that already exists: a
    bridge of another switch, the kernel datapath of a system Open
    vSwitch, or what a killed run left.
    """
    found = []
    for entry in sorted(proc.iterdir(), key=lambda p: p.name):
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / 'stat').read_text()
            cmdline = (entry / 'cmdline').read_bytes()
        except OSError:
            continue
        name = stat[stat.find('(') + 1:stat.rfind(')')]
        state = stat[stat.rfind(')') + 2:].split()[:1]
        if name != 'ovs-vswitchd' or state == ['Z']:
            continue
        command = cmdline.replace(b'\0', b' ').decode(errors='replace')
        found.append(f'ovs-vswitchd runs as pid {entry.name} '
                     f'({command.strip() or name})')
    found.extend(f'the network device {device} exists'
                 for device in devices if (net / device).exists())
    return found


class OVN(fixtures.Fixture):
    """Private OVS and OVN daemons under ``base_dir``, stopped on cleanup.

    ``hostname`` names the chassis (Nova's ``[DEFAULT] host``).
    ``nb_port`` and ``sb_port``, if given, make the Northbound and
    Southbound databases listen on TCP on ``host`` too; the unix sockets
    are always there, and are what the connection strings name.

    The databases are created on first use and kept, so a later fixture
    on the same ``base_dir`` finds the logical networks again.

    Cleanup asks each daemon to exit through its control socket, in the
    order that lets each leave cleanly (``ovn-controller`` removes its
    chassis from the Southbound database, ``ovs-vswitchd`` removes its
    devices), each bounded; whatever still runs is then terminated, and
    devices a killed ``ovs-vswitchd`` left are deleted.
    """

    def __init__(self, base_dir: Path, log_dir: Path, hostname: str,
                 nb_port: int | None = None, sb_port: int | None = None,
                 host: str = '127.0.0.1', start_timeout: float = 60):
        super().__init__()
        self.layout = Layout(Path(base_dir).absolute(),
                             Path(log_dir).absolute(), host, nb_port,
                             sb_port)
        self.layout.check()
        check_hostname(hostname)
        self.hostname = hostname
        self.start_timeout = start_timeout
        self.processes: dict[str, processes.ManagedProcess] = {}
        self._daemons = {d.name: d for d in self.layout.daemons()}

    # -- what the services need ----------------------------------------------
    @property
    def ovn_nb_connection(self) -> str:
        """Neutron's ``[ovn] ovn_nb_connection``."""
        return f'unix:{self.layout.nb_socket}'

    @property
    def ovn_sb_connection(self) -> str:
        """Neutron's ``[ovn] ovn_sb_connection``."""
        return f'unix:{self.layout.sb_socket}'

    @property
    def ovsdb_connection(self) -> str:
        """Nova's ``[os_vif_ovs] ovsdb_connection``: the OVS database.

        Also Neutron's ``[ovs] ovsdb_connection``, should the OVN
        metadata agent run.
        """
        return f'unix:{self.layout.ovs_socket}'

    @property
    def environ(self) -> dict[str, str]:
        """The environment that points OVS tools here (Layout.environ)."""
        return self.layout.environ

    def running(self) -> list[processes.ManagedProcess]:
        """The daemons now running, in the order they started."""
        return [p for p in self.processes.values() if p.running]

    def ovs_vsctl(self, *args: str, timeout: float = CTL_TIMEOUT) -> str:
        """``ovs-vsctl ARGS`` on the private OVS database; its output."""
        return self._ctl(packages.OVS_VSCTL, self.ovsdb_connection, args,
                         timeout)

    def ovn_nbctl(self, *args: str, timeout: float = CTL_TIMEOUT) -> str:
        """``ovn-nbctl ARGS`` on the private Northbound database."""
        return self._ctl(packages.OVN_NBCTL, self.ovn_nb_connection, args,
                         timeout)

    def ovn_sbctl(self, *args: str, timeout: float = CTL_TIMEOUT) -> str:
        """``ovn-sbctl ARGS`` on the private Southbound database."""
        return self._ctl(packages.OVN_SBCTL, self.ovn_sb_connection, args,
                         timeout)

    def _ctl(self, tool: str, db: str, args: Sequence[str],
             timeout: float) -> str:
        # The tool's own --timeout first, so that it says what it waited
        # for; the process bound is the last resort. (--timeout=0 would
        # be no bound at all.)
        name = os.path.basename(tool)
        seconds = max(1, round(timeout))
        return processes.run(
            [tool, f'--db={db}', f'--timeout={seconds}', *args],
            self.layout.ctl_log, f'{name} {" ".join(args)}',
            env=self.environ, timeout=timeout + 10)

    # -- start ---------------------------------------------------------------
    def _setUp(self) -> None:
        missing = packages.missing_packages(packages.NETWORK_BINARIES)
        if missing:
            names = ' '.join(missing)
            raise exceptions.MiniCloudError(
                f'a private OVN needs the Debian packages {names}; install '
                f'them (as root: apt-get install --no-install-recommends '
                f'{names})')
        found = other_switches()
        if found:
            raise exceptions.MiniCloudError(
                'cannot run a private Open vSwitch beside another on this '
                'machine: ' + '; '.join(found) + '. Bridges are network '
                'devices of the whole machine and ovs-vswitchd deletes the '
                'datapaths its database does not name: stop that switch '
                'first (or delete the devices a killed run left)')
        layout = self.layout
        for path in (layout.db_dir, layout.run_dir, layout.etc_dir,
                     layout.log_dir):
            path.mkdir(parents=True, exist_ok=True)
        self._remove_stale_sockets()
        self._create_databases()
        # Registered before the first start: a start that fails half-way
        # still stops what it started.
        self.addCleanup(self.stop)

        self._start('ovsdb-server-ovs')
        self._wait_answers('ovsdb-server-ovs', layout.ovs_socket,
                           # --no-wait: no ovs-vswitchd runs yet.
                           [packages.OVS_VSCTL,
                            f'--db={self.ovsdb_connection}', '--no-wait',
                            'show'],
                           'the OVS database')
        self.ovs_vsctl('--no-wait', 'init', '--', 'set', 'Open_vSwitch',
                       '.', *layout.chassis_settings(self.hostname))

        for name in ('ovsdb-server-nb', 'ovsdb-server-sb', 'ovs-vswitchd'):
            self._start(name)
        self._wait_answers('ovsdb-server-nb', layout.nb_socket,
                           [packages.OVN_NBCTL,
                            f'--db={self.ovn_nb_connection}', 'show'],
                           'the OVN Northbound database')
        self._wait_answers('ovsdb-server-sb', layout.sb_socket,
                           [packages.OVN_SBCTL,
                            f'--db={self.ovn_sb_connection}', 'show'],
                           'the OVN Southbound database')
        self._wait_answers('ovs-vswitchd', layout.ctl('ovs-vswitchd'),
                           [packages.OVS_APPCTL, '-t',
                            str(layout.ctl('ovs-vswitchd')), 'version'],
                           'ovs-vswitchd')
        # Without --no-wait: returns once ovs-vswitchd made the bridge.
        self.ovs_vsctl('--may-exist', 'add-br', EXTERNAL_BRIDGE, '--',
                       'set', 'Bridge', EXTERNAL_BRIDGE,
                       'datapath_type=netdev',
                       timeout=self.start_timeout)

        self._start('ovn-northd')
        self._start('ovn-controller')
        self.processes['ovn-northd'].wait_ready(
            self._northd_active, self.start_timeout,
            'ovn-northd to be active', interval=POLL_INTERVAL)
        self.processes['ovn-controller'].wait_ready(
            self._chassis_ready, self.start_timeout,
            f'ovn-controller to register chassis {self.hostname} and '
            f'make {INTEGRATION_BRIDGE} (netdev)', interval=POLL_INTERVAL)

    def _remove_stale_sockets(self) -> None:
        # A run killed with SIGKILL leaves its sockets, and a daemon
        # would not listen where one is left. No daemon of this instance
        # runs yet (setUp starts them), and no other switch does.
        for path in self.layout.run_dir.iterdir():
            if path.suffix in ('.sock', '.ctl', '.mgmt', '.snoop'):
                path.unlink(missing_ok=True)

    def _create_databases(self) -> None:
        layout = self.layout
        for db, schema in ((layout.ovs_db, packages.OVS_SCHEMA),
                           (layout.nb_db, packages.OVN_NB_SCHEMA),
                           (layout.sb_db, packages.OVN_SB_SCHEMA)):
            if db.exists():
                continue
            # Made aside and moved into place: an interrupted create
            # leaves no half database to start on.
            partial = db.with_name(f'.{db.name}.partial')
            partial.unlink(missing_ok=True)
            processes.run([packages.OVSDB_TOOL, 'create', partial, schema],
                          layout.ctl_log, f'creating {db.name} from {schema}',
                          env=self.environ, timeout=CTL_TIMEOUT)
            os.replace(partial, db)

    def _start(self, name: str) -> None:
        daemon = self._daemons[name]
        process = processes.ManagedProcess(
            name, daemon.argv, self.layout.log_file(name), env=self.environ,
            cwd=self.layout.base_dir, stop_timeout=STOP_TIMEOUT)
        try:
            process.setUp()
        except fixtures.MultipleExceptions as exc:
            error = exc.args[0]
            raise error[1].with_traceback(error[2])
        self.processes[name] = process

    def _wait_answers(self, name: str, socket: Path, argv: list[str],
                      what: str) -> None:
        """Wait until the command ``argv`` succeeds on ``socket``.

        The socket is looked for first: a client that finds none keeps
        trying to connect until its own ``--timeout``, which would make
        each poll that long.
        """
        probe = [argv[0], '--timeout=5', *argv[1:]]
        self.processes[name].wait_ready(
            lambda: socket.exists() and self._succeeds(probe),
            self.start_timeout, f'{what} to answer on {socket}',
            interval=POLL_INTERVAL)

    def _succeeds(self, argv: Sequence[str]) -> bool:
        return self._probe(argv) is not None

    def _probe(self, argv: Sequence[str], timeout: float = 10) -> str | None:
        """The output of a probe command, None if it fails.

        Polled several times a second while a daemon starts, so its
        output is not written to the log (the daemon's own log says
        what went wrong).
        """
        env = dict(os.environ)
        env.update(self.environ)
        try:
            proc = subprocess.run(
                [str(a) for a in argv], capture_output=True, text=True,
                env=env, stdin=subprocess.DEVNULL, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout if proc.returncode == 0 else None

    def _northd_active(self) -> bool:
        out = self._probe([packages.OVN_APPCTL, '-t',
                           self.layout.ctl('ovn-northd'), '--timeout=5',
                           'status'])
        return out is not None and out.split() == ['Status:', 'active']

    def _chassis_ready(self) -> bool:
        datapath = self._probe([
            packages.OVS_VSCTL, f'--db={self.ovsdb_connection}',
            '--timeout=5', '--if-exists', 'get', 'Bridge',
            INTEGRATION_BRIDGE, 'datapath_type'])
        chassis = self._probe([
            packages.OVN_SBCTL, f'--db={self.ovn_sb_connection}',
            '--timeout=5', '--bare', '--columns=name', 'find', 'Chassis',
            f'name={self.hostname}'])
        return (datapath is not None and datapath.strip() == 'netdev'
                and chassis is not None and chassis.strip() == self.hostname)

    # -- stop ----------------------------------------------------------------
    def stop(self) -> None:
        """Stop every daemon, bounded, and the devices they leave.

        ``ovn-controller`` first (it removes its chassis from the
        Southbound database and its flows from ``br-int``), then
        ``ovn-northd``, ``ovs-vswitchd`` (``exit --cleanup`` deletes
        its devices, those moved into other namespaces too), and the
        three databases together. Each is asked through its ``*-appctl``
        and given ``EXIT_TIMEOUT`` seconds; what still runs after that
        is terminated by ``processes.stop_all`` (SIGTERM, then SIGKILL).
        """
        had_switch = 'ovs-vswitchd' in self.processes
        internal = self._internal_devices()
        order = (('ovn-controller',), ('ovn-northd',), ('ovs-vswitchd',),
                 ('ovsdb-server-nb', 'ovsdb-server-sb', 'ovsdb-server-ovs'))
        for names in order:
            asked = [name for name in names if self._ask_exit(name)]
            for name in asked:
                process = self.processes[name]
                try:
                    processes.wait_until(
                        lambda p=process: not p.running, EXIT_TIMEOUT,
                        f'{name} to exit', interval=POLL_INTERVAL)
                except exceptions.UpgradeTestError:
                    pass  # stop_all below terminates it
        running, self.processes = list(self.processes.values()), {}
        processes.stop_all(running)
        if had_switch:
            self._delete_devices(internal)

    def _ask_exit(self, name: str) -> bool:
        process = self.processes.get(name)
        if process is None or not process.running:
            return False
        daemon = self._daemons[name]
        ctl = daemon.ctl or self.layout.controller_ctl(process.popen.pid)
        try:
            processes.run(self.layout.exit_argv(daemon, ctl),
                          self.layout.ctl_log, f'asking {name} to exit',
                          env=self.environ, timeout=EXIT_TIMEOUT + 5)
        except exceptions.UpgradeTestError:
            return False
        return True

    def _internal_devices(self) -> list[str]:
        """The tap devices ``ovs-vswitchd`` made (internal interfaces).

        Read while the OVS database still answers: a ``ovs-vswitchd``
        that had to be killed leaves them on the host, and only they are
        this instance's to delete (a guest's tap belongs to libvirt).
        """
        database = self.processes.get('ovsdb-server-ovs')
        if database is None or not database.running:
            return []
        try:
            out = self.ovs_vsctl('--bare', '--columns=name', 'find',
                                 'Interface', 'type=internal', timeout=5)
        except exceptions.UpgradeTestError:
            return []
        return out.split()

    def _delete_devices(self, internal: Sequence[str]) -> None:
        names = dict.fromkeys([INTEGRATION_BRIDGE, EXTERNAL_BRIDGE,
                               NETDEV_DEVICE, *internal])
        left = [name for name in names
                if Path('/sys/class/net', name).exists()]
        for name in left:
            try:
                processes.run([packages.IP, 'link', 'delete', name],
                              self.layout.ctl_log,
                              f'deleting the device {name}', timeout=30)
            except exceptions.UpgradeTestError:
                pass
        still = [name for name in left
                 if Path('/sys/class/net', name).exists()]
        if still:
            raise exceptions.MiniCloudError(
                f'the network devices {", ".join(still)} of the private '
                f'Open vSwitch are left; delete them (ip link delete NAME)')


class ExternalProbe(fixtures.Fixture):
    """A network namespace on ``br-ex``: where the data plane is probed.

    What devstack's host is to its floating IPs (its ``br-ex`` holds the
    public network's gateway address), without touching the machine's
    own addresses or routes: an OVS internal port of ``br-ex`` moved into
    a namespace of the run (``name``), holding ``address`` (CIDR). The
    phases probe servers' floating IPs from there, through OVN's router
    and NAT. Cleanup deletes the port and the namespace.
    """

    def __init__(self, switch: OVN, name: str, device: str, address: str):
        super().__init__()
        self.switch = switch
        self.name = name
        self.device = device
        self.address = address

    def _setUp(self) -> None:
        log = self.switch.layout.ctl_log
        if Path('/run/netns', self.name).exists():
            raise exceptions.MiniCloudError(
                f'the network namespace {self.name} exists (left by a '
                f'killed run?): delete it (ip netns delete {self.name})')
        self.addCleanup(self._delete)
        processes.run([packages.IP, 'netns', 'add', self.name], log,
                      f'adding the network namespace {self.name}',
                      timeout=CTL_TIMEOUT)
        # Without --no-wait: returns once ovs-vswitchd made the device.
        self.switch.ovs_vsctl('--may-exist', 'add-port', EXTERNAL_BRIDGE,
                              self.device, '--', 'set', 'Interface',
                              self.device, 'type=internal')
        for argv in (['link', 'set', self.device, 'netns', self.name],
                     ['-n', self.name, 'addr', 'add', self.address, 'dev',
                      self.device],
                     ['-n', self.name, 'link', 'set', self.device, 'up'],
                     ['-n', self.name, 'link', 'set', 'lo', 'up']):
            processes.run([packages.IP, *argv], log,
                          f'ip {" ".join(argv)}', timeout=CTL_TIMEOUT)

    def _delete(self) -> None:
        log = self.switch.layout.ctl_log
        try:
            self.switch.ovs_vsctl('--if-exists', 'del-port', EXTERNAL_BRIDGE,
                                  self.device, timeout=10)
        except exceptions.UpgradeTestError:
            pass  # the switch's own stop removes its devices
        if Path('/run/netns', self.name).exists():
            processes.run([packages.IP, 'netns', 'delete', self.name], log,
                          f'deleting the network namespace {self.name}',
                          timeout=CTL_TIMEOUT)


def probe_names(base_dir: Path) -> tuple[str, str]:
    """The probe's namespace and device names, unique to ``base_dir``.

    A device name has at most 15 characters.
    """
    digest = hashlib.sha256(str(Path(base_dir).absolute()).encode())
    tag = digest.hexdigest()[:8]
    return f'hut-probe-{tag}', f'hutp{tag}'


# The chassis name OVN binds the compute's ports to: Nova's [DEFAULT]
# host on the mini-cloud.
COMPUTE_HOST = 'hut-compute'
# The probe's address: the external network's gateway (Neutron's public
# subnet, 203.0.113.0/24, leaves .1 to its gateway, as devstack's br-ex).
PROBE_ADDRESS = '203.0.113.1/24'


class OVNService(service.Service):
    """The run's Open vSwitch and OVN, for the whole run (compute part).

    Never stopped by a plan: at the no-api moment grenade leaves the
    hypervisor and its switch running, and the guests' traffic with them.
    """

    name = 'ovn'
    title = 'Open vSwitch and OVN'
    versioned = False
    compute = True
    # The namespace the phases probe the data plane from, once started.
    probe: ExternalProbe | None = None

    def start(self, release=None, process=None, instance=None,
              bus=None) -> str:
        cloud = self.cloud
        self.server = processes.use(cloud, OVN(
            cloud.run_dir / 'ovn', cloud.log_dir, COMPUTE_HOST,
            start_timeout=cloud.opts.service_timeout))
        name, device = probe_names(cloud.run_dir)
        self.probe = processes.use(cloud, ExternalProbe(
            self.server, name, device, PROBE_ADDRESS))
        return (f'ovn at {self.server.ovn_nb_connection}; the data plane '
                f'probed from the namespace {name}')

    def stop(self, release=None, process=None, instance=None) -> str:
        raise exceptions.MiniCloudError(
            'Open vSwitch and OVN run for the whole run, as grenade leaves '
            'the hypervisor\'s switch running')

    def running(self):
        return self.server.running() if self.server else []
