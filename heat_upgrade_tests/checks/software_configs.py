"""Software configs made before the upgrade, read back after it.

Software configs are immutable data in Heat's database that servers fetch
long after the stack was made; the new release must serve them unchanged,
replace them on an update, and delete them with the stack.
"""

import dataclasses
from typing import Any

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import base

FIELDS = ('name', 'group', 'config', 'inputs', 'outputs', 'options')


@dataclasses.dataclass
class Record(base.CheckRecord):
    """Each config as the old Heat served it, by kind (FIELDS only)."""

    configs: dict[str, dict[str, Any]] = dataclasses.field(
        default_factory=dict)


@base.register
class SoftwareConfigs(base.ResourceCheck):
    name = 'software_configs'
    idempotent_id = 'e08edb86-a081-42b5-9253-c524fd040f23'
    description = ('An OS::Heat::SoftwareConfig (script with inputs, '
                   'outputs and options), a StructuredConfig, a CloudConfig '
                   'and a MultipartMime of two of them.')
    template = 'software_configs.yaml'
    record_type = Record
    proves = {
        'pre-upgrade': 'each config is served by the software-config API '
                       'with the label in it',
        'post-upgrade': 'every config is served unchanged by the new Heat; '
                        'an update of the label replaces them (new ids, '
                        'new content) and the old ones are deleted',
        'destroy': 'the configs are gone from the API',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'label': 'before'})
        record.configs = self.read_configs(ctx,
                                           record.outputs['config_ids'])

    def read_configs(self, ctx, ids):
        found = {}
        for kind, config_id in ids.items():
            config = _api.software_config(ctx.conn, config_id)
            if config is None:
                self.fail(f'the {kind} software config {config_id} is gone '
                          f'from Heat')
            found[kind] = {f: config.get(f) for f in FIELDS}
        return found

    def verify(self, ctx, record):
        """Every config served unchanged, then what each one holds.

        The read-back compares what Heat serves now with what create read
        from it: it holds before the upgrade (the same Heat; configs are
        immutable) as well as after it.
        """
        self.assert_equal(record.configs, self.read_configs(
            ctx, record.outputs['config_ids']),
            'software configs read back')
        self.check_configs(ctx, record, record.outputs)

    def check_configs(self, ctx, record, outputs, label='before'):
        configs = record.configs if label == 'before' else (
            self.read_configs(ctx, outputs['config_ids']))
        if f'{label}: $greeting' not in configs['script']['config']:
            self.fail(f'the script config does not hold the label: '
                      f'{configs["script"]["config"]!r}')
        self.assert_equal({'label': label, 'items': [1, 2, 3],
                           'nested': {'key': 'value'}},
                          configs['structured']['config'],
                          'the structured config')
        if label not in configs['cloud']['config']:
            self.fail('the cloud config does not hold the label')
        mime = configs['mime']['config']
        if 'multipart/mixed' not in mime or '#cloud-config' not in mime or (
                f'{label}: $greeting' not in mime):
            self.fail(f'the multipart config does not hold its two parts: '
                      f'{mime[:300]!r}')

    def update(self, ctx, record):
        """A new label; the configs are replaced and the old ones gone."""
        outputs = self.update_stack(ctx, record, {'label': 'after'})
        old, new = record.outputs['config_ids'], outputs['config_ids']
        for kind in old:
            if old[kind] == new[kind]:
                self.fail(f'the {kind} config was not replaced by the '
                          f'update (configs are immutable)')
        self.check_configs(ctx, record, outputs, label='after')
        self._gone(ctx, old, 'replaced by the update')
        # destroy must find the new configs gone, not the old ones.
        record.outputs = outputs

    def verify_gone(self, ctx, record):
        self._gone(ctx, record.outputs['config_ids'],
                   'after the stack was deleted')

    def _gone(self, ctx, ids, when):
        left = [f'{kind} {i}' for kind, i in ids.items()
                if _api.software_config(ctx.conn, i) is not None]
        if left:
            self.fail(f'software configs still served {when}: '
                      f'{", ".join(left)}')
