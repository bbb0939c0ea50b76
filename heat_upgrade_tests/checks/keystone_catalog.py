"""Keystone's catalog objects made by a stack, found with Heat down.

Domains, regions, services and endpoints made by Heat are shared
infrastructure: they must be intact in Keystone while Heat is down, follow
an update after the upgrade, and go away with the stack. (No
OS::Keystone::Project: deleting one calls Neutron, absent from the
mini-cloud.)
"""

from heat_upgrade_tests.checks import base

CREATED = 'made by heat-upgrade-tests before the upgrade'
UPDATED = 'updated by heat-upgrade-tests after the upgrade'


def _disable_domain(check, ctx, record) -> str:
    """Disable the stack's domain in Keystone, so Heat can delete it."""
    domain_id = record.outputs['domain_id']
    ctx.admin_conn.identity.update_domain(domain_id, is_enabled=False)
    return f'domain {domain_id} disabled in Keystone'


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
                   '27.0.1',
            # Nothing is left behind: the domain is disabled in Keystone
            # and the delete retried; the refusal is still reported.
            refusal='Cannot delete a domain that is enabled',
            repair=_disable_domain),
    )
    proves = {
        'pre-upgrade': 'each object is in Keystone as the template says',
        'during-upgrade': 'with Heat down, each object is found in Keystone '
                          'itself, endpoint linked to service and region',
        'post-upgrade': 'the same ids; an update changes the descriptions '
                        'and the endpoint\'s URL in Keystone, in place',
        'destroy': 'every object is gone from Keystone',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {
            'description': CREATED, 'service_type': f'hut-{ctx.run_id}',
            'url': f'http://hut.invalid/{ctx.run_id}/v1'})

    def verify(self, ctx, record):
        self.verify_in_keystone(ctx, record, CREATED,
                                record.parameters['url'])

    def verify_outside_heat(self, ctx, record):
        self.verify_in_keystone(ctx, record, CREATED,
                                record.parameters['url'])

    def update(self, ctx, record):
        """New descriptions and URL, in place: the same ids in Keystone."""
        outputs = self.update_stack(ctx, record, {
            'description': UPDATED,
            'url': f'http://hut.invalid/{ctx.run_id}/v2'})
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
