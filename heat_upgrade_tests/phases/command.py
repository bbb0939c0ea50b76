"""``heat-upgrade-tests phase NAME``: one phase, in one process.

The command a tox env, a grenade hook and the local upgrade all run:
preflight (the configuration, the cloud, the state, whether Heat is up or
down as the phase needs), the integrity step that may hold the phase
(``integrity.before``: a database behind the new Heat's head changes no
stack), the phase's generated tests under stestr (``suite/``), the known
findings said again at the end, and the integrity step after it.
"""

import io
import os
from pathlib import Path
import subprocess
import sys
import tempfile

import subunit
import testtools

from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests import clients
from heat_upgrade_tests import config
from heat_upgrade_tests import copies
from heat_upgrade_tests import engines
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.phases import check_order
from heat_upgrade_tests.phases import integrity
from heat_upgrade_tests.phases import runner
from heat_upgrade_tests.phases import suite
from heat_upgrade_tests import processes
from heat_upgrade_tests import state as state_mod


def preflight(conf, phase: str) -> None:
    """Fail fast, in one line, on what would make every test of a phase fail.

    Checks the configuration, the cloud, the state files, and whether Heat
    is up or down as the phase needs.
    """
    checks = checks_base.selected_checks(conf)
    if phase != state_mod.PRE_UPGRADE:
        for _check, _copy, name in copies.state_names(conf, checks):
            state = state_mod.CheckState(conf.phases.state_dir, name)
            if phase == state_mod.DESTROY and not state.exists():
                continue
            state.load(phase)
    if phase == state_mod.NO_API:
        return  # every API is down: nothing to ask
    if phase == state_mod.DESTROY:
        # Cleanup must not give up on a cloud that is coming back.
        _await_recovery(conf, conf.timeouts.recovery_timeout)
    session = runner.Session(conf)
    conn = session.conn
    if any(c.wants_admin() for c in checks.values()):
        session.admin_conn  # unreachable raises; a missing entry skips
    probe = conf.timeouts.heat_down_probe_timeout
    if phase == state_mod.DURING_UPGRADE:
        clients.verify_heat_down(conn, probe)
        return
    clients.verify_heat_up(conn, probe)
    # heat-api answers GET / alone: an engine must serve too.
    session.engine_watch(conn, f'before the {phase} phase')([])


def _await_recovery(conf, timeout: float, interval: float = 2) -> None:
    """Wait, bounded, until Keystone and Heat's API answer again.

    After an engine was killed or Keystone restarted, heat-api's workers
    may still wait on calls lost with them (up to Heat's
    ``rpc_response_timeout``) and authentication may fail for a while:
    the destroy phase waits for both to answer before it refuses, and
    says what it waits for. The preflight that follows still fails, in
    one line, on a cloud that did not come back.
    """
    seen: list[str] = []

    def answers() -> bool:
        try:
            conn = clients.connect(conf)
        except exceptions.CredentialsRefused:
            raise  # an answer, and no waiting changes it
        except exceptions.CloudUnreachable as exc:
            seen[:] = [f'the identity service: {exc}']
            return False
        try:
            answer = clients.probe_heat_api(
                conn, conf.timeouts.heat_down_probe_timeout)
        finally:
            conn.close()
        seen[:] = [f"Heat's API: {answer.detail}"]
        return answer.state == clients.UP

    if timeout <= 0 or answers():
        return
    print(f'==> destroy: waiting up to {timeout:g}s for Keystone and '
          f'Heat\'s API to answer again ({seen[0]})', flush=True)
    try:
        processes.wait_until(
            answers, timeout,
            lambda: f'Keystone and Heat\'s API to answer again (last: '
                    f'{seen[0]})', interval=interval)
    except exceptions.TimeoutExpired as exc:
        print(f'==> destroy: {exc}', flush=True)


def stestr_command(phase: str, concurrency: int) -> list[str]:
    """The stestr command line that runs one phase's generated tests.

    It runs in a directory of its own, which holds the stestr repository.
    """
    return [sys.executable, '-m', 'stestr',
            '--test-path', str(suite.DIRECTORY),
            '--top-dir', str(suite.TOP_DIR), 'run',
            '--concurrency', str(concurrency),
            '^' + state_mod.suite_module(phase).replace('.', r'\.') + r'\.']


