"""A volume attached to a server, found attached with Heat down (gate
only)."""

from heat_upgrade_tests.checks import _workload
from heat_upgrade_tests.checks import base


@base.register
class VolumeAttached(base.ResourceCheck):
    name = 'volume_attached'
    idempotent_id = 'a0e553f5-a836-4408-a3de-4b1a6444aee0'
    description = ('An OS::Cinder::Volume attached with '
                   'OS::Cinder::VolumeAttachment to an OS::Nova::Server.')
    template = 'volume_attached.yaml'
    required_services = ('compute', 'volumev3', 'network', 'image')
    required_resource_types = ('OS::Cinder::VolumeAttachment',)
    proves = {
        'during-upgrade': 'with Heat down, Cinder has the volume in-use, '
                          'attached to the server Nova has',
        'post-upgrade': 'the same ids; an update changes the volume\'s '
                        'description in Cinder, still attached',
        'destroy': 'the volume is gone from Cinder',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, self._parameters(ctx))

    def _parameters(self, ctx):
        """The create's: the cloud's image and flavor, a description."""
        params = _workload.server_parameters(ctx.conn, ctx.conf)
        return {'image': params['image'], 'flavor': params['flavor'],
                'description': 'made before the upgrade'}

    def verify(self, ctx, record):
        self.verify_attached(ctx, record, 'made before the upgrade')

    def verify_outside_heat(self, ctx, record):
        self.verify_attached(ctx, record, 'made before the upgrade')

    def verify_attached(self, ctx, record, description):
        ids = record.outputs
        volume = ctx.conn.block_storage.get_volume(ids['volume_id'])
        self.assert_equal('in-use', volume.status, 'the volume\'s status')
        servers = [a['server_id'] for a in volume.attachments or []]
        if ids['server_id'] not in servers:
            self.fail(f'volume {ids["volume_id"]} is not attached to server '
                      f'{ids["server_id"]} (attached to {servers})')
        self.assert_equal(description, volume.description,
                          'the volume\'s description in Cinder')

    def update(self, ctx, record):
        """A new description of the volume, seen in Cinder, still attached."""
        outputs = self.update_stack(
            ctx, record, {'description': 'updated after the upgrade'})
        self.assert_equal(record.outputs, outputs, 'ids after the update')
        self.verify_attached(ctx, record, 'updated after the upgrade')
