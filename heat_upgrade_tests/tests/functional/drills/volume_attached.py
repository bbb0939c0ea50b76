"""volume_attached (gate only): the volume is detached in Nova."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    outputs = tb.record['outputs']
    tb.admin.compute.delete_volume_attachment(outputs['server_id'],
                                              outputs['volume_id'])


DRILL = drills.Drill(
    check='volume_attached',
    fault='the volume is detached from the server through Nova, behind '
          'Heat\'s back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='the volume\'s status',
    inject=inject)
