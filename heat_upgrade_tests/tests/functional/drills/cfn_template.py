"""cfn_template: the TestResource's stored properties force a
replacement."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.set_stored_property('Test', 'update_replace_value', 'drill')


DRILL = drills.Drill(
    check='cfn_template',
    fault='a property of the TestResource that cannot be updated '
          '(update_replace_value) is given a value in the properties Heat '
          'stored, while Heat is down: the Label update after the upgrade '
          'replaces the resource instead of updating it in place',
    moment='heat-down', phase='post-upgrade',
    expect='TestRef after the update (the resource was replaced)',
    inject=inject)
