"""The oldest HOT version (2013-05-23) and its functions across an upgrade.

Templates written years ago are still in use; the new release must keep
evaluating them exactly as the old one did.
"""

from heat_upgrade_tests.checks import base


@base.register
class HotOldestVersion(base.ResourceCheck):
    name = 'hot_oldest_version'
    idempotent_id = '93532272-10f4-40f2-8530-2c380451df78'
    description = ('A heat_template_version 2013-05-23 template: a '
                   'RandomString, an OS::Heat::TestResource built with '
                   'str_replace, outputs with Fn::Join and Fn::Select.')
    template = 'hot_oldest_version.yaml'
    proves = {
        'pre-upgrade': 'the old Heat evaluates 2013-05-23 functions as '
                       'documented',
        'post-upgrade': 'the new Heat shows the same outputs; an update of '
                        'the label re-evaluates them and keeps the random '
                        'string',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'label': 'before'})

    def verify(self, ctx, record):
        self.check_outputs(record.outputs)

    def check_outputs(self, outputs, label='before'):
        random = outputs.get('random_value')
        if not isinstance(random, str) or len(random) != 16:
            self.fail(f'random_value is not a 16-character string: '
                      f'{random!r}')
        self.assert_equal(f'{label}/{random}', outputs.get('labelled'),
                          'labelled (str_replace)')
        self.assert_equal(label, outputs.get('selected'),
                          'selected (Fn::Select)')
        joined = str(outputs.get('joined'))
        if not joined.startswith(f'{label},'):
            self.fail(f'joined (Fn::Join) is {joined!r}')

    def update(self, ctx, record):
        """label to after: the functions re-evaluated, the same random."""
        outputs = self.update_stack(ctx, record, {'label': 'after'})
        self.assert_equal(record.outputs['random_value'],
                          outputs.get('random_value'),
                          'random_value after the update')
        self.check_outputs(outputs, label='after')
