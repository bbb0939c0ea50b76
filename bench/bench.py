"""The benchmarks: where a run's time goes and how it grows (tox -e bench).

Usage: python bench/bench.py [--quick] [--out DIR] [options]
(``tools/tox -e bench -- --quick``; not in CI, not in the default envs.)

On ONE fresh mini-cloud (bench/plans/bench.yaml: the old Heat up), runs
rounds of the phases pre-upgrade, verify, post-upgrade and destroy:

* scale: 1, 3 and 10 stacks per check (``[phases] stacks_per_check``),
  at ``--scale-workers`` phase workers: time per stack; and, after each
  scale's pre-upgrade, the new release's ``db_sync`` timed on a copy of
  Heat's database against its number of rows (the default pair, 2025.2
  -> 2026.1, has migrations);
* workers: 1, 2 and 4 phase workers at ``--workers-scale`` stacks per
  check: the speedup of each;
* framework overhead: in the round both series share, each phase against
  a plain openstacksdk script doing the same stack operations with the
  same templates and parameters and the same reads at the same
  concurrency; both sides' requests counted on the server;
* the peak memory of the mini-cloud's services, per service.

With ``--runs cold,warm`` it first times a cold (empty venv cache of its
own; the shared cache is not touched) and a warm ``upgrade`` of the
default plan, step by step, from their report.json; ``--report FILE``
adds the steps of a run already made. ``--quick`` is a small subset
(three checks, scales 1 and 3, workers 1 and 2, no cold/warm runs) that
runs in about ten minutes. The results go to ``--out`` (results.json,
summary.txt and the PNG plots); doc/source/benchmarks.rst says how to read
them and holds the figures measured.

Starts a mini-cloud on the [minicloud] ports: run it under the machine's
mini-cloud lock where one is shared (``flock /tmp/minicloud.lock ...``).
"""

import argparse
import json
import os
from pathlib import Path
import platform
import signal
import sys
import tempfile

from heat_upgrade_tests.benchmarks import figures
from heat_upgrade_tests.benchmarks import plain
from heat_upgrade_tests.benchmarks import plots
from heat_upgrade_tests.benchmarks import rounds as rounds_mod
from heat_upgrade_tests.benchmarks import rst
from heat_upgrade_tests.benchmarks import upgrade_runs
from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests import config
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.plans import driver
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.plans import upgrade

HERE = Path(__file__).resolve().parent
CACHE = Path(os.path.expanduser(config.CACHE_HOME))
QUICK_CHECKS = ['values_and_outputs', 'nested_group', 'hot_oldest_version']


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='three checks, scales 1 and 3, workers 1 and '
                             '2, no cold/warm runs (about ten minutes)')
    parser.add_argument('--out', default=str(CACHE / 'bench'),
                        help='where results.json and the plots go')
    parser.add_argument('--work-dir', default=str(CACHE / 'bench-run'),
                        help="the bench mini-cloud's work directory")
    parser.add_argument('--from', dest='from_series', default='2025.2')
    parser.add_argument('--to', dest='to_series', default='2026.1')
    parser.add_argument('--checks', help='comma-separated; default: the '
                        'checks the plain script can replay')
    parser.add_argument('--scales', help='stacks per check, e.g. 1,3,10')
    parser.add_argument('--workers', help='phase workers, e.g. 1,2,4')
    parser.add_argument('--scale-workers', type=int, default=2,
                        help='workers of the scale series')
    parser.add_argument('--workers-scale', type=int, default=3,
                        help='stacks per check of the workers series')
    parser.add_argument('--overhead', choices=('shared', 'all', 'none'),
                        default='shared',
                        help='rounds measured against the plain script')
    parser.add_argument('--runs', default=None,
                        help='cold,warm: time upgrade runs first')
    parser.add_argument('--report', action='append', default=[],
                        metavar='LABEL=FILE',
                        help="an earlier run's report.json to include")
    parser.add_argument('--figures-from', metavar='RESULTS',
                        action='append', default=[],
                        help='no cloud: the figures and plots of a '
                             'results.json again; given more than once, '
                             'the rounds of each merged (see figures.merge)')
    args = parser.parse_args(argv)
    quick = args.quick
    args.scales = _ints(args.scales or ('1,3' if quick else '1,3,10'))
    args.workers = _ints(args.workers or ('1,2' if quick else '1,2,4'))
    args.runs = [r for r in (args.runs if args.runs is not None else (
        '' if quick else 'cold,warm')).split(',') if r]
    for run in args.runs:
        if run not in ('cold', 'warm'):
            parser.error(f'--runs: {run!r} is neither cold nor warm')
    return args


def _ints(text: str) -> list[int]:
    try:
        values = sorted({int(v) for v in text.split(',') if v.strip()})
    except ValueError:
        raise SystemExit(f'bench: {text!r} is not a list of numbers')
    if not values or values[0] < 1:
        raise SystemExit(f'bench: {text!r}: each value must be 1 or more')
    return values


def default_checks(quick: bool) -> list[str]:
    """The checks the plain script can replay (quick: three of them)."""
    if quick:
        return list(QUICK_CHECKS)
    return [name for name, check in checks_base.all_checks().items()
            if plain.replayable(check) is None]


