"""A WaitCondition signalled before the upgrade; its data read after it.

Wait condition data is what servers reported back when they booted; it is
kept in the handle's metadata and must be readable with the new release.
The handle's stack user (token signal) lives in Keystone.
"""

import dataclasses
import json

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import _stack_user
from heat_upgrade_tests.checks import base


@dataclasses.dataclass
class Record(_stack_user.StackUserRecord):
    """The data signalled before the upgrade."""

    signal: str | None = None


@base.register
class WaitConditionSignalled(_stack_user.StackUserChecks, base.ResourceCheck):
    name = 'wait_condition_signalled'
    idempotent_id = '80d1dfbd-154a-4475-be49-98728b66ac3c'
    description = ('An OS::Heat::WaitConditionHandle (token signal, so a '
                   'stack user in Keystone) and an OS::Heat::WaitCondition '
                   'on it, signalled with data before the upgrade.')
    stack_user_of = 'the wait condition handle'
    template = 'wait_condition_signalled.yaml'
    record_type = Record
    update = base.NoUpdate(
        'the wait condition completed before the upgrade; what must '
        'survive is its data, which verify reads again after it')
    proves = {
        'pre-upgrade': 'the signal completes the wait condition; its data '
                       'is the wait condition\'s output and the handle\'s '
                       'metadata',
        'during-upgrade': 'with Heat down, the handle\'s stack user is in '
                          'Keystone',
        'post-upgrade': 'the new Heat shows the same data in the output and '
                        'the handle\'s metadata',
        'destroy': 'the stack user is gone from Keystone',
    }

    def create(self, ctx, record):
        """Create the stack; signal its handle while the create waits."""
        stack_id = self.create_stack(ctx, record, wait=False)
        handle = _api.wait_resource(ctx.conn, record, 'handle',
                                    'CREATE_COMPLETE', ctx.stacks.timeout,
                                    ctx.stacks.interval)
        record.stack_user = handle['physical_resource_id']
        record.signal = f'before-{ctx.run_id}'
        _api.signal(ctx.conn, record, 'handle', {
            'status': 'SUCCESS', 'reason': 'signalled before the upgrade',
            'data': record.signal, 'id': '1'})
        ctx.stacks.wait_for(stack_id, 'CREATE')
        record.outputs = ctx.stacks.outputs(stack_id)

    def verify(self, ctx, record):
        # The handle's metadata first: it is what the outputs are made of
        # (the framework compares them after verify).
        self.verify_metadata(ctx, record)
        self.assert_equal({'1': record.signal},
                          json.loads(record.outputs.get('data') or 'null'),
                          'the wait condition\'s data')
        self.verify_stack_user(ctx, record)

    def verify_metadata(self, ctx, record):
        metadata = _api.resource_metadata(ctx.conn, record, 'handle')
        self.assert_equal(record.signal,
                          (metadata.get('1') or {}).get('data'),
                          'the signal data in the handle\'s metadata')
