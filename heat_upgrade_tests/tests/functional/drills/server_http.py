"""server_http (gate only): the server is deleted in Nova."""

from heat_upgrade_tests.tests.functional import drills

DRILL = drills.Drill(
    check='server_http',
    fault='the server is deleted in Nova, behind Heat\'s back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='is gone from Nova',
    inject=lambda tb: tb.admin.compute.delete_server(
        tb.record['outputs']['server_id'], force=True))
