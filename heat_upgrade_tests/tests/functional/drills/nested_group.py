"""nested_group: a member of the group's nested stack is removed."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.remove_resource('1', stack_id=tb.nested_stack('group'))


DRILL = drills.Drill(
    check='nested_group',
    fault='member 1 of the ResourceGroup is deleted from the nested '
          'stack\'s rows in Heat\'s database while Heat is down (the '
          'group\'s cached outputs hide it; the update rebuilds it)',
    moment='heat-down', phase='post-upgrade',
    expect='values of the existing members',
    inject=inject)
