"""Old and new engines on one bus: predicted against observed.

The integrity command's RPC finding (``integrity/rpc.py``, in the plan's
integrity report) predicts whether one bus can carry both releases. The
rolling-mixed plan's mixed phase then observes it:

* which engine served which stack operation, read from each engine's log
  over the phase (Heat's events carry no engine id and its locks vanish
  once released; the engine that takes an API call logs "Creating stack
  NAME", "Updating stack NAME", "Deleting stack NAME");
* whether both releases served, and whether a stack created by one
  release was updated or deleted by the other (a crossing).

``judge`` turns prediction and observation into the step's outcome: a
prediction the run contradicts is a failure naming both; an incompatible
pair predicted so ends, bounded, with the mix as the finding.

Nothing here imports the integrity package: the report is read as JSON.
"""

import dataclasses
import json
from pathlib import Path
import re

from heat_upgrade_tests import exceptions

_OPERATION = re.compile(r'\b(Creating|Updating|Deleting) stack (\S+)')
# A resource operation: the worker that runs a check_resource logs it.
_RESOURCE = re.compile(r' heat\.engine\.resource \[[^\]]*\] '
                       r'(?:creating|updating|deleting) ')
# What the mixed phase must have made the engines do: each resource
# operation is at least one check_resource cast the bus hands to any
# worker (see phases/suite/test_mixed.py for why this is enough).
MIN_RESOURCE_OPERATIONS = 40
# A phase test the stestr output names as failed.
_FAILED_TEST = re.compile(
    r'\.(test_\w+)(?:\[[^\]\s]*\])*(?: \[[\d.]+s\])? \.\.\. FAILED')
# The bound of each stack wait of a mixed phase on a pair predicted
# incompatible: twice what a compatible mix's slowest wait took on the
# 2-core machine (under 30 s), short enough that the finding comes in
# minutes, not 300 s per wait.
INCOMPATIBLE_STACK_TIMEOUT = 60


@dataclasses.dataclass
class Prediction:
    """What the RPC finding says of one bus carrying both releases."""

    compatible: bool
    summary: str
    breaks: list[str]

    @property
    def said(self) -> str:
        return ('compatible' if self.compatible else 'incompatible') + (
            f' ({self.summary})')


def predict(report: Path) -> Prediction:
    """The prediction of the integrity report; none is a one-line error."""
    try:
        doc = json.loads(Path(report).read_text())
    except (OSError, ValueError) as exc:
        raise exceptions.UpgradeTestError(
            f'no RPC prediction to check the mix against: cannot read '
            f'{report} ({exc}); the plan runs its integrity step first')
    for finding in doc.get('findings', []):
        if finding.get('check') != 'rpc':
            continue
        data = finding.get('data') or {}
        if finding.get('status') == 'failed' and data.get('not_compared'):
            raise exceptions.UpgradeTestError(
                f'no RPC prediction to check the mix against: '
                f'{finding.get("summary")}')
        breaks = list(data.get('breaks') or [])
        return Prediction(not breaks, str(finding.get('summary', '')),
                          breaks)
    raise exceptions.UpgradeTestError(
        f'no RPC prediction to check the mix against: {report} has no rpc '
        f'finding')


@dataclasses.dataclass
class Observation:
    """Who served what over one mixed phase."""

    # release key -> number of stack operations its engines took.
    served: dict[str, int]
    # (stack name, release that created it, release that changed it).
    crossings: list[tuple[str, str, str]]
    # release key -> resource operations its workers ran.
    resources: dict[str, int] = dataclasses.field(default_factory=dict)

    def describe(self) -> str:
        parts = [f'{key}: {n} stack and {self.resources.get(key, 0)} '
                 f'resource operation(s)'
                 for key, n in sorted(self.served.items())]
        if self.crossings:
            name, made, changed = self.crossings[0]
            parts.append(f'{len(self.crossings)} crossing(s), e.g. {name} '
                         f'created by {made}, changed by {changed}')
        else:
            parts.append('no stack crossed from one release to the other')
        return '; '.join(parts)


def offsets(engines) -> dict[Path, int]:
    """Where each engine's log ends now (the phase reads from there)."""
    out = {}
    for engine in engines:
        try:
            out[engine.log_file] = engine.log_file.stat().st_size
        except FileNotFoundError:
            out[engine.log_file] = 0
    return out


def observe(engines, start: dict[Path, int]) -> Observation:
    """Read each engine's log since ``start``: who served which stack."""
    served: dict[str, int] = {}
    resources: dict[str, int] = {}
    created: dict[str, set[str]] = {}
    changed: dict[str, set[str]] = {}
    for engine in engines:
        key = engine.release.key
        served.setdefault(key, 0)
        resources.setdefault(key, 0)
        try:
            with open(engine.log_file, 'rb') as f:
                f.seek(start.get(engine.log_file, 0))
                text = f.read().decode(errors='replace')
        except FileNotFoundError:
            continue
        resources[key] += len(_RESOURCE.findall(text))
        for verb, name in _OPERATION.findall(text):
            served[key] += 1
            into = created if verb == 'Creating' else changed
            into.setdefault(name, set()).add(key)
    crossings = []
    for name, makers in sorted(created.items()):
        for other in sorted(changed.get(name, set()) - makers):
            crossings.append((name, sorted(makers)[0], other))
    return Observation(served, crossings, resources)


def failed_tests(output: str) -> list[str]:
    return sorted(set(_FAILED_TEST.findall(output)))


def judge(prediction: Prediction, passed: bool, failed: list[str],
          observation: Observation, old: str, new: str,
          seconds: float) -> str:
    """The mixed step's outcome: its detail, or the failure it raises."""
    seen = observation.describe()
    failures = ', '.join(failed) or 'the phase'
    if not prediction.compatible:
        if passed:
            raise exceptions.UpgradeTestError(
                f'predicted {prediction.said}, but the mix passed '
                f'({seen}): the prediction or the mixed phase is wrong')
        raise exceptions.UpgradeTestError(
            f'FINDING: old and new engines cannot share one bus, as '
            f'predicted ({"; ".join(prediction.breaks)}): the mixed phase '
            f'failed in {seconds:.0f}s ({failures}); observed {seen}. '
            f'Upgrade every engine at once, or run the new release on a '
            f'virtual host of its own (plan rolling-vhost)')
    if not passed:
        raise exceptions.UpgradeTestError(
            f'predicted {prediction.said}, but the mix failed: '
            f'{failures} ({seen})')
    idle = [key for key in (old, new) if not observation.served.get(key)
            or not observation.resources.get(key)]
    if idle:
        raise exceptions.UpgradeTestError(
            f'the mixed phase proves nothing: the engines of '
            f'{", ".join(idle)} served no stack or no resource operation '
            f'({seen})')
    total = sum(observation.resources.values())
    if total < MIN_RESOURCE_OPERATIONS:
        raise exceptions.UpgradeTestError(
            f'the mixed phase proves too little: {total} resource '
            f'operations, fewer than {MIN_RESOURCE_OPERATIONS} ({seen})')
    if not observation.crossings:
        raise exceptions.UpgradeTestError(
            f'the mixed phase proves nothing about crossing releases: '
            f'{seen}')
    return f'predicted compatible and observed so: {seen}'
