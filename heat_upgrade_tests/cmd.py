"""The ``heat-upgrade-tests`` command: phases, the local upgrade, checks.

Errors a user can fix (bad options, an unreachable cloud, missing state, a
busy port) are printed as one line and exit non-zero; no traceback.
"""

import argparse
import logging
import os
from pathlib import Path
import sys

from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests import config
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.integrity import cli as integrity_cli
from heat_upgrade_tests.phases import command as phase_command
from heat_upgrade_tests import state as state_mod

# The grenade hooks run every step by name, the name of its tox env
# (``tools/tox -e NAME``, or ``HEAT_UPGRADE_TESTS_PHASE_CMD NAME``): the
# phase command takes Heat's own tests under those names too.
HEAT_TESTS_STEPS = {'heat-tests-before': 'before',
                    'heat-tests-after': 'after'}


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
        'phase', choices=state_mod.PHASES + tuple(HEAT_TESTS_STEPS),
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
    upgrade.add_argument('--no-compute', action='store_true',
                         help='leave the compute part out (Nova, libvirt, '
                              'Placement, Glance, OVN): the server checks '
                              'are skipped (sets [minicloud] compute off)')
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
            return phase_command.run_phase(conf, args.phase)
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
            if args.no_compute:
                conf.set_override('compute', False, 'minicloud')
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
