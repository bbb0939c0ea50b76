"""A Keystone project made by a stack: found with Heat down, deleted.

Deleting a stack holding an ``OS::Keystone::Project`` calls Neutron (the
project's default security group), so the check needs the network
service as well as Keystone.
"""

from heat_upgrade_tests.checks import base

CREATED = 'made by heat-upgrade-tests before the upgrade'
UPDATED = 'updated by heat-upgrade-tests after the upgrade'


@base.register
class KeystoneProject(base.ResourceCheck):
    name = 'keystone_project'
    idempotent_id = '5e0f5d8b-6a51-4c1e-9a3b-8f6d2c7e4b10'
    description = ('An OS::Keystone::Project; its deletion goes through '
                   'Neutron (the project\'s default security group).')
    template = 'keystone_project.yaml'
    needs_admin = True
    required_services = ('identity', 'network')
    required_resource_types = ('OS::Keystone::Project',)
    proves = {
        'during-upgrade': 'with Heat down, Keystone has the project with '
                          'its description',
        'post-upgrade': 'the same project; an update changes its '
                        'description in Keystone, in place',
        'destroy': 'the project is gone from Keystone (the delete went '
                   'through Neutron)',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'name': f'hut-project-{ctx.run_id}',
                                        'description': CREATED})

    def verify(self, ctx, record):
        self.verify_project(ctx, record, CREATED)

    def verify_outside_heat(self, ctx, record):
        self.verify_project(ctx, record, CREATED)

    def verify_project(self, ctx, record, description):
        project = ctx.admin_conn.identity.find_project(
            record.outputs['project_id'], ignore_missing=True)
        if project is None:
            self.fail(f'project {record.parameters["name"]} made by stack '
                      f'{record.stack.name} is gone from Keystone')
        self.assert_equal(description, project.description,
                          'the project\'s description in Keystone')

    def update(self, ctx, record):
        """A new description; the same project carries it in Keystone."""
        outputs = self.update_stack(ctx, record, {'description': UPDATED})
        self.assert_equal(record.outputs, outputs,
                          'the project id after the update (replaced)')
        self.verify_project(ctx, record, UPDATED)
