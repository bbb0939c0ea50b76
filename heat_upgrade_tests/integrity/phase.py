"""The integrity checks inside the phase commands (devstack, grenade).

With ``[integrity] database_connection`` set, ``heat-upgrade-tests phase
pre-upgrade`` ends by recording the rows of the checks' stacks, and
``phase post-upgrade`` starts with the database checks and heat-status,
after its preflight (Heat is up) and before its tests update any stack.
Unset, the phases are exactly as without this package.
"""

from pathlib import Path

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.integrity import cli
from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests.integrity import report
from heat_upgrade_tests.integrity import rows
from heat_upgrade_tests.integrity import runner

PRE_UPGRADE = 'pre-upgrade'
POST_UPGRADE = 'post-upgrade'


def _enabled(conf) -> bool:
    opts = conf.integrity
    return bool(opts.database_connection) and opts.database_checks


DESTROY = 'destroy'
# Set by ``before`` when the database is not at the new Heat's head: the
# stack-changing part of the phase must not run (``held``).
_HELD: dict[str, str] = {}


def held(phase: str) -> str | None:
    """Why ``phase`` must change no stack (the schema-head finding)."""
    return _HELD.get(phase)


def before(conf, phase: str) -> int:
    """post-upgrade: the database checks, first; 1 when one failed.

    destroy: the schema-head check alone. When the database is behind (or
    past) the new Heat's head, ``held(phase)`` says so: nothing may be
    updated or deleted on a schema the new code does not match.
    """
    opts = conf.integrity
    if phase not in (POST_UPGRADE, DESTROY) or not (
            opts.database_connection):
        return 0
    checks = [runner.SCHEMA, runner.ROWS] if opts.database_checks else []
    if opts.upgrade_status_check:
        checks.append(runner.UPGRADE_STATUS)
    if phase == DESTROY:
        checks = [runner.SCHEMA] if opts.database_checks else []
    if not checks:
        return 0
    new = opts.new_heat or environments.heat_manage_python()
    missing = None
    if new is None:
        missing = report.Finding(
            'schema', report.FAILED,
            'cannot find the new Heat: set [integrity] new_heat (no '
            'heat-manage on PATH)')
        checks = [c for c in checks if c == runner.ROWS]
    settings = runner.Settings(
        new=str(new) if new else None,
        database_connection=opts.database_connection,
        state_dir=conf.phases.state_dir,
        heat_config_files=list(opts.heat_config_files),
        checks=tuple(checks), cache_dir=conf.minicloud.cache_dir,
        status_moment='with the new Heat up')
    print(f'==> {phase}: integrity checks of the database, before any '
          f'stack is touched', flush=True)
    try:
        result = runner.run(settings) if checks else report.Report(
            'Heat upgrade integrity')
    except exceptions.UpgradeTestError as exc:
        result = report.Report('Heat upgrade integrity')
        result.add(report.Finding('integrity', report.FAILED, str(exc)))
    if missing is not None:
        result.add(missing)
    for finding in result.findings:
        if finding.check == 'schema-head' and (
                finding.status == report.FAILED):
            _HELD[phase] = finding.summary
    print(result.render(), flush=True)
    if conf.phases.results_dir:
        result.write(Path(conf.phases.results_dir).expanduser() /
                     f'integrity-{phase}.json')
    if phase == DESTROY:
        return 1 if held(phase) else 0
    return 0 if result.ok else 1


def after(conf, phase: str, code: int) -> int:
    """pre-upgrade: record the rows; the phase fails if that fails."""
    if phase != PRE_UPGRADE or not _enabled(conf):
        return code
    state_dir = conf.phases.state_dir
    try:
        snapshot = rows.record(conf.integrity.database_connection, state_dir)
    except exceptions.UpgradeTestError as exc:
        print(f'==> integrity: cannot record the rows: {exc}', flush=True)
        return code or 1
    print(cli.summary(snapshot, state_dir), flush=True)
    return code
