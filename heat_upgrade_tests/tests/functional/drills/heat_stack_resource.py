"""heat_stack_resource: the child stack is deleted on its own."""

import time

import openstack.exceptions as sdk_exc

from heat_upgrade_tests.tests.functional import drills


def inject(tb: drills.Toolbox) -> None:
    child = tb.record['outputs']['child_id']
    heat = tb.member.orchestration
    heat.delete_stack(child)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if heat.get_stack(child).status == 'DELETE_COMPLETE':
                return
        except sdk_exc.NotFoundException:
            return
        time.sleep(1)
    raise AssertionError(f'child stack {child} was not deleted')


DRILL = drills.Drill(
    check='heat_stack_resource',
    fault='the child stack of the OS::Heat::Stack is deleted directly, '
          'behind its parent\'s back',
    moment='pre-upgrade', phase='post-upgrade',
    expect='child stack',
    inject=inject)
