"""An update that fails after the upgrade and rolls back.

Rollback replays the previous template, which the old release stored; the
new release must roll an old stack back to exactly what it was, and keep
it updatable.
"""

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import base


@base.register
class UpdateRollback(base.ResourceCheck):
    name = 'update_rollback'
    idempotent_id = 'cbf0f277-36e4-42df-9a2e-d200b41b9260'
    description = ('A RandomString and a TestResource. After the upgrade an '
                   'update with rollback enabled makes the TestResource '
                   'fail; the stack rolls back.')
    template = 'update_rollback.yaml'
    proves = {
        'post-upgrade': 'a failing update with rollback enabled ends '
                        'ROLLBACK_COMPLETE with the outputs of before the '
                        'upgrade; a good update then works',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'value': 'before', 'fail': False})

    def update(self, ctx, record):
        """A failing update rolls back; then a good update works."""
        body = _api.template_body(
            ctx.conn, self.template_path(),
            parameters={'value': 'doomed', 'fail': True},
            disable_rollback=False,
            timeout_mins=max(1, int(ctx.stacks.timeout // 60)))
        _api.call(ctx.conn, 'PUT', _api.stack_url(record), body)
        _api.wait_status(ctx, record, ('ROLLBACK_COMPLETE',),
                         passing=('UPDATE_FAILED',))
        self.assert_equal(record.outputs,
                          ctx.stacks.outputs(record.stack.id),
                          'outputs after the rollback')
        outputs = self.update_stack(ctx, record,
                                    {'value': 'after', 'fail': False})
        self.assert_equal({'random_value': record.outputs['random_value'],
                           'value': 'after'}, outputs,
                          'outputs after the good update')
