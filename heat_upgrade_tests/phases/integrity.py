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
from heat_upgrade_tests import state

PRE_UPGRADE = state.PRE_UPGRADE
POST_UPGRADE = state.POST_UPGRADE
DESTROY = state.DESTROY


def _enabled(conf) -> bool:
    opts = conf.integrity
    return bool(opts.database_connection) and opts.database_checks


def before(conf, phase: str) -> tuple[int, str | None]:
    """post-upgrade: the database checks, first; (1 when one failed, hold).

    destroy: the schema-head check alone. ``hold`` is why the phase must
    change no stack, or None: when the database is behind (or past) the
    new Heat's head, nothing may be updated or deleted on a schema the
    new code does not match.
    """
    opts = conf.integrity
    if phase not in (POST_UPGRADE, DESTROY) or not (
            opts.database_connection):
        return 0, None
    checks = [runner.SCHEMA, runner.ROWS] if opts.database_checks else []
    if opts.upgrade_status_check:
        checks.append(runner.UPGRADE_STATUS)
    if phase == DESTROY:
        checks = [runner.SCHEMA] if opts.database_checks else []
    if not checks:
        return 0, None
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
    hold = None
    for finding in result.findings:
        if finding.check == 'schema-head' and (
                finding.status == report.FAILED):
            hold = finding.summary
    print(result.render(), flush=True)
    if conf.phases.results_dir:
        result.write(Path(conf.phases.results_dir).expanduser() /
                     f'integrity-{phase}.json')
    if phase == DESTROY:
        return (1 if hold else 0), hold
    return (0 if result.ok else 1), hold


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
