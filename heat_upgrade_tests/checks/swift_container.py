"""A Swift container made by a stack, found in Swift with Heat down (gate
only)."""

from heat_upgrade_tests.checks import base


@base.register
class SwiftContainer(base.ResourceCheck):
    name = 'swift_container'
    idempotent_id = 'ded4f638-13d8-4d5a-909d-ce7be9dbb703'
    description = ('An OS::Swift::Container with X-Container-Meta '
                   'metadata.')
    template = 'swift_container.yaml'
    required_services = ('object-store',)
    required_resource_types = ('OS::Swift::Container',)
    proves = {
        'during-upgrade': 'with Heat down, Swift has the container with '
                          'its metadata',
        'post-upgrade': 'the same container; an update changes its '
                        'metadata in Swift',
        'destroy': 'the container is gone from Swift',
    }

    def create_parameters(self, ctx):
        return {'label': 'before'}

    def verify(self, ctx, record):
        self.verify_label(ctx, record, 'before')

    def verify_heat_down(self, ctx, record):
        self.verify_label(ctx, record, 'before')

    def verify_label(self, ctx, record, label):
        name = record.outputs['name']
        container = ctx.conn.object_store.get_container_metadata(name)
        metadata = {k.lower(): v for k, v in
                    (container.metadata or {}).items()}
        self.assert_equal(label, metadata.get('label'),
                          f'the label of container {name} in Swift')

    def update_parameters(self, ctx, record):
        return {'label': 'after'}

    def verify_updated(self, ctx, record, outputs):
        self.assert_equal(record.outputs, outputs,
                          'the container name after the update')
        self.verify_label(ctx, record, 'after')

    def verify_gone(self, ctx, record):
        names = [c.name for c in ctx.conn.object_store.containers()]
        if record.outputs['name'] in names:
            self.fail('the container is still in Swift after the stack '
                      'was deleted')
