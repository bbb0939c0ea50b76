"""hot_newest_version: the RandomString's stored properties force a
replacement."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.set_stored_property('random', 'salt', 'drill')


DRILL = drills.Drill(
    check='hot_newest_version',
    fault='the RandomString gets a salt in the properties Heat stored, '
          'while Heat is down: the label update after the upgrade replaces '
          'it, and the random string changes',
    moment='heat-down', phase='post-upgrade',
    expect='random_value after the update',
    inject=inject)
