"""A wait condition handle made before the upgrade, signalled after it.

Servers built before an upgrade may signal their handle only after it (a
slow boot, a reboot, a software deployment): the new release must accept
the signal, keep its data, and complete a wait condition on it.
"""

import json
import time

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import _stack_user
from heat_upgrade_tests.checks import base


@base.register
class WaitHandleSignalledAfter(_stack_user.StackUserChecks,
                               base.ResourceCheck):
    name = 'wait_handle_signalled_after'
    idempotent_id = 'c4514fd3-e70f-4c60-9375-0cae51a589fe'
    description = ('An OS::Heat::WaitConditionHandle (token signal) made '
                   'before the upgrade and signalled after it; the update '
                   'adds an OS::Heat::WaitCondition on it.')
    stack_user_of = 'the wait condition handle'
    template = 'wait_handle_signalled_after.yaml'
    update_template = 'wait_handle_signalled_after_update.yaml'
    proves = {
        'during-upgrade': 'with Heat down, the handle\'s stack user is in '
                          'Keystone',
        'post-upgrade': 'the new Heat accepts a signal to the old handle '
                        'and shows its data in the handle\'s metadata; a '
                        'WaitCondition added by an update completes at '
                        'once with that data',
        'destroy': 'the stack user is gone from Keystone',
    }

    def create(self, ctx, record):
        super().create(ctx, record)
        handle = _api.resource(ctx.conn, record, 'handle')
        record['stack_user'] = handle['physical_resource_id']

    def verify_upgraded(self, ctx, record):
        self.verify_stack(ctx, record, self.expected_status)
        data = f'after-{ctx.run_id}'
        _api.signal(ctx.conn, record, 'handle', {
            'status': 'SUCCESS', 'reason': 'signalled after the upgrade',
            'data': data, 'id': 'after'})
        # Heat's API answers before the engine has stored the signal (it
        # handles it in a thread of its own): wait for it, bounded.
        deadline = time.monotonic() + ctx.stacks.timeout
        while True:
            metadata = _api.resource_metadata(ctx.conn, record, 'handle')
            if 'after' in metadata or time.monotonic() >= deadline:
                break
            time.sleep(ctx.stacks.interval)
        self.assert_equal(data, (metadata.get('after') or {}).get('data'),
                          'the signal data in the handle\'s metadata')
        super().verify_upgraded(ctx, record)

    def verify_updated(self, ctx, record, outputs):
        self.assert_equal({'after': f'after-{ctx.run_id}'},
                          json.loads(outputs.get('data') or 'null'),
                          'the data of the wait condition added after the '
                          'upgrade')
        self.assert_equal(record['outputs']['handle_id'],
                          outputs.get('handle_id'),
                          'the handle (it was replaced)')