def run_phase(conf, phase: str) -> int:
    """Preflight, then run the phase's tests under stestr; its exit code."""
    engines.clear_not_serving(conf.phases.state_dir)
    preflight(conf, phase)
    # post-upgrade: the database checks come first, before any stack moves.
    integrity_code, hold = integrity.before(conf, phase)
    tests_phase = phase
    if hold:
        # Nothing is updated or deleted on a schema the new code does not
        # match: post-upgrade runs the read-only checks instead; destroy
        # deletes nothing.
        print(f'==> {phase}: HELD, no stack is updated or deleted: {hold}',
              flush=True)
        if phase == state_mod.DESTROY:
            _print_left(conf, phase)
            return 1
        tests_phase = state_mod.VERIFY
        print(f'==> {phase}: running the read-only checks (the verify '
              f'phase\'s) instead', flush=True)
    env = dict(os.environ)
    env[config.CONFIG_ENV] = os.pathsep.join(
        os.path.abspath(f) for f in conf.config_file)
    results = conf.phases.results_dir
    with tempfile.TemporaryDirectory(prefix='hut-stestr-') as tmp:
        run_dir = Path(os.path.expanduser(results)) / phase if results \
            else Path(tmp)
        run_dir.mkdir(parents=True, exist_ok=True)
        each = conf.phases.stacks_per_check
        print(f'==> {phase}: running the phase tests of '
              f'{len(checks_base.selected_checks(conf))} checks'
              + (f' ({each} stacks each)' if each > 1 else '') + '; upgrade '
              f'from series {conf.cloud.from_series or "unknown"} to '
              f'{conf.cloud.to_series or "unknown"}', flush=True)
        seed = conf.phases.check_order_seed
        if seed is not None:
            print(f'==> {phase}: checks in the order of check_order_seed '
                  f'{seed}: ' + ' '.join(check_order.phase_order(conf)),
                  flush=True)
            env.update(check_order.stestr_env(seed))
        code = subprocess.call(
            stestr_command(tests_phase, conf.phases.concurrency), env=env,
            cwd=run_dir)
        if code == 1 and _nothing_failed(run_dir):
            # stestr exits 1 when every test skipped: nothing failed.
            print(f'==> {phase}: every test was skipped; nothing failed',
                  flush=True)
            code = 0
        if results:
            _keep_results(run_dir, phase)
    # Known findings are skips, not failures: say them again at the end,
    # where nobody scrolling a green run can miss them.
    for line in runner.known_findings(conf, phase):
        print(line, flush=True)
    if hold:
        _print_left(conf, phase)
        return 1
    # pre-upgrade: record the checks' rows for post-upgrade's database check.
    return integrity.after(conf, phase, code or integrity_code)


def _print_left(conf, phase: str) -> None:
    """The stacks a held phase left for a later destroy, one a line."""
    left = []
    for _check, _copy, name in copies.state_names(
            conf, checks_base.selected_checks(conf)):
        state = state_mod.CheckState(conf.phases.state_dir, name)
        try:
            record = (state.load(phase).get('record') or {})
        except exceptions.StateError:
            continue
        stack = record.get('stack')
        if stack and not record.get('destroyed'):
            left.append(f'  {stack["name"]} ({stack["id"]}) of check {name}')
    print(f'==> {phase}: {len(left)} stack(s) left for a later destroy, '
          f'once the database is at the new Heat\'s head:', flush=True)
    for line in left:
        print(line, flush=True)


def _nothing_failed(run_dir: Path) -> bool:
    """Whether the last stestr run ran tests and none failed."""
    stream = subprocess.run(
        [sys.executable, '-m', 'stestr', 'last', '--subunit'],
        cwd=run_dir, capture_output=True).stdout
    summary = testtools.StreamSummary()
    summary.startTestRun()
    subunit.ByteStreamToStreamResult(
        io.BytesIO(stream), non_subunit_name='stdout').run(summary)
    summary.stopTestRun()
    return summary.testsRun > 0 and summary.wasSuccessful()


def _keep_results(run_dir: Path, phase: str) -> None:
    """Leave subunit and junit results where Zuul collects them."""
    subunit = run_dir / f'{phase}.subunit'
    with open(subunit, 'wb') as out:
        subprocess.call([sys.executable, '-m', 'stestr', 'last',
                         '--subunit'], stdout=out, cwd=run_dir)
    junit = Path(sys.executable).parent / 'subunit2junitxml'
    with open(subunit, 'rb') as src, \
            open(run_dir / f'{phase}.xml', 'wb') as out:
        subprocess.call([str(junit)], stdin=src, stdout=out)
