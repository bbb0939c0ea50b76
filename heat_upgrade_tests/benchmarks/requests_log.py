"""Count the API requests a run made, from the services' own request logs.

Every API of the mini-cloud that a phase calls (Keystone, heat-api,
Neutron) runs under uwsgi, which logs one line per request it served. The
benchmarks count the lines each side added (a phase command; the plain
openstacksdk script doing the same work) with the same counter, so "the
same calls" is measured on the server, not claimed: both sides are
compared request kind by request kind. Swift's servers are not counted
(they log in their own format; the benchmarks' checks do not use them).
"""

import collections
import dataclasses
from pathlib import Path
import re

from heat_upgrade_tests import releases

# [pid: 941|app: 0|req: 3/3] 127.0.0.1 () {...} [date] POST /v1/x/stacks
#   => generated 231 bytes in 1468 msecs (HTTP/1.1 201) ...
_LINE = re.compile(r'\] (?P<method>[A-Z]+) (?P<path>\S+) => generated .*? '
                   r'in (?P<msecs>\d+) msecs \(HTTP/[\d.]+ (?P<status>\d+)\)')
_WORD = re.compile(r'^[a-z_.-]{1,24}$|^v\d+(\.\d+)?$')


def service_of(log_name: str) -> str | None:
    """``heat-api-2025.2-uwsgi.log`` -> ``heat-api``; None: not a uwsgi log."""
    if not log_name.endswith('-uwsgi.log'):
        return None
    stem = log_name[:-len('-uwsgi.log')]
    # The series a heat-api of the mini-cloud runs is in its log's name.
    return re.sub(rf'-{releases.SERIES_PATTERN}(-\d+)?$', '', stem)


def kind(method: str, path: str) -> str:
    """A request's kind: its method and path, ids and names as ``*``.

    ``GET /v1/<project>/stacks/<name>/<id>?resolve_outputs=False`` ->
    ``GET /v1/*/stacks/*/*``: what was asked, not of which stack.
    """
    path = path.split('?', 1)[0]
    parts = ['*' if part and not _WORD.match(part) else part
             for part in path.split('/')]
    return f'{method} {"/".join(parts) or "/"}'


@dataclasses.dataclass
class Mark:
    """Where each request log ended at one moment: ``{path: offset}``."""

    offsets: dict[str, int]


def mark(log_dir: Path) -> Mark:
    """The sizes of the uwsgi request logs in ``log_dir`` now."""
    return Mark({str(p): p.stat().st_size
                 for p in sorted(Path(log_dir).glob('*-uwsgi.log'))})


def count_since(log_dir: Path, since: Mark) -> collections.Counter:
    """``{(service, kind): n}`` of the requests logged after ``since``."""
    counts: collections.Counter = collections.Counter()
    for path in sorted(Path(log_dir).glob('*-uwsgi.log')):
        service = service_of(path.name)
        with open(path, 'rb') as f:
            f.seek(since.offsets.get(str(path), 0))
            text = f.read().decode('utf-8', 'replace')
        for line in text.splitlines():
            found = _LINE.search(line)
            if found:
                counts[(service, kind(found['method'],
                                      found['path']))] += 1
    return counts


def compare(framework: collections.Counter, plain: collections.Counter
            ) -> list[dict]:
    """Per request kind, both sides' counts (the kinds that differ first)."""
    rows = []
    for key in sorted(set(framework) | set(plain)):
        service, what = key
        rows.append({'service': service, 'request': what,
                     'framework': framework.get(key, 0),
                     'plain': plain.get(key, 0)})
    rows.sort(key=lambda r: (r['framework'] == r['plain'], r['service'],
                             r['request']))
    return rows


def writes(counts: collections.Counter) -> int:
    """The requests that change something (not GET or HEAD)."""
    return sum(n for (_service, what), n in counts.items()
               if not what.startswith(('GET ', 'HEAD ')))
