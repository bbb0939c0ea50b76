"""cfn_template: the stack is updated behind the check's back."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.heat('PATCH', tb.stack_url(), {'parameters': {'Label': 'tampered'}})
    tb.wait_stack('UPDATE_COMPLETE')


DRILL = drills.Drill(
    check='cfn_template',
    fault='another client updates the stack\'s Label through the old Heat '
          'after pre-upgrade',
    moment='pre-upgrade', phase='post-upgrade',
    expect='is UPDATE_COMPLETE',
    inject=inject)
