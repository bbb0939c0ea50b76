"""A snapshot taken before the upgrade, restored after it.

Snapshots hold a stack's template, environment and resource data as the
old release serialised them; the new release must still list them and
restore the stack from one.
"""

import dataclasses
from typing import Any

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import base


@dataclasses.dataclass
class Record(base.CheckRecord):
    """The snapshot taken before the upgrade.

    ``{'id': ..., 'outputs': ...}``: its id and the outputs it holds.
    """

    snapshot: dict[str, Any] | None = None


@base.register
class SnapshotRestore(base.ResourceCheck):
    name = 'snapshot_restore'
    idempotent_id = '2abca4ae-9dce-4e7b-9d5f-4a7cbc3cb243'
    description = ('A RandomString and a TestResource built from it. '
                   'Before the upgrade: a snapshot, then an update of the '
                   'label. After it: a restore from the snapshot.')
    template = 'snapshot_restore.yaml'
    expected_status = ('UPDATE_COMPLETE',)
    record_type = Record
    proves = {
        'pre-upgrade': 'the snapshot is COMPLETE; the update after it '
                       'changes the label',
        'post-upgrade': 'the new Heat lists the snapshot as COMPLETE; '
                        'restoring it brings back the snapshot\'s outputs '
                        '(old label, same random string)',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'label': 'before'})
        url = f'{_api.stack_url(record)}/snapshots'
        snapshot = _api.call(ctx.conn, 'POST', url, {'name': 'hut-before'})
        record.snapshot = {'id': snapshot['id'], 'outputs': record.outputs}
        if ctx.save:
            ctx.save()
        _api.wait_status(ctx, record, ('SNAPSHOT_COMPLETE',))
        record.outputs = self.update_stack(ctx, record, {'label': 'changed'})
        record.parameters = {'label': 'changed'}

    def verify(self, ctx, record):
        random = record.snapshot['outputs']['random_value']
        self.assert_equal(f'changed-{random}', record.outputs.get('labelled'),
                          'labelled after the update')
        self.verify_snapshot(ctx, record)

    def verify_snapshot(self, ctx, record):
        snapshots = _api.call(ctx.conn, 'GET',
                              f'{_api.stack_url(record)}/snapshots')
        found = {s['id']: s for s in snapshots['snapshots']}
        snapshot = found.get(record.snapshot['id'])
        if snapshot is None:
            self.fail(f'snapshot {record.snapshot["id"]} is gone; the '
                      f'stack has {sorted(found)}')
        self.assert_equal('COMPLETE', snapshot['status'],
                          'the snapshot\'s status')

    def update(self, ctx, record):
        """Restore the old snapshot; its outputs come back."""
        _api.call(ctx.conn, 'POST', f'{_api.stack_url(record)}/snapshots/'
                                    f'{record.snapshot["id"]}/restore')
        _api.wait_status(ctx, record, ('RESTORE_COMPLETE',))
        self.assert_equal(record.snapshot['outputs'],
                          ctx.stacks.outputs(record.stack.id),
                          'outputs after the restore')
