"""Keystone's catalog objects made by a stack, found with Heat down.

Domains, regions, services and endpoints made by Heat are shared
infrastructure: they must be intact in Keystone while Heat is down, follow
an update after the upgrade, and go away with the stack. (No
OS::Keystone::Project: deleting one calls Neutron, absent from the
mini-cloud.)
"""

from heat_upgrade_tests.checks import base
from heat_upgrade_tests import exceptions

CREATED = 'made by heat-upgrade-tests before the upgrade'
UPDATED = 'updated by heat-upgrade-tests after the upgrade'


@base.register
class KeystoneCatalog(base.ResourceCheck):
    name = 'keystone_catalog'
    idempotent_id = '7b4ef7e7-c81e-413f-8fca-7f6dbb94268b'
    description = ('OS::Keystone::Domain, Region, Service (of a type of its '
                   'own) and a public Endpoint of it in the region.')
    template = 'keystone_catalog.yaml'
    needs_admin = True
    required_services = ('identity',)
    known_failures = (
        base.KnownFailure(
            phase='destroy', to_series='..2026.2',
            reason='OS::Keystone::Domain has no handle_delete: Heat asks '
                   'Keystone to delete the enabled domain without '
                   'disabling it first, Keystone refuses (HTTP 403) and '
                   'the stack is DELETE_FAILED; seen with Heat 26.0.2 and '
                   '27.0.1'),
    )
    proves = {
        'pre-upgrade': 'each object is in Keystone as the template says',
        'during-upgrade': 'with Heat down, each object is found in Keystone '
                          'itself, endpoint linked to service and region',
        'post-upgrade': 'the same ids; an update changes the descriptions '
                        'and the endpoint\'s URL in Keystone, in place',
        'destroy': 'every object is gone from Keystone',
    }

    def create_parameters(self, ctx):
        return {'description': CREATED, 'service_type': f'hut-{ctx.run_id}',
                'url': f'http://hut.invalid/{ctx.run_id}/v1'}

    def verify(self, ctx, record):
        self.verify_in_keystone(ctx, record, CREATED,
                                record.parameters['url'])

    def verify_heat_down(self, ctx, record):
        self.verify_in_keystone(ctx, record, CREATED,
                                record.parameters['url'])

    def update_parameters(self, ctx, record):
        return {'description': UPDATED,
                'url': f'http://hut.invalid/{ctx.run_id}/v2'}

    def verify_updated(self, ctx, record, outputs):
        self.assert_equal(record.outputs, outputs,
                          'ids after the update (objects were replaced)')
        self.verify_in_keystone(ctx, record, UPDATED,
                                f'http://hut.invalid/{ctx.run_id}/v2')

    def _find(self, ctx, record):
        identity = ctx.admin_conn.identity
        ids = record.outputs
        return {
            'domain': identity.find_domain(ids['domain_id'],
                                           ignore_missing=True),
            'region': identity.find_region(ids['region_id'],
                                           ignore_missing=True),
            'service': identity.find_service(ids['service_id'],
                                             ignore_missing=True),
            'endpoint': identity.find_endpoint(ids['endpoint_id'],
                                               ignore_missing=True),
        }

    def verify_in_keystone(self, ctx, record, description, url):
        """Look each object up in Keystone itself, never through Heat."""
        found = self._find(ctx, record)
        for kind, obj in found.items():
            if obj is None:
                self.fail(f'{kind} {record.outputs[kind + "_id"]} made '
                          f'by stack {record.stack.name} is gone from '
                          f'Keystone')
        for kind in ('domain', 'region', 'service'):
            self.assert_equal(description, found[kind].description,
                              f'{kind} description in Keystone')
        endpoint = found['endpoint']
        self.assert_equal(
            (found['service'].id, found['region'].id, 'public', url),
            (endpoint.service_id, endpoint.region_id, endpoint.interface,
             endpoint.url), 'the endpoint (service, region, interface, url)')
        self.assert_equal(record.parameters['service_type'],
                          found['service'].type, 'the service type')

    def destroy(self, ctx, record):
        """Delete the stack; work around the enabled-domain refusal.

        When Heat cannot delete the enabled domain (the known finding), the
        domain is disabled in Keystone and the delete retried, so nothing
        is left behind; the refusal is then reported with its evidence.
        """
        stack_id = record.stack.id
        try:
            ctx.stacks.delete(stack_id)
        except exceptions.UpgradeTestError as exc:
            if 'Cannot delete a domain that is enabled' not in str(exc):
                raise
            ctx.admin_conn.identity.update_domain(
                record.outputs['domain_id'], is_enabled=False)
            ctx.stacks.delete(stack_id)
            self.verify_gone(ctx, record)
            self.fail(f'Heat could not delete the enabled domain '
                      f'{record.outputs["domain_id"]} ({exc}); the stack '
                      f'was deleted after disabling it in Keystone')
        self.verify_gone(ctx, record)

    def verify_gone(self, ctx, record):
        left = [f'{kind} {obj.id}' for kind, obj in
                self._find(ctx, record).items() if obj is not None]
        if left:
            self.fail(f'still in Keystone after the stack was deleted: '
                      f'{", ".join(left)}')
