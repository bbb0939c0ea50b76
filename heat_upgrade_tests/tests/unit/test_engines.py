"""The engine probe and the waits that notice no progress (no cloud).

The fakes stand for openstacksdk's connection (``orchestration.get`` and
``get_stack``); the project's own code is what runs.
"""

import socket
import types

import fixtures
import keystoneauth1.exceptions as ks_exc
from openstack import exceptions as sdk_exc
import testtools

from heat_upgrade_tests import clients
from heat_upgrade_tests import engines
from heat_upgrade_tests import exceptions


class Response:
    def __init__(self, status, body=None):
        self.status_code = status
        self.body = body or {}
        self.content = b'x'

    def json(self):
        return self.body


class FakeOrchestration:
    """Heat as openstacksdk shows it: a stack that never moves."""

    def __init__(self, engine=True, status='UPDATE_IN_PROGRESS'):
        self.engine = engine
        self.status = status
        self.events = ['e1']
        self.calls = []

    def get(self, url, **kwargs):
        self.calls.append(url)
        if url == '/build_info':
            if not self.engine:
                raise ks_exc.RequestTimeout('read timed out')
            return Response(200, {'engine': {'revision': 'r1'}})
        if url == '/services':
            return Response(200, {'services': [{
                'binary': 'heat-engine', 'engine_id': 'eng-1',
                'host': 'h1', 'status': 'up',
                'updated_at': '2026-12-01T00:00:00'}]})
        if '/events' in url:
            return Response(200, {'events': [{'id': self.events[-1]}]})
        raise AssertionError(url)

    def get_stack(self, stack_id, resolve_outputs=False):
        return types.SimpleNamespace(
            id=stack_id, name='hut-keystone-objects-0123abcd',
            status=self.status, status_reason='Stack UPDATE started',
            updated_at='2026-12-01T23:00:00', created_at='x')


class FakeClock(fixtures.Fixture):
    """The waits' clocks and time.sleep, sleeping for nothing.

    The bound is the shared poller's (tempest.lib's ``call_until_true``
    reads ``time.time``), the no-progress watch reads ``time.monotonic``:
    both are the one fake time.
    """

    def _setUp(self):
        self.now = 1000.0
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.clients.time.monotonic', lambda: self.now))
        self.useFixture(fixtures.MonkeyPatch(
            'tempest.lib.common.utils.test_utils.time.time',
            lambda: self.now))
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.clients.time.sleep', self.sleep))

    def sleep(self, seconds):
        self.now += seconds


def ops(orch, **kwargs):
    conn = types.SimpleNamespace(orchestration=orch)
    return clients.StackOps(conn, timeout=300, interval=2, **kwargs)


