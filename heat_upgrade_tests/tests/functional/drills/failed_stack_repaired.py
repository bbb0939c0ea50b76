"""failed_stack_repaired: the good resource is removed from the database.
"""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='failed_stack_repaired',
    fault='the resource that did not fail is deleted from Heat\'s database '
          'while Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect='resource states as recorded',
    inject=lambda tb: tb.remove_resource('good'))
