"""The private OVS/OVN's command lines and paths, without a daemon.

Every file a daemon is told of lies under the instance's own directory
or the run's log directory, and none in the machine's (``/var/run/...``):
a system Open vSwitch must neither be used nor disturbed. Ports are
validated before anything starts; what stands in the way of a private
``ovs-vswitchd`` is found and named.
"""

from pathlib import Path
import sys

import fixtures
import testtools

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.minicloud import ovn
from heat_upgrade_tests.phases.suite import base

BASE = Path('/work/hut/ovn')
LOGS = Path('/work/hut/logs')
# The binaries and schemas the daemons run from: the only paths outside.
SYSTEM_FILES = set(packages.NETWORK_BINARIES)


def _paths_in(arg: str) -> list[str]:
    """Absolute paths in one argument (``--opt=/p``, ``punix:/p``...)."""
    found = []
    for part in arg.replace('=', ' ').replace(':', ' ').split():
        if part.startswith('/'):
            found.append(part)
    return found


def _layout(**kwargs) -> ovn.Layout:
    return ovn.Layout(BASE, LOGS, **kwargs)


class LayoutTest(testtools.TestCase):

    @base.idempotent_id('e529d6f6-3b8f-491e-be5d-8b2c8293b886')
    def test_every_path_is_the_instances_own(self):
        """Each path on a command line is under the instance or its logs.

        Data, sockets, pid files, control sockets, logs: a daemon told of
        a path elsewhere could share it with a system instance.
        """
        layout = _layout(nb_port=16641, sb_port=16642)
        outside = []
        for daemon in layout.daemons():
            for arg in daemon.argv:
                for path in _paths_in(arg):
                    if path in SYSTEM_FILES:
                        continue
                    if not (Path(path).is_relative_to(BASE)
                            or Path(path).is_relative_to(LOGS)):
                        outside.append(f'{daemon.name}: {path}')
        self.assertEqual([], outside)
        for path in layout.sockets():
            self.assertTrue(path.is_relative_to(BASE / 'run'), path)

    @base.idempotent_id('78cf343f-aad6-4b12-8e01-b95746ba9cd7')
    def test_nothing_names_the_machines_directories(self):
        """No argument, setting or variable names a system directory."""
        layout = _layout(nb_port=16641, sb_port=16642)
        args = ([arg for d in layout.daemons() for arg in d.argv]
                + layout.chassis_settings('compute-1')
                + list(layout.environ.values()))
        named = {path for arg in args for path in _paths_in(arg)}
        self.assertEqual(set(), {
            path for path in named - SYSTEM_FILES
            if path.startswith(('/var/', '/run/', '/etc/', '/usr/'))})

    @base.idempotent_id('5b1e4fcb-ae5f-4cd9-80e8-a9063a7b9269')
    def test_the_environment_points_the_tools_here(self):
        """What no option names (a control socket) is found here too.

        ovn-controller in OVN 23.03 takes no --unixctl: OVN_RUNDIR places
        its socket; ovs-vswitchd's OpenFlow sockets follow OVS_RUNDIR.
        The daemon variables are emptied so that ovn-nbctl obeys --db.
        """
        env = _layout().environ
        for prefix in ('OVS', 'OVN'):
            self.assertEqual(str(BASE / 'run'), env[f'{prefix}_RUNDIR'])
            self.assertEqual(str(BASE / 'db'), env[f'{prefix}_DBDIR'])
            self.assertEqual(str(LOGS), env[f'{prefix}_LOGDIR'])
            self.assertEqual(str(BASE / 'etc'), env[f'{prefix}_SYSCONFDIR'])
        self.assertEqual('', env['OVN_NB_DAEMON'])
        self.assertEqual('', env['OVN_SB_DAEMON'])

    @base.idempotent_id('2dc5d185-efd3-43ba-82a9-703a09012e7d')
    def test_daemons_start_in_order_with_their_own_files(self):
        """Six daemons, databases first, each with pid file and log."""
        layout = _layout()
        daemons = layout.daemons()
        self.assertEqual(
            ['ovsdb-server-ovs', 'ovsdb-server-nb', 'ovsdb-server-sb',
             'ovs-vswitchd', 'ovn-northd', 'ovn-controller'],
            [d.name for d in daemons])
        for daemon in daemons:
            self.assertIn(f'--pidfile={BASE}/run/{daemon.name}.pid',
                          daemon.argv)
            self.assertIn(f'--log-file={LOGS}/{daemon.name}.log',
                          daemon.argv)
            self.assertIn('-vsyslog:off', daemon.argv)
            if daemon.name != 'ovn-controller':
                self.assertEqual(BASE / 'run' / f'{daemon.name}.ctl',
                                 daemon.ctl)
                self.assertIn(f'--unixctl={daemon.ctl}', daemon.argv)
        by_name = {d.name: d for d in daemons}
        self.assertEqual(
            (packages.OVSDB_SERVER, f'{BASE}/db/conf.db',
             f'--remote=punix:{BASE}/run/db.sock'),
            by_name['ovsdb-server-ovs'].argv[:3])
        self.assertEqual(
            (packages.OVS_VSWITCHD, f'unix:{BASE}/run/db.sock'),
            by_name['ovs-vswitchd'].argv[:2])
        self.assertEqual(
            (packages.OVN_NORTHD, f'--ovnnb-db=unix:{BASE}/run/ovnnb_db.sock',
             f'--ovnsb-db=unix:{BASE}/run/ovnsb_db.sock'),
            by_name['ovn-northd'].argv[:3])
        self.assertEqual(
            (packages.OVN_CONTROLLER, f'unix:{BASE}/run/db.sock'),
            by_name['ovn-controller'].argv[:2])
        self.assertIsNone(by_name['ovn-controller'].ctl)

    @base.idempotent_id('3852dcf1-6a6a-4020-ae1b-b7f47448a983')
    def test_tcp_listeners_only_when_ports_are_given(self):
        """A TCP remote on the host for each port given, none otherwise."""
        daemons = {d.name: d for d in _layout(
            nb_port=16641, sb_port=16642).daemons()}
        self.assertIn('--remote=ptcp:16641:127.0.0.1',
                      daemons['ovsdb-server-nb'].argv)
        self.assertIn('--remote=ptcp:16642:127.0.0.1',
                      daemons['ovsdb-server-sb'].argv)
        for daemon in _layout().daemons():
            self.assertEqual([], [a for a in daemon.argv if 'tcp:' in a])

    @base.idempotent_id('4445e9b6-c875-4f60-b01b-531ab5669e42')
    def test_exit_commands(self):
        """Each daemon is asked to exit on its own control socket.

        ovs-vswitchd with --cleanup: its bridges' tap devices are
        persistent and a plain exit would leave them on the machine.
        """
        layout = _layout()
        daemons = {d.name: d for d in layout.daemons()}
        vswitchd = daemons['ovs-vswitchd']
        self.assertEqual(
            [packages.OVS_APPCTL, '-t', f'{BASE}/run/ovs-vswitchd.ctl',
             '--timeout=10', 'exit', '--cleanup'],
            layout.exit_argv(vswitchd, vswitchd.ctl))
        controller = daemons['ovn-controller']
        self.assertEqual(
            [packages.OVN_APPCTL, '-t',
             f'{BASE}/run/ovn-controller.4242.ctl', '--timeout=10', 'exit'],
            layout.exit_argv(controller, layout.controller_ctl(4242)))
        northd = daemons['ovn-northd']
        self.assertEqual(['exit'], layout.exit_argv(northd, northd.ctl)[4:])

    @base.idempotent_id('c4086e3c-c9d9-48b3-9f06-53798147de6e')
    def test_chassis_settings(self):
        """The chassis as ML2/OVN on the userspace datapath needs it.

        Named as Nova names its host; br-int and br-ex netdev; geneve to
        127.0.0.1; the private Southbound socket; ``public`` on br-ex.
        """
        self.assertEqual(
            ['external-ids:system-id="compute-1"',
             'external-ids:hostname="compute-1"',
             f'external-ids:ovn-remote="unix:{BASE}/run/ovnsb_db.sock"',
             'external-ids:ovn-encap-type="geneve"',
             'external-ids:ovn-encap-ip="127.0.0.1"',
             'external-ids:ovn-bridge="br-int"',
             'external-ids:ovn-bridge-datapath-type="netdev"',
             'external-ids:ovn-bridge-mappings="public:br-ex"',
             'external-ids:ovn-cms-options="enable-chassis-as-gw"'],
            _layout().chassis_settings('compute-1'))

    @base.idempotent_id('cc9bc613-ed9f-48cc-baae-8d89f5aa5a34')
    def test_connections_name_the_private_sockets(self):
        """What Neutron and Nova will be given: the private sockets."""
        cloud = ovn.OVN(BASE, LOGS, 'compute-1')
        self.assertEqual(f'unix:{BASE}/run/ovnnb_db.sock',
                         cloud.ovn_nb_connection)
        self.assertEqual(f'unix:{BASE}/run/ovnsb_db.sock',
                         cloud.ovn_sb_connection)
        self.assertEqual(f'unix:{BASE}/run/db.sock', cloud.ovsdb_connection)
        self.assertEqual([], cloud.running())


