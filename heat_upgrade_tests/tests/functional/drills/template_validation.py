"""template_validation: a kept template becomes one Heat cannot accept."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    def edit(doc):
        kept = doc['record']['validated']['hot_oldest_version']
        kept['request']['template']['heat_template_version'] = '2099-01-01'
    tb.edit_state(edit)


DRILL = drills.Drill(
    check='template_validation',
    fault='the hot_oldest_version template kept at pre-upgrade is given a '
          'heat_template_version no release knows (as if the new release '
          'had dropped the old one)',
    moment='heat-down', phase='post-upgrade',
    expect='the new Heat refuses templates the old one accepted: '
           'hot_oldest_version',
    inject=inject)
