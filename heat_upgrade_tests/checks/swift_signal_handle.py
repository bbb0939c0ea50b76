"""A Swift signal handle made before the upgrade, signalled after it.

The handle is a container and a temporary URL in Swift, made by the old
Heat; after the upgrade the check PUTs a signal to that URL (no token, as
a server would) and an update adds an ``OS::Heat::SwiftSignal`` on the
handle, which the new Heat completes with the signal's data.
"""

import json

import requests

from heat_upgrade_tests.checks import _api
from heat_upgrade_tests.checks import base


@base.register
class SwiftSignalHandle(base.ResourceCheck):
    name = 'swift_signal_handle'
    idempotent_id = '7d41e2b8-5c96-4f0a-8e37-2b1f6a9c0d58'
    description = ('An OS::Heat::SwiftSignalHandle made before the upgrade '
                   'and signalled through its temporary URL after it; the '
                   'update adds an OS::Heat::SwiftSignal on it.')
    template = 'swift_signal_handle.yaml'
    required_services = ('object-store',)
    required_resource_types = ('OS::Heat::SwiftSignalHandle',)
    proves = {
        'during-upgrade': 'with Heat down, the handle\'s container is in '
                          'Swift',
        'post-upgrade': 'a signal PUT to the old handle\'s temporary URL '
                        'is accepted by Swift; a SwiftSignal added by an '
                        'update completes with its data',
        'destroy': 'the handle\'s container is gone from Swift',
    }

    def verify(self, ctx, record):
        self.verify_container(ctx, record)

    def verify_outside_heat(self, ctx, record):
        self.verify_container(ctx, record)

    def verify_container(self, ctx, record):
        # Heat names the handle's container after the stack's id.
        name = record.stack.id
        names = [c.name for c in ctx.conn.object_store.containers()]
        if name not in names:
            self.fail(f'the handle\'s container {name} is gone from Swift')

    def update(self, ctx, record):
        """PUT the signal to the handle's URL; an added SwiftSignal has it."""
        handle = _api.resource(ctx.conn, record, 'handle')
        url = (handle.get('attributes') or {}).get('endpoint')
        if not url:
            self.fail(f'the new Heat shows no endpoint of the old handle: '
                      f'{handle.get("attributes")}')
        body = {'status': 'SUCCESS', 'reason': 'signalled after the '
                'upgrade', 'data': f'after-{ctx.run_id}', 'id': 'after'}
        try:
            response = requests.put(url, data=json.dumps(body),
                                    timeout=ctx.conf.timeouts.api_timeout)
        except requests.RequestException as exc:
            self.fail(f'signalling the handle\'s temporary URL failed: '
                      f'{exc}')
        if response.status_code not in (200, 201, 202):
            self.fail(f'Swift refused the signal to the handle\'s '
                      f'temporary URL: {response.status_code} '
                      f'{response.text[:200]}')
        outputs = self.update_stack(
            ctx, record, template='swift_signal_handle_update.yaml')
        self.assert_equal({'after': f'after-{ctx.run_id}'},
                          json.loads(outputs.get('data') or 'null'),
                          'the data of the SwiftSignal added after the '
                          'upgrade')
        self.assert_equal(record.outputs['handle_id'],
                          outputs.get('handle_id'),
                          'the handle (it was replaced)')

    def verify_gone(self, ctx, record):
        names = [c.name for c in ctx.conn.object_store.containers()]
        if record.stack.id in names:
            self.fail('the handle\'s container is still in Swift after the '
                      'stack was deleted')
