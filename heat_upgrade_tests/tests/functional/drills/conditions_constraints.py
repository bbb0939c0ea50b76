"""conditions_constraints: a condition of the stored template is turned
around."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    def edit(template):
        template['conditions']['is_prod'] = {
            'equals': [{'get_param': 'env_type'}, 'test']}
    tb.edit_raw_template('template', edit)


# The conditions' proof in post-upgrade is the outputs they choose (mode,
# test_only_id) being the same. Its other assertions depend only on the
# request (the constraint refusals and the update to prod carry the
# check's own template and parameters), so no fault in the cloud reaches
# them.
DRILL = drills.Drill(
    check='conditions_constraints',
    fault='the is_prod condition of the template stored in Heat\'s '
          'database is turned around while Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect=drills.OUTPUTS_EXPECT, asserts='outputs',
    inject=inject)
