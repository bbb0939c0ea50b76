"""The private Open vSwitch and OVN, on the real daemons.

Two network namespaces, each on an OVS internal port of ``br-int`` bound
to a logical port of one logical switch, ping each other through OVN on
the userspace datapath; with one logical port deleted they no longer do.
After the cleanup nothing is left: no daemon, no namespace, no network
device, and nothing in ``/var/run/openvswitch`` or ``/var/run/ovn``.

Runs beside the CI's mini-cloud (ports 23306 and 25000-29696): its TCP
ports are taken below those, its names carry a token of its own.
"""

import os
from pathlib import Path
import socket
import subprocess
import time
import uuid

import fixtures
import testtools

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.minicloud import ovn
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests import processes

# Ports for the TCP listeners of the two OVN databases: below the CI
# mini-cloud's and the ephemeral range.
PORT_RANGE = range(16641, 16700)
SYSTEM_PATHS = ('/var/run/openvswitch', '/var/run/openvswitch/db.sock',
                '/var/run/ovn', '/var/run/ovn/ovnnb_db.sock',
                '/var/run/ovn/ovnsb_db.sock')
BOUND = 60
PING_BOUND = 30


def _free_ports(count: int) -> list[int]:
    found = []
    for port in PORT_RANGE:
        with socket.socket() as sock:
            try:
                sock.bind(('127.0.0.1', port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise exceptions.PortBusy(f'no {count} free ports in {PORT_RANGE}')


def _pss_kib(pid: int) -> int:
    with open(f'/proc/{pid}/smaps_rollup') as f:
        for line in f:
            if line.startswith('Pss:'):
                return int(line.split()[1])
    return 0


def _ip(*args: str, log: Path) -> str:
    return processes.run([packages.IP, *args], log, f'ip {" ".join(args)}',
                         timeout=30)


def _ping(namespace: str, address: str, count: int = 1) -> bool:
    return subprocess.run(
        [packages.IP, 'netns', 'exec', namespace, packages.PING, '-c',
         str(count), '-W', '1', address], capture_output=True,
        stdin=subprocess.DEVNULL, timeout=count * 2 + 10).returncode == 0


def _namespaces() -> set[str]:
    out = subprocess.run([packages.IP, 'netns', 'list'], capture_output=True,
                         text=True, timeout=30).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _processes_under(path: Path) -> list[str]:
    """Live processes whose command line names ``path``."""
    needle = str(path).encode()
    found = []
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / 'cmdline').read_bytes()
            state = (entry / 'stat').read_text().rsplit(')', 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if needle in cmdline and state != 'Z':
            command = cmdline.replace(b'\0', b' ').decode(errors='replace')
            found.append(f'{entry.name}: {command}')
    return found


class OVNTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.work = Path(self.useFixture(fixtures.TempDir()).path)
        self.log = self.work / 'logs' / 'test.log'
        packages.ensure_system_packages(self.work / 'logs' / 'apt.log',
                                        packages.NETWORK_BINARIES)
        self.token = uuid.uuid4().hex[:6]

    def _start(self, name: str, **kwargs) -> ovn.OVN:
        """A private OVS/OVN under the test's directory, cleaned up."""
        return processes.use(self, ovn.OVN(
            self.work / name, self.work / 'logs' / name,
            f'hut-ovn-{self.token}', **kwargs))

    def _add_namespace(self, cloud: ovn.OVN, name: str, iface: str,
                       lsp: str, mac: str, address: str) -> None:
        """A namespace on an OVS internal port bound to ``lsp``."""
        _ip('netns', 'add', name, log=self.log)
        self.addCleanup(self._delete_namespace, name)
        # Waits until ovs-vswitchd made the tap device.
        cloud.ovs_vsctl('add-port', ovn.INTEGRATION_BRIDGE, iface, '--',
                        'set', 'Interface', iface, 'type=internal',
                        f'external_ids:iface-id={lsp}')
        _ip('link', 'set', iface, 'netns', name, log=self.log)
        _ip('-n', name, 'link', 'set', iface, 'address', mac, log=self.log)
        _ip('-n', name, 'addr', 'add', f'{address}/24', 'dev', iface,
            log=self.log)
        _ip('-n', name, 'link', 'set', iface, 'up', log=self.log)
        _ip('-n', name, 'link', 'set', 'lo', 'up', log=self.log)

    def _delete_namespace(self, name: str) -> None:
        if name in _namespaces():
            _ip('netns', 'delete', name, log=self.log)

    @base.idempotent_id('1acc5147-b1f7-4e69-a75e-48f4c40425b0')
    def test_namespaces_ping_through_ovn_and_nothing_is_left(self):
        existed = {path: os.path.exists(path) for path in SYSTEM_PATHS}
        nb_port, sb_port = _free_ports(2)

        began = time.monotonic()
        cloud = self._start('ovn', nb_port=nb_port, sb_port=sb_port)
        start_s = time.monotonic() - began
        daemons = {p.name: p.popen.pid for p in cloud.running()}
        self.assertEqual(
            ['ovsdb-server-ovs', 'ovsdb-server-nb', 'ovsdb-server-sb',
             'ovs-vswitchd', 'ovn-northd', 'ovn-controller'], list(daemons))
        self.assertEqual('netdev', cloud.ovs_vsctl(
            'get', 'Bridge', ovn.INTEGRATION_BRIDGE,
            'datapath_type').strip())
        self.assertEqual('netdev', cloud.ovs_vsctl(
            'get', 'Bridge', ovn.EXTERNAL_BRIDGE, 'datapath_type').strip())
        self.assertTrue(cloud.layout.ovs_socket.is_socket())
        # The TCP listeners answer too.
        for tool, port in ((packages.OVN_NBCTL, nb_port),
                           (packages.OVN_SBCTL, sb_port)):
            processes.run([tool, f'--db=tcp:127.0.0.1:{port}',
                           '--timeout=10', 'show'], self.log,
                          f'{tool} on port {port}', timeout=20)

        switch = f'hut-{self.token}'
        sides = {
            side: {'lsp': f'hut-{self.token}-{side}',
                   'ns': f'hut-ovn-{self.token}-{side}',
                   'iface': f'hut{self.token}{side}',
                   'mac': f'fa:16:3e:00:99:0{number}',
                   'ip': f'10.199.0.{number}'}
            for number, side in enumerate('ab', start=1)}
        cloud.ovn_nbctl('ls-add', switch)
        for side in sides.values():
            cloud.ovn_nbctl('lsp-add', switch, side['lsp'])
            cloud.ovn_nbctl('lsp-set-addresses', side['lsp'],
                            f'{side["mac"]} {side["ip"]}')
        for side in sides.values():
            self._add_namespace(cloud, side['ns'], side['iface'],
                                side['lsp'], side['mac'], side['ip'])
        for side in sides.values():
            processes.wait_until(
                lambda lsp=side['lsp']: cloud.ovn_nbctl(
                    'get', 'Logical_Switch_Port', lsp,
                    'up').strip() == 'true',
                BOUND, f'logical port {side["lsp"]} to be up (bound by '
                f'ovn-controller)')

        a, b = sides['a'], sides['b']
        processes.wait_until(
            lambda: _ping(a['ns'], b['ip']), PING_BOUND,
            f'{a["ns"]} to ping {b["ip"]} through OVN')
        self.assertTrue(_ping(b['ns'], a['ip'], count=3),
                        f'{b["ns"]} cannot ping {a["ip"]}')
        pss = {name: _pss_kib(pid) for name, pid in daemons.items()}

        # The drill: without its logical port, b is cut off.
        cloud.ovn_nbctl('--wait=hv', 'lsp-del', b['lsp'])
        self.assertNotIn(b['lsp'], cloud.ovn_nbctl('lsp-list', switch))
        self.assertFalse(_ping(a['ns'], b['ip'], count=3),
                         f'{a["ns"]} still pings {b["ip"]} with logical '
                         f'port {b["lsp"]} deleted')

        for side in sides.values():
            self._delete_namespace(side['ns'])
        began = time.monotonic()
        # What the cleanup does (again, then finding nothing to stop).
        cloud.stop()
        stop_s = time.monotonic() - began

        self.assertEqual([], [pid for pid in daemons.values()
                              if Path(f'/proc/{pid}').exists()])
        self.assertEqual([], _processes_under(self.work))
        self.assertEqual(set(), {s['ns'] for s in sides.values()}
                         & _namespaces())
        devices = [ovn.INTEGRATION_BRIDGE, ovn.EXTERNAL_BRIDGE,
                   ovn.NETDEV_DEVICE] + [s['iface'] for s in sides.values()]
        self.assertEqual([], [d for d in devices
                              if Path('/sys/class/net', d).exists()])
        self.assertEqual([], [path for path, was in existed.items()
                              if not was and os.path.exists(path)])

        total = sum(pss.values())
        print(f'private OVS/OVN: start {start_s:.2f} s, stop {stop_s:.2f} s, '
              f'PSS {total / 1024:.1f} MiB (' + ', '.join(
                  f'{name} {kib / 1024:.1f}' for name, kib in pss.items())
              + ')', flush=True)

    @base.idempotent_id('b49146a1-3c5e-49ac-9718-cf3057ef6b85')
    def test_a_second_switch_is_refused_and_named(self):
        """A second private OVS beside the first is refused, naming it.

        The same holds for a system Open vSwitch: ovs-vswitchd cannot be
        made private (its bridges are the machine's network devices).
        """
        first = self._start('first')
        pid = first.processes['ovs-vswitchd'].popen.pid
        second = ovn.OVN(self.work / 'second', self.work / 'logs' / 'second',
                         f'hut-ovn-{self.token}-2')
        exc = self.assertRaises(exceptions.MiniCloudError, processes.use,
                                self, second)
        message = str(exc)
        self.assertIn(f'ovs-vswitchd runs as pid {pid}', message)
        self.assertIn(f'the network device {ovn.INTEGRATION_BRIDGE} exists',
                      message)
        self.assertNotIn('\n', message)
        self.assertFalse((self.work / 'second' / 'run').exists())
