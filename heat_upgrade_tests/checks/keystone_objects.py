"""Keystone objects made by a stack, found in Keystone while Heat is down."""

from heat_upgrade_tests.checks import base

CREATED = 'made by heat-upgrade-tests before the upgrade'
UPDATED = 'updated by heat-upgrade-tests after the upgrade'


@base.register
class KeystoneObjects(base.ResourceCheck):
    name = 'keystone_objects'
    idempotent_id = 'a3d9c1e4-7b2f-4f6e-8c1d-2e5b9a7d4c33'
    description = ('OS::Keystone::Role, Group, User (member of the group) '
                   'and User/GroupRoleAssignment on a project. With Heat '
                   'down all are found directly in Keystone; after the '
                   'upgrade an update changes the user\'s and group\'s '
                   'descriptions in Keystone; after delete all are gone.')
    template = 'keystone_objects.yaml'
    needs_admin = True
    required_services = ('identity',)

    def create(self, ctx, record):
        self.create_stack(ctx, record,
                          {'description': CREATED,
                           'project': ctx.conn.current_project_id})

    def verify(self, ctx, record):
        self.verify_in_keystone(ctx, record, CREATED)

    def verify_outside_heat(self, ctx, record):
        self.verify_in_keystone(ctx, record, CREATED)

    def update(self, ctx, record):
        """New descriptions; the same objects carry them in Keystone."""
        outputs = self.update_stack(ctx, record, {'description': UPDATED})
        self.assert_equal(record.outputs, outputs,
                          'ids after the update (objects were replaced)')
        self.verify_in_keystone(ctx, record, UPDATED)

    def verify_in_keystone(self, ctx, record, description):
        """Look each object up in Keystone itself, never through Heat."""
        identity = ctx.admin_conn.identity
        ids = record.outputs
        project = record.parameters['project']
        user = identity.find_user(ids['user_id'], ignore_missing=True)
        group = identity.find_group(ids['group_id'], ignore_missing=True)
        role = identity.find_role(ids['role_id'], ignore_missing=True)
        for kind, key, found in (('user', 'user_id', user),
                                 ('group', 'group_id', group),
                                 ('role', 'role_id', role)):
            if found is None:
                self.fail(f'{kind} {ids[key]} made by stack '
                          f'{record.stack.name} is gone from Keystone')
        self.assert_equal(description, user.description,
                          'user description in Keystone')
        self.assert_equal(description, group.description,
                          'group description in Keystone')
        if not identity.check_user_in_group(user, group):
            self.fail(f'user {user.id} is no longer in group {group.id}')
        for actor, query in (('user', {'user_id': user.id}),
                             ('group', {'group_id': group.id})):
            assignments = list(identity.role_assignments(
                role_id=role.id, scope_project_id=project, **query))
            if not assignments:
                self.fail(f'the {actor} has lost role {role.id} on project '
                          f'{project}')
