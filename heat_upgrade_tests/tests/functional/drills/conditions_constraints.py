"""conditions_constraints: a condition of the stored template is turned
around."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    def edit(template):
        template['conditions']['is_prod'] = {
            'equals': [{'get_param': 'env_type'}, 'test']}
    tb.edit_raw_template('template', edit)


DRILL = drills.Drill(
    check='conditions_constraints',
    fault='the is_prod condition of the template stored in Heat\'s '
          'database is turned around while Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect='outputs after the upgrade differ',
    inject=inject)
