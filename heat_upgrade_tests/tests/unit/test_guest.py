"""The guest image's pure logic: modules, init, archive, key, errors.

No tool runs here but ``sh -n`` (a syntax check of the scripts the guest
runs); the build's own steps are faked only where they are this
project's code. The image itself is built and booted by the functional
test ``tests/functional/test_guest.py``.
"""

import json
from pathlib import Path
import shutil
import struct
import subprocess

import fixtures
import testtools

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import guest
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.phases.suite import base

# As depmod writes it: every module a module needs, nearest first.
MODULES_DEP = '''\
kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/net/core/failover.ko:
kernel/arch/x86/crypto/crc32-pclmul.ko:
'''  # noqa: E501


def elf_module(fields: dict[str, str]) -> bytes:
    """A minimal ELF64 object whose .modinfo holds ``fields``."""
    modinfo = b''.join(f'{k}={v}'.encode() + b'\0' for k, v in
                       fields.items())
    names = b'\0.shstrtab\0.modinfo\0'
    header_size = 64
    names_at = header_size
    modinfo_at = names_at + len(names)
    sections_at = modinfo_at + len(modinfo)
    sections_at += -sections_at % 8

    def section(name, offset, size, kind=1):
        return struct.pack('<IIQQQQIIQQ', name, kind, 0, 0, offset, size,
                           0, 0, 1, 0)
    header = (b'\x7fELF' + bytes([2, 1, 1]) + b'\0' * 9
              + struct.pack('<HHIQQQIHHHHHH', 1, 62, 1, 0, 0, sections_at,
                            0, header_size, 0, 0, 64, 3, 1))
    body = header + names + modinfo
    body += b'\0' * (sections_at - len(body))
    return (body + section(0, 0, 0, 0)
            + section(1, names_at, len(names), 3)
            + section(11, modinfo_at, len(modinfo)))


def read_newc(data: bytes) -> dict[str, tuple[int, bytes, tuple[int, int]]]:
    """A newc archive read back: {name: (mode, data, rdev)}."""
    found, at = {}, 0
    while True:
        assert data[at:at + 6] == b'070701', at
        fields = [int(data[at + 6 + 8 * i:at + 14 + 8 * i], 16)
                  for i in range(13)]
        mode, size, rdev = fields[1], fields[6], (fields[9], fields[10])
        at += 110
        name = data[at:at + fields[11] - 1].decode()
        at += fields[11]
        at += -at % 4
        body = data[at:at + size]
        at += size
        at += -at % 4
        if name == 'TRAILER!!!':
            assert at == len(data)
            return found
        found[name] = (mode, body, rdev)


