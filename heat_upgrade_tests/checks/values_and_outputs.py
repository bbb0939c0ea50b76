"""RandomString and Value: outputs survive the upgrade and follow updates."""

from heat_upgrade_tests.checks import base


@base.register
class ValuesAndOutputs(base.ResourceCheck):
    name = 'values_and_outputs'
    idempotent_id = '0c6a1a52-6f0e-4c41-9d43-1b1f2a8f3e01'
    description = ('An OS::Heat::RandomString and an OS::Heat::Value built '
                   'from it. After the upgrade the outputs are unchanged; an '
                   'update of the label changes the derived value and keeps '
                   'the random string.')
    template = 'values_and_outputs.yaml'

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'label': 'before'})

    def verify(self, ctx, record):
        outputs = record.outputs
        random = outputs.get('random_value')
        if not isinstance(random, str) or len(random) != 24:
            self.fail(f'random_value is not a 24-character string: '
                      f'{random!r}')
        self.assert_equal(f'before-{random}', outputs.get('labelled_value'),
                          'labelled_value')

    def update(self, ctx, record):
        """A new label: the derived value follows, the random string stays."""
        outputs = self.update_stack(ctx, record, {'label': 'after'})
        random = record.outputs['random_value']
        self.assert_equal(random, outputs.get('random_value'),
                          'random_value after the update')
        self.assert_equal(f'after-{random}', outputs.get('labelled_value'),
                          'labelled_value after the update')
