"""swift_container (gate only): the container's metadata is changed."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    tb.member.object_store.set_container_metadata(
        tb.record['outputs']['name'], label='tampered')


DRILL = drills.Drill(
    check='swift_container',
    fault='the container\'s label metadata is changed in Swift, behind '
          'Heat\'s back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='the label of container',
    inject=inject)