class ModulesTest(testtools.TestCase):
    """Which modules the guest loads, in which order."""

    @base.idempotent_id('3f9a2b64-1c7e-4d85-9e0a-6b2f8c4d1a73')
    def test_dependencies_come_first_each_once(self):
        order, builtin = guest.resolve_modules(
            MODULES_DEP, ['virtio_pci', 'virtio_net'])
        self.assertEqual(
            ['kernel/drivers/virtio/virtio.ko',
             'kernel/drivers/virtio/virtio_ring.ko',
             'kernel/drivers/virtio/virtio_pci_modern_dev.ko',
             'kernel/drivers/virtio/virtio_pci.ko',
             'kernel/net/core/failover.ko',
             'kernel/drivers/net/net_failover.ko',
             'kernel/drivers/net/virtio_net.ko'], order)
        self.assertEqual([], builtin)

    @base.idempotent_id('8d0e4c19-6a2b-4f37-b1d5-2e9c7a0f6b48')
    def test_builtin_and_dashes(self):
        """Built-in drivers load nothing; '-' and '_' are one name."""
        order, builtin = guest.resolve_modules(
            MODULES_DEP, ['crc32_pclmul', 'isofs', 'sr-mod'],
            builtin=['kernel/fs/isofs/isofs.ko',
                     'kernel/drivers/scsi/sr_mod.ko'])
        self.assertEqual(['kernel/arch/x86/crypto/crc32-pclmul.ko'], order)
        self.assertEqual(['isofs', 'sr_mod'], builtin)

    @base.idempotent_id('b2c5e7a0-9f14-4d6b-8a3e-1c0d7f5e9b26')
    def test_problems_are_one_line_naming_the_module(self):
        error = self.assertRaises(guest.GuestImageError,
                                  guest.resolve_modules, MODULES_DEP,
                                  ['ahci'])
        self.assertEqual('the kernel has no module ahci: neither in '
                         'modules.dep nor built in', str(error))
        error = self.assertRaises(
            guest.GuestImageError, guest.resolve_modules,
            'a.ko: b.ko\n', ['a'])
        self.assertEqual('modules.dep names b.ko (needed by a) but has no '
                         'line for it', str(error))
        error = self.assertRaises(
            guest.GuestImageError, guest.resolve_modules,
            'a.ko: b.ko\nb.ko: a.ko\n', ['a'])
        self.assertEqual('modules.dep has a dependency cycle: a -> b -> a',
                         str(error))
        error = self.assertRaises(guest.GuestImageError,
                                  guest.parse_modules_dep, 'no colon\n')
        self.assertNotIn('\n', str(error))

    @base.idempotent_id('5a8f1d3c-2e7b-4c90-a6d4-9b3e0f8c7a15')
    def test_modinfo_of_an_elf_module(self):
        info = guest.modinfo(elf_module({
            'depends': 'net_failover,virtio_ring', 'name': 'virtio_net',
            'alias': 'virtio:d00000001v*'}))
        self.assertEqual(['net_failover,virtio_ring'], info['depends'])
        self.assertEqual(['virtio_net'], info['name'])
        self.assertRaises(guest.GuestImageError, guest.modinfo, b'not elf')

    @base.idempotent_id('e1b7c4d0-5f2a-4e83-9c6b-0a8d3f1e7b52')
    def test_modules_dep_from_the_modules_themselves(self):
        """The .deb has no modules.dep: it is made from depends=.

        Only what the wanted modules reach is read and listed; the text
        is in depmod's format, so resolve_modules reads it.
        """
        root = Path(self.useFixture(fixtures.TempDir()).path)
        tree = {
            'kernel/drivers/net/virtio_net.ko': 'net_failover,virtio',
            'kernel/drivers/net/net_failover.ko': 'failover',
            'kernel/net/core/failover.ko': '',
            'kernel/drivers/virtio/virtio.ko': '',
            'kernel/drivers/scsi/unrelated.ko': 'virtio',
            'kernel/drivers/scsi/sr_mod.ko': 'cdrom,scsi_mod',
            'kernel/drivers/cdrom/cdrom.ko': '',
        }
        for path, depends in tree.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(elf_module({'depends': depends}))
        text = guest.modules_dep_for(root, ['virtio_net', 'sr_mod'],
                                     builtin=['kernel/scsi/scsi_mod.ko'])
        self.assertEqual(
            'kernel/drivers/cdrom/cdrom.ko:\n'
            'kernel/drivers/net/net_failover.ko: '
            'kernel/net/core/failover.ko\n'
            'kernel/drivers/net/virtio_net.ko: '
            'kernel/drivers/virtio/virtio.ko '
            'kernel/drivers/net/net_failover.ko '
            'kernel/net/core/failover.ko\n'
            'kernel/drivers/scsi/sr_mod.ko: kernel/drivers/cdrom/cdrom.ko\n'
            'kernel/drivers/virtio/virtio.ko:\n'
            'kernel/net/core/failover.ko:\n', text)
        order, _ = guest.resolve_modules(text, ['virtio_net'])
        self.assertEqual(['kernel/net/core/failover.ko',
                          'kernel/drivers/net/net_failover.ko',
                          'kernel/drivers/virtio/virtio.ko',
                          'kernel/drivers/net/virtio_net.ko'], order)
        # A dependency the package lacks, not built in either: one line.
        error = self.assertRaises(guest.GuestImageError,
                                  guest.modules_dep_for, root, ['sr_mod'])
        self.assertEqual('module sr_mod depends on scsi_mod, which the '
                         'kernel package does not have', str(error))


