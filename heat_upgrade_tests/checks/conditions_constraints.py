"""Conditions and parameter constraints across an upgrade.

Conditions decide which resources a stack has; constraints refuse bad
parameters. The new release must evaluate the old stack's conditions the
same way, flip them on an update, and still refuse what the template
forbids.
"""

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import base

# One parameter breaking each kind of constraint.
BAD_PARAMETERS = (
    ('env_type', 'staging', 'allowed_values'),
    ('size', 9, 'range'),
    ('prefix', 'hu', 'length'),
    ('prefix', 'Hut_upgrade', 'allowed_pattern'),
)


@base.register
class ConditionsConstraints(base.ResourceCheck):
    name = 'conditions_constraints'
    idempotent_id = '07a3ff93-581c-4241-bbec-49531fbb2168'
    description = ('Parameters with allowed_values, range, length and '
                   'allowed_pattern constraints; conditions (equals, not, '
                   'and, or) choosing a test or a prod TestResource and the '
                   'size of a ResourceGroup; if in outputs, an output with '
                   'a condition.')
    template = 'conditions_constraints.yaml'
    proves = {
        'pre-upgrade': 'the test branch exists, the prod one does not',
        'post-upgrade': 'the same outputs; the new Heat refuses an update '
                        'breaking each constraint; an update to prod '
                        'deletes the test resource, creates the prod one '
                        'and grows the group to 3',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'env_type': 'test', 'size': 2,
                                        'prefix': 'hut'})

    def verify(self, ctx, record):
        """The test branch, then Heat refuses what the constraints forbid.

        The refused updates change nothing: Heat validates the parameters
        before it touches the stack.
        """
        outputs = record.outputs
        self.assert_equal('hut-test', outputs.get('mode'), 'mode')
        self.assert_equal(1, len(outputs.get('group_size') or []),
                          'members of the group in the test branch')
        if not outputs.get('test_only_id'):
            self.fail('the conditional output test_only_id is missing')
        for param, value, constraint in BAD_PARAMETERS:
            params = dict(record.parameters, **{param: value})
            body = _api.template_body(ctx.conn, self.template_path(),
                                      parameters=params)
            status, message = _api.refusal(ctx.conn, 'PUT',
                                           _api.stack_url(record), body)
            if status != 400 or f"Parameter '{param}' is invalid" not in (
                    message):
                self.fail(f'Heat did not refuse an update breaking '
                          f'the {constraint} constraint ({param}={value!r}): '
                          f'HTTP {status}: {message}')

    def update(self, ctx, record):
        """To prod, size 3: test_only swapped for prod_only, 3 members."""
        outputs = self.update_stack(ctx, record,
                                    {'env_type': 'prod', 'size': 3})
        self.assert_equal('hut-prod', outputs.get('mode'),
                          'mode after the update')
        self.assert_equal(3, len(outputs.get('group_size') or []),
                          'members of the group in the prod branch')
        if outputs.get('test_only_id') is not None:
            self.fail(f'the conditional output test_only_id still has a '
                      f'value: {outputs["test_only_id"]!r}')
        names = {r['resource_name']
                 for r in _api.resources(ctx.conn, record)}
        if 'test_only' in names or 'prod_only' not in names:
            self.fail(f'the update did not swap test_only for prod_only: '
                      f'resources {sorted(names)}')
