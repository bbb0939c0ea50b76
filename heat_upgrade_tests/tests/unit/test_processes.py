"""Processes the mini-cloud starts end with it, and waits are bounded."""

import os
from pathlib import Path
import sys
import tempfile
import time

import fixtures
import testtools

from heat_upgrade_tests import exceptions
from heat_upgrade_tests import processes


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (dead, not yet reaped) does not."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ('Z', 'X')


class TestWaitUntil(testtools.TestCase):

    def test_returns_when_true(self):
        calls = []

        def predicate():
            calls.append(1)
            return len(calls) == 3

        processes.wait_until(predicate, 5, 'three calls', interval=0.01)
        self.assertEqual(3, len(calls))

    def test_timeout_names_what(self):
        start = time.monotonic()
        exc = self.assertRaises(
            exceptions.TimeoutExpired, processes.wait_until,
            lambda: False, 0.2, 'the moon to rise', interval=0.05)
        self.assertIn('waiting for the moon to rise', str(exc))
        self.assertLess(time.monotonic() - start, 5)

    def test_failed_gives_up_early(self):
        exc = self.assertRaises(
            exceptions.MiniCloudError, processes.wait_until,
            lambda: False, 60, 'the moon to rise', interval=0.01,
            failed=lambda: 'the sky fell')
        self.assertIn('the moon to rise', str(exc))
        self.assertIn('the sky fell', str(exc))

    def test_the_message_is_asked_for_at_the_bound_only(self):
        # StackOps.poll names the last status it saw, known only then.
        seen = []
        exc = self.assertRaises(
            TimeoutError, processes.wait_until,
            lambda: seen.append('look') or False, 0.05,
            lambda: f'{len(seen)} looks', interval=0.01,
            error=TimeoutError)
        self.assertIn(f'waiting for {len(seen)} looks', str(exc))
        # A wait that ends in time never asks (this one would raise).
        processes.wait_until(lambda: True, 1, lambda: 1 / 0)

    def test_the_last_look_is_at_the_bound(self):
        # Each look is a request: none twice at the start; a stack that
        # completes as the bound runs out is seen to complete.
        clock = [1000.0]
        looks = []
        self.useFixture(fixtures.MonkeyPatch(
            'tempest.lib.common.utils.test_utils.time.time',
            lambda: clock[0]))
        self.useFixture(fixtures.MonkeyPatch(
            'tempest.lib.common.utils.test_utils.time.sleep',
            lambda s: clock.__setitem__(0, clock[0] + s)))

        def predicate():
            looks.append(clock[0])
            return clock[0] >= 1006
        processes.wait_until(predicate, 6, 'the bound', interval=2)
        self.assertEqual([1000, 1002, 1004, 1006], looks)
        looks.clear()
        self.assertRaises(exceptions.TimeoutExpired, processes.wait_until,
                          lambda: looks.append(1) or False, 0, 'no time')
        self.assertEqual([1], looks)


