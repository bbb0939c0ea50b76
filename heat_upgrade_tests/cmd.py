"""The ``heat-upgrade-tests`` command: phases, the local upgrade, checks.

Errors a user can fix (bad options, an unreachable cloud, missing state, a
busy port) are printed as one line and exit non-zero; no traceback.
"""

import argparse
import io
import logging
import os
from pathlib import Path
import subprocess
import sys
import tempfile

import subunit
import testtools

import heat_upgrade_tests
from heat_upgrade_tests import check_order
from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests import clients
from heat_upgrade_tests import config
from heat_upgrade_tests import copies
from heat_upgrade_tests import engines
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.integrity import cli as integrity_cli
from heat_upgrade_tests.integrity import phase as integrity_phase
from heat_upgrade_tests import phases
from heat_upgrade_tests import state as state_mod

PACKAGE_DIR = Path(heat_upgrade_tests.__file__).resolve().parent


def preflight(conf, phase: str) -> None:
    """Fail fast, in one line, on what would make every test of a phase fail.

    Checks the configuration, the cloud, the state files, and whether Heat
    is up or down as the phase needs.
    """
    checks = checks_base.selected_checks(conf)
    if phase != phases.PRE_UPGRADE:
        for _check, _copy, name in copies.state_names(conf, checks):
            state = state_mod.CheckState(conf.phases.state_dir, name)
            if phase == phases.DESTROY and not state.exists():
                continue
            state.load(phase)
    if phase == phases.NO_API:
        return  # every API is down: nothing to ask
    session = phases.Session(conf)
    conn = session.conn
    if any(c.wants_admin() for c in checks.values()):
        session.admin_conn  # unreachable raises; a missing entry skips
    probe = conf.timeouts.heat_down_probe_timeout
    if phase == phases.DURING_UPGRADE:
        clients.verify_heat_down(conn, probe)
        return
    clients.verify_heat_up(conn, probe)
    # heat-api answers GET / alone: an engine must serve too.
    session.engine_watch(conn, f'before the {phase} phase')([])


# The grenade hooks run every step by name, the name of its tox env
# (``tools/tox -e NAME``, or ``HEAT_UPGRADE_TESTS_PHASE_CMD NAME``): the
# phase command takes Heat's own tests under those names too.
HEAT_TESTS_STEPS = {'heat-tests-before': 'before',
                    'heat-tests-after': 'after'}


def stestr_command(phase: str, concurrency: int) -> list[str]:
    """The stestr command line that runs one phase's generated tests.

    It runs in a directory of its own, which holds the stestr repository.
    """
    module = phase.replace('-', '_')
    return [sys.executable, '-m', 'stestr',
            '--test-path', str(PACKAGE_DIR / 'tests' / 'phases'),
            '--top-dir', str(PACKAGE_DIR.parent), 'run',
            '--concurrency', str(concurrency),
            rf'heat_upgrade_tests\.tests\.phases\.test_{module}\.']


def run_phase(conf, phase: str) -> int:
    """Preflight, then run the phase's tests under stestr; its exit code."""
    engines.clear_not_serving(conf.phases.state_dir)
    preflight(conf, phase)
    # post-upgrade: the database checks come first, before any stack moves.
    integrity_code = integrity_phase.before(conf, phase)
    tests_phase = phase
    hold = integrity_phase.held(phase)
    if hold:
        # Nothing is updated or deleted on a schema the new code does not
        # match: post-upgrade runs the read-only checks instead; destroy
        # deletes nothing.
        print(f'==> {phase}: HELD, no stack is updated or deleted: {hold}',
              flush=True)
        if phase == phases.DESTROY:
            _print_left(conf, phase)
            return 1
        tests_phase = phases.VERIFY
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
    for line in phases.known_findings(conf, phase):
        print(line, flush=True)
    if hold:
        _print_left(conf, phase)
        return 1
    # pre-upgrade: record the checks' rows for post-upgrade's database check.
    return integrity_phase.after(conf, phase, code or integrity_code)


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


def render_report(directory: str, output: str | None) -> int:
    """``heat-upgrade-tests report DIR``: the run's page, again."""
    from heat_upgrade_tests.runreport import html
    try:
        path = html.write(directory, output)
    except (ValueError, OSError) as exc:
        raise exceptions.ConfigError(f'cannot render the report: {exc}')
    print(f'HTML report: {path}')
    return 0


