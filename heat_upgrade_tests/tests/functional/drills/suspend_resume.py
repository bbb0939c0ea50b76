"""suspend_resume: the group's nested stack is marked resumed."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.db("UPDATE stack SET action = 'RESUME' WHERE id = %s AND "
          "action = 'SUSPEND' AND status = 'COMPLETE'",
          tb.nested_stack('group'))


DRILL = drills.Drill(
    check='suspend_resume',
    fault='the ResourceGroup\'s nested stack is marked RESUME_COMPLETE in '
          'Heat\'s database while Heat is down, its members still '
          'suspended: the new Heat resumes the stack and the group, and '
          'leaves the members suspended',
    moment='heat-down', phase='post-upgrade',
    expect='resources not',
    inject=inject)