def machine() -> dict:
    """What the figures were measured on."""
    mem = None
    try:
        with open('/proc/meminfo') as f:
            mem = int(f.readline().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    cpu_model = None
    try:
        with open('/proc/cpuinfo') as f:
            cpu_model = next((line.split(':', 1)[1].strip()
                              for line in f
                              if line.startswith('model name')), None)
    except OSError:
        pass
    return {'cores': os.cpu_count(), 'cpu': cpu_model, 'memory_mib': mem,
            'python': platform.python_version(),
            'system': f'{platform.system()} {platform.release()}'}


def _terminate(signum, frame):
    raise KeyboardInterrupt(f'signal {signum}')


def bench_cloud(args, rounds: rounds_mod.Rounds, results: dict) -> None:
    """The rounds on one mini-cloud, then its steps and memory."""
    conf = config.load(config_files=[])
    conf.set_override('work_dir', args.work_dir, 'minicloud')
    conf.set_override('from_series', args.from_series, 'minicloud')
    conf.set_override('to_series', args.to_series, 'minicloud')
    plan = model.load(HERE / 'plans' / 'bench.yaml', framed=False)
    old, new = driver.resolve_pair(conf, plan)
    run = upgrade.UpgradeRun(conf, old, new, plan=plan)
    run.preflight()
    # timeout(1) and Ctrl-C alike: the plan's cleanup stops the cloud.
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        run.run(hooks={'old-heat-up': rounds.hook})
    except exceptions.UpgradeTestError as exc:
        rounds.errors.append(str(exc))
    finally:
        signal.signal(signal.SIGTERM, previous)
        report = driver.write_report(run)
        results['memory'] = figures.steps(
            json.loads(report.read_text())) if report else {}
        results['bench_run_passed'] = run.ok


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    out = Path(args.out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    if args.figures_from:
        results = figures.merge([json.loads(Path(p).read_text())
                                 for p in args.figures_from])
        return finish(results, out)
    checks = args.checks.split(',') if args.checks else default_checks(
        args.quick)
    unknown = sorted(set(checks) - set(checks_base.all_checks()))
    if unknown:
        print(f'bench: unknown check(s) {", ".join(unknown)}',
              file=sys.stderr)
        return 2
    wanted = rounds_mod.wanted_rounds(args.scales, args.workers,
                                      args.scale_workers,
                                      args.workers_scale, args.overhead)
    results = {'date': rounds_mod.now(), 'machine': machine(),
               'command': 'bench/bench.py ' + ' '.join(argv),
               'pair': f'{args.from_series} -> {args.to_series}',
               'checks': checks, 'scale_workers': args.scale_workers,
               'workers_scale': args.workers_scale, 'runs': []}
    excluded = {name: plain.replayable(check) for name, check in
                checks_base.all_checks().items() if name in checks}
    results['not_replayed'] = {k: v for k, v in excluded.items() if v}
    if results['not_replayed'] and args.overhead != 'none':
        # The plain side would do less work than the framework's.
        print('bench: the plain script cannot replay '
              + '; '.join(f'{k} ({v})' for k, v in
                          results['not_replayed'].items())
              + ': leave them out of --checks, or say --overhead none',
              file=sys.stderr)
        return 2
    for label, path in (r.partition('=')[::2] for r in args.report):
        report = json.loads(Path(path or label).expanduser().read_text())
        results['runs'].append(dict(figures.steps(report),
                                    label=label if path else 'report',
                                    source=path or label))
    with tempfile.TemporaryDirectory(prefix='hut-bench-') as tmp:
        for kind in args.runs:
            print(f'bench: a {kind} upgrade run', flush=True)
            results['runs'].append(upgrade_runs.timed(kind, Path(tmp)))
    rounds = rounds_mod.Rounds(checks, wanted, db_sync=True)
    # What was measured is written even when the run is cut short.
    results['rounds'], results['errors'] = rounds.results, rounds.errors
    try:
        bench_cloud(args, rounds, results)
    except (exceptions.UpgradeTestError, KeyboardInterrupt) as exc:
        print(f'bench: {exc or type(exc).__name__}', file=sys.stderr)
        rounds.errors.append(str(exc) or type(exc).__name__)
    return finish(results, out)


def finish(results: dict, out: Path) -> int:
    """Write results.json, summary.txt and the plots; print the figures."""
    (out / 'results.json').write_text(json.dumps(results, indent=2) + '\n')
    lines = figures.summary(results)
    (out / 'summary.txt').write_text('\n'.join(lines) + '\n')
    (out / 'results.rst').write_text(rst.render(results))
    try:
        written = plots.write(results, out, title=results.get('pair', ''))
    except ImportError as exc:  # outside tox -e bench
        print(f'bench: no plots ({exc}); draw them again with '
              f'--figures-from {out / "results.json"}')
        written = []
    for line in lines:
        print(line)
    print(f'bench: results in {out / "results.json"}; plots: '
          f'{", ".join(p.name for p in written) or "none"}')
    return 1 if results.get('errors') else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