class ValidationTest(testtools.TestCase):

    @base.idempotent_id('a2661d8c-a568-4365-adab-d34c17952635')
    def test_ports_below_32768(self):
        """Ports 1-32767 or none; the ephemeral range is refused.

        An outgoing connection may take a port of the ephemeral range
        before the daemon binds it.
        """
        for port in (None, 1, 6641, 32767):
            ovn.check_port('test', port)
        for port in (0, -1, 32768, 65535):
            exc = self.assertRaises(exceptions.MiniCloudError,
                                    ovn.check_port, 'OVN Northbound', port)
            self.assertIn(f'the OVN Northbound port {port} is not in '
                          f'1-32767', str(exc))
        exc = self.assertRaises(exceptions.MiniCloudError, ovn.check_port,
                                'OVN Southbound database', 32768)
        self.assertEqual(
            'the OVN Southbound database port 32768 is not in 1-32767: '
            'ports from 32768 up are ephemeral, an outgoing connection may '
            'take them; choose another', str(exc))
        for port in ('6641', 6641.0, True):
            self.assertRaises(exceptions.MiniCloudError, ovn.check_port,
                              'test', port)

    @base.idempotent_id('0abcf887-4edf-4d8e-ba5c-990df55cec4e')
    def test_bad_ports_stop_the_fixture_before_it_starts(self):
        """The fixture refuses bad ports when made, before any file."""
        work = Path(self.useFixture(fixtures.TempDir()).path)
        exc = self.assertRaises(exceptions.MiniCloudError, ovn.OVN,
                                work / 'ovn', work / 'logs', 'compute-1',
                                nb_port=40000)
        self.assertIn('Northbound', str(exc))
        exc = self.assertRaises(exceptions.MiniCloudError, ovn.OVN,
                                work / 'ovn', work / 'logs', 'compute-1',
                                nb_port=16641, sb_port=16641)
        self.assertEqual(
            'the OVN Northbound and Southbound databases are both given '
            'port 16641; give them two ports', str(exc))
        self.assertEqual([], list(work.iterdir()))

    @base.idempotent_id('0952df44-78c0-4f85-b3f2-18389e796608')
    def test_socket_path_too_long(self):
        """A socket path Linux would cut is refused, naming it."""
        deep = Path('/' + 'd' * 80)
        exc = self.assertRaises(exceptions.MiniCloudError,
                                ovn.Layout(deep, LOGS).check)
        self.assertIn(str(deep / 'run'), str(exc))
        self.assertIn('longer than 107', str(exc))
        self.assertNotIn('\n', str(exc))
        ovn.Layout(Path('/' + 'd' * 60), LOGS).check()

    @base.idempotent_id('be5975fb-a38b-4c0b-985f-e0eca022f6a4')
    def test_hostnames(self):
        """A chassis host name as Nova reports one, nothing else."""
        for name in ('compute-1', 'node.example.org', 'a'):
            ovn.check_hostname(name)
        for name in ('', 'bad host', 'a"b', '-x', 'x' * 64, 'a,b', None):
            self.assertRaises(exceptions.MiniCloudError,
                              ovn.check_hostname, name)


