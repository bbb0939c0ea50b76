"""The run's private libvirt, on the real daemons of Debian's libvirt 9.0.

A transient TCG guest (64 MiB, no disk: SeaBIOS, its messages on QEMU's
debug port) runs through the private URI, in no cgroup of its own, and is
destroyed; the accelerator probe boots Debian's cloud kernel (downloaded
and unpacked, not installed) under TCG, where it must start, and under
KVM, where it must not (this machine's ``/dev/kvm`` is ``kvm_pvm``:
FIELD-NOTES), so the probe says ``qemu``, within its bound. After the
stop nothing of the test is left: no daemon or QEMU, no socket, and the
host's libvirt directories, system socket and cgroups as they were. Two
private libvirts run side by side, each with a guest of the same name
and id, and the first's end leaves the second working; a guest outlives
a restart of its libvirt; a second fixture on a directory whose daemons
still run refuses, naming their pids and sockets. Times and memory are
printed (``doc/source/libvirt.rst``).
"""

import os
from pathlib import Path
import shutil
import signal
import time

import fixtures
import testtools

from heat_upgrade_tests import config
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.minicloud import accelerator
from heat_upgrade_tests.minicloud import libvirt
from heat_upgrade_tests.minicloud import mountns
from heat_upgrade_tests import processes

WORK_DIR = Path(config.CACHE_HOME).expanduser() / 'functional-libvirt'
SYSTEM_SOCKET = Path('/var/run/libvirt/libvirt-sock')
HOST_DIRS = (libvirt.ETC_DIR, libvirt.RUN_DIR, libvirt.LIB_DIR,
             libvirt.CACHE_DIR, libvirt.LOG_DIR)
GUEST = 'hut-functional-tcg'
CGROUPS = Path('/sys/fs/cgroup')
# TCG is slow on a busy machine: the control boot may take this long.
TCG_BOOT_BOUND = 60
# The KVM probe's bound, plus libvirt's destroy of a stuck QEMU.
PROBE_BOUND = accelerator.PROBE_TIMEOUT + accelerator.DESTROY_TIMEOUT


def cloud_kernel(cache: Path, log: Path) -> Path:
    """Debian's cloud kernel, unpacked from its .deb (never installed).

    Kept in ``cache``: the download (27 MB) and unpacking happen once.
    """
    found = sorted(cache.glob('vmlinuz-*'))
    if found:
        return found[-1]
    cache.mkdir(parents=True, exist_ok=True)
    package = _kernel_package(log)
    if package is None:
        processes.run(['apt-get', 'update'], log, 'apt-get update',
                      timeout=300)
        package = _kernel_package(log)
    if package is None:
        raise exceptions.MiniCloudError(
            f'no linux-image-*-cloud-amd64 package known to apt; see {log}')
    download = cache / 'download'
    shutil.rmtree(download, ignore_errors=True)
    download.mkdir()
    try:
        processes.run(['apt-get', 'download', package], log,
                      f'apt-get download {package}', cwd=download,
                      timeout=300)
        deb = next(download.glob('*.deb'))
        processes.run(['dpkg-deb', '-x', deb, download / 'tree'], log,
                      f'unpacking {deb.name}', timeout=300)
        kernel = next((download / 'tree' / 'boot').glob('vmlinuz-*'))
        os.replace(kernel, cache / kernel.name)
    finally:
        shutil.rmtree(download, ignore_errors=True)
    return cache / kernel.name


def _kernel_package(log: Path) -> str | None:
    try:
        out = processes.run(['apt-cache', 'depends',
                             'linux-image-cloud-amd64'], log,
                            'apt-cache depends linux-image-cloud-amd64',
                            timeout=60)
    except exceptions.MiniCloudError:
        return None
    for line in out.splitlines():
        field, _, name = line.strip().partition(': ')
        if (field == 'Depends' and name.startswith('linux-image-')
                and name.endswith('-cloud-amd64')):
            return name
    return None


