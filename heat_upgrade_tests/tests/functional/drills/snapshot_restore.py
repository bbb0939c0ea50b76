"""snapshot_restore: the snapshot's stored environment is changed."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    def edit(data):
        params = data.get('environment', {}).get('parameters')
        if not params or 'label' not in params:
            raise AssertionError(f'drill of {tb.check}: the snapshot holds '
                                 f'no label parameter: {data!r}'[:500])
        params['label'] = 'tampered'
    tb.edit_snapshot(tb.record['snapshot']['id'], edit)


DRILL = drills.Drill(
    check='snapshot_restore',
    fault='the label parameter in the environment of the snapshot Heat '
          'stored is changed in its database while Heat is down: the '
          'snapshot is still listed COMPLETE, but restoring it no longer '
          'brings back what was snapshotted',
    moment='heat-down', phase='post-upgrade',
    expect='outputs after the restore',
    inject=inject)