class ProbeTest(testtools.TestCase):

    def test_an_engine_serves(self):
        orch = FakeOrchestration()
        conn = types.SimpleNamespace(orchestration=orch)
        found = engines.probe(conn, conn)
        self.assertTrue(found.serving)
        self.assertIn('revision r1', found.answer)
        self.assertEqual(['eng-1'], [e.engine_id for e in found.alive])

    def test_no_engine_raises_one_line_naming_the_stack(self):
        conn = types.SimpleNamespace(
            orchestration=FakeOrchestration(engine=False))
        stuck = engines.BusyStack(id='sid', name='hut-nested-group-'
                                  '0123abcd', action='UPDATE',
                                  status='IN_PROGRESS', since='T',
                                  engine_id='eng-9')
        exc = self.assertRaises(engines.EngineNotServing,
                                engines.require_engine, conn, None, None,
                                where='check nested_group', stacks=[stuck])
        text = str(exc)
        self.assertNotIn('\n', text)
        self.assertIn('no heat-engine answered', text)
        self.assertIn('of check nested_group UPDATE_IN_PROGRESS since T',
                      text)
        self.assertIn('held by engine eng-9', text)
        self.assertIsInstance(exc, exceptions.UpgradeTestError)

    def test_a_503_with_keystone_away_blames_keystone_not_the_engines(self):
        # heat-api answers 503 when it cannot validate the token; the
        # identity endpoint here is a port nothing listens on (a real
        # refusal of this machine).
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            closed = sock.getsockname()[1]

        class Unavailable(FakeOrchestration):
            def get(self, url, **kwargs):
                return Response(503)
        conn = types.SimpleNamespace(
            orchestration=Unavailable(),
            config=types.SimpleNamespace(
                auth={'auth_url': f'http://127.0.0.1:{closed}/v3'}))
        serving, answer = engines.engine_serves(conn, timeout=2)
        self.assertFalse(serving)
        self.assertIn('the identity service does not answer (connection '
                      'refused at', answer)
        self.assertIn('heat-api cannot validate tokens (GET /build_info got '
                      'HTTP 503), so no engine was asked', answer)
        self.assertNotIn('no heat-engine answered', answer)
        # Without a known identity endpoint, the engines are named as ever.
        del conn.config
        self.assertIn('no heat-engine answered: GET /build_info got HTTP '
                      '503', engines.engine_serves(conn, timeout=2)[1])

    def test_marker_tells_the_other_tests(self):
        state_dir = self.useFixture(fixtures.TempDir()).path
        self.assertIsNone(engines.not_serving(state_dir))
        engines.mark_not_serving(state_dir, 'no engine\nmore')
        self.assertEqual('no engine', engines.not_serving(state_dir))
        engines.clear_not_serving(state_dir)
        self.assertIsNone(engines.not_serving(state_dir))


class NoProgressTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = self.useFixture(FakeClock())

    def _watch(self, orch):
        conn = types.SimpleNamespace(orchestration=orch)
        return lambda stuck: engines.require_engine(
            conn, None, None, where='check keystone_objects', stacks=stuck)

    def test_dead_engine_fails_the_wait_soon_naming_the_stack(self):
        orch = FakeOrchestration(engine=False)
        stack_ops = ops(orch, no_progress=15, engines=self._watch(orch))
        exc = self.assertRaises(
            engines.EngineNotServing, stack_ops.wait_for, 'sid', 'UPDATE')
        self.assertLess(self.clock.now - 1000.0, 60)
        self.assertIn('stack hut-keystone-objects-0123abcd (sid) of check '
                      'keystone_objects UPDATE_IN_PROGRESS', str(exc))

    def test_live_engine_lets_a_slow_wait_run_to_its_bound(self):
        orch = FakeOrchestration(engine=True)
        stack_ops = ops(orch, no_progress=15, engines=self._watch(orch))
        exc = self.assertRaises(exceptions.TimeoutExpired,
                                stack_ops.wait_for, 'sid', 'UPDATE')
        self.assertRegex(
            str(exc), r'timed out after \d+s waiting for stack '
                      r'hut-keystone-objects-0123abcd \(sid\) to reach '
                      r'UPDATE_COMPLETE \(check keystone_objects\)')
        self.assertIn('since 2026-12-01T23:00:00', str(exc))
        self.assertIn('/build_info', orch.calls)

    def test_new_events_are_progress(self):
        orch = FakeOrchestration(engine=False)
        seen = []

        def watch(stuck):
            seen.append(stuck)
            raise engines.EngineNotServing('none')
        stack_ops = ops(orch, no_progress=15, engines=watch)
        counter = iter(range(10**6))
        original = orch.get

        def get(url, **kwargs):
            if '/events' in url:
                orch.events.append(f'e{next(counter)}')
            return original(url, **kwargs)
        orch.get = get
        # The first look records the event; later ones see new events.
        self.assertRaises(engines.EngineNotServing, stack_ops.wait_for,
                          'sid', 'UPDATE')
        self.assertEqual(1, len(seen))
        orch.events = ['same']
        orch.get = original

    def test_unanswered_show_asks_the_engines(self):
        orch = FakeOrchestration(engine=False)

        def get_stack(stack_id, resolve_outputs=False):
            raise ks_exc.RequestTimeout('read timed out')
        orch.get_stack = get_stack
        stack_ops = ops(orch, no_progress=15, engines=self._watch(orch))
        exc = self.assertRaises(engines.EngineNotServing,
                                stack_ops.wait_for, 'sid', 'UPDATE')
        self.assertEqual(1000.0, self.clock.now)
        self.assertIn('no heat-engine answered', str(exc))

    def test_without_a_watch_errors_are_raised_as_before(self):
        orch = FakeOrchestration()

        def get_stack(stack_id, resolve_outputs=False):
            raise ks_exc.RequestTimeout('read timed out')
        orch.get_stack = get_stack
        self.assertRaises(ks_exc.RequestTimeout, ops(orch).wait_for, 'sid',
                          'UPDATE')

    def test_a_show_outside_a_wait_names_the_dead_engine_too(self):
        orch = FakeOrchestration(engine=False)

        def get_stack(stack_id, resolve_outputs=False):
            raise ks_exc.ConnectTimeout('read timed out')
        orch.get_stack = get_stack
        stack_ops = ops(orch, no_progress=15, engines=self._watch(orch))
        exc = self.assertRaises(engines.EngineNotServing, stack_ops.get,
                                'sid')
        self.assertIn('no heat-engine answered', str(exc))
        # One line, not the client's chain.
        self.assertIsNone(exc.__context__)

    def test_a_lost_call_with_an_engine_serving_is_asked_again(self):
        orch = FakeOrchestration(engine=True)
        original = orch.get_stack
        failures = [ks_exc.ConnectTimeout('read timed out')]

        def get_stack(stack_id, resolve_outputs=False):
            if failures:
                raise failures.pop()
            return original(stack_id)
        orch.get_stack = get_stack
        stack_ops = ops(orch, no_progress=15, engines=self._watch(orch))
        self.assertEqual('UPDATE_IN_PROGRESS', stack_ops.get('sid').status)


