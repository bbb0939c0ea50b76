"""PNG plots of the benchmarks: phase time against stacks and workers.

matplotlib (a dependency of the bench environment only) is imported when
a plot is drawn, with its file-only backend, so the rest of the package
never needs it and no display is ever asked for.
"""

from pathlib import Path

from heat_upgrade_tests.benchmarks import figures


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot
    return pyplot


def _lines(ax, rows: list[dict], x: str, y: str) -> None:
    ax.set_xticks(sorted({r[x] for r in rows}))
    for phase in figures.PHASES:
        points = sorted((r[x], r[y]) for r in rows
                        if r['phase'] == phase and r.get(y) is not None)
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points],
                    marker='o', label=phase)


def _time_and(pyplot, rows: list[dict], x: str, xlabel: str, against: str,
              y: str, ylabel: str, title: str):
    """Two panels against ``x``: each phase's time, and its ``y``."""
    fig, (left, right) = pyplot.subplots(1, 2, figsize=(10, 4))
    _lines(left, rows, x, 'seconds')
    left.set(xlabel=xlabel, ylabel='phase time (s)',
             title=f'phase time against {against}')
    _lines(right, rows, x, y)
    right.set(xlabel=xlabel, ylabel=ylabel, title=title)
    left.legend()
    return fig


def write(results: dict, directory: Path, title: str = '') -> list[Path]:
    """Write the plots the results allow; the files written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pyplot = _pyplot()
    rounds = results.get('rounds', [])
    written = []
    scale = figures.per_stack(rounds, results.get('scale_workers'))
    if scale:
        fig = _time_and(pyplot, scale, 'stacks_per_check', 'stacks per check',
                        'stacks', 'seconds_per_stack', 'seconds per stack',
                        'time per stack')
        written.append(_save(pyplot, fig, directory / 'bench-stacks.png',
                             title, results.get('scale_workers'), 'workers'))
    workers = figures.speedups(rounds, results.get('workers_scale'))
    if workers:
        fig = _time_and(pyplot, workers, 'workers', 'phase workers',
                        'workers', 'speedup', 'speedup (t1 / tN)', 'speedup')
        written.append(_save(pyplot, fig, directory / 'bench-workers.png',
                             title, results.get('workers_scale'),
                             'stacks per check'))
    points = figures.db_sync(rounds)
    if points:
        fig, ax = pyplot.subplots(figsize=(5, 4))
        ax.plot([p['rows'] for p in points], [p['seconds'] for p in points],
                marker='o')
        ax.set(xlabel="rows in Heat's database", ylabel='db_sync (s)',
               title='db_sync of the new release')
        written.append(_save(pyplot, fig, directory / 'bench-db-sync.png',
                             title))
    return written


def _save(pyplot, fig, path: Path, title: str, fixed=None,
          what: str = '') -> Path:
    if title or fixed is not None:
        fig.suptitle(title + (f' ({fixed} {what})' if fixed is not None
                              else ''))
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    pyplot.close(fig)
    return path
