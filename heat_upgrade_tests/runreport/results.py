"""A run's saved results, read back from its work directory.

The report never asks a live cloud anything: everything it shows is in
files the run left behind, so ``heat-upgrade-tests report DIR`` renders the
same page again later, elsewhere (a gate's collected logs), or from a run
that was interrupted. The files, all optional:

``report.json``
    The driver's summary: plan, releases, steps with durations, the phase
    runs in order (``phase_runs``: step, phase, return code, seconds, and
    the paths of the run's ``subunit``, ``junit`` and ``log``, relative to
    the directory), peak memory.
``results/<state>/<phase>/<phase>.subunit``
    The phase's stestr stream; used for the phases ``report.json`` does
    not list (a results directory given on its own, such as a drill's).
``state/<check>.json``
    The checks' state: unexpected passes of declared known failures.
``integrity-report.json``
    The integrity findings (``heat_upgrade_tests.integrity.report``).
``results/heat-tests/<before|after>.subunit``
    Heat's own tests (heat-tempest-plugin), before and after the upgrade.
``disruption.json``
    A timeline of probes, ``{"probes": [{"name": N, "samples": [[t, ok],
    ...]}], "marks": [{"t": T, "label": L}]}`` with ``t`` in seconds from
    the run's start; drawn as a plot.
``report.d/*.json``
    Sections added by other parts of the project, each ``{"title": T,
    "columns": [...], "rows": [[...], ...], "text": "..."}``: a table
    and/or a paragraph, rendered as given.
"""

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import subunit
import testtools

from heat_upgrade_tests import state

PASS = 'pass'
FAIL = 'fail'
SKIP = 'skip'
KNOWN = 'known'
UNEXPECTED = 'unexpected'
MISSING = 'missing'
KNOWN_PREFIX = 'KNOWN FINDING'


@dataclasses.dataclass
class TestResult:
    """One test of one run: its outcome, one line, its full output."""

    test_id: str
    status: str
    message: str = ''
    output: str = ''
    seconds: float | None = None

    @property
    def name(self) -> str:
        """The method name without tempest's ``[id-...]`` attributes."""
        return self.test_id.split('[', 1)[0].rsplit('.', 1)[-1]


@dataclasses.dataclass
class PhaseColumn:
    """One run of a phase: the matrix's column."""

    label: str
    phase: str
    returncode: int | None = None
    seconds: float | None = None
    log: str | None = None
    subunit: str | None = None
    junit: str | None = None
    tests: dict[str, TestResult] = dataclasses.field(default_factory=dict)

    @property
    def key(self) -> str:
        return ''.join(c if c.isalnum() else '-' for c in self.label)


@dataclasses.dataclass
class HeatTestRow:
    """One of Heat's own tests, before and after the upgrade."""

    name: str
    before: TestResult | None
    after: TestResult | None

    @property
    def short(self) -> str:
        return self.name.removeprefix('heat_tempest_plugin.tests.')

    @property
    def verdict(self) -> str:
        b = self.before.status if self.before else MISSING
        a = self.after.status if self.after else MISSING
        if b == PASS and a == FAIL:
            return 'regression'
        if b != MISSING and a == MISSING:
            return 'not run after'
        if a == FAIL:
            return 'fails before and after' if b == FAIL else 'fails after'
        if b == FAIL and a == PASS:
            return 'fixed by the upgrade'
        if a == PASS:
            return 'passes'
        return 'skipped' if SKIP in (a, b) else 'not run'


@dataclasses.dataclass
class RunResults:
    directory: Path
    summary: dict[str, Any]
    columns: list[PhaseColumn]
    integrity: dict[str, Any] | None
    heat_tests: list[HeatTestRow]
    logs: list[str]
    disruption: dict[str, Any] | None
    sections: list[dict[str, Any]]

    @property
    def checks(self) -> list[str]:
        names = set()
        for column in self.columns:
            names.update(column.tests)
        return sorted(names)

    @property
    def failures(self) -> list[tuple[PhaseColumn, TestResult]]:
        return [(c, t) for c in self.columns for t in c.tests.values()
                if t.status == FAIL]

    @property
    def regressions(self) -> list[HeatTestRow]:
        return [r for r in self.heat_tests if r.verdict == 'regression']

    @property
    def passed(self) -> bool | None:
        if 'passed' in self.summary:
            return bool(self.summary['passed'])
        if not self.columns:
            return None
        return not self.failures and all(
            c.returncode in (0, None) for c in self.columns)


def read_subunit(data: bytes) -> dict[str, TestResult]:
    """Test id -> result, from a subunit v2 stream (stestr's)."""
    found: dict[str, TestResult] = {}

    def on_test(test: dict) -> None:
        found[test['id']] = _result(test)

    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        subunit.ByteStreamToStreamResult(
            io.BytesIO(data), non_subunit_name='stdout').run(result)
    finally:
        result.stopTestRun()
    found.pop('stdout', None)
    return found


def _text(details: dict, *names: str) -> str:
    parts = []
    for name, content in details.items():
        if names and name not in names:
            continue
        try:
            text = content.as_text()
        except Exception:  # binary content: not shown
            continue
        if text.strip():
            parts.append(text if names else f'--- {name} ---\n{text}')
    return '\n'.join(parts)