class UnansweredRequestTest(testtools.TestCase):
    """An update heat-api never answers (its engine killed): one line."""

    def setUp(self):
        super().setUp()
        self.clock = self.useFixture(FakeClock())

    def update(self, engine: bool, answer: Exception | None = None
               ) -> Exception:
        orch = FakeOrchestration(engine=engine, status='UPDATE_COMPLETE')
        orch.read_env_and_templates = lambda **kw: {}

        def update_stack(stack, **kwargs):
            raise answer or ks_exc.ConnectTimeout(
                'Request to http://127.0.0.1:28004/v1/p/stacks/x timed out')
        orch.update_stack = update_stack
        conn = types.SimpleNamespace(orchestration=orch)
        stack_ops = ops(orch, no_progress=15,
                        engines=lambda stuck: engines.require_engine(
                            conn, None, None, where='check keystone_objects',
                            stacks=stuck))
        return self.assertRaises(exceptions.UpgradeTestError,
                                 stack_ops.update, 'sid', 'template.yaml')

    def test_no_engine_serving_names_it_without_the_client_chain(self):
        exc = self.update(engine=False)
        self.assertIsInstance(exc, engines.EngineNotServing)
        self.assertIn('check keystone_objects: no heat-engine answered',
                      str(exc))
        # Raised outside the client's exception: no chain of tracebacks.
        self.assertIsNone(exc.__context__)

    def test_a_500_after_heat_api_waited_for_no_engine_names_it(self):
        # heat-api's answer when its RPC call timed out (no engine took
        # the update): the engines are asked, as after a client timeout.
        exc = self.update(engine=False, answer=sdk_exc.HttpException(
            'Internal Server Error', http_status=500))
        self.assertIsInstance(exc, engines.EngineNotServing)
        self.assertIsNone(exc.__context__)
        # With an engine serving, a 500 is Heat refusing the update.
        exc = self.update(engine=True, answer=sdk_exc.HttpException(
            'Internal Server Error', http_status=500))
        self.assertNotIsInstance(exc, engines.EngineNotServing)
        self.assertIn('Heat refused to update stack', str(exc))

    def test_with_an_engine_serving_the_timeout_is_the_error(self):
        exc = self.update(engine=True)
        self.assertNotIsInstance(exc, engines.EngineNotServing)
        self.assertEqual(
            'Heat did not answer the update of stack '
            'hut-keystone-objects-0123abcd: Request to '
            'http://127.0.0.1:28004/v1/p/stacks/x timed out', str(exc))
        self.assertIsNone(exc.__context__)


