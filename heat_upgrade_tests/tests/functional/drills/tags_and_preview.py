"""tags_and_preview: the stack's tags are deleted from the database."""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='tags_and_preview',
    fault='the stack\'s tag rows are deleted from Heat\'s database while '
          'Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect='the stack is not found by its tag',
    inject=lambda tb: tb.db('DELETE FROM stack_tag WHERE stack_id = %s',
                            tb.stack_id))
