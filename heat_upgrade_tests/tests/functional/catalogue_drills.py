"""The check catalogue's fault drills, in one batch on the shared mini-cloud.

Every check gets a stack of its own in the drills' state directory, made by
ONE pre-upgrade run (before the main pre-upgrade, with the old Heat up). Each
drill then breaks its check's stack at its moment (``drills.MOMENTS``);
ONE during-upgrade run (Heat down) and ONE post-upgrade run (in the
background, beside the main post-upgrade) follow. The results (each
check's outcome in each phase, from the runs' junit files) are asserted by
``test_catalogue_drills``: the phase a drill names fails for that check
with the text it expects, and the phases before it do not.

Gate-only checks skip in the drills' pre-upgrade as in the main one (no
compute, network, volume or object-store service here); their drills run
where those services exist.
"""

import dataclasses
import threading
import traceback
import xml.etree.ElementTree as ET

from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests.plans import upgrade
from heat_upgrade_tests.tests.functional import drills

NAME = 'catalogue'
# Bounds of the drills' phases: a drill that makes a wait run out (the
# interrupted update) must not hold the functional run for long.
STACK_TIMEOUT = 90
CONCURRENCY = 4


@dataclasses.dataclass
class Outcome:
    """A check's test in one phase: ok, failure, error or skipped."""

    status: str
    text: str = ''


@dataclasses.dataclass
class Results:
    """What the batch did: runs, outcomes per phase, injections."""

    runs: dict[str, upgrade.PhaseRun] = dataclasses.field(
        default_factory=dict)
    outcomes: dict[str, dict[str, Outcome]] = dataclasses.field(
        default_factory=dict)
    injected: dict[str, str] = dataclasses.field(default_factory=dict)
    errors: list[str] = dataclasses.field(default_factory=list)


RESULTS = Results()


def junit_outcomes(path) -> dict[str, Outcome]:
    """Per check, the outcome of its phase test in a junit file."""
    found = {}
    for case in ET.parse(path).getroot().iter('testcase'):
        name = case.get('name', '')
        if not name.startswith('test_'):
            continue
        status, text = 'ok', ''
        for child in case:
            if child.tag in ('failure', 'error', 'skipped'):
                status = child.tag
                text = (child.get('message') or '') + (child.text or '')
        found[name[len('test_'):]] = Outcome(status, text)
    return found


class CatalogueDrills:
    """The drill set of the catalogue (see the module docstring)."""

    def __init__(self, results: dict):
        self.results = results
        self.drills = drills.all_drills()
        self._thread: threading.Thread | None = None

    # -- plumbing ---------------------------------------------------------
    def _conf(self, plan):
        cloud = plan.cloud
        path = cloud.run_dir / f'drill-{NAME}.conf'
        self.state_dir = cloud.run_dir / f'state-drill-{NAME}'
        self.results_dir = cloud.results_dir / self.state_dir.name
        checks = sorted(checks_base.all_checks())
        return cloud.write_phase_conf(
            path, self.state_dir, enabled_checks=checks, overrides={
                'timeouts': {'stack_timeout': STACK_TIMEOUT},
                'phases': {'concurrency': CONCURRENCY}})

    def _run(self, plan, phase):
        try:
            run = upgrade.run_phase_command(
                self.conf, phase,
                plan.run_dir / 'logs' / f'drill-{NAME}-{phase}.log',
                echo=False, timeout=1200)
            RESULTS.runs[phase] = run
            self.results[f'{NAME}_{phase}'] = run
            RESULTS.outcomes[phase] = junit_outcomes(
                self.results_dir / phase / f'{phase}.xml')
        except Exception:
            RESULTS.errors.append(f'{phase}: {traceback.format_exc()}')

    def _background(self, plan, phase):
        self._thread = threading.Thread(
            target=self._run, args=(plan, phase), daemon=True,
            name=f'drills-{phase}')
        self._thread.start()

    def _join(self):
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _inject(self, plan, moment):
        skipped = RESULTS.outcomes.get('pre-upgrade', {})
        for name, drill in self.drills.items():
            if drill.moment != moment:
                continue
            pre = skipped.get(name)
            if pre is None or pre.status != 'ok':
                RESULTS.injected[name] = (
                    f'not injected: pre-upgrade was '
                    f'{pre.status if pre else "not run"}')
                continue
            try:
                drill.inject(drills.Toolbox(plan, self.state_dir, name))
                RESULTS.injected[name] = 'injected'
            except Exception:
                RESULTS.injected[name] = (
                    f'injection failed: {traceback.format_exc()}')

    # -- the moments ------------------------------------------------------
    def old_heat_up(self, plan):
        # Not beside the main pre-upgrade: two OS::Heat::Stack parents
        # created at once can take both heat-api workers, each waiting on
        # the engine, which calls heat-api for the child (see
        # StackOps.get).
        self.conf = self._conf(plan)
        self._run(plan, 'pre-upgrade')

    def pre_upgrade(self, plan):
        self._inject(plan, 'pre-upgrade')

    def heat_down(self, plan):
        self._inject(plan, 'heat-down')
        self._run(plan, 'during-upgrade')

    def new_heat_up(self, plan):
        self._inject(plan, 'new-heat-up')
        self._background(plan, 'post-upgrade')

    def post_upgrade(self, plan):
        self._join()

    def destroy(self, plan):
        # After a post-upgrade that failed for nearly every check, destroy
        # must still remove every stack the drills made.
        self._join()
        self._run(plan, 'destroy')

    def hooks(self):
        return {'old-heat-up': self.old_heat_up,
                'pre-upgrade': self.pre_upgrade,
                'heat-down': self.heat_down,
                'new-heat-up': self.new_heat_up,
                'post-upgrade': self.post_upgrade,
                'destroy': self.destroy}