class DroppedAuthTest(testtools.TestCase):

    def test_a_dropped_connection_is_asked_again_bounded(self):
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.clients.time.sleep', lambda s: None))
        calls = []

        def authorize():
            calls.append(1)
            if len(calls) < 3:
                raise ks_exc.ConnectFailure(
                    'Remote end closed connection without response')
        clients._authorize(types.SimpleNamespace(authorize=authorize))
        self.assertEqual(3, len(calls))

        def refused():
            calls.append(1)
            raise ks_exc.ConnectFailure('Connection refused')
        calls.clear()
        self.assertRaises(ks_exc.ConnectFailure, clients._authorize,
                          types.SimpleNamespace(authorize=refused))
        self.assertEqual(1, len(calls))


class UnavailableTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.clients.time.sleep', lambda s: None))

    def delete_calls(self, errors: list[Exception]) -> list[str]:
        """The DELETEs ``StackOps.delete`` sends, and 'raised' if it did.

        Heat answers each of ``errors`` in turn, then that the stack is
        gone.
        """
        import openstack.exceptions as sdk_exc
        calls = []

        def delete_stack(stack_id):
            calls.append(stack_id)
            if len(calls) <= len(errors):
                raise errors[len(calls) - 1]
            raise sdk_exc.NotFoundException('gone')
        orch = FakeOrchestration()
        orch.delete_stack = delete_stack
        try:
            ops(orch).delete('sid')
        except sdk_exc.HttpException:
            calls.append('raised')
        return calls

    def test_a_503_is_asked_again_bounded(self):
        import openstack.exceptions as sdk_exc

        def unavailable():
            return sdk_exc.HttpException(
                'The Keystone service is temporarily unavailable',
                http_status=503)
        self.assertEqual(['sid', 'sid'], self.delete_calls([unavailable()]))
        self.assertEqual(['sid', 'sid', 'sid', 'raised'], self.delete_calls(
            [unavailable() for _ in range(3)]))

    def test_a_delete_is_asked_again_while_the_database_is_away(self):
        # MariaDB restarting: the engine's DBConnectionError comes back
        # as a 500. A delete asked again deletes once; a 500 of any other
        # cause is raised at once.
        import openstack.exceptions as sdk_exc
        import requests

        def server_error(error_type):
            response = requests.Response()
            response.status_code = 500
            response._content = (
                b'{"code": 500, "error": {"type": "%s", "message": "x"}}'
                % error_type.encode())
            return sdk_exc.HttpException('Internal Server Error',
                                         response=response)
        self.assertEqual(['sid', 'sid'], self.delete_calls(
            [server_error('DBConnectionError')]))
        self.assertEqual(['sid', 'raised'], self.delete_calls(
            [server_error('KeyError')]))


