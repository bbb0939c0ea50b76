"""``heat-upgrade-tests integrity``: the checks on their own, no cloud.

    heat-upgrade-tests integrity check --from 2025.2 --to 2026.2
    heat-upgrade-tests integrity check --to ~/src/heat      # a patch
    heat-upgrade-tests integrity check --only schema,rows \\
        --to /opt/stack/data/venv/bin/python --database-connection URL
    heat-upgrade-tests integrity snapshot --database-connection URL

Each side is a series, a version, a source tree, a python or a venv (see
``environments``). Without ``--from``, the series before the new release;
without ``--to``, ``[integrity] new_heat``, then the newest series. The
exit code is 1 when a check failed, 2 for a one-line error.
"""

from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests.integrity import rows
from heat_upgrade_tests.integrity import runner
from heat_upgrade_tests import releases


def add_parser(sub) -> None:
    """Add ``integrity`` and its actions to the command's subparsers."""
    parser = sub.add_parser(
        'integrity', help='database, configuration and RPC checks of an '
                          'upgrade; no cloud needed')
    actions = parser.add_subparsers(dest='integrity_action', required=True)
    check = actions.add_parser('check', help='run the integrity checks')
    check.add_argument('--from', dest='old', metavar='RELEASE',
                       help='the release upgraded from: series, version, '
                            'source tree, python or venv (default: the '
                            'series before --to)')
    check.add_argument('--to', dest='new', metavar='RELEASE',
                       help='the release upgraded to (default: [integrity] '
                            'new_heat, else the newest series)')
    check.add_argument('--only', metavar='CHECKS',
                       help='comma-separated subset of: '
                            + ', '.join(runner.CHECKS))
    check.add_argument('--heat-conf', action='append', metavar='FILE',
                       help='deployed heat.conf (repeatable; default '
                            '[integrity] heat_config_files)')
    check.add_argument('--accepted-removals', metavar='FILE',
                       help='accepted option removals file (default '
                            '[integrity] accepted_removals_file)')
    check.add_argument('--new-options-json', metavar='FILE',
                       help='use this generator JSON as the new release\'s '
                            'options instead of generating it')
    check.add_argument('--save-options', metavar='DIR',
                       help='write each release\'s generator JSON here')
    check.add_argument('--log-dir', metavar='DIR',
                       help='where the venv builds\' logs go (default: '
                            'integrity-logs in the cache directory)')
    check.add_argument('--report', metavar='FILE',
                       help='also write the report as JSON')
    check.add_argument('--status-moment', metavar='TEXT',
                       help='when heat-status runs, for its summary (a '
                            'plan says "before the new Heat starts")')
    _database_args(check)
    snap = actions.add_parser(
        'snapshot', help='record the rows of the checks\' stacks (what '
                         'pre-upgrade does with a database connection)')
    _database_args(snap)


def _database_args(parser) -> None:
    parser.add_argument('--database-connection', metavar='URL',
                        help='Heat\'s database (default [integrity] '
                             'database_connection)')
    parser.add_argument('--state-dir', help='overrides [phases] state_dir')


def settings_from(conf, args) -> runner.Settings:
    """Command line over configuration, with the documented defaults."""
    opts = conf.integrity
    new = args.new or opts.new_heat
    old = args.old
    if not new and not old:
        old, new = (s.name for s in releases.default_pair())
    elif not new:
        new = list(releases.load_series())[-1]
    if not old:
        old = runner.PREVIOUS
    checks = tuple(c.strip() for c in args.only.split(',') if c.strip()) \
        if args.only else ()
    # Given on the command line, or the runner's defaults.
    given = {key: getattr(args, key, None)
             for key in ('log_dir', 'status_moment')}
    return runner.Settings(
        old=old, new=new,
        database_connection=args.database_connection or
        opts.database_connection,
        state_dir=args.state_dir or conf.phases.state_dir,
        heat_config_files=args.heat_conf or list(opts.heat_config_files),
        checks=checks,
        accepted_file=args.accepted_removals or opts.accepted_removals_file,
        new_options_json=args.new_options_json,
        save_options_dir=args.save_options,
        cache_dir=conf.minicloud.cache_dir,
        **{key: value for key, value in given.items() if value})


def main(conf, args) -> int:
    if args.integrity_action == 'snapshot':
        url = args.database_connection or conf.integrity.database_connection
        if not url:
            raise environments.IntegrityError(
                'no database: give --database-connection or set '
                '[integrity] database_connection')
        state_dir = args.state_dir or conf.phases.state_dir
        snapshot = rows.record(url, state_dir)
        print(summary(snapshot, state_dir))
        return 0
    result = runner.run(settings_from(conf, args))
    print(result.render(), flush=True)
    if args.report:
        path = result.write(args.report)
        print(f'report: {path}')
    return 0 if result.ok else 1


def summary(snapshot: dict, state_dir: str) -> str:
    counts = ', '.join(f'{len(ids)} {table}'
                       for table, ids in snapshot['rows'].items())
    events = sum(len(v) for v in snapshot['events'].values())
    return (f'==> integrity: recorded the rows of '
            f'{len(snapshot["roots"])} checks\' stacks ({counts}, {events} '
            f'event) in {state_dir}')