class OtherSwitchesTest(testtools.TestCase):
    """other_switches on a /proc and /sys/class/net of the test's own."""

    def setUp(self):
        super().setUp()
        root = Path(self.useFixture(fixtures.TempDir()).path)
        self.proc = root / 'proc'
        self.net = root / 'net'
        self.proc.mkdir()
        self.net.mkdir()
        (self.proc / 'self').mkdir()

    def _process(self, pid: int, name: str, state: str = 'S',
                 cmdline: bytes = b'') -> None:
        entry = self.proc / str(pid)
        entry.mkdir()
        (entry / 'stat').write_text(f'{pid} ({name}) {state} 1 {pid} 0\n')
        (entry / 'cmdline').write_bytes(cmdline)

    def _found(self) -> list[str]:
        return ovn.other_switches(self.proc, self.net)

    @base.idempotent_id('379fe512-73b5-4256-a744-f06911bc597e')
    def test_nothing_in_the_way(self):
        self._process(1, 'init')
        self._process(20, 'ovsdb-server')
        self._process(21, 'ovn-controller')
        (self.net / 'eth0').mkdir()
        self.assertEqual([], self._found())

    @base.idempotent_id('eb901198-d021-4c81-b99e-a2ced31e04d5')
    def test_a_running_switch_is_named_by_pid_and_command(self):
        """Any live ovs-vswitchd, the system's or another run's."""
        self._process(
            42, 'ovs-vswitchd',
            cmdline=b'ovs-vswitchd\0unix:/var/run/openvswitch/db.sock\0')
        self.assertEqual(
            ['ovs-vswitchd runs as pid 42 '
             '(ovs-vswitchd unix:/var/run/openvswitch/db.sock)'],
            self._found())

    @base.idempotent_id('5921e5a0-6db1-42b0-8386-8c5d78644e4f')
    def test_a_zombie_is_not_a_switch(self):
        self._process(43, 'ovs-vswitchd', state='Z')
        self.assertEqual([], self._found())

    @base.idempotent_id('c45c85b4-cd53-4cba-a58d-b01146d02171')
    def test_devices_in_the_way_are_named(self):
        """A kernel datapath, or bridges a killed run left."""
        for device in ('br-int', 'ovs-system', 'eth0'):
            (self.net / device).mkdir()
        self.assertEqual(
            ['the network device ovs-system exists',
             'the network device br-int exists'],
            self._found())


