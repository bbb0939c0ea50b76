"""The RPC compatibility rules, and how the probe reads Heat's source."""

import textwrap

import testtools

from heat_upgrade_tests.integrity.helpers import heat_probe
from heat_upgrade_tests.integrity import report
from heat_upgrade_tests.integrity import rpc

SERVER_V1 = textwrap.dedent('''\
    class Worker(object):
        RPC_API_VERSION = '1.4'

        def start(self):
            pass

        @context.request_context
        def check(self, cnxt, resource_id, data, converge=False):
            pass

        def cancel(self, ctxt, stack_id):
            pass

        def _private(self, cnxt, x):
            pass
    ''')
SERVER_V2 = textwrap.dedent('''\
    class Worker(object):
        RPC_API_VERSION = '1.9'

        @context.request_context
        def check(self, cnxt, resource_id, data, converge=False,
                  abandon=False):
            pass

        @context.request_context
        def delete_snapshot(self, cnxt, snapshot_id):
            pass

        def cancel(self, ctxt, stack_id):
            pass
    ''')
CLIENT_V1 = textwrap.dedent('''\
    class Client(object):
        BASE_RPC_API_VERSION = '1.0'

        def make_msg(method, **kwargs):
            return method, kwargs

        def cast(self, ctxt, msg, version=None):
            pass

        def check(self, ctxt, resource_id, data, converge=False):
            self.cast(ctxt, self.make_msg('check', resource_id=resource_id,
                                          data=data, converge=converge),
                      version='1.4')

        def cancel(self, ctxt, stack_id):
            cl = self._client.prepare(version='1.3')
            cl.cast(ctxt, *self.make_msg('cancel', stack_id=stack_id))
    ''')
CLIENT_V2 = textwrap.dedent('''\
    class Client(object):
        BASE_RPC_API_VERSION = '1.0'

        def check(self, ctxt, resource_id, data, abandon=False):
            self.cast(ctxt, self.make_msg('check', resource_id=resource_id,
                                          data=data, abandon=abandon),
                      version='1.9')

        def delete_snapshot(self, ctxt, snapshot_id):
            self.cast(ctxt, self.make_msg('delete_snapshot',
                                          snapshot_id=snapshot_id),
                      version='1.7')

        def cancel(self, ctxt, stack_id):
            self.cast(ctxt, self.make_msg('cancel', stack_id=stack_id),
                      version='1.3')

        def ask(self, ctxt):
            return self.call(ctxt, self.make_msg('cancel', stack_id=None))
    ''')


def describe(server, client):
    return heat_probe.rpc_of_sources(
        {'s.py': server, 'c.py': client},
        {'worker': ('s.py', 'Worker', 'c.py', 'Client')})


class ProbeSourceTest(testtools.TestCase):

    def test_server_endpoints_and_parameters(self):
        worker = describe(SERVER_V1, CLIENT_V1)['worker']
        self.assertEqual('1.4', worker['version'])
        self.assertEqual(['cancel', 'check'], sorted(worker['methods']))
        params = worker['methods']['check']['params']
        self.assertEqual([('resource_id', True), ('data', True),
                          ('converge', False)],
                         [(p['name'], p['required']) for p in params])

    def test_client_messages_and_versions(self):
        calls = describe(SERVER_V2, CLIENT_V2)['worker']['calls']
        by_client = {c['client_method']: c for c in calls}
        self.assertEqual('1.9', by_client['check']['version'])
        self.assertEqual(['abandon', 'data', 'resource_id'],
                         by_client['check']['args'])
        self.assertEqual('cast', by_client['check']['kind'])
        # No version pinned: the client's base version.
        self.assertEqual('1.0', by_client['ask']['version'])
        self.assertEqual('call', by_client['ask']['kind'])
        # A version pinned through prepare() counts too.
        v1 = describe(SERVER_V1, CLIENT_V1)['worker']['calls']
        self.assertEqual('1.3', [c for c in v1
                                 if c['method'] == 'cancel'][0]['version'])

    def test_missing_class_is_reported(self):
        worker = describe('x = 1\n', CLIENT_V1)['worker']
        self.assertIn('error', worker)


class RpcRulesTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.old = describe(SERVER_V1, CLIENT_V1)['worker']
        self.new = describe(SERVER_V2, CLIENT_V2)['worker']

    def test_serves(self):
        self.assertTrue(rpc.serves('1.9', '1.4'))
        self.assertTrue(rpc.serves('1.9', '1.9'))
        self.assertFalse(rpc.serves('1.4', '1.9'))
        self.assertFalse(rpc.serves('2.0', '1.0'))
        self.assertTrue(rpc.serves('1.36', '1.4'))

    def test_new_casts_to_old_workers_break(self):
        breaks = {b['method']: b for b in rpc.mix_breaks(self.new, self.old)}
        self.assertIn('serves RPC 1.4, the message pins 1.9',
                      breaks['check']['problems'])
        self.assertIn('takes no argument abandon',
                      breaks['check']['problems'])
        self.assertIn('has no method delete_snapshot',
                      breaks['delete_snapshot']['problems'])
        self.assertNotIn('cancel', breaks)

    def test_old_client_to_new_server(self):
        breaks = {b['method']: b for b in rpc.mix_breaks(self.old, self.new)}
        self.assertEqual({}, breaks)

    def test_api_changes_are_flagged(self):
        changes = rpc.api_changes(self.new, self.old)
        self.assertIn('endpoint delete_snapshot removed', changes)
        self.assertIn('check: argument abandon removed', changes)
        stricter = dict(self.new, methods=dict(self.new['methods'], cancel={
            'params': [{'name': 'stack_id', 'required': True},
                       {'name': 'force', 'required': True}],
            'var_kw': False, 'line': 1}))
        self.assertIn('cancel: argument force is now required',
                      rpc.api_changes(self.new, stricter))

    def test_compare_says_what_a_one_bus_mix_breaks(self):
        finding = rpc.compare({'worker': self.old}, {'worker': self.new},
                              'old', 'new')
        self.assertEqual(report.WARNING, finding.status)
        self.assertIn('worker RPC 1.4 -> 1.9', finding.summary)
        self.assertIn('cannot share one bus', finding.summary)
        self.assertTrue(any('stays IN_PROGRESS' in d
                            for d in finding.details))

    def test_compare_same_release_passes(self):
        finding = rpc.compare({'worker': self.new}, {'worker': self.new},
                              'a', 'b')
        self.assertEqual(report.PASSED, finding.status)
        self.assertIn('one bus can carry both', finding.summary)


class RpcComparedNothingTest(testtools.TestCase):
    """A comparison of nothing is a failure that says what was missing."""

    def setUp(self):
        super().setUp()
        self.good = describe(SERVER_V2, CLIENT_V2)['worker']

    def assert_failed(self, old, new, *names):
        finding = rpc.compare(old, new, 'old', 'new')
        self.assertEqual(report.FAILED, finding.status, finding.summary)
        self.assertNotIn('one bus can carry both', finding.summary)
        self.assertIn('is unknown', finding.summary)
        for name in names:
            self.assertIn(name, finding.summary)
        return finding

    def test_classes_not_found(self):
        # The probe's own answer when it cannot find the classes.
        missing = describe('x = 1\n', 'y = 2\n')['worker']
        finding = self.assert_failed({'worker': missing},
                                     {'worker': missing},
                                     'compared nothing', 'old: worker',
                                     'new: worker', 'Worker or Client not '
                                     'found in s.py/c.py')
        self.assertEqual(2, len(finding.data['not_compared']))

    def test_no_server_methods(self):
        empty = describe(textwrap.dedent('''\
            class Worker(object):
                RPC_API_VERSION = '1.9'

                def start(self):
                    pass
            '''), CLIENT_V2)['worker']
        self.assertEqual({}, empty['methods'])
        self.assert_failed({'worker': self.good}, {'worker': empty},
                           'new: worker: no RPC endpoints found in '
                           'heat/s.py:Worker')

    def test_no_client_calls(self):
        silent = describe(SERVER_V2, textwrap.dedent('''\
            class Client(object):
                BASE_RPC_API_VERSION = '1.0'
            '''))['worker']
        self.assertEqual([], silent['calls'])
        self.assert_failed({'worker': silent}, {'worker': self.good},
                           'old: worker: no messages found in '
                           'heat/c.py:Client')

    def test_service_missing_on_one_side(self):
        self.assert_failed({'worker': self.good}, {},
                           'new: no worker RPC service described')

    def test_nothing_described_at_all(self):
        self.assert_failed({}, {}, 'compared nothing',
                           'neither release described any RPC service')

    def test_one_service_compared_is_not_enough(self):
        missing = describe('x = 1\n', CLIENT_V2)['worker']
        finding = rpc.compare(
            {'worker': self.good, 'engine': missing},
            {'worker': self.good, 'engine': self.good}, 'old', 'new')
        self.assertEqual(report.FAILED, finding.status)
        self.assertIn('compared only worker RPC 1.9 -> 1.9',
                      finding.summary)
        self.assertIn('old: engine', finding.summary)
