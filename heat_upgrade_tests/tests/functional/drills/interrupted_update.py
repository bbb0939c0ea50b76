"""interrupted_update: the interrupted resource stays locked by a live
engine, so the new Heat cannot take it over."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    engine = tb.live_engine_ids()[0]
    tb.db('UPDATE resource SET engine_id = %s WHERE id = %s', engine,
          tb.resource_row('slow'))


DRILL = drills.Drill(
    check='interrupted_update',
    fault='the interrupted resource\'s lock is handed to a running engine '
          'of the new Heat in its database, so the lock is never stolen '
          'and the recovering update cannot proceed',
    moment='new-heat-up', phase='post-upgrade',
    expect='did not complete the interrupted stack within',
    inject=inject)
