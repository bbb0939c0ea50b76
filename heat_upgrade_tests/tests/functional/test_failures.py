"""When the cloud breaks, the run says what broke, soon, and leaves nothing.

A mini-cloud of its own (the drill kills a heat-engine, which would
disturb the shared scenario's drills), on free ports and a work directory
of its own, after the scenario's cloud has stopped, with two checks: the
plan ``tests/functional/plans/engine-killed.yaml`` upgrades, a thread
SIGKILLs the new heat-engine as soon as Heat's database shows a check's
stack UPDATE_IN_PROGRESS in post-upgrade, and the phase must be red within
60 s naming the stack and the dead engine; a new engine is then started
and destroy must leave nothing behind (the run's leak count is zero).
"""

import dataclasses
import functools
import os
from pathlib import Path
import re
import shutil
import signal
import stat
import threading
import time
import traceback

import testtools

from heat_upgrade_tests import config
from heat_upgrade_tests import engines
from heat_upgrade_tests import leaks
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import driver
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.plans import upgrade
from heat_upgrade_tests.tests.functional import test_interrupt

WORK_DIR = Path(config.CACHE_HOME).expanduser() / 'functional-failures'
PLANS = Path(__file__).resolve().parent / 'plans'
CHECKS = ['values_and_outputs', 'keystone_objects']
KILL_WAIT = 600
RED_WITHIN = 60
# The services' own storage: their databases, not files the run wrote.
SERVICE_DATA = ('mariadb/data', 'rabbitmq/mnesia')
FERNET_TOKEN = re.compile(rb'gAAAAA[A-Za-z0-9_=-]{40,}')
# What may hold a password: configuration a service reads, mode 0600.
CONFIG_SUFFIXES = ('.conf', '.yaml')


@dataclasses.dataclass
class Killed:
    at: float | None = None
    engine_ids: list[str] = dataclasses.field(default_factory=list)
    stack: engines.BusyStack | None = None
    post_ended: float | None = None
    error: str | None = None
    secrets: list[str] = dataclasses.field(default_factory=list)


class EngineKiller:
    """Hooks: kill the engine mid-update; start a new one for destroy."""

    def __init__(self):
        self.killed = Killed()
        self.thread: threading.Thread | None = None

    def new_heat_up(self, run):
        self.thread = threading.Thread(target=self._kill, args=(run,),
                                       daemon=True)
        self.thread.start()

    def _kill(self, run):
        url = run.cloud.heat_db_url
        try:
            deadline = time.monotonic() + KILL_WAIT
            while time.monotonic() < deadline:
                busy = [s for s in engines.db_busy_stacks(url, ('hut-',))
                        if s.action == 'UPDATE']
                if busy:
                    break
                time.sleep(0.2)
            else:
                self.killed.error = 'no stack was ever UPDATE_IN_PROGRESS'
                return
            alive = [e.engine_id for e in engines.db_engines(url)
                     if e.status == 'up']
            os.killpg(run.cloud.heat.engine.process.popen.pid, signal.SIGKILL)
            self.killed.at = time.monotonic()
            self.killed.engine_ids = alive
            self.killed.stack = busy[0]
        except Exception:
            self.killed.error = traceback.format_exc()

    def post_upgrade_done(self, run):
        self.killed.post_ended = time.monotonic()
        # The run's passwords, and a token of its admin, to look for.
        self.killed.secrets = list(run.cloud._passwords.values())
        if self.thread is not None:
            self.thread.join(5)
        # destroy runs on a healthy Heat again.
        run.cloud.heat.stop_processes('heat-engine')
        run.cloud.heat.start_engine(run.new)
        self.killed.secrets.append(
            run.cloud.admin_connection().session.get_token())

    def hooks(self):
        return {'new-heat-up': self.new_heat_up,
                'post-upgrade-done': self.post_upgrade_done}


@dataclasses.dataclass
class Outcome:
    run: upgrade.UpgradeRun
    killed: Killed
    summary: str


