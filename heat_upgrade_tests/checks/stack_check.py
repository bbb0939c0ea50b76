"""A stack check (action CHECK) of an old stack by the new release.

A stack check asks every resource whether its physical resource is as Heat
believes; run by the new engine on a stack the old one made, it must pass
and leave the stack usable.
"""

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import base
from heat_upgrade_tests import exceptions


@base.register
class StackCheck(base.ResourceCheck):
    name = 'stack_check'
    idempotent_id = '534e5e61-74aa-48c8-9a9e-21ca97140b55'
    description = ('Two TestResources (one in a nested ResourceGroup) and a '
                   'RandomString; checked with the stack check action after '
                   'the upgrade.')
    template = 'stack_check.yaml'
    proves = {
        'post-upgrade': 'a stack check by the new Heat is CHECK_COMPLETE '
                        'for the stack and every resource, nested ones '
                        'too; an update works after it',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'label': 'before'})

    def update(self, ctx, record):
        """A stack check by the new Heat, then an ordinary update."""
        _api.action(ctx.conn, record, 'check')
        try:
            _api.wait_status(ctx, record, ('CHECK_COMPLETE',))
        except exceptions.UpgradeTestError as exc:
            self.fail(f'the new Heat\'s stack check of the old stack failed: '
                      f'{exc}')
        states = {r['resource_name']: r['resource_status'] for r in
                  _api.resources(ctx.conn, record, nested_depth=2)}
        wrong = {n: s for n, s in states.items() if s != 'CHECK_COMPLETE'}
        if wrong:
            self.fail(f'resources not CHECK_COMPLETE after the check: '
                      f'{wrong}')
        outputs = self.update_stack(ctx, record, {'label': 'after'})
        self.assert_equal('after', outputs.get('first'),
                          'first after the update')
