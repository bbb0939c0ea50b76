"""get_file_registry: the mapped nested stack's random string is
replaced by the registry update."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.set_stored_property('random', 'salt', 'drill',
                           stack_id=tb.nested_stack('mapped'))


DRILL = drills.Drill(
    check='get_file_registry',
    fault='the RandomString inside the registry-mapped template resource '
          'gets a salt in the properties Heat stored, while Heat is down: '
          'the update to the new registry mapping replaces it, so the '
          'nested stack loses its random string',
    moment='heat-down', phase='post-upgrade',
    expect='mapped_value after the registry update',
    inject=inject)
