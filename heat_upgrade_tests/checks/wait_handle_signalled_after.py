"""A wait condition handle made before the upgrade, signalled after it.

Servers built before an upgrade may signal their handle only after it (a
slow boot, a reboot, a software deployment): the new release must accept
the signal, keep its data, and complete a wait condition on it.
"""

import json

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import _stack_user
from heat_upgrade_tests.checks import base
from heat_upgrade_tests import exceptions


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
        self.create_stack(ctx, record)
        handle = _api.resource(ctx.conn, record, 'handle')
        record.stack_user = handle['physical_resource_id']

    def update(self, ctx, record):
        """Signal the old handle; then an update waits on it.

        The update (``wait_handle_signalled_after_update.yaml``) adds an
        OS::Heat::WaitCondition on the handle.
        Heat's API hands the signal to the engine and answers before the
        engine has stored it, so the handle's metadata is read once it
        holds the signal, within ``stack_timeout``, not right after.
        """
        data = f'after-{ctx.run_id}'
        _api.signal(ctx.conn, record, 'handle', {
            'status': 'SUCCESS', 'reason': 'signalled after the upgrade',
            'data': data, 'id': 'after'})
        try:
            metadata = _api.wait_until(
                ctx, record,
                lambda: _api.resource_metadata(ctx.conn, record, 'handle'),
                lambda metadata: 'after' in metadata,
                'until the handle\'s metadata holds the signal \'after\' '
                'sent after the upgrade')
        except exceptions.TimeoutExpired as exc:
            self.fail(f'the signal data in the handle\'s metadata never '
                      f'came: {exc}')
        self.assert_equal(data, (metadata.get('after') or {}).get('data'),
                          'the signal data in the handle\'s metadata')
        outputs = self.update_stack(
            ctx, record, template='wait_handle_signalled_after_update.yaml')
        self.assert_equal({'after': f'after-{ctx.run_id}'},
                          json.loads(outputs.get('data') or 'null'),
                          'the data of the wait condition added after the '
                          'upgrade')
        self.assert_equal(record.outputs['handle_id'],
                          outputs.get('handle_id'),
                          'the handle (it was replaced)')
