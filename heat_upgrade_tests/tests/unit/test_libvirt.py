"""The private libvirt's pure parts: its files, namespace, URI, refusal.

Nothing here starts a daemon: the configuration it writes keeps every
path under the run's directories and turns off what is host-wide
(cgroups, the D-Bus system bus, audit, TCP listeners); the namespace
covers libvirt's compile-time directories; the URI names the run's
socket; a daemon left on the run's directory (in a /proc tree made here)
is named with its pid and socket, and no other daemon is a reason to
refuse; the accelerator probe's domain and its reading of a console.
The real daemons are tests/functional/test_libvirt.py's.
"""

import os
from pathlib import Path
import re
import xml.etree.ElementTree as ET

import fixtures
import testtools

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.minicloud import accelerator
from heat_upgrade_tests.minicloud import libvirt
from heat_upgrade_tests import processes

COMPILE_TIME = {Path('/etc/libvirt'), Path('/run/libvirt'),
                Path('/var/lib/libvirt'), Path('/var/cache/libvirt'),
                Path('/var/log/libvirt')}


def _under(path: Path, *roots: Path) -> bool:
    return any(path == root or root in path.parents for root in roots)


class TestConfiguration(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = Path(self.useFixture(fixtures.TempDir()).path)
        self.base = tmp / 'run' / 'libvirt'
        self.logs = tmp / 'run' / 'logs'
        self.paths = libvirt.Paths(self.base, self.logs)

    def _paths_in(self, text: str) -> list[Path]:
        # Every absolute path a configuration names (after "file:" too).
        return [Path(p) for p in re.findall(r'(?:"|file:)(/[^"]*)"?', text)]

    def test_libvirtd_conf_keeps_every_path_under_the_run(self):
        conf = libvirt.libvirtd_conf(self.paths)
        named = self._paths_in(conf)
        self.assertIn(self.base / 'sock', named)
        self.assertIn(self.logs / 'libvirtd.log', named)
        for path in named:
            self.assertTrue(_under(path, self.base, self.logs), path)
        self.assertIn('listen_tcp = 0', conf)
        self.assertIn('listen_tls = 0', conf)
        self.assertIn('audit_level = 0', conf)
        self.assertIn('unix_sock_rw_perms = "0700"', conf)

    def test_virtlogd_conf_logs_under_the_run(self):
        conf = libvirt.virtlogd_conf(self.paths)
        self.assertEqual([self.logs / 'virtlogd.log'], self._paths_in(conf))

    def test_qemu_conf_runs_root_without_host_wide_effects(self):
        conf = libvirt.qemu_conf()
        for line in ('user = "root"', 'group = "root"',
                     'dynamic_ownership = 0', 'security_driver = "none"',
                     'cgroup_controllers = [ ]', 'stdio_handler = "logd"'):
            self.assertIn(line, conf)
        ports = [int(v) for v in re.findall(r'_port_m(?:in|ax) = (\d+)',
                                            conf)]
        self.assertEqual(6, len(ports))
        self.assertTrue(all(1024 < port < 23000 for port in ports), ports)
        self.assertEqual([], self._paths_in(conf))

    def test_every_file_of_the_daemons_is_under_the_run(self):
        for name in ('etc', 'run', 'lib', 'cache', 'domain_logs',
                     'sockets', 'libvirtd_conf', 'virtlogd_conf',
                     'qemu_conf', 'libvirtd_pid', 'virtlogd_pid',
                     'libvirtd_log', 'virtlogd_log', 'virsh_log',
                     'no_system_bus',
                     'passwd', 'group', 'socket', 'virtlogd_socket',
                     'guest_pid_files'):
            path = getattr(self.paths, name)
            self.assertTrue(_under(path, self.base, self.logs),
                            f'{name}: {path}')

    def test_no_system_bus_for_libvirtd(self):
        env = libvirt.libvirtd_env(self.paths)
        self.assertEqual(['DBUS_SYSTEM_BUS_ADDRESS'], list(env))
        address = env['DBUS_SYSTEM_BUS_ADDRESS']
        self.assertTrue(address.startswith('unix:path='), address)
        path = Path(address.removeprefix('unix:path='))
        self.assertTrue(_under(path, self.base))
        self.assertFalse(path.exists())

    def test_libvirt_s_ovs_vsctl_finds_the_run_s_open_vswitch(self):
        env = libvirt.libvirtd_env(self.paths, Path('/w/ovs'))
        self.assertEqual('/w/ovs', env['OVS_RUNDIR'])

    def test_a_quote_in_a_path_is_refused_in_one_line(self):
        paths = libvirt.Paths(Path('/tmp/a"b'), self.logs)
        error = self.assertRaises(exceptions.MiniCloudError,
                                  libvirt.libvirtd_conf, paths)
        self.assertIn('work_dir', str(error))


class TestNamespace(testtools.TestCase):

    paths = libvirt.Paths(Path('/w/libvirt'), Path('/w/logs'))

    def test_the_compile_time_directories_are_the_run_s(self):
        mounts = libvirt.namespace_mounts(self.paths, accounts=False)
        self.assertEqual(COMPILE_TIME, {target for _s, target in mounts})
        self.assertEqual(len(mounts), len(COMPILE_TIME))
        for source, _target in mounts:
            self.assertTrue(_under(source, Path('/w')), source)
        self.assertIn((Path('/w/logs/libvirt'), Path('/var/log/libvirt')),
                      mounts)
        self.assertIn((Path('/w/libvirt/run'), Path('/run/libvirt')),
                      mounts)

    def test_the_account_files_only_when_asked(self):
        mounts = libvirt.namespace_mounts(self.paths, accounts=True)
        self.assertEqual(
            [(Path('/w/libvirt/passwd'), Path('/etc/passwd')),
             (Path('/w/libvirt/group'), Path('/etc/group'))], mounts[-2:])


class TestURI(testtools.TestCase):

    def test_system_driver_through_the_run_s_socket(self):
        self.assertEqual(
            'qemu:///system?socket=/w/libvirt/sock/libvirt-sock',
            libvirt.connection_uri(Path('/w/libvirt/sock/libvirt-sock')))

    def test_the_path_is_quoted(self):
        self.assertEqual(
            'qemu:///system?socket=/my%20work/s%26x/libvirt-sock',
            libvirt.connection_uri(Path('/my work/s&x/libvirt-sock')))

    def test_the_fixture_s_uri_names_its_socket(self):
        lv = libvirt.Libvirt(Path('/w/libvirt'), Path('/w/logs'))
        self.assertEqual(
            'qemu:///system?socket=/w/libvirt/sock/libvirt-sock',
            lv.connection_uri)

    def test_a_socket_path_too_long_is_refused_before_anything(self):
        base = Path('/tmp') / ('x' * 100)
        lv = libvirt.Libvirt(base, Path('/tmp/logs'))
        error = self.assertRaises(exceptions.MiniCloudError,
                                  processes.use, self, lv)
        self.assertIn('longer than 107', str(error))
        self.assertIn('work_dir', str(error))
        self.assertFalse(base.exists())


class TestAccount(testtools.TestCase):

    def test_adds_the_account_with_a_free_id(self):
        passwd = 'root:x:0:0:root:/root:/bin/bash\nx:x:999:999::/:/bin/sh\n'
        group = 'root:x:0:\nkvm:x:998:\n'
        new_passwd, new_group = libvirt.with_qemu_account(passwd, group)
        self.assertTrue(new_passwd.startswith(passwd))
        self.assertTrue(new_group.startswith(group))
        line = new_passwd.splitlines()[-1].split(':')
        self.assertEqual('libvirt-qemu', line[0])
        self.assertEqual('997', line[2])
        self.assertEqual('libvirt-qemu:x:997:', new_group.splitlines()[-1])

    def test_a_file_without_a_final_newline(self):
        new_passwd, _group = libvirt.with_qemu_account(
            'root:x:0:0:root:/root:/bin/bash', 'root:x:0:')
        self.assertEqual(2, len(new_passwd.splitlines()))


class FakeProc(fixtures.Fixture):
    """A /proc tree: processes with a name, sockets, a command line."""

    def _setUp(self):
        self.root = Path(self.useFixture(fixtures.TempDir()).path)

    def process(self, pid: int, comm: str, sockets: dict[str, int] = (),
                listening: bool = True, cmdline: bytes = b'',
                namespace: int = 1, mounts: tuple[str, ...] = ('/',)
                ) -> None:
        entry = self.root / str(pid)
        (entry / 'fd').mkdir(parents=True)
        (entry / 'net').mkdir()
        (entry / 'ns').mkdir()
        (entry / 'comm').write_text(comm + '\n')
        (entry / 'cmdline').write_bytes(cmdline)
        os.symlink(f'mnt:[{namespace}]', entry / 'ns' / 'mnt')
        (entry / 'mountinfo').write_text(''.join(
            f'{i} 1 8:1 / {point} rw - ext4 /dev/vda rw\n'
            for i, point in enumerate(mounts, 20)))
        lines = ['Num       RefCount Protocol Flags    Type St Inode Path']
        for fd, (path, inode) in enumerate(dict(sockets).items(), 3):
            os.symlink(f'socket:[{inode}]', entry / 'fd' / str(fd))
            flags = '00010000' if listening else '00000000'
            lines.append(f'0000000000000000: 00000002 00000000 {flags} '
                         f'0001 01 {inode} {path}')
        # An unrelated socket of another process in the same table.
        lines.append('0000000000000000: 00000002 00000000 00010000 0001 01 '
                     '99999 /run/other.sock')
        (entry / 'net' / 'unix').write_text('\n'.join(lines) + '\n')


class TestRefusal(testtools.TestCase):

    paths = libvirt.Paths(Path('/w/libvirt'), Path('/w/logs'))

    def setUp(self):
        super().setUp()
        self.proc = self.useFixture(FakeProc())

    def _daemon(self, pid, name, sockets, conf):
        argv = f'/usr/sbin/{name}\0--config\0{conf}\0'.encode()
        self.proc.process(pid, name, sockets, cmdline=argv)

    def test_a_daemon_left_on_the_directory_is_named(self):
        self._daemon(4321, 'libvirtd', {
            '/w/libvirt/sock/libvirt-sock': 11,
            '/w/libvirt/sock/libvirt-sock-ro': 12,
            '/w/libvirt/sock/libvirt-admin-sock': 13},
            '/w/libvirt/libvirtd.conf')
        self._daemon(4320, 'virtlogd', {'/run/libvirt/virtlogd-sock': 14},
                     '/w/libvirt/virtlogd.conf')
        self.proc.process(55, 'bash')
        daemons = libvirt.running_daemons(self.proc.root)
        self.assertEqual([4320, 4321], [d.pid for d in daemons])
        self.assertEqual(('/w/libvirt/sock/libvirt-admin-sock',
                          '/w/libvirt/sock/libvirt-sock',
                          '/w/libvirt/sock/libvirt-sock-ro'),
                         daemons[1].sockets)
        why = libvirt.refusal(daemons, self.paths)
        self.assertIn('virtlogd (pid 4320, socket /run/libvirt/virtlogd-sock)'
                      '; libvirtd (pid 4321, socket '
                      '/w/libvirt/sock/libvirt-sock) still runs on '
                      '/w/libvirt', why)
        self.assertIn('work_dir', why)
        self.assertNotIn('\n', why)

    def test_a_system_libvirt_or_another_run_s_is_no_reason(self):
        self._daemon(10, 'libvirtd', {'/run/libvirt/libvirt-sock': 7},
                     '/etc/libvirt/libvirtd.conf')
        self._daemon(11, 'virtqemud', {'/run/libvirt/virtqemud-sock': 8},
                     '/etc/libvirt/virtqemud.conf')
        self._daemon(12, 'libvirtd', {'/other/sock/libvirt-sock': 9},
                     '/other/libvirtd.conf')
        daemons = libvirt.running_daemons(self.proc.root)
        self.assertEqual(3, len(daemons))
        self.assertIsNone(libvirt.refusal(daemons, self.paths))

    def test_a_socket_not_listening_is_not_named(self):
        self.proc.process(12, 'libvirtd', {'/tmp/client': 9},
                          listening=False)
        self.assertEqual('libvirtd (pid 12, socket none seen)',
                         str(libvirt.running_daemons(self.proc.root)[0]))

    def test_nothing_running_nothing_refused(self):
        self.proc.process(55, 'bash')
        self.assertEqual([], libvirt.running_daemons(self.proc.root))
        self.assertIsNone(libvirt.refusal([], self.paths))


class TestAcceleratorProbe(testtools.TestCase):

    def test_the_probe_domain(self):
        xml = accelerator.domain_xml('hut-probe-kvm-1', 'kvm',
                                     Path('/k/vmlinuz'), Path('/w/c.log'))
        domain = ET.fromstring(xml)
        self.assertEqual('kvm', domain.get('type'))
        self.assertEqual('hut-probe-kvm-1', domain.findtext('name'))
        self.assertEqual('128', domain.findtext('memory'))
        self.assertEqual('MiB', domain.find('memory').get('unit'))
        self.assertEqual('/k/vmlinuz', domain.findtext('os/kernel'))
        cmdline = domain.findtext('os/cmdline').split()
        self.assertIn('console=ttyS0', cmdline)
        self.assertIn('panic=-1', cmdline)
        self.assertEqual('destroy', domain.findtext('on_reboot'))
        self.assertEqual('/w/c.log', domain.find(
            'devices/serial/source').get('path'))
        # As Nova's cpu_mode = none; and nothing to boot but the kernel.
        self.assertIsNone(domain.find('cpu'))
        self.assertIsNone(domain.find('devices/disk'))
        self.assertIsNone(domain.find('devices/interface'))

    def test_a_kernel_through_its_start(self):
        self.assertTrue(accelerator.booted(
            '[ 1.8] Kernel panic - not syncing: VFS: Unable to mount root '
            'fs on unknown-block(0,0)\n'))
        self.assertTrue(accelerator.booted('Run /init as init process\n'))
        self.assertFalse(accelerator.booted('[ 0.0] Linux version 6.1\n'))
        self.assertFalse(accelerator.booted(''))

    def test_what_the_console_showed(self):
        self.assertEqual('nothing on its serial console',
                         accelerator.last_line('\n \n'))
        self.assertEqual('its serial console ends with "b"',
                         accelerator.last_line('a\nb\n\n'))

    def test_a_probed_answer_is_kept_for_this_boot_only(self):
        tmp = Path(self.useFixture(fixtures.TempDir()).path)
        kernel = tmp / 'vmlinuz'
        kernel.write_bytes(b'kernel')
        boot = tmp / 'boot_id'
        boot.write_text('boot-1\n')
        probes = []

        def probe(uri, kernel, work_dir, timeout):
            probes.append(kernel)
            return accelerator.Choice(
                'qemu', 'KVM does not boot a guest here: x',
                accelerator.BootProbe('kvm', False, 'x', 10.0))
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.minicloud.accelerator.accelerator', probe))
        # QEMU's binary stands in for itself: any file will do.
        real_key = accelerator.probe_key
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.minicloud.accelerator.probe_key',
            lambda k: real_key(k, qemu=str(kernel), boot_id=boot)))
        cache = tmp / 'accelerator.json'

        def choose():
            return accelerator.remembered('qemu:///x', kernel, tmp, cache)
        first = choose()
        again = choose()
        self.assertEqual(1, len(probes))
        self.assertEqual(('qemu', 'qemu'), (first.name, again.name))
        self.assertIn('probed earlier in this boot', again.reason)
        self.assertEqual(0o600, cache.stat().st_mode & 0o777)
        # Another boot (or QEMU, or kernel): probed again.
        boot.write_text('boot-2\n')
        choose()
        self.assertEqual(2, len(probes))

    def test_no_kernel_means_qemu_without_touching_libvirt(self):
        tmp = Path(self.useFixture(fixtures.TempDir()).path)
        for kernel in (None, tmp / 'absent'):
            choice = accelerator.accelerator('qemu:///nowhere', kernel, tmp)
            self.assertEqual('qemu', choice.name)
            self.assertIn('no guest kernel', choice.reason)
            self.assertIsNone(choice.probe)
        self.assertEqual([], list(tmp.iterdir()))

    def test_the_qemu_of_a_domain_by_its_name(self):
        proc = self.useFixture(FakeProc())
        proc.process(30, 'qemu-system-x86', cmdline=b'qemu\0-name\0'
                     b'guest=hut-probe-kvm-1,debug-threads=on\0-m\0128\0')
        proc.process(31, 'qemu-system-x86', cmdline=b'qemu\0-name\0'
                     b'guest=hut-probe-kvm-12,debug-threads=on\0')
        proc.process(32, 'bash', cmdline=b'bash\0guest=hut-probe-kvm-1x\0')
        self.assertEqual([30], accelerator.qemu_pids(
            'hut-probe-kvm-1', proc.root))


class TestPackages(testtools.TestCase):

    def test_libvirt_has_a_table_of_its_own(self):
        self.assertEqual('libvirt-daemon',
                         packages.LIBVIRT_BINARIES[packages.LIBVIRTD])
        self.assertEqual('libvirt-clients',
                         packages.LIBVIRT_BINARIES[packages.VIRSH])
        self.assertNotIn('libvirt-daemon-system',
                         packages.LIBVIRT_BINARIES.values())
        self.assertFalse(set(packages.LIBVIRT_BINARIES)
                         & set(packages.BINARIES))

    def test_missing_packages_of_a_table(self):
        self.assertEqual(['a-pkg', 'b-pkg'], packages.missing_packages({
            '/nonexistent/b': 'b-pkg', '/nonexistent/a': 'a-pkg',
            '/nonexistent/a2': 'a-pkg', '/bin/sh': 'dash'}))
