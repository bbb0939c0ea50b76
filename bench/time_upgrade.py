"""Time the local upgrade, cold (no venvs) or warm, from its own report.

Usage: python bench/time_upgrade.py [--cold] [--runs N] [-- upgrade args]

Runs ``heat-upgrade-tests upgrade`` N times and prints, per run, the wall
time, every step's duration and the peak memory of the mini-cloud's
services, read from the run's report.json. ``--cold`` moves the venv cache
aside first (and puts it back after), so the first run builds every venv.
Record results in doc/source/performance.rst with the machine and date.
"""

import argparse
import json
import os
from pathlib import Path

from heat_upgrade_tests import config
import platform
import shutil
import subprocess
import sys
import time

CACHE = Path(os.path.expanduser(config.CACHE_HOME))


def run_once(extra: list[str]) -> dict:
    start = time.monotonic()
    code = subprocess.call([sys.executable, '-m', 'heat_upgrade_tests.cmd',
                            'upgrade', *extra], stdout=subprocess.DEVNULL)
    wall = time.monotonic() - start
    report = json.loads((CACHE / 'run' / 'report.json').read_text())
    return {'exit': code, 'wall': wall, 'report': report}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--cold', action='store_true')
    parser.add_argument('--runs', type=int, default=1)
    parser.add_argument('extra', nargs='*')
    args = parser.parse_args()
    print(f'# {time.strftime("%Y-%m-%d")} {platform.node()} '
          f'{os.cpu_count()} cores, {platform.python_version()}')
    aside = None
    if args.cold and (CACHE / 'venvs').exists():
        aside = CACHE / f'venvs.bench-{os.getpid()}'
        (CACHE / 'venvs').rename(aside)
    try:
        for index in range(args.runs):
            result = run_once(args.extra)
            report = result['report']
            kind = 'cold' if args.cold and index == 0 else 'warm'
            print(f'run {index + 1} ({kind}): exit {result["exit"]}, '
                  f'{result["wall"]:.0f}s wall, peak '
                  f'{report["peak_memory_bytes"] / 2**20:.0f} MiB')
            for step in report['steps']:
                print(f'  {step["seconds"]:7.1f}s  {step["name"]}')
    finally:
        if aside is not None:
            shutil.rmtree(CACHE / 'venvs', ignore_errors=True)
            aside.rename(CACHE / 'venvs')
    return 0


if __name__ == '__main__':
    sys.exit(main())
