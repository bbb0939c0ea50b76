"""wait_handle_signalled_after: a stray signal is in the handle's
metadata."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.set_metadata('handle', {'drill': {
        'data': 'not sent by the check', 'reason': 'written by the drill',
        'status': 'SUCCESS'}})


DRILL = drills.Drill(
    check='wait_handle_signalled_after',
    fault='a signal the check never sent is written in the handle\'s '
          'metadata in Heat\'s database while Heat is down: the signal '
          'after the upgrade is still stored, but the wait condition added '
          'after it completes with data that is not the signal\'s',
    moment='heat-down', phase='post-upgrade',
    expect='the data of the wait condition added after the upgrade',
    inject=inject)