def pss_mib(pid: int) -> float:
    """Proportional set size of ``pid`` (/proc/PID/smaps_rollup), MiB."""
    for line in Path(f'/proc/{pid}/smaps_rollup').read_text().splitlines():
        if line.startswith('Pss:'):
            return int(line.split()[1]) / 1024
    raise AssertionError(f'no Pss line for pid {pid}')


def read(path: Path) -> str:
    try:
        return path.read_text(errors='replace')
    except OSError:
        return ''


def alive(pid: int) -> bool:
    try:
        state = Path(f'/proc/{pid}/stat').read_text().split(') ')[-1][0]
    except OSError:
        return False
    return state != 'Z'


def processes_naming(text: str) -> list[str]:
    """Command lines (pid first) of processes whose argv mentions text."""
    found = []
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / 'cmdline').read_bytes().replace(b'\0', b' ')
        except OSError:
            continue
        if text.encode() in argv and alive(int(entry.name)):
            found.append(f'{entry.name} {argv.decode(errors="replace")}')
    return found


def host_state() -> dict[str, object]:
    """What of libvirt the host shows: to be the same after the test."""
    state: dict[str, object] = {
        'system socket': SYSTEM_SOCKET.exists(),
        'cgroups': sorted(str(p) for p in CGROUPS.glob('*machine*'))
        + sorted(str(p) for p in CGROUPS.glob('*/*machine*')),
    }
    for path in HOST_DIRS:
        state[str(path)] = (sorted(p.name for p in path.iterdir())
                            if path.is_dir() else None)
    return state


def guest_xml(name: str, debugcon: Path) -> str:
    """A 64 MiB TCG domain with no disk; SeaBIOS logs to ``debugcon``."""
    return f"""<domain type='qemu'
        xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-chardev'/>
    <qemu:arg value='file,id=hutdebugcon,path={debugcon}'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='isa-debugcon,iobase=0x402,chardev=hutdebugcon'/>
  </qemu:commandline>
</domain>
"""


