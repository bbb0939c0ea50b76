"""Events and resource metadata from before the upgrade, listed after it.

Events are a stack's audit trail and resource metadata is what servers
read through the metadata API; both are rows the old release wrote and the
new one must still list, then extend.
"""

import dataclasses
from typing import Any

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import base

FIXED = {'key': 'value', 'items': [1, 2]}
EVENT_FIELDS = ('id', 'resource_name', 'resource_status',
                'resource_status_reason', 'event_time')


@dataclasses.dataclass
class Record(base.CheckRecord):
    """The stack's events and the resource's metadata after the create."""

    events: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)


@base.register
class EventsAndMetadata(base.ResourceCheck):
    name = 'events_and_metadata'
    idempotent_id = '72fac611-ab7f-4ab9-848a-c1265706ccba'
    description = ('A TestResource with template metadata and an '
                   'OS::Heat::None; the stack\'s events and the '
                   'resource\'s metadata are recorded before the upgrade.')
    template = 'events_and_metadata.yaml'
    record_type = Record
    proves = {
        'pre-upgrade': 'the create left events for the stack and both '
                       'resources; the metadata is served',
        'post-upgrade': 'the new Heat lists every event of before the '
                        'upgrade unchanged and serves the same metadata; '
                        'an update appends new events after the old ones '
                        'and the metadata is still served',
    }

    def create(self, ctx, record):
        self.create_stack(ctx, record, {'label': 'before'})
        record.events = self._events(ctx, record)
        record.metadata = _api.resource_metadata(ctx.conn, record,
                                                 'described')

    def _events(self, ctx, record):
        return [{f: e.get(f) for f in EVENT_FIELDS}
                for e in _api.events(ctx.conn, record)]

    def verify(self, ctx, record):
        """The recorded events and metadata as Heat lists them, first."""
        events = self._events(ctx, record)
        self.assert_equal(record.events, events[:len(record.events)],
                          'the events of before the upgrade')
        self.assert_equal(record.metadata, _api.resource_metadata(
            ctx.conn, record, 'described'), 'the metadata as recorded')
        names = {e['resource_name'] for e in record.events}
        if not {'described', 'plain', record.stack.name} <= names:
            self.fail(f'the create left no events for some resources: '
                      f'{sorted(names)}')
        self.assert_equal({'label': 'before', 'fixed': FIXED},
                          record.metadata, 'the resource metadata')

    def update(self, ctx, record):
        """label to after: new events after the old ones, metadata kept."""
        self.update_stack(ctx, record, {'label': 'after'})
        # Heat stores template metadata at create; an update rewrites it
        # only for resources whose handle_update does (not TestResource,
        # in either release), so only its survival is asserted.
        metadata = _api.resource_metadata(ctx.conn, record, 'described')
        self.assert_equal(FIXED, metadata.get('fixed'),
                          'the metadata after the update')
        events = self._events(ctx, record)
        old = len(record.events)
        self.assert_equal(record.events, events[:old],
                          'the old events after the update')
        new = {(e['resource_name'], e['resource_status'])
               for e in events[old:]}
        if ('described', 'UPDATE_COMPLETE') not in new:
            self.fail(f'the update added no event for the resource: '
                      f'{sorted(new)}')