def list_checks(conf) -> int:
    for name, check in checks_base.all_checks().items():
        admin = ' (admin)' if check.wants_admin() else ''
        print(f'{name}{admin} [{check.idempotent_id}]\n'
              f'    {check.description}')
    return 0


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f'a seed is a non-negative integer, not {text!r}')
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='heat-upgrade-tests',
        description='Upgrade tests for OpenStack Heat.')
    parser.add_argument('--config-file', action='append',
                        help='oslo.config file (repeatable); default: '
                             f'${config.CONFIG_ENV} or the usual search')
    parser.add_argument('--debug', action='store_true',
                        help='show the libraries\' logs')
    sub = parser.add_subparsers(dest='command', required=True)
    phase = sub.add_parser('phase', help='run one phase against a cloud')
    phase.add_argument(
        'phase', choices=phases.PHASES + tuple(HEAT_TESTS_STEPS),
        help='a phase, or one of the grenade hooks\' steps that run '
             'Heat\'s own tests (named as their tox envs: the same as the '
             'heat-tests command before or after)')
    phase.add_argument('--state-dir', help='overrides [phases] state_dir')
    upgrade = sub.add_parser(
        'upgrade', help='build a mini-cloud on this machine and upgrade it')
    upgrade.add_argument('--from', dest='from_series', metavar='RELEASE',
                         help='series or Heat source tree to upgrade from '
                              '(default: as the plan says, the one before '
                              '--to, or the SLURP before it)')
    upgrade.add_argument('--to', dest='to_series', metavar='RELEASE',
                         help='series or Heat source tree to upgrade to, '
                              'e.g. ~/src/heat or 2026.2=~/src/heat '
                              '(default: the newest the plan runs to)')
    upgrade.add_argument('--plan', metavar='NAME',
                         help='the upgrade plan (default: full; see '
                              '--list-plans)')
    upgrade.add_argument('--list-plans', action='store_true',
                         help='list the plans, one line each, and exit')
    upgrade.add_argument('--allow-unsupported-pair', action='store_true',
                         help='run a pair that is not a supported upgrade '
                              'path (e.g. 2025.2 -> 2026.2)')
    upgrade.add_argument('--matrix', action='store_true',
                         help='run every plan on every supported pair, '
                              'one after the other (hours)')
    upgrade.add_argument('--checks', metavar='NAMES',
                         help='comma-separated checks to run (overrides '
                              '[phases] enabled_checks)')
    upgrade.add_argument('--work-dir', help='overrides [minicloud] work_dir')
    upgrade.add_argument('--seed', type=_seed, metavar='N',
                         help='what the plan lets vary (which engine '
                              'stops first, small pauses) drawn from N; '
                              'the same N, the same plan (default: drawn '
                              'and printed)')
    prune = sub.add_parser(
        'prune-venvs', help='remove the cached venvs that no pin of '
                            'releases.yaml refers to any more')
    prune.add_argument('--dry-run', action='store_true',
                       help='only list what would be removed')
    upgrade.add_argument('--heat-tests', action='store_true',
                         help='also run Heat\'s own tests '
                              '(heat-tempest-plugin) before and after the '
                              'upgrade (sets [heat_tests] enabled)')
    sub.add_parser('list-checks', help='list the check catalogue')
    heat_tests_parser = sub.add_parser(
        'heat-tests', help='run Heat\'s own tests (heat-tempest-plugin) '
                           'before or after the upgrade')
    heat_tests_parser.add_argument(
        'side', choices=('before', 'after'),
        help='before: with the old Heat, after pre-upgrade; after: with '
             'the new Heat, before post-upgrade (compared with before)')
    report = sub.add_parser(
        'report', help='render the HTML report of a run again from its '
                       'saved results')
    report.add_argument('directory', metavar='DIR',
                        help='the run\'s work directory (or a results '
                             'directory of phase subunit streams)')
    report.add_argument('--output', metavar='FILE',
                        help='where to write the page (default: '
                             'DIR/report.html)')
    scaffold_parser = sub.add_parser(
        'scaffold', help='write a new check\'s module, template and fault '
                         'drill')
    scaffold_parser.add_argument(
        'name', help='the check\'s name, a lower-case identifier')
    scaffold_parser.add_argument(
        '--root', help='source tree to write into (default: the one this '
                       'package is imported from)')
    integrity_cli.add_parser(sub)
    return parser


def prune_venvs(conf, dry_run: bool) -> int:
    """``prune-venvs``: one line per venv removed, then the total."""
    from heat_upgrade_tests.installs import cache
    cache_dir = Path(os.path.expanduser(conf.minicloud.cache_dir))
    removed = cache.prune(cache_dir, dry_run=dry_run)
    verb = 'would remove' if dry_run else 'removed'
    for path, size in removed:
        print(f'{verb} {path} ({size / 2**20:.0f} MiB)')
    total = sum(size for _, size in removed)
    print(f'{verb} {len(removed)} venv(s), {total / 2**20:.0f} MiB, from '
          f'{cache_dir}')
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Libraries log what they retry and what they wrap; the error that
    # reaches the user is ours, one line. --debug shows theirs too.
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.CRITICAL,
        format='%(asctime)s %(name)s %(levelname)s %(message)s')
    try:
        conf = config.load(config_files=args.config_file)
        if args.command == 'phase':
            if args.state_dir:
                conf.set_override('state_dir', args.state_dir, 'phases')
            if args.phase in HEAT_TESTS_STEPS:
                from heat_upgrade_tests import heat_tests
                return heat_tests.run(conf, HEAT_TESTS_STEPS[args.phase])
            return run_phase(conf, args.phase)
        if args.command == 'integrity':
            return integrity_cli.main(conf, args)
        if args.command == 'prune-venvs':
            return prune_venvs(conf, args.dry_run)
        if args.command == 'heat-tests':
            from heat_upgrade_tests import heat_tests
            return heat_tests.run(conf, args.side)
        if args.command == 'report':
            return render_report(args.directory, args.output)
        if args.command == 'scaffold':
            from heat_upgrade_tests import scaffold
            return scaffold.main(args.name, args.root)
        if args.command == 'upgrade':
            from heat_upgrade_tests.plans import driver
            if args.list_plans:
                return driver.list_plans()
            for opt in ('from_series', 'to_series', 'work_dir'):
                if getattr(args, opt):
                    conf.set_override(opt, getattr(args, opt), 'minicloud')
            if args.heat_tests:
                conf.set_override('enabled', True, 'heat_tests')
            if args.checks:
                conf.set_override('enabled_checks', [
                    c.strip() for c in args.checks.split(',') if c.strip()],
                    'phases')
                checks_base.selected_checks(conf)  # unknown: one line
            if args.matrix:
                from heat_upgrade_tests.plans import matrix
                return matrix.main(conf)
            return driver.main(conf, args.plan, args.allow_unsupported_pair,
                               seed=args.seed)
        return list_checks(conf)
    except exceptions.UpgradeTestError as exc:
        print(f'heat-upgrade-tests: error: {exc}', file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print('heat-upgrade-tests: interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
