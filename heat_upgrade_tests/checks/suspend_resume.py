"""A stack suspended before the upgrade and resumed after it.

Operators suspend stacks for maintenance; an upgrade in between must not
lose the suspension, and the new release must resume every resource,
nested stacks included.
"""

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import base


@base.register
class SuspendResume(base.ResourceCheck):
    name = 'suspend_resume'
    idempotent_id = '081a0395-8859-4b46-bb51-5c45384fa85d'
    description = ('A RandomString, a TestResource and a ResourceGroup of '
                   'two TestResources, suspended before the upgrade.')
    template = 'suspend_resume.yaml'
    expected_status = ('SUSPEND_COMPLETE',)
    proves = {
        'pre-upgrade': 'the stack and every resource, nested ones too, are '
                       'SUSPEND_COMPLETE',
        'post-upgrade': 'the new Heat still shows it SUSPEND_COMPLETE with '
                        'the same outputs; resume brings every resource to '
                        'RESUME_COMPLETE; an update then works',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'label': 'before'})
        _api.action(ctx.conn, record, 'suspend')
        _api.wait_status(ctx, record, ('SUSPEND_COMPLETE',))

    def verify(self, ctx, record):
        self.assert_equal(['member-0', 'member-1'],
                          record.outputs.get('members'),
                          'the group members\' outputs')
        self._all_resources(ctx, record, 'SUSPEND_COMPLETE')

    def _all_resources(self, ctx, record, status):
        states = {r['resource_name']: r['resource_status']
                  for r in _api.resources(ctx.conn, record, nested_depth=2)}
        wrong = {n: s for n, s in states.items() if s != status}
        if len(states) != 5 or wrong:
            self.fail(f'resources not {status}: {wrong or states}')

    def update(self, ctx, record):
        """Resume every resource, then an ordinary update."""
        _api.action(ctx.conn, record, 'resume')
        _api.wait_status(ctx, record, ('RESUME_COMPLETE',))
        self._all_resources(ctx, record, 'RESUME_COMPLETE')
        outputs = self.update_stack(ctx, record, {'label': 'after'})
        self.assert_equal(f'after-{record.outputs["random_value"]}',
                          outputs.get('labelled'), 'labelled after the '
                          'update')
