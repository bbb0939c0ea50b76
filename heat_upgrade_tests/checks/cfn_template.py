"""A CloudFormation-format template across an upgrade.

AWSTemplateFormatVersion templates are Heat's oldest format and still
accepted; the new release must evaluate a stack made from one the same way.
"""

from heat_upgrade_tests.checks import base


@base.register
class CfnTemplate(base.ResourceCheck):
    name = 'cfn_template'
    idempotent_id = 'd04c3260-f865-40a7-b9fa-30b7e1a520de'
    description = ('An AWSTemplateFormatVersion 2010-09-09 template: a '
                   'RandomString and a TestResource joined with Fn::Join, '
                   'outputs with Ref and Fn::GetAtt.')
    template = 'cfn_template.yaml'
    proves = {
        'pre-upgrade': 'Ref, Fn::GetAtt and Fn::Join give the documented '
                       'results',
        'post-upgrade': 'the same outputs; an update of the Label parameter '
                        'changes the joined value in place (same resource)',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'Label': 'before'})

    def verify(self, ctx, record):
        self.check_outputs(record.outputs)

    def check_outputs(self, outputs, label='before'):
        random = outputs.get('RandomValue')
        if not isinstance(random, str) or len(random) != 20:
            self.fail(f'RandomValue is not a 20-character string: '
                      f'{random!r}')
        self.assert_equal(f'{label}-{random}', outputs.get('Labelled'),
                          'Labelled (Fn::Join)')
        if not outputs.get('TestRef'):
            self.fail('TestRef (Ref of the TestResource) is empty')

    def update(self, ctx, record):
        """Label to after: the joined value changes, the same resources."""
        outputs = self.update_stack(ctx, record, {'Label': 'after'})
        before = record.outputs
        self.assert_equal(before['RandomValue'], outputs.get('RandomValue'),
                          'RandomValue after the update')
        self.assert_equal(before['TestRef'], outputs.get('TestRef'),
                          'TestRef after the update (the resource was '
                          'replaced)')
        self.check_outputs(outputs, label='after')
