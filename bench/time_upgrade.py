"""Time the local upgrade, cold (no venvs) or warm, from its own report.

Usage: python bench/time_upgrade.py [--cold] [--runs N] [-- upgrade args]

Runs ``heat-upgrade-tests upgrade`` N times and prints, per run, the wall
time, every step's duration and the peak memory of the mini-cloud's
services (in all and per service), read from the run's report.json.
``--cold`` gives the first run an empty venv cache of its own (the shared
cache is left alone), so it builds every venv. ``tox -e bench`` runs the
same cold and warm runs among its benchmarks; record results in
doc/source/performance.rst or benchmarks.rst with the machine and date.
"""

import argparse
import os
from pathlib import Path
import platform
import sys
import tempfile
import time

from heat_upgrade_tests.benchmarks import upgrade_runs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--cold', action='store_true')
    parser.add_argument('--runs', type=int, default=1)
    parser.add_argument('extra', nargs='*')
    args = parser.parse_args()
    print(f'# {time.strftime("%Y-%m-%d")} {platform.node()} '
          f'{os.cpu_count()} cores, {platform.python_version()}')
    for index in range(args.runs):
        kind = 'cold' if args.cold and index == 0 else 'warm'
        with tempfile.TemporaryDirectory(prefix='hut-time-') as tmp:
            result = upgrade_runs.timed(kind, Path(tmp), args.extra)
        memory = result.get('peak_memory_mib')
        print(f'run {index + 1} ({kind}): exit {result["exit"]}, '
              f'{result["wall"]:.0f}s wall, peak '
              f'{memory if memory is not None else "?"} MiB')
        for step in result['steps']:
            print(f'  {step["seconds"]:7.1f}s  {step["name"]}')
        for service, mib in (result.get('peak_memory_by_service_mib')
                             or {}).items():
            print(f'  {mib:7.0f} MiB  {service}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
