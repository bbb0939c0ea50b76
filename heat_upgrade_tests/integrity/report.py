"""Findings of the integrity checks, printed for people and kept as JSON.

Every check returns findings rather than raising: one failed check must
not hide what the others found, and the report of a run is the record of
what the checks saw on that pair of releases.
"""

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

PASSED = 'passed'
FAILED = 'failed'
WARNING = 'warning'
SKIPPED = 'skipped'
INFO = 'info'
_MARKS = {PASSED: 'PASS', FAILED: 'FAIL', WARNING: 'WARN', SKIPPED: 'SKIP',
          INFO: 'INFO'}
_INDENT = ' ' * 9


@dataclasses.dataclass
class Finding:
    """What one check found: a status, one line, details, data."""

    check: str
    status: str
    summary: str
    details: list[str] = dataclasses.field(default_factory=list)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def render(self) -> str:
        lines = [f'{_MARKS[self.status]:<4} {self.check}: {self.summary}']
        lines += [f'{_INDENT}{line}' for line in self.details]
        return '\n'.join(lines)


@dataclasses.dataclass
class Report:
    """The findings of one run, for one pair of releases."""

    title: str
    findings: list[Finding] = dataclasses.field(default_factory=list)
    context: dict[str, Any] = dataclasses.field(default_factory=dict)

    def add(self, finding: Finding) -> Finding:
        self.findings.append(finding)
        return finding

    def extend(self, findings: list[Finding]) -> None:
        self.findings.extend(findings)

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.status == FAILED]

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.status] = counts.get(finding.status, 0) + 1
        return counts

    def tally(self) -> str:
        """``2 failed, 5 passed, 1 warning`` in a stable order."""
        counts = self.counts()
        order = (FAILED, PASSED, WARNING, INFO, SKIPPED)
        return ', '.join(f'{counts[s]} {s}' for s in order if counts.get(s))

    def render(self) -> str:
        lines = [f'== {self.title}']
        lines += [finding.render() for finding in self.findings]
        lines.append(f'== integrity: {self.tally() or "nothing checked"}')
        return '\n'.join(lines)

    def to_json(self) -> dict[str, Any]:
        return {'title': self.title, 'ok': self.ok,
                'counts': self.counts(), 'context': self.context,
                'findings': [dataclasses.asdict(f) for f in self.findings]}

    def write(self, path: str | os.PathLike) -> Path:
        """Write the JSON report atomically; return its path."""
        path = Path(path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f'.{path.name}.tmp')
        tmp.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True,
                                  default=str) + '\n')
        os.replace(tmp, path)
        return path


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 row``, ``2 rows``: counts in messages read as sentences."""
    return f'{count} {word if count == 1 else (words or word + "s")}'


def find(report_json: dict[str, Any], check: str) -> dict[str, Any] | None:
    """The first finding of ``check`` in a report read back from JSON."""
    for finding in report_json.get('findings', []):
        if finding['check'] == check:
            return finding
    return None
