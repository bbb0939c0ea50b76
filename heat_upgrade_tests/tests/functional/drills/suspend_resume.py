"""suspend_resume: the suspension is forgotten in Heat's database."""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='suspend_resume',
    fault='the stack\'s SUSPEND action is overwritten with CREATE in '
          'Heat\'s database while Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect='is CREATE_COMPLETE',
    inject=lambda tb: tb.db("UPDATE stack SET action = 'CREATE' WHERE "
                            "id = %s", tb.stack_id))
