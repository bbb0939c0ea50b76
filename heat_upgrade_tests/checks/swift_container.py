"""A Swift container made by a stack, with an object in it, found in Swift
with Heat down and read through a temporary URL with Keystone down too."""

import dataclasses
import secrets
from urllib import parse

from heat_upgrade_tests.checks import _workload
from heat_upgrade_tests.checks import base
from heat_upgrade_tests import exceptions

PROBE = 'upgrade-probe'
# The temporary URL made before the upgrade reads one object, and only
# for this long: long enough for a whole run, short as a capability.
TEMP_URL_SECONDS = 6 * 3600
NO_API_SKIP = ('grenade stops Swift with every other service before '
               'verify_noapi, so no object can be read then; the '
               'mini-cloud keeps Swift\'s proxy up at its no-api moment')


@dataclasses.dataclass
class ContainerRecord(base.CheckRecord):
    # A GET-only temporary URL of the probe object (signed with a key the
    # check set on the account and never kept), expiring after
    # TEMP_URL_SECONDS.
    probe_url: str = ''
    probe_body: str = ''
    # The container the post-upgrade update made in place of the first
    # one (Heat replaces it), for the destroy phase to look for too.
    replaced_by: str = ''


@base.register
class SwiftContainer(base.ResourceCheck):
    name = 'swift_container'
    idempotent_id = 'ded4f638-13d8-4d5a-909d-ce7be9dbb703'
    description = ('An OS::Swift::Container with X-Container-Meta '
                   'metadata and an object put in it by the check; a '
                   'temporary URL of the object is read with every API '
                   'but Swift\'s data path down.')
    template = 'swift_container.yaml'
    required_services = ('object-store',)
    required_resource_types = ('OS::Swift::Container',)
    record_type = ContainerRecord
    proves = {
        'during-upgrade': 'with Heat down, Swift has the container with '
                          'its metadata and the object',
        'no-api': 'with Keystone and Heat down, the object is read '
                  'through the temporary URL made before the upgrade '
                  '(mini-cloud only)',
        'post-upgrade': 'the same container; an update of its metadata '
                        'replaces it (Heat updates no property in place): '
                        'the new one has the label, the old one is gone',
        'destroy': 'the container is gone from Swift',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'label': 'before'})
        store = ctx.conn.object_store
        name = record.outputs['name']
        record.probe_body = f'made before the upgrade by {ctx.run_id}'
        store.upload_object(container=name, name=PROBE,
                            data=record.probe_body.encode())
        # The secondary key: Heat's signal handles set the first one.
        key = secrets.token_hex(16)
        store.set_account_temp_url_key(key, secondary=True)
        endpoint = parse.urlsplit(store.get_endpoint())
        path = endpoint.path.rstrip('/') + f'/{name}/{PROBE}'
        signed = store.generate_temp_url(path, TEMP_URL_SECONDS, 'GET',
                                         temp_url_key=key)
        record.probe_url = f'{endpoint.scheme}://{endpoint.netloc}{signed}'

    def verify(self, ctx, record):
        self.verify_label(ctx, record, 'before')

    def verify_outside_heat(self, ctx, record):
        self.verify_label(ctx, record, 'before')

    def verify_data_plane(self, ctx, record):
        if not ctx.conf.phases.swift_serves_at_no_api:
            raise exceptions.CheckSkipped(NO_API_SKIP)
        body = _workload.http_get(record.probe_url, timeout=10)
        self.assert_equal(record.probe_body, body,
                          f'object {PROBE} read through its temporary URL '
                          f'with Keystone down')

    def verify_label(self, ctx, record, label, name=None):
        """The container has the label and (the first one) the probe.

        The probe object was put in the container the stack made first;
        a replacement made by the update is new and empty.
        """
        store = ctx.conn.object_store
        name = name or record.outputs['name']
        container = store.get_container_metadata(name)
        metadata = {k.lower(): v for k, v in
                    (container.metadata or {}).items()}
        self.assert_equal(label, metadata.get('label'),
                          f'the label of container {name} in Swift')
        if name != record.outputs['name']:
            return
        if PROBE not in [o.name for o in store.objects(name)]:
            self.fail(f'object {PROBE} of container {name} is gone from '
                      f'Swift')
        body = store.download_object(PROBE, container=name)
        self.assert_equal(record.probe_body, body.decode(),
                          f'object {PROBE} in Swift')

    def update(self, ctx, record):
        """A new label: Heat replaces the container; the old one is gone."""
        outputs = self.update_stack(ctx, record, {'label': 'after'})
        # Heat's OS::Swift::Container allows no property to change in
        # place: a new label replaces the container. The new Heat must
        # make the new one with the label, and delete the old one.
        old, new = record.outputs['name'], outputs.get('name')
        if not new or new == old:
            self.fail(f'the update kept container {old}: Heat replaces an '
                      f'OS::Swift::Container whose metadata changes')
        record.replaced_by = new
        self.verify_label(ctx, record, 'after', name=new)
        names = [c.name for c in ctx.conn.object_store.containers()]
        if old in names:
            self.fail(f'container {old} is still in Swift after the update '
                      f'replaced it with {new}')

    def verify_gone(self, ctx, record):
        names = [c.name for c in ctx.conn.object_store.containers()]
        for name in (record.outputs['name'], record.replaced_by):
            if name and name in names:
                self.fail(f'container {name} is still in Swift after the '
                          f'stack was deleted')
