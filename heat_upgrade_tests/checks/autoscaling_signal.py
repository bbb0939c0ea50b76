"""An AutoScalingGroup scaled by signalling its ScalingPolicy after the
upgrade.

Scaling policies are signalled long after the stack was made (by alarms,
by operators); the signal must still be accepted by the new release and
scale the old group, keeping its members. The policy's stack user lives in
Keystone, where it is looked for while Heat is down.
"""

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import _stack_user
from heat_upgrade_tests.checks import base
from heat_upgrade_tests import exceptions


@base.register
class AutoscalingSignal(_stack_user.StackUserChecks, base.ResourceCheck):
    name = 'autoscaling_signal'
    idempotent_id = '4d15ae29-1172-426f-aadb-f275f8e9c912'
    description = ('An OS::Heat::AutoScalingGroup (2 RandomStrings, at '
                   'most 4) and an OS::Heat::ScalingPolicy adding one '
                   'member per signal; the policy\'s stack user is in '
                   'Heat\'s stack-user domain in Keystone.')
    stack_user_of = 'the scaling policy'
    template = 'autoscaling_signal.yaml'
    proves = {
        'pre-upgrade': 'the group holds 2 members; the policy\'s stack '
                       'user exists in Keystone',
        'during-upgrade': 'with Heat down, the policy\'s stack user is '
                          'found in Keystone',
        'post-upgrade': 'the same members; a signal to the policy through '
                        'the new Heat adds a third member and keeps the '
                        'first two',
        'destroy': 'the stack user is gone from Keystone',
    }

    def create(self, ctx, record):
        super().create(ctx, record)
        policy = _api.resource(ctx.conn, record, 'scale_up')
        record.stack_user = policy['physical_resource_id']

    def verify(self, ctx, record):
        outputs = record.outputs
        self.assert_equal(2, outputs.get('current_size'), 'current_size')
        if len(outputs.get('refs') or []) != 2:
            self.fail(f'the group does not hold 2 members: {outputs!r}')
        self.verify_stack_user(ctx, record)

    def update(self, ctx, record):
        """Signal the policy; the group grows (bounded wait)."""
        _api.signal(ctx.conn, record, 'scale_up')
        try:
            outputs = _api.wait_until(
                ctx, record, lambda: ctx.stacks.outputs(record.stack.id),
                lambda outputs: outputs.get('current_size') == 3,
                'until its group holds 3 members after the signal')
        except exceptions.TimeoutExpired as exc:
            self.fail(f'the group did not grow to 3 members after the '
                      f'signal: {exc}')
        self.assert_equal(record.outputs['refs'], outputs['refs'][:2],
                          'the members kept after scaling up')
