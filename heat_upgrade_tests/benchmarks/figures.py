"""The figures of the benchmarks, computed from what the rounds measured.

Pure functions over plain data (the JSON the bench writes), so that the
unit tests can prove every figure, and ``bench.py --figures-from`` can
compute them again from a results file.

A *round* is one set of the phases (pre-upgrade, verify, post-upgrade,
destroy) run by the framework at one scale (stacks per check) and one
number of phase workers, each phase beside the same work done by the
plain openstacksdk script (``plain``) when the round measures overhead::

    {"stacks_per_check": 3, "workers": 2, "checks": [...], "stacks": 9,
     "phases": {"pre-upgrade": {"seconds": 41.2, "plain_seconds": 38.0,
                                "ok": true, "requests": {...}}, ...},
     "db_sync": {"rows": 1234, "seconds": 3.1}}
"""

from typing import Any

PHASES = ('pre-upgrade', 'verify', 'post-upgrade', 'destroy')
# The overhead target of the issue: the framework at most 10 % slower.
OVERHEAD_TARGET = 1.10


def merge(results: list[dict]) -> dict:
    """Several results files as one: the rounds of each, later ones winning.

    For a set measured in parts (e.g. one mini-cloud per lock slot on a
    shared machine): the first file gives the rest (machine, pair,
    series), a round of the same scale and workers in a later file
    replaces the earlier, and ``parts`` lists each file's date and
    command, so the doc can say the figures came from several clouds.
    """
    if not results:
        raise ValueError('no results to merge')
    merged = dict(results[0])
    by_key = {}
    for part in results:
        for rnd in part.get('rounds', []):
            by_key[(rnd['stacks_per_check'], rnd['workers'])] = rnd
    merged['rounds'] = [by_key[k] for k in sorted(by_key)]
    merged['runs'] = [run for part in results for run in part.get('runs', [])]
    merged['errors'] = [e for part in results for e in part.get('errors', [])]
    if len(results) > 1:
        merged['parts'] = [{'date': p.get('date'), 'command': p.get('command')}
                           for p in results]
    return merged


def ratio(framework: float | None, plain: float | None) -> float | None:
    """framework / plain, or None when either is missing or plain is 0."""
    if not framework or not plain:
        return None
    return framework / plain


def overhead(rounds: list[dict]) -> list[dict]:
    """Per round and phase measured against the plain script: the ratio.

    ``difference`` is the framework's extra seconds; ``comparable`` says
    whether both sides made the same stack operations (heat-api's writes,
    counted on the server): where they did not, the ratio compares
    different work and says so.
    """
    writes = {(r['stacks_per_check'], r['workers'], r['phase']): r
              for r in requests(rounds)}
    rows = []
    for rnd in rounds:
        for phase in PHASES:
            got = rnd['phases'].get(phase) or {}
            value = ratio(got.get('seconds'), got.get('plain_seconds'))
            if value is None:
                continue
            counted = writes.get((rnd['stacks_per_check'], rnd['workers'],
                                  phase))
            rows.append({'stacks_per_check': rnd['stacks_per_check'],
                         'workers': rnd['workers'], 'phase': phase,
                         'seconds': got['seconds'],
                         'plain_seconds': got['plain_seconds'],
                         'difference': got['seconds'] - got['plain_seconds'],
                         'ratio': value,
                         'within_target': value <= OVERHEAD_TARGET,
                         # The tests' span alone: the framework's work per
                         # stack, without the phase command's fixed cost.
                         'tests_ratio': ratio(
                             (got.get('timeline') or {}).get('tests'),
                             got['plain_seconds']),
                         'comparable': counted is None or (
                             counted['framework_stack_writes'] ==
                             counted['plain_stack_writes'])})
    return rows


def requests(rounds: list[dict]) -> list[dict]:
    """Per phase measured against the plain script: both sides' requests.

    ``stack_writes`` are heat-api's POST, PUT, PATCH and DELETE: the stack
    operations, which must be the same on both sides; the rest (reads,
    Keystone) is where the framework's extra calls show.
    """
    rows = []
    for rnd in rounds:
        for phase in PHASES:
            got = rnd['phases'].get(phase) or {}
            if 'plain_requests' not in got:
                continue
            sides = {side: got.get(key) or {} for side, key in (
                ('framework', 'requests'), ('plain', 'plain_requests'))}
            row = {'stacks_per_check': rnd['stacks_per_check'],
                   'workers': rnd['workers'], 'phase': phase}
            for side, counts in sides.items():
                row[side] = sum(counts.values())
                row[f'{side}_stack_writes'] = sum(
                    n for key, n in counts.items()
                    if key.startswith('heat-api ') and
                    key.split()[1] in ('POST', 'PUT', 'PATCH', 'DELETE'))
            rows.append(row)
    return rows