def _result(test: dict) -> TestResult:
    status, details = test['status'], test.get('details', {})
    reason = _text(details, 'reason').strip()
    trace = _text(details, 'traceback').strip()
    seconds = None
    start, stop = test.get('timestamps', (None, None))
    if start and stop:
        seconds = (stop - start).total_seconds()
    if status == 'success':
        kind, message = PASS, ''
    elif status == 'skip':
        kind = KNOWN if reason.startswith(KNOWN_PREFIX) else SKIP
        message = reason
    elif status == 'xfail':
        kind, message = KNOWN, reason or _last_line(trace)
    elif status == 'uxsuccess':
        kind, message = UNEXPECTED, 'passed although declared to fail'
    elif status in ('fail', 'error'):
        kind, message = FAIL, _last_line(trace) or status
    else:  # exists, inprogress: started, never finished
        kind, message = FAIL, f'no outcome ({status})'
    return TestResult(test['id'], kind, message, _text(details), seconds)


def _last_line(trace: str) -> str:
    """The last exception of a traceback: what a reviewer reads first."""
    lines = [line for line in trace.splitlines() if line.strip()]
    starts = [i for i, line in enumerate(lines)
              if line.startswith('Traceback (most recent call last)')]
    tail = lines[starts[-1] + 1:] if starts else lines
    for i, line in enumerate(tail):
        if not line.startswith(' '):
            return '\n'.join(tail[i:])[:2000]
    return lines[-1][:2000] if lines else ''


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f'cannot read {path}: {exc}')


def _phase_tests(path: Path) -> dict[str, TestResult]:
    """The check name -> result of a phase's stream."""
    tests = {}
    for test in read_subunit(path.read_bytes()).values():
        if not state.is_phase_test(test.test_id):
            continue
        name = test.name
        tests[name[len('test_'):] if name.startswith('test_') else name] \
            = test
    return tests


def _rel(directory: Path, path: str | None) -> Path | None:
    if not path:
        return None
    p = Path(path)
    return p if p.is_absolute() else directory / p


def _columns(directory: Path, summary: dict) -> list[PhaseColumn]:
    columns = []
    for entry in summary.get('phase_runs', []):
        column = PhaseColumn(
            label=entry.get('step') or entry['phase'], phase=entry['phase'],
            returncode=entry.get('returncode'),
            seconds=entry.get('seconds'), log=entry.get('log'),
            subunit=entry.get('subunit'), junit=entry.get('junit'))
        stream = _rel(directory, column.subunit)
        if stream is not None and stream.is_file():
            column.tests = _phase_tests(stream)
        columns.append(column)
    if columns:
        return columns
    # No driver summary: every phase stream found, in the phases' order.
    streams = sorted(directory.glob('**/*.subunit'))
    for phase in state.PHASES:
        for stream in streams:
            if stream.name == f'{phase}.subunit':
                rel = stream.relative_to(directory)
                label = phase if len(rel.parts) < 3 or \
                    rel.parts[-3] == 'results' else \
                    f'{phase} ({rel.parts[-3]})'
                junit = stream.with_suffix('.xml')
                columns.append(PhaseColumn(
                    label=label, phase=phase, subunit=str(rel),
                    junit=str(junit.relative_to(directory))
                    if junit.is_file() else None,
                    tests=_phase_tests(stream)))
    return columns


def _unexpected_passes(directory: Path, columns: list[PhaseColumn]) -> None:
    """Mark the passes the checks' state records as unexpected."""
    state_dir = directory / 'state'
    if not state_dir.is_dir():
        return
    for path in state_dir.glob('*.json'):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for phase, note in (doc.get('unexpected_successes') or {}).items():
            for column in columns:
                test = column.tests.get(path.stem)
                if column.phase == phase and test and test.status == PASS:
                    test.status = UNEXPECTED
                    test.message = (
                        f'UNEXPECTED PASS: declared to fail '
                        f'({note.get("reason", "")}); narrow or remove the '
                        f'declaration')


def heat_test_rows(base: Path) -> list[HeatTestRow]:
    """Heat's tests, from ``base/before.subunit`` and ``after.subunit``."""
    sides = {}
    for side in ('before', 'after'):
        stream = base / f'{side}.subunit'
        sides[side] = read_subunit(stream.read_bytes()) \
            if stream.is_file() else {}
    names = sorted(set(sides['before']) | set(sides['after']))
    return [HeatTestRow(name.split('[', 1)[0], sides['before'].get(name),
                        sides['after'].get(name)) for name in names]


def _heat_tests(directory: Path) -> list[HeatTestRow]:
    """Heat's tests of the run: ``results/[<state>/]heat-tests/``."""
    found = sorted(directory.glob('heat-tests/*.subunit')) + sorted(
        directory.glob('results/**/heat-tests/*.subunit'))
    return heat_test_rows(found[0].parent) if found else []


def load(directory: str | Path) -> RunResults:
    """Everything a run left in ``directory`` (see the module docstring).

    Raises ``ValueError`` with one line for a directory that holds no
    results at all or a file that cannot be read.
    """
    directory = Path(directory).expanduser().resolve()
    if not directory.is_dir():
        raise ValueError(f'{directory} is not a directory')
    summary = _read_json(directory / 'report.json') or {}
    columns = _columns(directory, summary)
    _unexpected_passes(directory, columns)
    integrity = _read_json(directory / 'integrity-report.json')
    heat_tests = _heat_tests(directory)
    if not (summary or columns or integrity or heat_tests):
        raise ValueError(
            f'{directory} holds no results of a run (no report.json, no '
            f'phase subunit stream, no integrity-report.json)')
    logs_dir = directory / 'logs'
    logs = sorted(str(p.relative_to(directory))
                  for p in logs_dir.rglob('*') if p.is_file()) \
        if logs_dir.is_dir() else []
    sections = []
    extra = directory / 'report.d'
    if extra.is_dir():
        for path in sorted(extra.glob('*.json')):
            doc = _read_json(path)
            if isinstance(doc, dict):
                sections.append(doc)
    return RunResults(directory, summary, columns, integrity, heat_tests,
                      logs, _read_json(directory / 'disruption.json'),
                      sections)
