"""hot_newest_version: an output of the stored template is changed."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    def edit(template):
        template['outputs']['repeated']['value']['repeat']['template'] = (
            'drill-%x%')
    tb.edit_raw_template('template', edit)


DRILL = drills.Drill(
    check='hot_newest_version',
    fault='the repeat function of an output is changed in the stack\'s '
          'template stored in Heat\'s database while Heat is down',
    moment='heat-down', phase='post-upgrade',
    expect='outputs after the upgrade differ',
    inject=inject)
