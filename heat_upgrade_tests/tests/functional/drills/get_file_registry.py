"""get_file_registry: the stored environment's parameter_defaults change."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    def edit(environment):
        environment['parameter_defaults']['greeting'] = 'tampered'
    tb.edit_raw_template('environment', edit)


DRILL = drills.Drill(
    check='get_file_registry',
    fault='the parameter_defaults of the environment stored in Heat\'s '
          'database are changed while Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect='outputs after the upgrade differ',
    inject=inject)
