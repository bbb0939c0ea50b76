"""software_configs: a software config is deleted through the API."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    config = tb.record['outputs']['config_ids']['structured']
    tb.heat('DELETE', f'/software_configs/{config}')


DRILL = drills.Drill(
    check='software_configs',
    fault='the StructuredConfig\'s software config is deleted through '
          'Heat\'s software-config API, behind the stack\'s back',
    moment='pre-upgrade', phase='post-upgrade',
    expect='is gone from Heat',
    inject=inject)
