"""Cold and warm ``heat-upgrade-tests upgrade`` runs, timed step by step.

A cold run gets an empty virtual-environment cache of its own through a
configuration file (``[minicloud] cache_dir``), so the cache other runs
on the machine share is never moved or emptied under them; pip's own
wheel cache stays warm (what a cold run pays is building the venvs, not
downloading). The steps come from the run's own report.json.
"""

import json
from pathlib import Path
import subprocess
import sys
import time

from heat_upgrade_tests.benchmarks import figures

KINDS = ('cold', 'warm')


def command(kind: str, tmp: Path, extra: list[str] = ()) -> list[str]:
    """The ``upgrade`` command line of a ``kind`` run working in ``tmp``."""
    if kind not in KINDS:
        raise ValueError(f'{kind!r} is neither cold nor warm')
    argv = [sys.executable, '-m', 'heat_upgrade_tests.cmd']
    if kind == 'cold':
        conf = tmp / 'cold.conf'
        conf.write_text(f'[minicloud]\ncache_dir = {tmp / "venvs"}\n')
        argv += ['--config-file', str(conf)]
    return argv + ['upgrade', '--work-dir', str(tmp / f'{kind}-run'),
                   *extra]


def timed(kind: str, tmp: Path, extra: list[str] = ()) -> dict:
    """Run it; its wall time, exit code, steps and memory (report.json)."""
    argv = command(kind, tmp, extra)
    start = time.monotonic()
    with open(tmp / f'{kind}.log', 'w') as out:
        code = subprocess.call(argv, stdout=out, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    wall = time.monotonic() - start
    report = tmp / f'{kind}-run' / 'report.json'
    found = figures.steps(json.loads(report.read_text())) \
        if report.is_file() else {'steps': [], 'seconds': 0.0}
    return dict(found, label=kind, exit=code, wall=wall,
                log=str(tmp / f'{kind}.log'))