def _conf(work: Path, **minicloud):
    shutil.rmtree(work, ignore_errors=True)
    conf = config.load(config_files=[])
    options = test_interrupt.PORT_OPTIONS
    for name, port in zip(options,
                          test_interrupt._free_ports(len(options))):
        conf.set_override(name, port, 'minicloud')
    conf.set_override('work_dir', str(work / 'run'), 'minicloud')
    # The failure drills' checks need no server.
    conf.set_override('compute', False, 'minicloud')
    conf.set_override('enabled_checks', CHECKS, 'phases')
    for name, value in minicloud.items():
        conf.set_override(name, value, 'minicloud')
    return conf


@functools.cache
def engine_killed() -> Outcome:
    conf = _conf(WORK_DIR)
    plan = model.load(PLANS / 'engine-killed.yaml', framed=False)
    old, new = driver.resolve_pair(conf, plan)
    run = upgrade.UpgradeRun(conf, old, new, plan=plan)
    killer = EngineKiller()
    try:
        run.run(hooks=killer.hooks())
    except Exception:
        pass  # recorded in its step; the assertions say what failed
    text = driver.summary(run)
    print(text, flush=True)
    driver.write_report(run)
    return Outcome(run, killer.killed, text)


class EngineKilledTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.outcome = engine_killed()
        self.killed = self.outcome.killed
        self.assertIsNone(self.killed.error, self.killed.error)
        self.post = self.outcome.run.phase_runs['post-upgrade']

    @base.idempotent_id('5b0e6c1d-2f3a-4b4c-9d5e-6f7a8b9c0d11')
    def test_post_upgrade_is_red_within_a_minute(self):
        self.assertFalse(self.post.ok, self.post.output[-3000:])
        self.assertIsNotNone(self.killed.at)
        taken = self.killed.post_ended - self.killed.at
        self.assertLess(taken, RED_WITHIN,
                        f'red {taken:.0f}s after the kill:\n'
                        f'{self.post.output[-3000:]}')

    @base.idempotent_id('6c1f7d2e-3a4b-4c5d-8e6f-7a8b9c0d1e22')
    def test_the_failure_names_the_stack_and_the_dead_engine(self):
        output = self.post.output
        self.assertIn('no heat-engine answered', output)
        self.assertIn(self.killed.stack.name, output)
        self.assertIn('UPDATE_IN_PROGRESS', output)
        self.assertTrue(
            any(e in output for e in self.killed.engine_ids),
            f'none of the killed engines {self.killed.engine_ids} named:\n'
            f'{output[-3000:]}')
        # Short: the line, not thousands of lines of client tracebacks.
        self.assertLess(len(output.splitlines()), 400, output[-3000:])

    @base.idempotent_id('7d2a8e3f-4b5c-4d6e-9f7a-8b9c0d1e2f33')
    def test_destroy_on_a_healthy_heat_leaves_nothing(self):
        destroy = self.outcome.run.phase_runs['destroy']
        self.assertTrue(destroy.ok, destroy.output[-3000:])
        run = self.outcome.run
        self.assertIsNone(run.leak_error)
        self.assertIsNotNone(run.left_behind, self.outcome.summary)
        self.assertEqual({k: {} for k in leaks.KINDS}, run.left_behind,
                         self.outcome.summary)
        self.assertIn('left behind by the run: 0 stacks, 0 users, 0 groups, '
                      '0 roles, 0 projects, 0 domains (nothing)',
                      self.outcome.summary)


