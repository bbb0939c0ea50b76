"""template_validation: the template Heat stored for the stack becomes one
Heat cannot accept."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    def edit(template):
        # Shown, evaluated and deleted as before; refused by validation.
        template['hut_drill'] = 'a section no template version has'
    tb.edit_raw_template('template', edit)


DRILL = drills.Drill(
    check='template_validation',
    fault='the template stored in Heat\'s database for the check\'s stack '
          'gets a top-level section no heat_template_version knows, while '
          'Heat is down (as if the new release had dropped something the '
          'old one accepted)',
    moment='heat-down', phase='post-upgrade',
    expect='the new Heat refuses templates the old one accepted',
    inject=inject)
