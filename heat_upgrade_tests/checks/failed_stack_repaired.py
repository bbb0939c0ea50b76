"""A stack left CREATE_FAILED before the upgrade, repaired after it.

Clouds carry failed stacks across upgrades; the new release must still
show them as failed, with the old reason, and let an update repair them,
replacing only what failed.
"""

import dataclasses

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import base


@dataclasses.dataclass
class Record(base.CheckRecord):
    """Why the stack failed, and each resource's state, per the old Heat."""

    status_reason: str | None = None
    resources: dict[str, str] = dataclasses.field(default_factory=dict)


@base.register
class FailedStackRepaired(base.ResourceCheck):
    name = 'failed_stack_repaired'
    idempotent_id = '5c09fbce-af93-4573-a8b7-9d2bc54f4de4'
    description = ('Two TestResources, one made to fail (fail: true): the '
                   'stack is CREATE_FAILED before the upgrade and repaired '
                   'by an update after it.')
    template = 'failed_stack_repaired.yaml'
    expected_status = ('CREATE_FAILED',)
    record_type = Record
    proves = {
        'pre-upgrade': 'the stack is CREATE_FAILED because of the failing '
                       'resource only',
        'post-upgrade': 'the new Heat shows it CREATE_FAILED with the same '
                        'reason; an update with fail: false brings it to '
                        'UPDATE_COMPLETE, the good resource kept',
    }

    def create(self, ctx, record):
        """Create the stack and wait for it to fail (bounded)."""
        stack_id = self.create_stack(ctx, record,
                                     {'fail': True, 'value': 'broken'},
                                     wait=False)
        stack = _api.wait_status(ctx, record, ('CREATE_FAILED',),
                                 passing=('CREATE_FAILED',))
        record.status_reason = stack.status_reason
        record.resources = self._states(ctx, record)
        record.outputs = ctx.stacks.outputs(stack_id)

    def _states(self, ctx, record):
        return {r['resource_name']: r['resource_status']
                for r in _api.resources(ctx.conn, record)}

    def verify(self, ctx, record):
        """Heat shows the recorded failure and resource states, first."""
        stack = self.verify_stack(ctx, record, self.expected_status)
        self.assert_equal(record.status_reason, stack.status_reason,
                          'the failure reason as recorded')
        self.assert_equal(record.resources, self._states(ctx, record),
                          'resource states as recorded')
        self.assert_equal({'good': 'CREATE_COMPLETE',
                           'flaky': 'CREATE_FAILED'}, record.resources,
                          'resource states of the failed stack')
        if 'Test Resource failed' not in (record.status_reason or ''):
            self.fail(f'the stack failed for another reason: '
                      f'{record.status_reason}')

    def update(self, ctx, record):
        """fail to false: the failed resource repaired, the good one kept."""
        outputs = self.update_stack(ctx, record,
                                    {'fail': False, 'value': 'repaired'})
        self.assert_equal('repaired', outputs.get('flaky'),
                          'the repaired resource\'s output')
        self.assert_equal(record.outputs['good_id'],
                          outputs.get('good_id'),
                          'the good resource (it was replaced)')
