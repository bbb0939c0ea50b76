"""stack_check: a TestResource loses its physical id in the database."""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='stack_check',
    fault='the physical resource id of a TestResource is cleared in '
          'Heat\'s database while Heat is down (its check then fails)',
    moment='heat-down', phase='post-upgrade',
    expect='the new Heat\'s stack check of the old stack failed',
    inject=lambda tb: tb.db('UPDATE resource SET nova_instance = NULL '
                            'WHERE id = %s', tb.resource_row('first')))
