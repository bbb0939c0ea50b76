"""A nested template resource and a ResourceGroup scaled after the upgrade."""

from heat_upgrade_tests.checks import base


@base.register
class NestedGroup(base.ResourceCheck):
    name = 'nested_group'
    idempotent_id = '5b0e7a7e-2c55-4d0c-a1f4-3f7c4a9f6a12'
    description = ('A template resource registered through an environment '
                   'and an OS::Heat::ResourceGroup of it (3 members). After '
                   'the upgrade the group scales to 5; the 3 existing '
                   'members are kept, not replaced.')
    template = 'nested_group.yaml'
    environment = ('nested_group_env.yaml',)

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'count': 3})

    def verify(self, ctx, record):
        outputs = record.outputs
        values = outputs.get('member_values') or []
        if [v.split(':')[0] for v in values] != ['0', '1', '2']:
            self.fail(f'the group does not hold members 0, 1, 2: {values!r}')
        if not str(outputs.get('single_value', '')).startswith('-1:'):
            self.fail(f'the single template resource has no value: '
                      f'{outputs.get("single_value")!r}')

    def update(self, ctx, record):
        """count to 5: two members added, the 3 existing ones kept."""
        outputs = self.update_stack(ctx, record, {'count': 5})
        before = record.outputs
        values = outputs.get('member_values') or []
        refs = outputs.get('member_refs') or []
        if len(values) != 5 or len(refs) != 5:
            self.fail(f'the group did not scale to 5 members: {values!r}')
        self.assert_equal(before['member_values'], values[:3],
                          'values of the existing members')
        self.assert_equal(before['member_refs'], refs[:3],
                          'ids of the existing members (they were replaced)')
        self.assert_equal(before['single_value'], outputs.get('single_value'),
                          'the single template resource')
