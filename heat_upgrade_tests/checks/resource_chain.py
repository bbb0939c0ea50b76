"""An OS::Heat::ResourceChain scaled up and down after the upgrade.

A chain's members are addressed by position in a nested stack; after the
upgrade, growing and shrinking the chain must keep the members that stay
(same ids, same values), not rebuild them.
"""

from heat_upgrade_tests.checks import base

LINK = 'OS::Heat::RandomString'


@base.register
class ResourceChain(base.ResourceCheck):
    name = 'resource_chain'
    idempotent_id = '2fb47411-5885-467f-b2a6-ac6722e55340'
    description = ('An OS::Heat::ResourceChain of three RandomStrings. '
                   'After the upgrade it grows to five, then shrinks to '
                   'two; the members kept are not replaced.')
    template = 'resource_chain.yaml'
    proves = {
        'pre-upgrade': 'the chain holds three members',
        'post-upgrade': 'the same members after the upgrade; scaling up to '
                        'five keeps the first three, scaling down to two '
                        'keeps the first two',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'links': ','.join([LINK] * 3)})

    def verify(self, ctx, record):
        outputs = record.outputs
        for key in ('refs', 'values'):
            if len(outputs.get(key) or []) != 3:
                self.fail(f'the chain does not hold 3 members: '
                          f'{key}={outputs.get(key)!r}')

    def update(self, ctx, record):
        """Grow the chain to five, then shrink it to two; members kept."""
        outputs = self.update_stack(ctx, record,
                                    {'links': ','.join([LINK] * 5)})
        self._kept(record, outputs, 5, 3)
        self._kept(record, self.update_stack(
            ctx, record, {'links': ','.join([LINK] * 2)}), 2, 2)

    def _kept(self, record, outputs, size, kept):
        before = record.outputs
        if len(outputs.get('refs') or []) != size:
            self.fail(f'the chain did not scale to {size} members: '
                      f'{outputs.get("refs")!r}')
        self.assert_equal(before['refs'][:kept], outputs['refs'][:kept],
                          f'ids of the {kept} members kept at size {size}')
        self.assert_equal(before['values'][:kept], outputs['values'][:kept],
                          f'values of the {kept} members kept at size '
                          f'{size}')
