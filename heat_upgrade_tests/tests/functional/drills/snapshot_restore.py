"""snapshot_restore: the snapshot is deleted through the API."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    snapshot = tb.record['snapshot']['id']
    tb.heat('DELETE', f'{tb.stack_url()}/snapshots/{snapshot}')


DRILL = drills.Drill(
    check='snapshot_restore',
    fault='the snapshot is deleted through the old Heat after pre-upgrade',
    moment='pre-upgrade', phase='post-upgrade',
    expect='is gone; the stack has',
    inject=inject)