class SameSecondOrchestration(FakeOrchestration):
    """A stack whose update ended in the second the last one ended in.

    Its ``updated_time`` (whole seconds) does not move; its own events
    are what Heat lists for ``resource_name`` = the stack's name (with a
    resource's event too, as a Heat ignoring the filter would list).
    """

    NAME = 'hut-snapshot-restore-416a9dc1'

    def __init__(self, own_events):
        super().__init__(status='UPDATE_COMPLETE')
        self.own = list(own_events)

    def get(self, url, **kwargs):
        self.calls.append(url)
        if '/events?' in url:
            self.assertion = url
            return Response(200, {'events': [
                {'id': str(i), 'resource_name': self.NAME,
                 'resource_status': status}
                for i, status in enumerate(self.own)] + [
                {'id': 'r', 'resource_name': 'random',
                 'resource_status': 'UPDATE_COMPLETE'}]})
        return super().get(url, **kwargs)

    def get_stack(self, stack_id, resolve_outputs=False):
        stack = super().get_stack(stack_id)
        stack.name = self.NAME
        stack.status = self.status
        return stack


class SameSecondUpdateTest(testtools.TestCase):
    """An update within the second of the last one is still seen to end."""

    def setUp(self):
        super().setUp()
        self.clock = self.useFixture(FakeClock())

    def test_own_events_count_the_stack_only_and_filter(self):
        orch = SameSecondOrchestration(['UPDATE_IN_PROGRESS',
                                        'UPDATE_COMPLETE'])
        stack = orch.get_stack('sid')
        self.assertEqual({'UPDATE_IN_PROGRESS': 1, 'UPDATE_COMPLETE': 1},
                         ops(orch).own_events(stack, 'UPDATE'))
        self.assertIn('resource_name=hut-snapshot-restore-416a9dc1',
                      orch.assertion)
        self.assertIn('resource_action=UPDATE', orch.assertion)

    def test_a_new_own_complete_event_ends_the_wait(self):
        orch = SameSecondOrchestration(['UPDATE_IN_PROGRESS',
                                        'UPDATE_COMPLETE'] * 2)
        stack = ops(orch).wait_for(
            'sid', 'UPDATE', since='2026-12-01T23:00:00',
            events_before={'UPDATE_IN_PROGRESS': 1, 'UPDATE_COMPLETE': 1})
        self.assertEqual('UPDATE_COMPLETE', stack.status)
        self.assertLess(self.clock.now - 1000.0, 5)

    def test_a_new_own_failed_event_fails_the_wait(self):
        orch = SameSecondOrchestration(['UPDATE_COMPLETE', 'UPDATE_FAILED'])
        orch.status = 'UPDATE_FAILED'
        exc = self.assertRaises(
            exceptions.UpgradeTestError, ops(orch).wait_for, 'sid',
            'UPDATE', since='2026-12-01T23:00:00',
            events_before={'UPDATE_COMPLETE': 1})
        self.assertIn('is UPDATE_FAILED', str(exc))

    def test_without_a_new_event_the_old_status_does_not_count(self):
        # The previous update's UPDATE_COMPLETE, nothing since: the wait
        # runs to its bound (the stack really has not moved).
        orch = SameSecondOrchestration(['UPDATE_COMPLETE'])
        exc = self.assertRaises(
            exceptions.TimeoutExpired, ops(orch).wait_for, 'sid', 'UPDATE',
            since='2026-12-01T23:00:00',
            events_before={'UPDATE_COMPLETE': 1})
        self.assertIn('to reach UPDATE_COMPLETE', str(exc))
        # A stack still in progress is not done whatever its events say,
        # so its events are not asked for at every poll.
        orch = SameSecondOrchestration(['UPDATE_COMPLETE'] * 3)
        orch.status = 'UPDATE_IN_PROGRESS'
        self.assertRaises(exceptions.TimeoutExpired, ops(orch).wait_for,
                          'sid', 'UPDATE', since='2026-12-01T23:00:00',
                          events_before={'UPDATE_COMPLETE': 1})
        self.assertFalse([u for u in orch.calls if '/events?' in u])
        # No count before (Heat did not tell): as before, not done.
        self.assertRaises(exceptions.TimeoutExpired, ops(orch).wait_for,
                          'sid', 'UPDATE', since='2026-12-01T23:00:00')
