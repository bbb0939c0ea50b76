"""The message bus and the database restart under a running phase.

A mini-cloud of its own (restarting the bus or the database would break
the shared scenario's drills), with two checks and the plan
``tests/functional/plans/restarts.yaml``: RabbitMQ is restarted while
post-upgrade runs its tests, MariaDB while destroy runs its tests (each
once, when the phase's log, written line by line, shows its tests
started). Heat and the phases must reconnect and the phase pass, or fail
naming what broke; never hang (each phase is bounded well below its
command's own bound).
"""

import dataclasses
import functools
import threading
import time
import traceback

import testtools

from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import driver
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.plans import upgrade
from heat_upgrade_tests.tests.functional import test_failures

WORK_DIR = test_failures.WORK_DIR.parent / 'functional-restarts'
STARTED = 'running the phase tests of'
# A phase that reconnects takes a minute or two here; a hang would take
# its waits' bounds (300 s each) or the command's.
PHASE_BOUND = 240


@dataclasses.dataclass
class Restart:
    service: str
    phase: str
    seconds: float | None = None
    error: str | None = None


class Restarter:

    def __init__(self):
        self.restarts = [Restart('rabbitmq', 'post-upgrade'),
                         Restart('mariadb', 'destroy')]

    def _watch(self, run, restart: Restart):
        log = run.run_dir / 'logs' / f'phase-{restart.phase}.log'
        try:
            deadline = time.monotonic() + 1200
            while time.monotonic() < deadline:
                if log.exists() and STARTED in log.read_text():
                    break
                time.sleep(0.2)
            else:
                restart.error = f'the {restart.phase} tests never started'
                return
            time.sleep(2)  # the tests are talking to Heat
            service = {'rabbitmq': run.cloud.rabbit,
                       'mariadb': run.cloud.db}[restart.service]
            restart.seconds = service.restart()
        except Exception:
            restart.error = traceback.format_exc()

    def start(self, run, restart: Restart):
        thread = threading.Thread(target=self._watch, args=(run, restart),
                                  daemon=True)
        thread.start()
        return thread

    def new_heat_up(self, run):
        self.bus = self.start(run, self.restarts[0])

    def post_upgrade_done(self, run):
        self.bus.join(60)
        self.db = self.start(run, self.restarts[1])

    def hooks(self):
        return {'new-heat-up': self.new_heat_up,
                'post-upgrade-done': self.post_upgrade_done}


@dataclasses.dataclass
class Outcome:
    run: upgrade.UpgradeRun
    restarts: list[Restart]
    summary: str


@functools.cache
def restarted() -> Outcome:
    conf = test_failures._conf(WORK_DIR)
    plan = model.load(test_failures.PLANS / 'restarts.yaml',
                      framed=False)
    old, new = driver.resolve_pair(conf, plan)
    run = upgrade.UpgradeRun(conf, old, new, plan=plan)
    restarter = Restarter()
    try:
        run.run(hooks=restarter.hooks())
    except Exception:
        pass
    text = driver.summary(run)
    print(text, flush=True)
    driver.write_report(run)
    return Outcome(run, restarter.restarts, text)


class RestartTest(testtools.TestCase):

    def _phase(self, name):
        outcome = restarted()
        restart = next(r for r in outcome.restarts if r.phase == name)
        self.assertIsNone(restart.error, restart.error)
        self.assertIsNotNone(restart.seconds, f'{restart.service} was not '
                                              f'restarted during {name}')
        result = outcome.run.phase_runs[name]
        self.assertLess(result.seconds, PHASE_BOUND,
                        f'{name} took {result.seconds:.0f}s after '
                        f'{restart.service} restarted: '
                        f'{result.output[-3000:]}')
        return result

    @base.idempotent_id('1b6e2c7d-8f9a-4b0c-9d2e-3f4a5b6c7d77')
    def test_post_upgrade_survives_a_bus_restart(self):
        result = self._phase('post-upgrade')
        self.assertTrue(result.ok, result.output[-3000:])

    @base.idempotent_id('2c7f3d8e-9a0b-4c1d-8e3f-4a5b6c7d8e88')
    def test_destroy_survives_a_database_restart(self):
        result = self._phase('destroy')
        self.assertTrue(result.ok, result.output[-3000:])
        self.assertEqual(0, sum(len(v) for v in (
            restarted().run.left_behind or {'?': [1]}).values()),
            restarted().summary)