class InitTest(testtools.TestCase):
    """What the guest runs: its init and its udhcpc script."""

    def setUp(self):
        super().setUp()
        self.init = guest.init_script(
            '6.1.0-57-cloud-amd64',
            ['kernel/drivers/virtio/virtio.ko', 'kernel/fs/isofs/isofs.ko'])

    @base.idempotent_id('7c3e9a51-0b6d-4f28-8e1a-4d5f2c9b0e67')
    def test_heartbeat_with_boot_id_and_uptime(self):
        self.assertIn('/proc/sys/kernel/random/boot_id', self.init)
        self.assertIn('/proc/uptime', self.init)
        self.assertIn('echo "hut-heartbeat boot_id=$boot_id '
                      'uptime=$uptime" > /dev/console', self.init)
        self.assertIn('sleep 2', self.init)
        # The heartbeat is the last thing PID 1 does, forever.
        self.assertTrue(self.init.rstrip().endswith('done'))
        self.assertNotIn('@', self.init)

    @base.idempotent_id('0d6b2f8e-3a91-4c5e-b7d0-8f1e4a6c2d39')
    def test_user_data_is_run_when_it_starts_with_a_shebang(self):
        for piece in (
                'findfs LABEL=config-2',
                'mount -r -t iso9660 "$drive" /mnt/config',
                'mount -r -t vfat "$drive" /mnt/config',
                'openstack/latest/meta_data.json',
                'userdata=/mnt/config/openstack/latest/user_data',
                '[ "$(head -c 2 "$userdata")" = \'#!\' ]',
                'chmod +x /run/hut/user-data',
                'say "hut-userdata-start"',
                'say "hut-userdata-end rc=$?"',
                ') </dev/null >/dev/console 2>&1 &',
                '/bin/busybox --install -s',
                'udhcpc -i eth0 -s /etc/udhcpc.script',
                'insmod "/lib/modules/6.1.0-57-cloud-amd64/$module"',
                'for module in kernel/drivers/virtio/virtio.ko '
                'kernel/fs/isofs/isofs.ko; do'):
            self.assertIn(piece, self.init)
        self.assertIn('echo "hut-address $interface $ip" > /dev/console',
                      guest.udhcpc_script())

    @base.idempotent_id('a9e4d2c7-6b10-4f3a-8d5e-2c7b0f9a1e84')
    def test_scripts_parse_as_sh(self):
        sh = shutil.which('sh')
        if sh is None:
            self.skipTest('no sh')
        for name, text in (('init', self.init),
                           ('udhcpc', guest.udhcpc_script())):
            proc = subprocess.run([sh, '-n'], input=text, text=True,
                                  capture_output=True, timeout=30)
            self.assertEqual(0, proc.returncode, f'{name}: {proc.stderr}')

    @base.idempotent_id('4b1f8e6a-9c2d-4a07-b3e5-7d0c6f2a8e19')
    def test_odd_module_paths_are_refused(self):
        self.assertRaises(guest.GuestImageError, guest.init_script, '6.1',
                          ['kernel/a.ko; reboot'])

    @base.idempotent_id('c8d3a0f5-1e6b-4b92-9f7c-5a2e8d4b0c61')
    def test_serial_console_last(self):
        """/dev/console is the last console=: the serial port."""
        cfg = guest.syslinux_cfg()
        self.assertIn('APPEND console=tty0 console=ttyS0', cfg)
        self.assertIn('KERNEL /vmlinuz', cfg)
        self.assertIn('INITRD /initrd.gz', cfg)


class ArchiveTest(testtools.TestCase):

    @base.idempotent_id('2e7a5c93-8d0f-4e1b-a6c4-9f3b1d7e0a52')
    def test_newc_round_trip_and_reproducible(self):
        entries = guest.initramfs_entries(
            b'BUSYBOX', '6.1', {'kernel/fs/isofs/isofs.ko': b'KO' * 3},
            'kernel/fs/isofs/isofs.ko:\n', '#!/bin/sh\n', '#!/bin/sh\n')
        data = guest.newc_archive(entries)
        self.assertEqual(data, guest.newc_archive(entries))
        found = read_newc(data)
        self.assertEqual((0o100755, b'BUSYBOX', (0, 0)),
                         found['bin/busybox'])
        self.assertEqual((0o120777, b'busybox', (0, 0)), found['bin/sh'])
        self.assertEqual((0o20600, b'', (5, 1)), found['dev/console'])
        self.assertEqual(0o100755, found['init'][0])
        self.assertEqual(b'KOKOKO', found[
            'lib/modules/6.1/kernel/fs/isofs/isofs.ko'][1])
        self.assertEqual(0o40755, found['lib/modules/6.1/kernel/fs'][0])
        self.assertIn('usr/share/udhcpc/default.script', found)
        # Directories come before what they hold.
        names = list(found)
        self.assertLess(names.index('lib/modules/6.1/kernel/fs/isofs'),
                        names.index('lib/modules/6.1/kernel/fs/isofs/'
                                    'isofs.ko'))


