"""``heat-upgrade-tests upgrade``: a real Heat upgrade on this machine.

Resolves the release pair, runs the full-upgrade plan on a fresh
mini-cloud, prints a summary naming every log, writes it to the work
directory, and returns non-zero when any step failed.
"""

import json
from pathlib import Path
import signal
import sys

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.minicloud import plan as plan_mod
from heat_upgrade_tests.minicloud import releases


def resolve_pair(conf) -> tuple[releases.Series, releases.Series]:
    """The series to upgrade from and to; unknown names are an error."""
    opts = conf.minicloud
    new = releases.get_series(opts.to_series) if opts.to_series else (
        releases.default_pair()[1])
    old = releases.get_series(opts.from_series) if opts.from_series else (
        releases.previous(new))
    known = list(releases.load_series())
    if known.index(old.name) >= known.index(new.name):
        raise exceptions.ConfigError(
            f'cannot upgrade from {old.name} to {new.name}: the target must '
            f'be a later series')
    return old, new


def _terminate(signum, frame):
    raise KeyboardInterrupt(f'signal {signum}')


def summary(plan: plan_mod.FullUpgradePlan) -> str:
    """A human summary of the run: steps, phases, schema, memory, logs."""
    lines = ['', '=' * 72,
             f'Heat upgrade {plan.old_series.name} '
             f'({plan.old_series.heat_version}) -> {plan.new_series.name} '
             f'({plan.new_series.heat_version}): '
             + ('PASSED' if plan.ok else 'FAILED'), '=' * 72]
    total = 0.0
    for step in plan.steps:
        total += step.seconds
        mark = 'ok  ' if step.ok else 'FAIL'
        lines.append(f'{mark} {step.seconds:7.1f}s  {step.name}')
        if not step.ok and step.detail:
            lines.append(f'              {step.detail}')
    lines.append(f'     {total:7.1f}s  in all')
    for version, schema in plan.db_versions.items():
        lines.append(f'schema after db_sync of Heat {version}: {schema}')
    if plan.memory.peak_bytes:
        lines.append(f'peak memory of the mini-cloud services: '
                     f'{plan.memory.peak_bytes / 2**20:.0f} MiB')
    logs = plan.run_dir / 'logs'
    if logs.is_dir():
        lines.append(f'logs in {logs}:')
        lines.extend(f'  {p.name}' for p in sorted(logs.iterdir()))
    return '\n'.join(lines)


def write_report(plan: plan_mod.FullUpgradePlan) -> Path | None:
    if not plan.run_dir.is_dir():
        return None
    path = plan.run_dir / 'report.json'
    path.write_text(json.dumps({
        'plan': plan.name,
        'from': {'series': plan.old_series.name,
                 'heat': plan.old_series.heat_version},
        'to': {'series': plan.new_series.name,
               'heat': plan.new_series.heat_version},
        'passed': plan.ok,
        'steps': [vars(s) for s in plan.steps],
        'phases': {k: {'returncode': v.returncode, 'seconds': v.seconds}
                   for k, v in plan.phase_runs.items()},
        'db_versions': plan.db_versions,
        'peak_memory_bytes': plan.memory.peak_bytes,
        'peak_memory_by_command': plan.memory.peak_by_command,
    }, indent=2) + '\n')
    return path


def main(conf) -> int:
    old, new = resolve_pair(conf)
    plan = plan_mod.FullUpgradePlan(conf, old, new)
    plan.preflight()  # a busy port or missing package: one line, no run
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        plan.run()
    except exceptions.UpgradeTestError:
        pass  # recorded in its step; the summary says it
    finally:
        signal.signal(signal.SIGTERM, previous)
        print(summary(plan), flush=True)
        report = write_report(plan)
        if report:
            print(f'report: {report}', file=sys.stdout, flush=True)
    return 0 if plan.ok else 1