class PackagesTest(testtools.TestCase):

    @base.idempotent_id('7707f7ad-b861-4036-88f4-cf3a6a89eb17')
    def test_network_table_names_what_ovn_runs(self):
        """Every binary the daemons and probes run is in the table."""
        layout = _layout()
        for daemon in layout.daemons():
            self.assertIn(daemon.argv[0], packages.NETWORK_BINARIES)
            self.assertIn(daemon.appctl, packages.NETWORK_BINARIES)
        for path in (packages.OVS_VSCTL, packages.OVN_NBCTL,
                     packages.OVN_SBCTL, packages.OVSDB_TOOL, packages.IP,
                     packages.PING, packages.OVS_SCHEMA,
                     packages.OVN_NB_SCHEMA, packages.OVN_SB_SCHEMA):
            self.assertIn(path, packages.NETWORK_BINARIES)
        # The real binary, not the alternatives link (maybe DPDK's).
        self.assertEqual('/usr/lib/openvswitch-switch/ovs-vswitchd',
                         packages.OVS_VSWITCHD)

    @base.idempotent_id('632be6a8-b9e1-45d2-bd4e-af8f33763e93')
    def test_missing_packages_of_a_table(self):
        """A table's absent binaries name their packages, once each."""
        self.assertEqual(['pkg-x'], packages.missing_packages({
            '/nonexistent/x': 'pkg-x', '/nonexistent/y': 'pkg-x',
            sys.executable: 'python3'}))
