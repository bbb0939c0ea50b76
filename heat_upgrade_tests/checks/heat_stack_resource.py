"""OS::Heat::Stack: a stack that makes another stack through Heat's API.

The child is a stack of its own, reached by the parent through Heat's
client; after the upgrade the parent must still find, update and delete
it.
"""

import openstack.exceptions as sdk_exc

from heat_upgrade_tests.checks import base


@base.register
class HeatStackResource(base.ResourceCheck):
    name = 'heat_stack_resource'
    idempotent_id = '5b559327-ca51-438e-9928-74558689b3f2'
    description = ('An OS::Heat::Stack whose child (a RandomString and a '
                   'labelled value) is a stack of its own, made through '
                   'Heat\'s API; the parent outputs the child\'s outputs.')
    template = 'heat_stack_resource.yaml'
    proves = {
        'pre-upgrade': 'the child stack exists and the parent reads its '
                       'outputs',
        'post-upgrade': 'the child is still there, CREATE_COMPLETE, with '
                        'the same outputs; an update of the parent updates '
                        'the child in place (same id, same random string)',
        'destroy': 'the child stack is deleted with the parent',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'label': 'before'})

    def verify(self, ctx, record):
        """The child stack is still there, then the parent's outputs."""
        child_id = record.outputs['child_id']
        try:
            child = ctx.stacks.get(child_id)
        except Exception as exc:
            self.fail(f'child stack {child_id} cannot be shown: {exc}')
        if child.status not in ('CREATE_COMPLETE', 'UPDATE_COMPLETE'):
            self.fail(f'child stack {child_id} is {child.status}: '
                      f'{child.status_reason}')
        self.check_outputs(record.outputs)

    def check_outputs(self, outputs, label='before'):
        child = outputs.get('child_outputs') or {}
        random = child.get('random_value')
        self.assert_equal(f'{label}-{random}', child.get('labelled'),
                          'the child\'s labelled output')

    def update(self, ctx, record):
        """label to after: the child updated in place (same id, random)."""
        outputs = self.update_stack(ctx, record, {'label': 'after'})
        before = record.outputs
        self.assert_equal(before['child_id'], outputs.get('child_id'),
                          'the child stack id (it was replaced)')
        self.assert_equal(before['child_outputs']['random_value'],
                          outputs['child_outputs'].get('random_value'),
                          'the child\'s random string')
        self.check_outputs(outputs, label='after')

    def verify_gone(self, ctx, record):
        try:
            child = ctx.stacks.get(record.outputs['child_id'])
        except sdk_exc.NotFoundException:
            return
        if child.status != 'DELETE_COMPLETE':
            self.fail(f'child stack {child.id} is still there: '
                      f'{child.status}')
