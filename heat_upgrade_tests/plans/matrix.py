"""``heat-upgrade-tests upgrade --matrix``: every plan on every pair.

Every supported pair of ``upgrade/releases.yaml`` (N-1 -> N and SLURP ->
next SLURP) that a plan runs, with every check, one run after the other
(one mini-cloud at a time), each in a work directory of its own; a table
of outcomes and timings at the end. Not in CI: it takes hours.
"""

import dataclasses
import os
from pathlib import Path
import time

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.plans import driver
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.plans import pairs
from heat_upgrade_tests.plans import upgrade
from heat_upgrade_tests import releases


@dataclasses.dataclass
class Cell:
    plan: str
    old: str
    new: str
    ok: bool
    seconds: float
    error: str = ''
    # The run failed only with the finding its RPC prediction announced
    # (old and new engines cannot share one bus): a result, not a fault.
    finding: bool = False

    @property
    def mark(self) -> str:
        return 'PASS' if self.ok else 'FIND' if self.finding else 'FAIL'


def combinations() -> list[tuple[model.Plan, pairs.Side, pairs.Side]]:
    """(plan, old, new) for every plan and every pair it runs."""
    known = releases.load_series()
    sides = [pairs.series_side(name, known) for name in known]
    out = []
    for plan in model.load_all().values():
        for old in sides:
            for new in sides:
                if new.index > old.index and (
                        pairs.path_kind(old, new) in plan.paths):
                    out.append((plan, old, new))
    return out


def main(conf) -> int:
    base_dir = Path(os.path.expanduser(conf.minicloud.work_dir))
    cells = []
    todo = combinations()
    for number, (plan, old, new) in enumerate(todo, 1):
        print(f'==> matrix {number}/{len(todo)}: {plan.name} '
              f'{old.series.name} -> {new.series.name}', flush=True)
        conf.set_override('work_dir', str(
            base_dir / f'{plan.name}-{old.series.name}-{new.series.name}'),
            'minicloud')
        start = time.monotonic()
        run = upgrade.UpgradeRun(conf, old, new, plan=plan)
        error = ''
        try:
            run.preflight()
            run.run()
        except exceptions.UpgradeTestError as exc:
            error = str(exc)
        finally:
            print(driver.summary(run), flush=True)
            driver.write_report(run)
        cells.append(Cell(plan.name, old.series.name, new.series.name,
                          run.ok, time.monotonic() - start, error,
                          finding=as_predicted(run)))
    conf.set_override('work_dir', str(base_dir), 'minicloud')
    print('\n'.join(['', '==> matrix:'] + [
        f'{c.mark} {c.seconds:7.0f}s  {c.plan:<20} '
        f'{c.old} -> {c.new}' + (f'  ({c.error})' if c.error else '')
        for c in cells]), flush=True)
    return 0 if all(c.ok or c.finding for c in cells) else 1


def as_predicted(run) -> bool:
    """Whether a failed run failed only with its predicted finding.

    The mixed step ended with the finding (predicted incompatible and
    observed so), and every other failed step is the phases that came
    after it on the stacks the broken mix left (none, by the plan's
    ``always`` steps, but post-upgrade never runs after it).
    """
    findings = [o for o in run.mixed_outcomes
                if str(o.get('finding', '')).startswith('FINDING:')]
    failed = [s for s in run.steps if not s.ok]
    return bool(findings) and len(failed) == 1 and failed[0].detail.startswith(
        'FINDING:')