class NoSecretTest(testtools.TestCase):
    """No password or token in any file the run leaves in its work dir."""

    @base.idempotent_id('8e3b9f4a-5c6d-4e7f-8a9b-0c1d2e3f4a44')
    def test_no_password_or_token_outside_private_config(self):
        outcome = engine_killed()
        secrets = [s.encode() for s in outcome.killed.secrets if s]
        self.assertGreater(len(secrets), 5, 'the run\'s secrets unknown')
        root = WORK_DIR / 'run'
        found, scanned = [], 0
        for path in sorted(root.rglob('*')):
            rel = path.relative_to(root).as_posix()
            if path.is_symlink() or not path.is_file() or rel.startswith(
                    SERVICE_DATA):
                continue
            scanned += 1
            data = path.read_bytes()
            if not (any(s in data for s in secrets)
                    or FERNET_TOKEN.search(data)):
                continue
            mode = stat.S_IMODE(path.stat().st_mode)
            private_config = (path.suffix in CONFIG_SUFFIXES and
                              mode == 0o600 and not rel.startswith(
                                  ('logs/', 'state', 'results/')))
            if not private_config:
                found.append(f'{rel} (mode {mode:o})')
        self.assertGreater(scanned, 20)
        self.assertEqual([], found, 'secrets found outside the private '
                                    'configuration files')

    @base.idempotent_id('3c8e1f5a-9b2d-4e70-a6c4-8d1f3b5e7a92')
    def test_no_file_holding_a_secret_is_readable_by_another_user(self):
        """The services' stores too: the broker's, the database's.

        RabbitMQ writes RPC contexts, tokens included, to its persistent
        message store; MariaDB's tables hold password hashes and the
        services' data. Whatever the work directory, none of it may be
        readable by a user other than the run's.
        """
        outcome = engine_killed()
        secrets = [s.encode() for s in outcome.killed.secrets if s]
        root = WORK_DIR / 'run'
        readable, holding = [], 0
        for path in sorted(root.rglob('*')):
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            if not (any(s in data for s in secrets)
                    or FERNET_TOKEN.search(data)):
                continue
            holding += 1
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                readable.append(f'{path.relative_to(root)} (mode {mode:o})')
        self.assertGreater(holding, 3)
        self.assertEqual([], readable)


DB_WORK_DIR = Path(config.CACHE_HOME).expanduser() / 'functional-db-behind'
# A pair with migrations: 2026.1 adds three.
DB_PAIR = ('2025.2', '2026.1')


@functools.cache
def db_behind() -> Outcome:
    conf = _conf(DB_WORK_DIR, from_series=DB_PAIR[0], to_series=DB_PAIR[1])
    plan = model.load(PLANS / 'db-behind.yaml', framed=False)
    old, new = driver.resolve_pair(conf, plan)
    run = upgrade.UpgradeRun(conf, old, new, plan=plan)
    try:
        run.run()
    except Exception:
        pass
    text = driver.summary(run)
    print(text, flush=True)
    driver.write_report(run)
    return Outcome(run, Killed(), text)


class DatabaseBehindTest(testtools.TestCase):
    """New Heat on a database behind its head: no stack is changed."""

    def setUp(self):
        super().setUp()
        self.outcome = db_behind()
        self.run_ = self.outcome.run
        self.post = self.run_.phase_runs['post-upgrade']
        self.destroy = self.run_.phase_runs['destroy']

    @base.idempotent_id('9f4c0a5b-6d7e-4f8a-9b0c-1d2e3f4a5b55')
    def test_post_upgrade_holds_and_runs_the_read_only_checks(self):
        out = self.post.output
        self.assertFalse(self.post.ok, out[-3000:])
        self.assertIn('FAIL schema-head', out)
        self.assertIn('==> post-upgrade: HELD, no stack is updated or '
                      'deleted', out)
        self.assertIn('running the read-only checks', out)
        self.assertIn('test_verify.VerifyTest.test_values_and_outputs', out)
        self.assertNotIn('test_post_upgrade', out)

    @base.idempotent_id('0a5d1b6c-7e8f-4a9b-8c1d-2e3f4a5b6c66')
    def test_nothing_deleted_and_the_stacks_left_are_named(self):
        out = self.destroy.output
        self.assertFalse(self.destroy.ok, out[-3000:])
        self.assertIn('HELD, no stack is updated or deleted', out)
        self.assertIn('2 stack(s) left for a later destroy', out)
        self.assertNotIn('test_destroy', out)
        left = self.run_.left_behind
        self.assertIsNotNone(left, self.outcome.summary)
        # The checks' stacks, as destroy lists them, are what the run's
        # count finds left (with their nested stacks, if any).
        named = re.findall(r'^  (hut-\S+) \(', out, re.MULTILINE)
        self.assertEqual(2, len(named), out)
        for name in named:
            self.assertIn(name, left['stacks'].values(),
                          self.outcome.summary)
            self.assertIn(f'stack {name} (', self.outcome.summary)
