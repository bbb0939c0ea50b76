"""Private mount namespaces: the command that makes one, its mount points.

The script run in the namespace is run here with ``echo`` in place of
``mount``; the mount points are made and removed in a temporary
directory, with a /proc tree made here saying which namespaces mount
what.
"""

import os
from pathlib import Path
import subprocess

import fixtures
import testtools

from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.minicloud import mountns
from heat_upgrade_tests.tests.unit.test_libvirt import FakeProc


class TestNamespaceArgv(testtools.TestCase):

    def test_argv_mounts_then_becomes_the_daemon(self):
        mounts = [(Path('/w/etc'), Path('/etc/x')),
                  (Path('/w/c d'), Path('/var/x'))]
        argv = mountns.namespace_argv(mounts, ['/usr/sbin/daemon', '-v'])
        self.assertEqual([packages.UNSHARE, '--mount', '--propagation',
                          'private', '/bin/sh', '-c'], argv[:6])
        self.assertIn('mount --bind', argv[6])
        self.assertIn('exec "$@"', argv[6])
        pairs = argv[8:argv.index('--')]
        self.assertEqual([str(p) for m in mounts for p in m], pairs)
        self.assertEqual(['/usr/sbin/daemon', '-v'],
                         argv[argv.index('--') + 1:])

    def test_the_script_binds_each_pair_and_execs_the_rest(self):
        # The script itself, with echo in place of mount.
        script = mountns._ENTER.replace('mount --bind', 'echo bind')
        out = subprocess.run(
            ['/bin/sh', '-c', script, 'ns', '/a', '/b', '/c d', '/e', '--',
             'echo', 'run', 'x'], capture_output=True, text=True,
            check=True, timeout=10).stdout
        self.assertEqual('bind /a /b\nbind /c d /e\nrun x\n', out)


class TestMountPoints(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = Path(self.useFixture(fixtures.TempDir()).path)
        self.proc = self.useFixture(FakeProc())

    def test_made_with_a_marker_removed_when_unused(self):
        (self.root / 'etc').mkdir()
        targets = [self.root / 'run' / 'libvirt', self.root / 'etc']
        mountns.make_mount_points(targets)
        self.assertEqual([mountns.MARKER],
                         os.listdir(self.root / 'run' / 'libvirt'))
        self.assertEqual([mountns.MARKER, 'libvirt'],
                         sorted(os.listdir(self.root / 'run')))
        self.assertEqual([], os.listdir(self.root / 'etc'))
        self.proc.process(1, 'init')
        mountns.remove_mount_points(targets, self.proc.root)
        self.assertEqual(['etc'], os.listdir(self.root))

    def test_kept_while_a_namespace_mounts_there(self):
        target = self.root / 'run' / 'libvirt'
        mountns.make_mount_points([target])
        self.proc.process(1, 'init')
        # Two processes of one namespace (read once): a daemon and a
        # guest it left.
        for pid in (2, 3):
            self.proc.process(pid, 'libvirtd', namespace=2,
                              mounts=('/', str(target)))
        self.assertIn(target, mountns.mount_points(self.proc.root))
        mountns.remove_mount_points([target], self.proc.root)
        self.assertEqual([mountns.MARKER], os.listdir(target))

    def test_kept_when_something_else_is_in_it(self):
        target = self.root / 'libvirt'
        mountns.make_mount_points([target])
        (target / 'libvirt-sock').write_text('')
        mountns.remove_mount_points([target], self.proc.root)
        self.assertTrue(target.is_dir())

    def test_a_mount_point_with_a_space(self):
        self.proc.process(1, 'init', mounts=('/', '/a\\040b'))
        self.assertIn(Path('/a b'), mountns.mount_points(self.proc.root))
