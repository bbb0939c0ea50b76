"""swift_signal_handle: the handle's container is deleted in Swift."""

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    store = tb.member.object_store
    # Heat names the handle's container after the stack's id.
    name = tb.stack_id
    for obj in list(store.objects(name)):
        store.delete_object(obj, container=name)
    store.delete_container(name)


DRILL = drills.Drill(
    check='swift_signal_handle',
    fault='the handle\'s container is deleted in Swift, behind Heat\'s '
          'back',
    moment='pre-upgrade', phase='during-upgrade',
    expect='is gone from Swift',
    inject=inject)
