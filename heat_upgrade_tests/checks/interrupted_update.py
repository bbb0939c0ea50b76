"""A stack whose update is still IN_PROGRESS when Heat is stopped.

Upgrades stop Heat whatever it is doing. Before the upgrade this check
starts an update that takes an hour and leaves it running; the plan stops
Heat (the engine may have to be killed). After the upgrade a new update
must bring the stack to UPDATE_COMPLETE within a bound; where the new Heat
cannot, the failure carries the evidence (stack and resource states, the
last events).
"""

import dataclasses
from typing import Any

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import base
from heat_upgrade_tests import clients

# The interrupted update outlasts any upgrade; the recovering one must not
# take longer than this (seconds), nor than the configured stack_timeout.
INTERRUPTED_WAIT = 3600
RECOVERY_BOUND = 180


@dataclasses.dataclass
class Record(base.CheckRecord):
    """What the new Heat first showed of the interrupted stack."""

    after_upgrade: dict[str, Any] | None = None


@base.register
class InterruptedUpdate(base.ResourceCheck):
    name = 'interrupted_update'
    idempotent_id = 'c957886d-3bf5-4dbf-a416-bfb11e5b0e6f'
    description = ('One OS::Heat::TestResource. At the end of pre-upgrade '
                   'an update that waits an hour is started and left '
                   'UPDATE_IN_PROGRESS when Heat is stopped; after the '
                   'upgrade another update must complete it.')
    template = 'interrupted_update.yaml'
    # pre-upgrade ends with the update it starts still running (so the
    # framework compares no outputs: they are in flux).
    expected_status = ('UPDATE_IN_PROGRESS',)
    record_type = Record
    proves = {
        'pre-upgrade': 'the stack is created, then an update is left '
                       'UPDATE_IN_PROGRESS for the plan to interrupt',
        'verify': 'the update started in pre-upgrade is still '
                  'UPDATE_IN_PROGRESS',
        'post-upgrade': 'the interrupted stack is IN_PROGRESS or FAILED '
                        '(recorded as evidence); an update issued to the '
                        'new Heat brings it to UPDATE_COMPLETE within '
                        f'{RECOVERY_BOUND}s with the new value',
    }

    def create(self, ctx, record):
        """Create the stack, then start the update that is interrupted."""
        self.create_stack(ctx, record, {'value': 'before', 'update_wait': 0})
        params = {'value': 'interrupted', 'update_wait': INTERRUPTED_WAIT}
        _api.call(ctx.conn, 'PUT', _api.stack_url(record),
                  _api.template_body(ctx.conn, self.template_path(),
                                     parameters=params))
        record.parameters = params
        if ctx.save:
            ctx.save()
        _api.wait_resource(ctx.conn, record, 'slow', 'UPDATE_IN_PROGRESS',
                           ctx.stacks.timeout, ctx.stacks.interval)

    def update(self, ctx, record):
        """A new update completes the interrupted stack, within a bound.

        What the new Heat first showed of the interrupted stack (the
        framework accepts UPDATE_IN_PROGRESS or UPDATE_FAILED: the new
        engine marks what the old one left running as failed) is evidence,
        kept in the record, not a comparison.
        """
        stack = ctx.stacks.get(record.stack.id)
        record.after_upgrade = {'status': stack.status,
                                'reason': stack.status_reason}
        bound = min(RECOVERY_BOUND, ctx.stacks.timeout)
        stacks = clients.StackOps(ctx.conn, bound, ctx.stacks.interval)
        try:
            outputs = self.update_stack(
                ctx, record, {'value': 'recovered', 'update_wait': 0},
                stacks=stacks)
        except Exception as exc:
            self.fail(f'the new Heat did not complete the interrupted stack '
                      f'within {bound}s: {exc}; {self.evidence(ctx, record)}')
        self.assert_equal({'value': 'recovered'}, outputs,
                          'outputs after the recovering update')

    def evidence(self, ctx, record):
        """Stack status, resource states and the last events, as text."""
        try:
            stack = ctx.stacks.get(record.stack.id)
            resources = {r['resource_name']: (r['resource_status'],
                                              r['resource_status_reason'])
                         for r in _api.resources(ctx.conn, record)}
            events = [f'{e["resource_name"]} {e["resource_status"]} '
                      f'{e["resource_status_reason"]}'
                      for e in _api.events(ctx.conn, record)[-4:]]
        except Exception as exc:
            return f'evidence unavailable: {exc}'
        return (f'evidence: after the upgrade the stack was '
                f'{(record.after_upgrade or {}).get("status")}; now '
                f'{stack.status} '
                f'({stack.status_reason}); resources {resources}; last '
                f'events {events}')