class KeyTest(testtools.TestCase):
    """The cache key: the inputs, and nothing else."""

    VERSIONS = {'linux-image-6.1.0-57-cloud-amd64': '6.1.192-3',
                'busybox-static': '1:1.35.0-4+deb12u1+b1',
                'host:syslinux': '3:6.04'}

    @base.idempotent_id('9f0c6e2b-4a81-4d37-b5e9-1c8a3f7d2e06')
    def test_a_package_version_changes_the_key(self):
        key = guest.cache_key(self.VERSIONS)
        self.assertEqual(key, guest.cache_key(dict(self.VERSIONS)))
        for name in self.VERSIONS:
            changed = dict(self.VERSIONS, **{name: '9.9'})
            self.assertNotEqual(key, guest.cache_key(changed), name)
        renamed = dict(self.VERSIONS)
        renamed['linux-image-6.1.0-58-cloud-amd64'] = renamed.pop(
            'linux-image-6.1.0-57-cloud-amd64')
        self.assertNotEqual(key, guest.cache_key(renamed))

    @base.idempotent_id('6d2a9f4e-0c73-4b18-8e5a-3f1b7c9d0a24')
    def test_the_builder_version_changes_the_key(self):
        key = guest.cache_key(self.VERSIONS)
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.installs.guest.BUILDER_VERSION',
            guest.BUILDER_VERSION + 1))
        self.assertNotEqual(key, guest.cache_key(self.VERSIONS))

    @base.idempotent_id('1a7e3c8d-5b2f-4e09-9d6a-4c0b8f2e7a31')
    def test_kernel_package_from_the_meta_package(self):
        self.assertEqual(
            ('linux-image-6.1.0-57-cloud-amd64', '6.1.192-3'),
            guest.kernel_package({'Depends': 'linux-image-6.1.0-57-cloud-'
                                             'amd64 (= 6.1.192-3)'}))
        self.assertEqual(
            ('linux-image-6.1.0-57-cloud-amd64', None),
            guest.kernel_package({'Depends': 'initramfs-tools, '
                                             'linux-image-6.1.0-57-cloud-'
                                             'amd64'}))
        error = self.assertRaises(guest.GuestImageError,
                                  guest.kernel_package,
                                  {'Package': 'linux-image-cloud-amd64',
                                   'Depends': 'linux-image-cloud'})
        self.assertNotIn('\n', str(error))

    @base.idempotent_id('f3b8d1a6-7e0c-4c95-a2d4-6e9f1b3c8d07')
    def test_apt_show_paragraphs(self):
        text = ('Package: busybox-static\nVersion: 1:1.35.0-4\n'
                'Description: x\n more\n\n'
                'Package: linux-image-cloud-amd64\nVersion: 6.1.192-3\n'
                'Depends: linux-image-6.1.0-57-cloud-amd64 (= 6.1.192-3)\n'
                '\nPackage: busybox-static\nVersion: 0.1\n')
        found = guest.parse_apt_show(text)
        self.assertEqual('1:1.35.0-4', found['busybox-static']['Version'])
        self.assertEqual('x\nmore', found['busybox-static']['Description'])
        self.assertEqual('6.1.192-3',
                         found['linux-image-cloud-amd64']['Version'])