class TestManagedProcess(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = Path(self.useFixture(fixtures.TempDir()).path)
        self.log = self.dir / 'logs' / 'proc.log'

    def test_starts_and_cleanup_kills(self):
        proc = processes.ManagedProcess('sleeper', ['sleep', '300'],
                                        self.log)
        proc.setUp()
        pid = proc.popen.pid
        self.assertTrue(proc.running)
        self.assertTrue(_alive(pid))
        proc.cleanUp()
        self.assertFalse(proc.running)
        self.assertFalse(_alive(pid))

    def test_cleanup_kills_children(self):
        pid_file = self.dir / 'child.pid'
        # The shell ignores SIGTERM, so its group gets the SIGKILL too.
        script = (f"trap '' TERM; sleep 300 & echo $! > {pid_file}; "
                  f"while :; do sleep 1; done")
        proc = processes.ManagedProcess('parent', ['sh', '-c', script],
                                        self.log, stop_timeout=0.5)
        proc.setUp()
        processes.wait_until(lambda: pid_file.exists()
                             and pid_file.read_text().strip() != '',
                             10, 'the child pid', interval=0.05)
        child = int(pid_file.read_text())
        parent = proc.popen.pid
        self.assertTrue(_alive(child))
        proc.cleanUp()
        processes.wait_until(lambda: not _alive(child), 5,
                             'the child to die', interval=0.05)
        self.assertFalse(_alive(parent))

    def test_sigterm_to_the_leader_only(self):
        # A leader that leaves its child to the group's end (as a uwsgi
        # master stops its workers itself): the child hears a SIGTERM
        # only when the whole group is sent one. Each writes a ready file
        # once its handler is in place; the leader gives a child that
        # heard one a second to say so before it exits.
        heard, ready = self.dir / 'heard', self.dir / 'ready'
        handler = ('import os, signal, subprocess, sys, time\n'
                   'def said(name):\n'
                   '    def handler(*_):\n'
                   '        with open(sys.argv[1], "a") as f:\n'
                   '            f.write(name + "\\n")\n'
                   '        if name == "leader":\n'
                   '            try:\n'
                   '                child.wait(1)\n'
                   '            except subprocess.TimeoutExpired:\n'
                   '                pass\n'
                   '        os._exit(0)\n'
                   '    return handler\n'
                   'name = sys.argv[3]\n'
                   'signal.signal(signal.SIGTERM, said(name))\n'
                   'if name == "leader":\n'
                   '    child = subprocess.Popen([sys.executable, __file__,'
                   ' sys.argv[1], sys.argv[2] + ".child", "child"])\n'
                   '    while not os.path.exists(sys.argv[2] + ".child"):\n'
                   '        time.sleep(0.02)\n'
                   'open(sys.argv[2], "w").close()\n'
                   'while True:\n'
                   '    time.sleep(0.1)\n')
        script = self.dir / 'stopper.py'
        script.write_text(handler)
        for leader_only, wanted in ((True, ['leader']),
                                    (False, ['child', 'leader'])):
            for path in (heard, ready, Path(f'{ready}.child')):
                path.unlink(missing_ok=True)
            proc = processes.ManagedProcess(
                'leader', [sys.executable, str(script), str(heard),
                           str(ready), 'leader'],
                self.log, stop_timeout=10, term_leader_only=leader_only)
            proc.setUp()
            processes.wait_until(ready.exists, 30, 'the leader and child',
                                 interval=0.02)
            pid = proc.popen.pid
            proc.cleanUp()
            self.assertFalse(_alive(pid))
            self.assertEqual(wanted, sorted(heard.read_text().split()))

    def test_output_goes_to_log_file(self):
        proc = processes.ManagedProcess(
            'echo', ['sh', '-c', 'echo hello; echo "$GREETING" >&2'],
            self.log, env={'GREETING': 'bonjour'})
        self.useFixture(proc)
        processes.wait_until(lambda: not proc.running, 10, 'echo to end',
                             interval=0.05)
        self.assertEqual('hello\nbonjour\n', self.log.read_text())

    def test_dying_process_makes_wait_ready_give_up(self):
        proc = self.useFixture(processes.ManagedProcess(
            'doomed', ['sh', '-c', 'exit 3'], self.log))
        start = time.monotonic()
        exc = self.assertRaises(exceptions.MiniCloudError, proc.wait_ready,
                                lambda: False, 60, 'the doomed one')
        self.assertLess(time.monotonic() - start, 10)
        self.assertIn('doomed exited with status 3', str(exc))
        self.assertIn(str(self.log), str(exc))

    def test_missing_binary(self):
        proc = processes.ManagedProcess(
            'ghost', [os.path.join(tempfile.gettempdir(), 'no-such-binary')],
            self.log)
        # fixtures wraps what _setUp raises, with a SetupError after it.
        exc = self.assertRaises(fixtures.MultipleExceptions, proc.setUp)
        error = exc.args[0][1]
        self.assertIsInstance(error, exceptions.MiniCloudError)
        self.assertIn('cannot start ghost', str(error))


class TestRun(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = Path(self.useFixture(fixtures.TempDir()).path)
        self.log = self.dir / 'run.log'

    def test_returns_output_and_logs_command(self):
        out = processes.run(['echo', 'hi'], self.log, 'saying hi')
        self.assertEqual('hi\n', out)
        self.assertEqual('$ echo hi\nhi\n', self.log.read_text())

    def test_failure_names_what_and_log(self):
        exc = self.assertRaises(
            exceptions.MiniCloudError, processes.run,
            ['sh', '-c', 'echo bad thing >&2; exit 4'], self.log,
            'doing the thing')
        self.assertEqual(
            f'doing the thing failed (exit 4): bad thing; see {self.log}',
            str(exc))

    def test_timeout(self):
        exc = self.assertRaises(exceptions.TimeoutExpired, processes.run,
                                ['sleep', '30'], self.log, 'napping',
                                timeout=0.2)
        self.assertIn('napping', str(exc))

    def test_secret_args_are_masked(self):
        secret = 'Sup3rS3cret'
        out = processes.run(['echo', 'user', secret], self.log,
                            'adding a user', secret_args=[secret])
        # The caller still gets the real output.
        self.assertEqual(f'user {secret}\n', out)
        self.assertNotIn(secret, self.log.read_text())
        self.assertIn('$ echo user ***', self.log.read_text())

    def test_secret_args_masked_in_error(self):
        secret = 'Sup3rS3cret'
        exc = self.assertRaises(
            exceptions.MiniCloudError, processes.run,
            ['sh', '-c', f'echo "no user for {secret}" >&2; exit 1'],
            self.log, 'adding a user', secret_args=[secret])
        self.assertNotIn(secret, str(exc))
        self.assertNotIn(secret, self.log.read_text())
