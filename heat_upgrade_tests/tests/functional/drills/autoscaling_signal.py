"""autoscaling_signal: the group is left marked as scaling."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.set_metadata('group', {'scaling_in_progress': True})


DRILL = drills.Drill(
    check='autoscaling_signal',
    fault='the AutoScalingGroup\'s metadata in Heat\'s database is set to '
          'scaling_in_progress while Heat is down, as an engine stopped in '
          'the middle of a scaling leaves it: the new Heat accepts the '
          'signal after the upgrade but does not scale',
    moment='heat-down', phase='post-upgrade',
    expect='the group did not grow to 3 members after the signal',
    inject=inject)
