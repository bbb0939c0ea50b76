"""``heat-upgrade-tests upgrade``: a real Heat upgrade on this machine.

Picks the plan (``--plan``, default ``full``), resolves and checks the
release pair (a series or a Heat source tree on each side), prints the
plan as a numbered list, runs it on a fresh mini-cloud, prints a summary
naming every log, writes it to the work directory, and returns non-zero
when any step failed.
"""

import json
import os
from pathlib import Path
import signal
import sys

from heat_upgrade_tests import exceptions
from heat_upgrade_tests import leaks
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.plans import pairs
from heat_upgrade_tests.plans import upgrade


def resolve_pair(conf, plan: model.Plan | None = None,
                 allow_unsupported: bool = False
                 ) -> tuple[pairs.Side, pairs.Side]:
    """The releases to upgrade from and to; bad ones are one-line errors.

    ``[minicloud] from_series`` and ``to_series`` hold a series or a Heat
    source tree (``2026.2=~/src/heat`` names the tree's series).
    """
    plan = plan or model.get(model.DEFAULT_PLAN)
    opts = conf.minicloud
    cache = Path(os.path.expanduser(opts.cache_dir))
    logs = Path(os.path.expanduser(opts.work_dir)).parent / 'source-logs'
    return pairs.resolve(plan, opts.from_series, opts.to_series, cache,
                         logs, allow_unsupported=allow_unsupported)


def _terminate(signum, frame):
    raise KeyboardInterrupt(f'signal {signum}')


def summary(plan: upgrade.UpgradeRun) -> str:
    """A human summary of the run: steps, phases, schema, memory, logs."""
    lines = ['', '=' * 72,
             f'Heat upgrade ({plan.name} plan) {plan.old_side.label} -> '
             f'{plan.new_side.label}: '
             + ('PASSED' if plan.ok else 'FAILED'), '=' * 72]
    total = 0.0
    for step in plan.steps:
        total += step.seconds
        mark = 'ok  ' if step.ok else 'FAIL'
        lines.append(f'{mark} {step.seconds:7.1f}s  {step.name}')
        if not step.ok and step.detail:
            lines.append(f'              {step.detail}')
    lines.append(f'     {total:7.1f}s  in all')
    lines.append(f'seed {plan.seed} (replay with --seed {plan.seed})')
    for outcome in plan.mixed_outcomes:
        lines.append(f'mixed: {outcome.get("finding", "")}')
    if plan.disruption is not None:
        lines.extend(plan.disruption.lines())
        if plan.plan.budget:
            lines.append('  budget: ' + (
                '; '.join(plan.budget_exceeded) + ' OVER' if
                plan.budget_exceeded else 'within ' + _budget(plan)))
    for version, schema in plan.db_versions.items():
        lines.append(f'schema after db_sync of Heat {version}: {schema}')
    if plan.left_behind is not None:
        lines.extend(leaks.describe(plan.left_behind))
    elif plan.leak_error:
        lines.append(f'left behind by the run: not counted '
                     f'({plan.leak_error})')
    if plan.accelerator is not None:
        lines.append(f'guests under {plan.accelerator.name}: '
                     f'{plan.accelerator.reason}')
    if plan.memory.peak_bytes:
        lines.append(f'peak memory of the mini-cloud services: '
                     f'{plan.memory.peak_bytes / 2**20:.0f} MiB')
    logs = plan.run_dir / 'logs'
    if logs.is_dir():
        lines.append(f'logs in {logs}:')
        lines.extend(f'  {p.name}' for p in sorted(logs.iterdir()))
    return '\n'.join(lines)


def _budget(plan: upgrade.UpgradeRun) -> str:
    budget = plan.plan.budget
    parts = [f'{k} {v:g}s unavailable' for k, v in budget.get(
        'unavailable_seconds', {}).items()]
    if 'failed_stack_operations' in budget:
        parts.append(f'{budget["failed_stack_operations"]} failed stack '
                     f'operations')
    return ', '.join(parts)


def write_report(plan: upgrade.UpgradeRun) -> Path | None:
    if not plan.run_dir.is_dir():
        return None
    path = plan.run_dir / 'report.json'
    path.write_text(json.dumps({
        'plan': plan.name,
        'from': {'series': plan.old_series.name,
                 'heat': plan.old_series.heat_version,
                 'tree': str(plan.old_side.tree or '') or None},
        'to': {'series': plan.new_series.name,
               'heat': plan.new_series.heat_version,
               'tree': str(plan.new_side.tree or '') or None},
        'passed': plan.ok,
        'seed': plan.seed,
        'mixed': plan.mixed_outcomes,
        'disruption': (plan.disruption.to_json() if plan.disruption
                       is not None else None),
        'budget': plan.plan.budget,
        'budget_exceeded': plan.budget_exceeded,
        'failed_stack_operations': plan.failed_stack_operations(),
        'steps': [vars(s) for s in plan.steps],
        'phases': {k: {'returncode': v.returncode, 'seconds': v.seconds}
                   for k, v in plan.phase_runs.items()},
        'phase_runs': getattr(plan, 'phase_results', []),
        'db_versions': plan.db_versions,
        'left_behind': plan.left_behind,
        'left_behind_error': plan.leak_error,
        'peak_memory_bytes': plan.memory.peak_bytes,
        'peak_memory_by_command': plan.memory.peak_by_command,
    }, indent=2) + '\n')
    write_html(plan.run_dir)
    return path


def write_html(run_dir: Path) -> Path | None:
    """The run's HTML report; a rendering problem is said, not raised."""
    from heat_upgrade_tests.runreport import html
    try:
        return html.write(run_dir)
    except Exception as exc:  # the run's verdict stands without the page
        print(f'heat-upgrade-tests: the HTML report of {run_dir} could not '
              f'be written: {exc}', file=sys.stderr, flush=True)
        return None


def list_plans() -> int:
    print(model.listing(model.load_all()))
    return 0


def main(conf, plan_name: str | None = None,
         allow_unsupported: bool = False, seed: int | None = None) -> int:
    plan = model.get(plan_name or model.DEFAULT_PLAN,
                     compute=conf.minicloud.compute)
    old, new = resolve_pair(conf, plan, allow_unsupported)
    run = upgrade.UpgradeRun(conf, old, new, plan=plan, seed=seed)
    run.preflight()  # a busy port or missing package: one line, no run
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        run.run()
    except exceptions.UpgradeTestError:
        pass  # recorded in its step; the summary says it
    finally:
        signal.signal(signal.SIGTERM, previous)
        print(summary(run), flush=True)
        report = write_report(run)
        if report:
            print(f'report: {report}', file=sys.stdout, flush=True)
            html = run.run_dir / 'report.html'
            if html.is_file():
                print(f'HTML report: {html}', file=sys.stdout, flush=True)
    return 0 if run.ok else 1