class BuildTest(testtools.TestCase):
    """build(): a cache hit runs no build; errors are one line."""

    def setUp(self):
        super().setUp()
        self.cache = Path(self.useFixture(fixtures.TempDir()).path)
        self.log = self.cache / 'log'
        self.versions = {'linux-image-6.1.0-57-cloud-amd64': '6.1.192-3',
                         'busybox-static': '1:1.35.0-4'}
        self.builds = []
        for name, value in (
                ('packages.ensure_system_packages', lambda *a, **k: None),
                ('_guest_versions', lambda log: dict(self.versions)),
                ('_host_versions', lambda log: {'syslinux': '3:6.04'}),
                ('_build', self.fake_build)):
            self.useFixture(fixtures.MonkeyPatch(
                f'heat_upgrade_tests.installs.guest.{name}', value))

    def fake_build(self, work, debs, target, key, versions, log, deadline):
        self.builds.append(key)
        (work / 'image').mkdir()
        (work / 'image' / guest.IMAGE_NAME).write_bytes(b'disk' * 4)
        image = guest.GuestImage(
            path=target / guest.IMAGE_NAME, format='raw', size=16,
            digest='sha256:x', kernel_version='6.1',
            drivers=('virtio',), builtin=(),
            packages=tuple(sorted(versions.items())), key=key)
        (work / 'image' / guest.MANIFEST).write_text(
            json.dumps(image.to_json()))
        return image

    @base.idempotent_id('8b4e0d7c-2f9a-4a61-b3c8-5d1e6f0a9c27')
    def test_second_build_is_a_cache_hit(self):
        first = guest.build(self.cache, self.log)
        second = guest.build(self.cache, self.log)
        self.assertEqual(1, len(self.builds))
        self.assertFalse(first.cached)
        self.assertTrue(second.cached)
        self.assertEqual(first.digest, second.digest)
        self.assertEqual(self.cache / 'guest' / first.key / 'guest.raw',
                         second.path)
        self.assertEqual({'hw_disk_bus': 'virtio', 'hw_cdrom_bus': 'ide',
                          'hw_machine_type': 'pc', 'hw_vif_model': 'virtio',
                          'os_type': 'linux', 'architecture': 'x86_64'},
                         second.properties)

    @base.idempotent_id('0e5c7a2d-9b3f-4d18-a4e6-7c1f8b0d3e95')
    def test_a_new_kernel_rebuilds_and_drops_the_old_image(self):
        first = guest.build(self.cache, self.log)
        self.versions['linux-image-6.1.0-57-cloud-amd64'] = '6.1.193-1'
        second = guest.build(self.cache, self.log)
        self.assertEqual(2, len(self.builds))
        self.assertNotEqual(first.key, second.key)
        self.assertFalse(first.path.exists())
        self.assertTrue(second.path.exists())

    @base.idempotent_id('d7a1f6c3-4e8b-4b20-9c5d-1f3a7e0b6d48')
    def test_a_damaged_image_is_rebuilt(self):
        first = guest.build(self.cache, self.log)
        first.path.write_bytes(b'short')
        guest.build(self.cache, self.log)
        self.assertEqual(2, len(self.builds))
        self.assertEqual(16, first.path.stat().st_size)

    @base.idempotent_id('5f9e2b8a-1d4c-4e73-8a0f-6b3d9c7e2a10')
    def test_a_failed_build_leaves_nothing(self):
        def broken(work, *args):
            (work / 'image').mkdir()
            raise guest.GuestImageError('mkfs.fat failed')
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.installs.guest._build', broken))
        self.assertRaises(guest.GuestImageError, guest.build, self.cache,
                          self.log)
        self.assertEqual([], [p.name for p in (self.cache / 'guest')
                              .iterdir() if p.name != '.lock'])


class ErrorsTest(testtools.TestCase):
    """A user reads one line naming the package."""

    def fail_run(self, message):
        def run(argv, log_file, what, **kwargs):
            raise exceptions.MiniCloudError(
                f'{what} failed (exit 100): {message}; see {log_file}')
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.processes.run', run))

    @base.idempotent_id('3c8f0a5e-7b2d-4e91-b6a4-0d9e2f1c7b83')
    def test_a_deb_not_downloadable_says_so(self):
        self.fail_run('E: Version 6.1.192-3 for linux-image-x was not found')
        tmp = Path(self.useFixture(fixtures.TempDir()).path)
        error = self.assertRaises(
            guest.GuestImageError, guest._download, 'linux-image-x',
            '6.1.192-3', tmp / 'debs', tmp, tmp / 'log', float('inf'))
        self.assertNotIn('\n', str(error))
        self.assertTrue(str(error).startswith(
            'the Debian package linux-image-x 6.1.192-3 could not be '
            'downloaded: apt-get download linux-image-x=6.1.192-3 failed'),
            str(error))
        self.assertIsInstance(error, exceptions.UpgradeTestError)

    @base.idempotent_id('a4d9e1b7-6c0f-4a38-9e2b-8f5c3d0a7e16')
    def test_a_package_apt_does_not_know_says_so(self):
        self.fail_run('E: No packages found')
        error = self.assertRaises(guest.GuestImageError, guest._apt_show,
                                  ['linux-image-cloud-amd64'], Path('log'))
        self.assertNotIn('\n', str(error))
        self.assertIn('apt knows no candidate for linux-image-cloud-amd64',
                      str(error))

    @base.idempotent_id('e2b6c9f0-8a3d-4f57-a1c4-7d0e5b9f3a28')
    def test_host_tables_name_their_packages(self):
        """The host tools for the guest, each with its Debian package."""
        self.assertEqual(
            ['dosfstools', 'mtools', 'syslinux'],
            sorted(set(packages.GUEST_BUILD_BINARIES.values())))
        self.assertEqual(
            ['genisoimage', 'qemu-system-x86'],
            sorted(set(packages.GUEST_BOOT_BINARIES.values())))
        self.assertEqual(['hut-missing'], packages.missing_packages(
            {'/nonexistent/hut-tool': 'hut-missing', '/bin/sh': 'dash'}))
