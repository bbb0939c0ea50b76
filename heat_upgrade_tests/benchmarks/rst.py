"""The figures as reStructuredText tables, for doc/source/benchmarks.rst.

Written beside results.json (``results.rst``) so that what the doc shows
is what was measured, copied rather than retyped.
"""

from heat_upgrade_tests.benchmarks import figures


def table(header: list[str], rows: list[list[str]]) -> str:
    """A simple reST table."""
    widths = [max(len(str(c)) for c in column)
              for column in zip(header, *rows)]
    rule = '  '.join('=' * w for w in widths)

    def line(cells):
        return '  '.join(str(c).ljust(w) for c, w in zip(cells, widths)
                         ).rstrip()
    return '\n'.join([rule, line(header), rule, *map(line, rows), rule])


def _f(value, digits=1) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def render(results: dict) -> str:
    rounds = results.get('rounds', [])
    parts = []
    rows = figures.overhead(rounds)
    if rows:
        parts.append(table(
            ['phase', 'stacks', 'workers', 'framework s', 'plain s',
             'ratio', 'extra s', 'tests alone', 'same stack ops'],
            [[r['phase'], r['stacks_per_check'], r['workers'],
              _f(r['seconds']), _f(r['plain_seconds']), _f(r['ratio'], 2),
              _f(r['difference']), _f(r['tests_ratio'], 2),
              'yes' if r['comparable'] else 'NO'] for r in rows]))
    rows = figures.requests(rounds)
    if rows:
        parts.append(table(
            ['phase', 'requests (framework)', 'requests (plain)',
             'stack operations (framework)', 'stack operations (plain)'],
            [[r['phase'], r['framework'], r['plain'],
              r['framework_stack_writes'], r['plain_stack_writes']]
             for r in rows]))
    rows = figures.per_stack(rounds, results.get('scale_workers'))
    if rows:
        parts.append(table(
            ['phase', 'stacks per check', 'stacks', 'seconds',
             'seconds a stack'],
            [[r['phase'], r['stacks_per_check'], r['stacks'],
              _f(r['seconds']), _f(r['seconds_per_stack'], 2)]
             for r in sorted(rows, key=lambda r: (
                 figures.PHASES.index(r['phase']), r['stacks_per_check']))]))
    rows = figures.speedups(rounds, results.get('workers_scale'))
    if rows:
        parts.append(table(
            ['phase', 'workers', 'seconds', 'speedup'],
            [[r['phase'], r['workers'], _f(r['seconds']),
              _f(r['speedup'], 2)]
             for r in sorted(rows, key=lambda r: (
                 figures.PHASES.index(r['phase']), r['workers']))]))
    points = figures.db_sync(rounds)
    if points:
        parts.append(table(
            ['after the pre-upgrade of round', 'rows', 'db_sync s'],
            [[f'{p["stacks_per_check"]} stacks per check, '
              f'{p["workers"]} workers', p['rows'], _f(p['seconds'])]
             for p in points]))
    memory = (results.get('memory') or {}).get('peak_memory_by_service_mib')
    if memory:
        parts.append(table(['service', 'peak MiB'],
                           [[k, _f(v, 0)] for k, v in memory.items()
                            if v >= 10]))
    for run in results.get('runs', []):
        steps = [[st['name'], _f(st['seconds'])] for st in run['steps']]
        steps.append([f'**in all** ({run["label"]}: {run.get("plan")} '
                      f'{run.get("from")} -> {run.get("to")})',
                      _f(run['seconds'])])
        parts.append(table(['step', 'seconds'], steps))
    return '\n\n'.join(parts) + '\n'