class TestPrivateLibvirt(testtools.TestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest('a privileged libvirt (qemu:///system, as Nova '
                          'uses) needs root')
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        self.log = WORK_DIR / 'setup.log'
        packages.ensure_system_packages(self.log, packages.LIBVIRT_BINARIES)
        self.tmp = Path(self.useFixture(fixtures.TempDir()).path)
        self.before = host_state()
        self.stopped: list[libvirt.Libvirt] = []

    def start(self, base: Path) -> libvirt.Libvirt:
        """A started Libvirt, stopped at the end of the test at the latest.

        Its cleanup is registered here rather than through useFixture so
        the test can stop it itself, timed, and look at what is left.
        """
        lv = libvirt.Libvirt(base / 'libvirt', base / 'logs')
        lv.setUp()
        self.addCleanup(self.cleanup_once, lv)
        return lv

    def cleanup_once(self, lv: libvirt.Libvirt) -> None:
        for name, pid in lv.guest_pids().items():
            # Never left behind by a failed test.
            try:
                lv.virsh('destroy', name)
            except exceptions.UpgradeTestError:
                os.kill(pid, signal.SIGKILL)
        self.stop(lv)

    def stop(self, lv: libvirt.Libvirt) -> None:
        if lv not in self.stopped:
            self.stopped.append(lv)
            lv.cleanUp()

    def test_a_guest_runs_privately_and_nothing_is_left(self):
        kernel = cloud_kernel(WORK_DIR / 'kernel', self.log)
        lv = self.start(self.tmp)
        uri = lv.connection_uri
        figures = {'start (cold, s)': lv.start_seconds}

        # Private: the URI names the run's socket; the daemons live in
        # mount namespaces of their own.
        self.assertEqual(
            f'qemu:///system?socket={self.tmp}/libvirt/sock/libvirt-sock',
            uri)
        self.assertIn('Running hypervisor: QEMU', lv.virsh('version'))
        daemons = dict(zip(('libvirtd', 'virtlogd'), lv.pids()))
        self.assertEqual(2, len(daemons))
        ours = os.readlink('/proc/self/ns/mnt')
        for name, pid in daemons.items():
            self.assertNotEqual(ours, os.readlink(f'/proc/{pid}/ns/mnt'),
                                f'{name} shares the host mount namespace')
        self.assertIn(str(lv.paths.socket),
                      libvirt.listening_unix_sockets(daemons['libvirtd']))
        # virtlogd listens on libvirt's compile-time path, inside.
        self.assertEqual(('/run/libvirt/virtlogd-admin-sock',
                          '/run/libvirt/virtlogd-sock'),
                         libvirt.listening_unix_sockets(daemons['virtlogd']))
        self.assertTrue(lv.paths.virtlogd_socket.exists())
        # The host sees none of it: at most the mount points, empty but
        # for the marker that lets a cleanup remove them.
        running = host_state()
        for path in HOST_DIRS:
            if self.before[str(path)] is None:
                self.assertEqual([mountns.MARKER], running[str(path)], path)
                running[str(path)] = None
        self.assertEqual(self.before, running)

        # A TCG guest: running, its QEMU alive, SeaBIOS executing.
        debugcon = self.tmp / 'debugcon.log'
        xml = self.tmp / 'guest.xml'
        xml.write_text(guest_xml(GUEST, debugcon))
        started = time.monotonic()
        lv.virsh('create', str(xml))
        figures['domain start (s)'] = time.monotonic() - started
        self.assertEqual('running', lv.virsh('domstate', GUEST).strip())
        qemu = lv.guest_pids()[GUEST]
        self.assertTrue(alive(qemu))
        self.assertIn(f'guest={GUEST}'.encode(),
                      Path(f'/proc/{qemu}/cmdline').read_bytes())
        # No cgroup of its own: it stays in its libvirtd's.
        self.assertEqual(
            Path(f'/proc/{daemons["libvirtd"]}/cgroup').read_text(),
            Path(f'/proc/{qemu}/cgroup').read_text())
        self.assertEqual(self.before['cgroups'], host_state()['cgroups'])
        processes.wait_until(
            lambda: 'No bootable device' in read(debugcon), TCG_BOOT_BOUND,
            'SeaBIOS of the TCG guest to end its boot')
        # Its log is where the daemons see /var/log/libvirt.
        self.assertTrue(
            (lv.paths.domain_logs / 'qemu' / f'{GUEST}.log').is_file())
        figures.update({
            'libvirtd PSS (MiB)': pss_mib(daemons['libvirtd']),
            'virtlogd PSS (MiB)': pss_mib(daemons['virtlogd']),
            'QEMU 64 MiB TCG guest PSS (MiB)': pss_mib(qemu),
        })
        lv.virsh('destroy', GUEST)
        processes.wait_until(lambda: not alive(qemu), 30,
                             f'the QEMU of {GUEST} (pid {qemu}) to exit')
        self.assertEqual({}, lv.guest_pids())

        # The probe: the same kernel starts under TCG (so the probe sees
        # a boot when there is one), and not under KVM, which libvirt
        # offers all the same.
        self.assertIn('<domain>kvm</domain>',
                      lv.virsh('domcapabilities', '--virttype', 'kvm'))
        control = accelerator.boot_probe(uri, kernel, self.tmp / 'probe',
                                         'qemu', timeout=TCG_BOOT_BOUND)
        self.assertTrue(control.booted, control.saw)
        started = time.monotonic()
        choice = accelerator.accelerator(uri, kernel, self.tmp / 'probe')
        figures['accelerator probe (s)'] = time.monotonic() - started
        self.assertEqual('qemu', choice.name, choice.reason)
        self.assertIsNotNone(choice.probe, choice.reason)
        self.assertFalse(choice.probe.booted, choice.probe.saw)
        self.assertLess(figures['accelerator probe (s)'], PROBE_BOUND)
        self.assertEqual('', lv.virsh('list', '--all', '--name').strip())
        self.assertEqual({}, lv.guest_pids())

        # The stop: nothing of the test is left.
        started = time.monotonic()
        self.stop(lv)
        figures['stop (s)'] = time.monotonic() - started
        for name, pid in [*daemons.items(), ('qemu', qemu)]:
            self.assertFalse(alive(pid), f'{name} (pid {pid}) is left')
        self.assertEqual([], processes_naming(str(self.tmp)))
        self.assertEqual([], [str(p) for p in (self.tmp / 'libvirt').rglob(
            '*-sock*')])
        self.assertEqual(self.before, host_state())

        print(f'private libvirt: control boot under TCG {control.seconds:.1f}'
              f' s; accelerator {choice.name}: {choice.reason}', flush=True)
        print(', '.join(f'{k} {v:.2f}' for k, v in figures.items()),
              flush=True)

    def test_two_private_libvirts_side_by_side(self):
        # Each privileged, as a system libvirtd is; a guest of the same
        # name (and id) in each, as two Novas would name theirs.
        first = self.start(self.tmp / 'first')
        second = self.start(self.tmp / 'second')
        guests = {}
        for lv in (first, second):
            xml = lv.paths.base / 'guest.xml'
            xml.write_text(guest_xml(GUEST, lv.paths.base / 'debugcon.log'))
            lv.virsh('create', str(xml))
            self.assertEqual('1', lv.virsh('domid', GUEST).strip())
            self.assertEqual(GUEST, lv.virsh('list', '--name').strip())
            guests[lv] = lv.guest_pids()[GUEST]
        self.assertNotEqual(guests[first], guests[second])
        first.virsh('destroy', GUEST)
        processes.wait_until(lambda: not alive(guests[first]), 30,
                             f'the first QEMU of {GUEST} to exit')
        self.assertEqual('running',
                         second.virsh('domstate', GUEST).strip())
        self.assertTrue(alive(guests[second]))
        # The first run ends: the mount points the second's daemons use
        # stay, and the second's libvirt keeps working.
        self.stop(first)
        self.assertTrue(libvirt.RUN_DIR.is_dir())
        self.assertEqual('running (booted)', second.virsh(
            'domstate', '--reason', GUEST).strip())
        self.assertEqual({GUEST: guests[second]}, second.guest_pids())
        second.virsh('destroy', GUEST)
        processes.wait_until(lambda: not alive(guests[second]), 30,
                             f'the second QEMU of {GUEST} to exit')
        self.stop(second)
        self.assertEqual(self.before, host_state())

    def test_refuses_a_daemon_left_on_its_directory(self):
        first = self.start(self.tmp)
        again = libvirt.Libvirt(self.tmp / 'libvirt', self.tmp / 'logs')
        error = self.assertRaises(exceptions.MiniCloudError,
                                  processes.use, self, again)
        self.assertIn(f'libvirtd (pid {first.libvirtd.popen.pid}, socket '
                      f'{first.paths.socket})', str(error))
        self.assertIn(f'virtlogd (pid {first.virtlogd.popen.pid}, socket '
                      f'/run/libvirt/virtlogd-sock)', str(error))
        self.assertIn('work_dir', str(error))
        # The refused fixture touched nothing of the running one.
        self.assertIn('Running hypervisor', first.virsh('version'))

    def test_a_guest_outlives_a_restart_of_libvirt(self):
        lv = self.start(self.tmp)
        xml = self.tmp / 'guest.xml'
        xml.write_text(guest_xml(GUEST, self.tmp / 'debugcon.log'))
        lv.virsh('create', str(xml))
        qemu = lv.guest_pids()[GUEST]
        self.stop(lv)
        # Stopped daemons leave the guest, and the host's traces, alone.
        self.assertTrue(alive(qemu))
        self.assertEqual({GUEST: qemu}, lv.guest_pids())
        self.assertTrue(libvirt.RUN_DIR.is_dir())

        again = self.start(self.tmp)
        self.assertEqual('running (booted)',
                         again.virsh('domstate', '--reason', GUEST).strip())
        self.assertEqual({GUEST: qemu}, again.guest_pids())
        print(f'private libvirt: restart beside a running guest '
              f'{again.start_seconds:.1f} s', flush=True)
        again.virsh('destroy', GUEST)
        processes.wait_until(lambda: not alive(qemu), 30,
                             f'the QEMU of {GUEST} (pid {qemu}) to exit')
        self.stop(again)
        self.assertEqual([], processes_naming(str(self.tmp)))
        self.assertEqual(self.before, host_state())
