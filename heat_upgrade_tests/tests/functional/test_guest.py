"""The guest image boots under QEMU's TCG and runs its user data.

The image is built from Debian packages (``installs.guest``), cold in an
empty cache and then warm, and booted as Nova boots it by default on
x86_64: a 'pc' machine, the disk and the NIC on virtio, the config drive
an ISO 9660 CD-ROM on the IDE bus. QEMU's user network (slirp) answers
DHCP and forwards a host port to the guest's port 80. Each wait is bounded
and names what it waited for; the QEMU process is killed in cleanup
whatever fails.

The drill: the same boot without a config drive must not show the user
data's marker while its heartbeats are there. A third boot proves the
vfat config drive (``config_drive_format = vfat``) on a virtio disk.

Runnable alone: the host packages come through ``installs.packages``;
without root or apt the test skips, naming them.
"""

import dataclasses
import functools
import json
import os
from pathlib import Path
import re
import shutil
import socket
import time

import testtools
from testtools import content

from heat_upgrade_tests import config
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import guest
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests import processes

WORK_DIR = Path(config.CACHE_HOME).expanduser() / 'functional-guest'
MARKER = 'hut-functional-marker-7f3a'
REPLY = 'hut-functional-reply-5c21'
SERVER_UUID = '6f0c1f3e-8a5b-4c1e-9d7a-2b4e5f6a7c8d'
SERVER_NAME = 'guest-under-test'
# Under TCG on 2 busy cores: init at ~2 s, an address at ~3 s of uptime.
BOOT_BOUND = 90
USER_DATA = f'''#!/bin/sh
echo {MARKER}
while true; do
    printf 'HTTP/1.0 200 OK\\r\\n\\r\\n%s\\n' {REPLY} | nc -l -p 80
done &
'''

HEARTBEAT = re.compile(
    rf'^{guest.HEARTBEAT} boot_id=([0-9a-f-]+) uptime=([0-9.]+)\s*$', re.M)
ADDRESS = re.compile(rf'^{guest.ADDRESS} eth0 (\d+\.\d+\.\d+\.\d+)\s*$',
                     re.M)


def _ensure(binaries, needed_by, log_file):
    """Install the host packages, or say why the test cannot."""
    missing = packages.missing_packages(binaries)
    if missing and (os.geteuid() != 0 or shutil.which('apt-get') is None):
        raise testtools.TestCase.skipException(
            f'{needed_by} needs the Debian packages {" ".join(missing)} '
            'and this user cannot install them')
    packages.ensure_system_packages(log_file, binaries, needed_by)


@functools.cache
def built() -> tuple[guest.GuestImage, float, float]:
    """The image, built cold in an empty cache then warm; both times."""
    if shutil.which('apt-cache') is None:
        raise testtools.TestCase.skipException(
            'no apt-cache: the guest is built from Debian packages')
    if WORK_DIR.exists():
        shutil.rmtree(WORK_DIR)
    WORK_DIR.mkdir(parents=True)
    log = WORK_DIR / 'build.log'
    _ensure(packages.GUEST_BUILD_BINARIES, 'building the guest image', log)
    start = time.monotonic()
    cold = guest.build(WORK_DIR / 'cache', log)
    cold_seconds = time.monotonic() - start
    start = time.monotonic()
    warm = guest.build(WORK_DIR / 'cache', log)
    warm_seconds = time.monotonic() - start
    if cold.cached or not warm.cached or warm != dataclasses.replace(
            cold, cached=True):
        raise AssertionError(f'the second build was no cache hit: {cold} '
                             f'then {warm}')
    print(f'guest image: {cold.size / 2**20:.0f} MiB raw, kernel '
          f'{cold.kernel_version}, built cold in {cold_seconds:.1f} s, '
          f'warm in {warm_seconds:.2f} s; drivers {" ".join(cold.drivers)}',
          flush=True)
    return warm, cold_seconds, warm_seconds


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _http_get(port: int) -> str:
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=3) as s:
            s.sendall(b'GET / HTTP/1.0\r\nHost: guest\r\n\r\n')
            chunks = []
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                chunks.append(chunk)
    except OSError:
        return ''
    return b''.join(chunks).decode('utf-8', 'replace')


