"""Clean runs in a row: the default plan N times, pass count and spread.

Usage: python bench/soak.py [--runs N] [--log-dir DIR] [--config-file F]
                            [-- upgrade args]
(``tools/tox -e soak -- --runs 10``; not in CI.)

Runs ``heat-upgrade-tests upgrade`` (the default plan and pair, every
check, unless upgrade arguments follow ``--``) N times, one after the
other, keeping each run's output and report.json under ``--log-dir``,
and prints one line per run (pass or fail, wall time, the failed steps
and what left behind was counted), then the pass count and the spread of
the wall times (min, median, max). Record results, and any flake with its
cause, in doc/source/failures.rst ("Clean runs in a row").
"""

import argparse
from collections.abc import Sequence
import json
import os
from pathlib import Path
import shutil
import statistics
import subprocess
import sys
import time

from heat_upgrade_tests import config

CACHE = Path(os.path.expanduser(config.CACHE_HOME))


def run_once(index: int, log_dir: Path, extra: list[str],
             config_files: Sequence[str] = ()) -> dict:
    work = log_dir / f'run-{index}'
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    start = time.monotonic()
    with open(work / 'output.log', 'w') as out:
        code = subprocess.call(
            [sys.executable, '-m', 'heat_upgrade_tests.cmd',
             *(a for f in config_files for a in ('--config-file', f)),
             'upgrade',
             '--work-dir', str(work / 'run'), *extra],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    seconds = time.monotonic() - start
    report = work / 'run' / 'report.json'
    doc = json.loads(report.read_text()) if report.exists() else {}
    left = doc.get('left_behind') or {}
    return {'run': index, 'passed': code == 0 and bool(doc.get('passed')),
            'seconds': seconds,
            'failed_steps': [s['name'] for s in doc.get('steps', [])
                             if not s['ok']],
            'left_behind': sum(len(v) for v in left.values()),
            'seed': doc.get('seed'),
            # Each step's seconds: where a slow run lost its time.
            'steps': {s['name']: round(s['seconds'], 1)
                      for s in doc.get('steps', [])},
            'output': str(work / 'output.log')}


def main(argv: list[str]) -> int:
    extra = []
    if '--' in argv:
        extra = argv[argv.index('--') + 1:]
        argv = argv[:argv.index('--')]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument('--log-dir', default=str(CACHE / 'soak'))
    # The command's own configuration, e.g. [phases] concurrency = 4 to
    # soak the phases at four workers.
    parser.add_argument('--config-file', action='append', default=[],
                        help='passed to heat-upgrade-tests (repeatable)')
    args = parser.parse_args(argv)
    log_dir = Path(args.log_dir).expanduser()
    config_files = [str(Path(f).resolve()) for f in args.config_file]
    results = []
    for index in range(1, args.runs + 1):
        result = run_once(index, log_dir, extra, config_files)
        results.append(result)
        mark = 'PASS' if result['passed'] else 'FAIL'
        print(f'{mark} run {index}/{args.runs} {result["seconds"]:.0f}s '
              f'(seed {result["seed"]}); '
              f'left behind {result["left_behind"]}'
              + (f'; failed: {", ".join(result["failed_steps"])}'
                 if result['failed_steps'] else '')
              + f' ({result["output"]})', flush=True)
    times = [r['seconds'] for r in results]
    passed = sum(r['passed'] for r in results)
    print(f'soak: {passed}/{len(results)} passed; wall time min '
          f'{min(times):.0f}s, median {statistics.median(times):.0f}s, '
          f'max {max(times):.0f}s', flush=True)
    (log_dir / 'soak.json').write_text(json.dumps(results, indent=2) + '\n')
    return 0 if passed == len(results) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
