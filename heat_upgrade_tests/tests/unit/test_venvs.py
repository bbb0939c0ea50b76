"""A failed venv build leaves neither a lock nor a half-built venv."""

import os
from pathlib import Path
import sys

import fixtures
import testtools

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import venvs
from heat_upgrade_tests.plans import upgrade


class FailedBuildTest(testtools.TestCase):

    def test_nothing_is_left_in_the_cache(self):
        cache = self.useFixture(fixtures.TempDir()).path

        def broken(build, target, *args):
            (build / 'bin').mkdir()
            (build / 'bin' / 'python').write_text('half')
            raise exceptions.MiniCloudError('pip install failed')
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.installs.venvs._build', broken))
        self.assertRaises(exceptions.MiniCloudError, venvs.ensure_venv,
                          cache, 'heat-1', ['x'], None,
                          os.path.join(cache, 'log'))
        self.assertEqual([], sorted(os.listdir(cache)))

    def test_the_lock_is_held_then_removed(self):
        cache = self.useFixture(fixtures.TempDir()).path
        lock = os.path.join(cache, '.x.lock')
        with venvs._locked(lock, 5, 'x'):
            self.assertTrue(os.path.exists(lock))
            # Another holder cannot get it meanwhile.
            self.assertRaises(exceptions.TimeoutExpired,
                              venvs._locked(lock, 1, 'x').__enter__)
        self.assertFalse(os.path.exists(lock))
        with venvs._locked(lock, 5, 'x'):
            pass
        self.assertFalse(os.path.exists(lock))


class LineByLineLogTest(testtools.TestCase):

    def test_the_log_holds_each_line_as_it_is_printed(self):
        work = self.useFixture(fixtures.TempDir()).path
        log = os.path.join(work, 'phase.log')
        seen = os.path.join(work, 'seen')
        # The child prints a line, then waits until the log holds it.
        script = (
            'import os, sys, time\n'
            'print("first test ... ok")\n'
            f'deadline = time.time() + 20\n'
            f'while time.time() < deadline:\n'
            f'    if "first test" in open({log!r}).read():\n'
            f'        open({seen!r}, "w").close(); break\n'
            f'    time.sleep(0.1)\n')
        upgrade.run_command([sys.executable, '-c', script], 'a phase',
                            Path(log), echo=False, timeout=60)
        self.assertTrue(os.path.exists(seen),
                        'the line reached the log only at the end')
