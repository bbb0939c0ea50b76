"""resource_chain: a link of the chain's nested stack is removed."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.remove_resource('1', stack_id=tb.nested_stack('chain'))


DRILL = drills.Drill(
    check='resource_chain',
    fault='link 1 of the chain is deleted from the nested stack\'s rows in '
          'Heat\'s database while Heat is down (the chain\'s cached '
          'outputs hide it; scaling up rebuilds it)',
    moment='heat-down', phase='post-upgrade',
    expect='members kept at size',
    inject=inject)