def per_stack(rounds: list[dict], workers: int) -> list[dict]:
    """Phase time per stack at each scale, for rounds with ``workers``."""
    rows = []
    for rnd in sorted(rounds, key=lambda r: r['stacks_per_check']):
        if rnd['workers'] != workers or not rnd.get('stacks'):
            continue
        for phase in PHASES:
            got = rnd['phases'].get(phase)
            if got and got.get('seconds') is not None:
                rows.append({'stacks_per_check': rnd['stacks_per_check'],
                             'stacks': rnd['stacks'], 'phase': phase,
                             'seconds': got['seconds'],
                             'seconds_per_stack':
                                 got['seconds'] / rnd['stacks']})
    return rows


def speedups(rounds: list[dict], stacks_per_check: int) -> list[dict]:
    """Per phase, time at each number of workers and t(1 worker) / t(N)."""
    chosen = {r['workers']: r for r in rounds
              if r['stacks_per_check'] == stacks_per_check}
    base = chosen.get(1)
    rows = []
    for workers in sorted(chosen):
        for phase in PHASES:
            got = chosen[workers]['phases'].get(phase) or {}
            seconds = got.get('seconds')
            if seconds is None:
                continue
            one = ((base or {}).get('phases', {}).get(phase) or {}).get(
                'seconds')
            rows.append({'workers': workers, 'phase': phase,
                         'seconds': seconds,
                         'speedup': one / seconds if one else None})
    return rows


def db_sync(rounds: list[dict]) -> list[dict]:
    """db_sync seconds against rows, one point per scale."""
    return sorted(({'stacks_per_check': r['stacks_per_check'],
                    'workers': r['workers'],
                    'rows': r['db_sync']['rows'],
                    'seconds': r['db_sync']['seconds']}
                   for r in rounds if r.get('db_sync')),
                  key=lambda p: p['rows'])


def steps(report: dict[str, Any]) -> dict[str, Any]:
    """A run's steps and memory, from its ``report.json``."""
    step_list = [{'name': s['name'], 'seconds': s['seconds'],
                  'ok': s.get('ok', True)} for s in report.get('steps', [])]
    return {'plan': report.get('plan'),
            'from': (report.get('from') or {}).get('series'),
            'to': (report.get('to') or {}).get('series'),
            'passed': report.get('passed'),
            'seconds': sum(s['seconds'] for s in step_list),
            'steps': step_list,
            'peak_memory_mib': _mib(report.get('peak_memory_bytes')),
            'peak_memory_by_service_mib': {
                k: _mib(v) for k, v in sorted(
                    (report.get('peak_memory_by_command') or {}).items(),
                    key=lambda kv: -kv[1])}}


def _mib(value) -> float | None:
    return None if value is None else round(value / 2**20, 1)


def summary(results: dict) -> list[str]:
    """The figures as lines of text, for the terminal and the log."""
    lines = []
    for row in overhead(results.get('rounds', [])):
        mark = 'ok' if row['within_target'] else 'OVER'
        lines.append(
            f'overhead {row["phase"]:12} x{row["stacks_per_check"]} '
            f'w{row["workers"]}: {row["seconds"]:6.1f}s vs plain '
            f'{row["plain_seconds"]:6.1f}s = {row["ratio"]:.2f} ({mark} '
            f'{OVERHEAD_TARGET:.2f}), {row["difference"]:+.1f}s'
            + (f'; tests alone {row["tests_ratio"]:.2f}'
               if row['tests_ratio'] else '')
            + ('' if row['comparable'] else
               '; NOT COMPARABLE: the stack operations differ'))
    for row in requests(results.get('rounds', [])):
        lines.append(
            f'requests {row["phase"]:12} x{row["stacks_per_check"]} '
            f'w{row["workers"]}: framework {row["framework"]} '
            f'({row["framework_stack_writes"]} stack operations), plain '
            f'{row["plain"]} ({row["plain_stack_writes"]})')
    workers = results.get('scale_workers')
    for row in per_stack(results.get('rounds', []), workers):
        lines.append(f'scale    {row["phase"]:12} x{row["stacks_per_check"]} '
                     f'({row["stacks"]} stacks): {row["seconds"]:6.1f}s, '
                     f'{row["seconds_per_stack"]:.2f}s a stack')
    for row in speedups(results.get('rounds', []),
                        results.get('workers_scale')):
        speed = (f'{row["speedup"]:.2f}x' if row['speedup'] else '-')
        lines.append(f'workers  {row["phase"]:12} {row["workers"]}: '
                     f'{row["seconds"]:6.1f}s, speedup {speed}')
    for point in db_sync(results.get('rounds', [])):
        lines.append(f'db_sync  x{point["stacks_per_check"]}: '
                     f'{point["rows"]} rows, {point["seconds"]:.1f}s')
    memory = results.get('memory') or {}
    if memory.get('peak_memory_mib') is not None:
        top = ', '.join(f'{k} {v:.0f}' for k, v in list(
            memory['peak_memory_by_service_mib'].items())[:6])
        lines.append(f'memory   peak {memory["peak_memory_mib"]:.0f} MiB '
                     f'({top} MiB)')
    for run in results.get('runs', []):
        lines.append(f'run      {run["label"]}: {run["seconds"]:.0f}s '
                     f'({run.get("plan")} {run.get("from")} -> '
                     f'{run.get("to")}, passed {run.get("passed")})')
    return lines