class GuestBoot(testtools.TestCase):
    """One QEMU guest per test, killed in cleanup."""

    def setUp(self):
        super().setUp()
        self.image, self.cold, self.warm = built()
        self.dir = WORK_DIR / self.id().rsplit('.', 1)[-1]
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        _ensure(packages.GUEST_BOOT_BINARIES, 'booting the guest',
                self.dir / 'apt.log')
        self.serial = self.dir / 'serial.log'

    def config_drive(self, fmt: str) -> Path:
        """A config drive as Nova writes one: label config-2."""
        tree = self.dir / 'config-drive'
        latest = tree / 'openstack' / 'latest'
        latest.mkdir(parents=True)
        (latest / 'meta_data.json').write_text(json.dumps({
            'uuid': SERVER_UUID, 'name': SERVER_NAME,
            'hostname': SERVER_NAME, 'launch_index': 0,
            'keys': [{'name': 'not-the-server', 'type': 'ssh',
                      'data': 'ssh-ed25519 AAAA'}]}))
        (latest / 'user_data').write_text(USER_DATA)
        log = self.dir / 'config-drive.log'
        if fmt == 'iso9660':
            drive = self.dir / 'config.iso'
            processes.run([packages.GENISOIMAGE, '-quiet', '-o', drive,
                           '-V', guest.CONFIG_DRIVE_LABEL, '-J', '-r', tree],
                          log, 'genisoimage of the config drive', timeout=60)
        else:
            drive = self.dir / 'config.vfat'
            env = {'MTOOLS_SKIP_CHECK': '1'}
            processes.run([packages.MKFS_FAT, '-n', guest.CONFIG_DRIVE_LABEL,
                           '-C', drive, '1024'], log,
                          'mkfs.fat of the config drive', env=env,
                          timeout=60)
            processes.run([packages.MCOPY, '-s', '-i', drive,
                           tree / 'openstack', '::/'], log,
                          'mcopy onto the config drive', env=env, timeout=60)
        return drive

    def boot(self, drives=(), port: int | None = None) -> float:
        """Start QEMU; return when it started (time.monotonic)."""
        netdev = 'user,id=net0'
        if port is not None:
            netdev += f',hostfwd=tcp:127.0.0.1:{port}-:80'
        argv = [packages.QEMU_X86, '-accel', 'tcg', '-machine', 'pc',
                '-m', '128', '-nographic', '-monitor', 'none',
                '-serial', f'file:{self.serial}',
                # snapshot: the cached image is never written.
                '-drive', f'file={self.image.path},format=raw,if=virtio,'
                          'snapshot=on',
                '-netdev', netdev, '-device', 'virtio-net-pci,netdev=net0']
        for drive in drives:
            argv += ['-drive', drive]
        self.qemu = processes.ManagedProcess(
            'qemu', argv, self.dir / 'qemu.log', stop_timeout=5)
        started = time.monotonic()
        self.useFixture(self.qemu)   # its cleanup kills QEMU's group
        self.addCleanup(self._attach_serial)
        return started

    def _attach_serial(self):
        self.addDetail('serial', content.text_content(
            self.console()))

    def console(self) -> str:
        try:
            return self.serial.read_text(errors='replace')
        except OSError:
            return ''

    def wait_for(self, pattern: re.Pattern | str, what: str,
                 timeout: float = BOOT_BOUND) -> re.Match:
        found = []

        def seen():
            match = (pattern.search(self.console())
                     if isinstance(pattern, re.Pattern)
                     else re.search(re.escape(pattern), self.console()))
            if match:
                found.append(match)
            return bool(match)
        processes.wait_until(seen, timeout, what, interval=0.2,
                             failed=self.qemu.exit_reason)
        return found[0]

    def two_heartbeats(self) -> tuple[str, float, float]:
        """The first two heartbeats: one boot id, the uptime advancing."""
        beats = []

        def two():
            beats[:] = HEARTBEAT.findall(self.console())
            return len(beats) >= 2
        processes.wait_until(two, BOOT_BOUND, 'two heartbeats on the '
                             'serial console', interval=0.5,
                             failed=self.qemu.exit_reason)
        (first_id, first_up), (second_id, second_up) = beats[:2]
        self.assertEqual(first_id, second_id,
                         'the boot id changed between two heartbeats')
        self.assertGreater(float(second_up), float(first_up),
                           'the uptime did not advance')
        return first_id, float(first_up), float(second_up)

    def pss(self) -> str:
        """QEMU's proportional set size, as the field notes measure it."""
        pid = self.qemu.popen.pid if self.qemu.popen else None
        try:
            with open(f'/proc/{pid}/smaps_rollup') as rollup:
                for line in rollup:
                    if line.startswith('Pss:'):
                        return f'{int(line.split()[1]) / 1024:.0f} MiB PSS'
        except OSError:
            pass
        return 'PSS unknown'

    def report(self, text: str):
        print(f'{self.id().rsplit(".", 1)[-1]}: {text}', flush=True)
        self.addDetail('timings', content.text_content(text))

    @base.idempotent_id('0b7f6a3e-3f0e-4c55-9b0c-2a8e6a1d9c41')
    def test_user_data_from_an_ide_cdrom_config_drive(self):
        """Address, user data, heartbeats and an HTTP reply; IDE CD-ROM."""
        drive = self.config_drive('iso9660')
        port = _free_port()
        started = self.boot(
            [f'file={drive},format=raw,media=cdrom,if=ide,readonly=on'],
            port)
        address = self.wait_for(ADDRESS, 'the guest\'s address line')
        to_address = time.monotonic() - started
        self.assertEqual('10.0.2.15', address.group(1))  # slirp's first
        self.wait_for(MARKER, 'the user data\'s marker')
        to_marker = time.monotonic() - started
        self.wait_for(f'{guest.USER_DATA_START}', 'the user data to start')
        self.wait_for(f'hut-metadata uuid={SERVER_UUID} name={SERVER_NAME}',
                      'the meta data\'s uuid and name')
        self.assertIn('hut-config-drive /dev/sr0', self.console())
        boot_id, _, _ = self.two_heartbeats()
        reply = []

        def answered():
            reply[:] = [_http_get(port)]
            return REPLY in reply[0]
        processes.wait_until(answered, 60, f'the user data\'s HTTP reply '
                             f'on 127.0.0.1:{port}', interval=1,
                             failed=self.qemu.exit_reason)
        to_reply = time.monotonic() - started
        self.assertTrue(reply[0].startswith('HTTP/1.0 200 OK'), reply[0])
        self.report(f'image {self.image.size / 2**20:.0f} MiB, build cold '
                    f'{self.cold:.1f} s, warm {self.warm:.2f} s; boot to '
                    f'address {to_address:.1f} s, to marker '
                    f'{to_marker:.1f} s, to HTTP reply {to_reply:.1f} s; '
                    f'QEMU {self.pss()}; boot id {boot_id}')

    @base.idempotent_id('5d2c8e71-7a4b-4f0d-8c3e-91b6f0e2a7d5')
    def test_drill_no_config_drive_no_user_data(self):
        """Without a config drive the marker is absent, heartbeats not.

        The fault drill of the test above: its marker must come from the
        config drive, or the assertion proves nothing.
        """
        started = self.boot()
        self.wait_for(ADDRESS, 'the guest\'s address line')
        to_address = time.monotonic() - started
        self.wait_for('hut-config-drive none',
                      'the init to give up on a config drive')
        self.two_heartbeats()
        console = self.console()
        self.assertNotIn(MARKER, console)
        self.assertNotIn(guest.USER_DATA_START, console)
        self.report(f'boot to address {to_address:.1f} s; no marker, '
                    'heartbeats present')

    @base.idempotent_id('c4a1e9b0-2d6f-4b8a-a5e3-7f0d1c9b2e64')
    def test_user_data_from_a_vfat_config_drive_on_virtio(self):
        """config_drive_format = vfat: a virtio disk labelled config-2."""
        drive = self.config_drive('vfat')
        started = self.boot([f'file={drive},format=raw,if=virtio,'
                             'readonly=on'])
        self.wait_for(MARKER, 'the user data\'s marker')
        to_marker = time.monotonic() - started
        self.assertIn('hut-config-drive /dev/vdb', self.console())
        self.two_heartbeats()
        self.report(f'boot to marker {to_marker:.1f} s (vfat on virtio)')


class ErrorsTest(testtools.TestCase):
    """What a user reads when the build cannot go on: one line."""

    @base.idempotent_id('e8f5b3c2-94a7-4d1e-b6f0-3a2c7d9e1f58')
    def test_unknown_package_is_one_line(self):
        if shutil.which('apt-get') is None:
            self.skipTest('no apt-get')
        log = WORK_DIR / 'errors.log'
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        error = self.assertRaises(
            guest.GuestImageError, guest._download,
            'hut-no-such-package', '1.0', WORK_DIR / 'no-debs', WORK_DIR,
            log, time.monotonic() + 60)
        self.assertNotIn('\n', str(error))
        self.assertIn('hut-no-such-package 1.0 could not be downloaded',
                      str(error))
        self.assertIsInstance(error, exceptions.UpgradeTestError)
