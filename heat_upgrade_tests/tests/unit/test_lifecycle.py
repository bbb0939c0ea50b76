"""The framework's side of the check contract, on the project's fakes."""

import fixtures
import testtools

from heat_upgrade_tests.checks import _gone
from heat_upgrade_tests.checks import base
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.phases import lifecycle
from heat_upgrade_tests.tests.unit import test_phases


class Interrupted(test_phases.FakeCheck):
    expected_status = ('UPDATE_IN_PROGRESS',)


class RefusedDelete(test_phases.FakeCheck):
    """Its delete is refused once, for a reason it knows how to repair."""

    known_failures = (base.KnownFailure(
        'destroy', 'Heat bug 2: deletes the enabled domain',
        refusal='domain is enabled',
        repair=lambda check, ctx, record: (
            check.note('repair') or 'domain d1 disabled')),)


class RefusingStacks(test_phases.FakeStacks):

    def __init__(self, refusal):
        super().__init__()
        self.refusal = refusal

    def delete(self, stack_id):
        super().delete(stack_id)
        if self.refusal:
            refusal, self.refusal = self.refusal, None
            raise exceptions.UpgradeTestError(refusal)


class LifecycleTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        test_phases.FakeCheck.calls = []
        self.addCleanup(setattr, test_phases.FakeCheck, 'fail_in', set())
        self.record = base.CheckRecord(stack=base.StackRef('sid', 'sname'),
                                       outputs={'x': 1})

    def ctx(self, check, stacks=None):
        stacks = stacks or test_phases.FakeStacks()
        stacks.check = check
        return base.CheckContext(conf=None, conn=None, admin_conn=None,
                                 stacks=stacks, run_id='r')

    def test_statuses_follow_what_happened_to_the_stack(self):
        check = test_phases.FakeCheck()
        self.assertEqual(('CREATE_COMPLETE',), lifecycle.statuses(check))
        self.assertEqual(('CREATE_COMPLETE', 'UPDATE_COMPLETE'),
                         lifecycle.statuses(check, upgraded=True,
                                            updated_while_mixed=True))
        # The new engine marks what the old one left running as failed.
        self.assertEqual(('UPDATE_IN_PROGRESS',),
                         lifecycle.statuses(Interrupted()))
        self.assertEqual(('UPDATE_IN_PROGRESS', 'UPDATE_FAILED'),
                         lifecycle.statuses(Interrupted(), upgraded=True))
        # Only a stack left CREATE_COMPLETE is updated while mixed.
        self.assertEqual(('UPDATE_IN_PROGRESS',), lifecycle.statuses(
            Interrupted(), updated_while_mixed=True))

    def test_post_upgrade_verify_comes_before_the_output_comparison(self):
        # The check's own assertions speak first: the drills of checks
        # whose outputs are made of what verify looks at rely on it.
        stacks = test_phases.FakeStacks(outputs={'x': 2})
        check = test_phases.FakeCheck()
        exc = self.assertRaises(
            exceptions.CheckFailed, lifecycle.post_upgrade, check,
            self.ctx(test_phases.FakeCheck, stacks), self.record,
            ('CREATE_COMPLETE',))
        self.assertIn('outputs after the upgrade differ', str(exc))
        self.assertEqual(['status', 'verify', 'outputs'],
                         test_phases.FakeCheck.calls)

    def test_a_stack_mid_operation_has_no_outputs_compared(self):
        stacks = test_phases.FakeStacks(outputs={'x': 2},
                                        status='UPDATE_FAILED')
        lifecycle.post_upgrade(Interrupted(), self.ctx(Interrupted, stacks),
                               self.record,
                               lifecycle.statuses(Interrupted(),
                                                  upgraded=True))
        self.assertEqual(['status', 'verify', 'update'],
                         test_phases.FakeCheck.calls)

    def test_no_update_ends_post_upgrade_after_the_comparison(self):
        class Quiet(test_phases.FakeCheck):
            update = base.NoUpdate('nothing to change')
        lifecycle.post_upgrade(Quiet(), self.ctx(Quiet), self.record,
                               ('CREATE_COMPLETE',))
        self.assertEqual(['status', 'verify', 'outputs'],
                         test_phases.FakeCheck.calls)

    def test_a_known_refusal_of_the_delete_is_repaired_and_reported(self):
        stacks = RefusingStacks('the domain is enabled (HTTP 403)')
        exc = self.assertRaises(
            exceptions.CheckFailed, lifecycle.destroy, RefusedDelete(),
            self.ctx(RefusedDelete, stacks), self.record)
        # Nothing is left behind, and the refusal is not hidden.
        self.assertEqual(['delete', 'repair', 'delete', 'verify_gone'],
                         test_phases.FakeCheck.calls)
        self.assertIn('Heat refused to delete stack sname (the domain is '
                      'enabled (HTTP 403))', str(exc))
        self.assertIn('after a repair: domain d1 disabled', str(exc))

    def test_another_refusal_of_the_delete_is_raised_as_it_is(self):
        stacks = RefusingStacks('quota exceeded')
        exc = self.assertRaises(
            exceptions.UpgradeTestError, lifecycle.destroy, RefusedDelete(),
            self.ctx(RefusedDelete, stacks), self.record)
        self.assertEqual('quota exceeded', str(exc))
        self.assertEqual(['delete'], test_phases.FakeCheck.calls)

    def test_a_plain_stack_is_reapplied_while_mixed_and_no_other(self):
        class Plain(test_phases.FakeCheck):
            create = base.ResourceCheck.create
        self.assertTrue(lifecycle.mixed_update(
            Plain(), self.ctx(Plain), self.record, ('CREATE_COMPLETE',)))
        self.assertEqual(['status', 'stack update', 'outputs'],
                         test_phases.FakeCheck.calls)
        test_phases.FakeCheck.calls = []
        for check in (test_phases.FakeCheck, Interrupted):
            self.assertFalse(lifecycle.mixed_update(
                check(), self.ctx(check), self.record,
                ('CREATE_COMPLETE',)))
        self.assertEqual([], test_phases.FakeCheck.calls)


# The shipped table, before any test patches it.
SHIPPED_TABLE = _gone.TABLE


class GoneTest(testtools.TestCase):
    """Destroy proves what the stack made gone, through one table."""

    def setUp(self):
        super().setUp()
        test_phases.FakeCheck.calls = []
        self.addCleanup(setattr, test_phases.FakeCheck, 'fail_in', set())
        self.still: set[str] = set()
        self.asked: list[str] = []

        def find(conn, physical_id):
            self.asked.append(physical_id)
            return object() if physical_id in self.still else None
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.checks._gone.TABLE',
            {'OS::Neutron::Port': _gone.Lookup('network', 'port', find)}))
        self.stacks = test_phases.FakeStacks()
        self.stacks.check = test_phases.FakeCheck
        self.stacks.listed = [
            {'resource_type': 'OS::Neutron::Port', 'resource_name': 'port',
             'physical_resource_id': 'p1'},
            {'resource_type': 'OS::Neutron::Port', 'resource_name': 'spare',
             'physical_resource_id': 'p2'},
            # Never made (no physical id), and Heat's own: not looked up.
            {'resource_type': 'OS::Neutron::Port', 'resource_name': 'never',
             'physical_resource_id': ''},
            {'resource_type': 'OS::Heat::Value', 'resource_name': 'value',
             'physical_resource_id': 'v1'}]
        self.ctx = base.CheckContext(conf=None, conn=None, admin_conn=None,
                                     stacks=self.stacks, run_id='r')
        self.record = base.CheckRecord(stack=base.StackRef('sid', 'sname'))

    def destroy(self):
        lifecycle.destroy(test_phases.FakeCheck(), self.ctx, self.record)

    def test_everything_gone_passes(self):
        self.destroy()
        self.assertEqual(['p1', 'p2'], self.asked)
        self.assertEqual(['delete', 'verify_gone'],
                         test_phases.FakeCheck.calls)

    def test_a_leftover_is_named_with_its_type_name_id_and_service(self):
        self.still = {'p2'}
        exc = self.assertRaises(exceptions.CheckFailed, self.destroy)
        self.assertIn('still in their services after stack sname was '
                      'deleted: OS::Neutron::Port spare (p2) in network',
                      str(exc))
        self.assertNotIn('p1', str(exc))

    def test_a_stack_heat_no_longer_has_lists_nothing(self):
        self.stacks.resources = lambda stack_id, depth=0: None
        self.destroy()
        self.assertEqual([], self.asked)

    def test_a_listing_heat_refuses_still_deletes_then_says_so(self):
        def refuse(stack_id, depth=0):
            raise exceptions.UpgradeTestError('HTTP 500')
        self.stacks.resources = refuse
        exc = self.assertRaises(exceptions.CheckFailed, self.destroy)
        self.assertEqual(['delete', 'verify_gone'],
                         test_phases.FakeCheck.calls)
        self.assertIn('Heat could not list what stack sname made before '
                      'its delete (HTTP 500)', str(exc))

    def test_the_table_names_each_type_once_with_its_service(self):
        self.assertIn('OS::Nova::Server', SHIPPED_TABLE)
        for type_name, lookup in SHIPPED_TABLE.items():
            self.assertTrue(type_name.startswith('OS::'), type_name)
            self.assertIn(lookup.service, ('network', 'compute', 'volume',
                                           'object-store', 'identity'))
            # Keystone's objects are the admin's to see; a container or a
            # keypair only its owner's.
            self.assertEqual(lookup.service == 'identity', lookup.admin,
                             type_name)

    def test_the_owner_asks_unless_the_lookup_is_the_admins(self):
        asked = []
        table = {'A': _gone.Lookup('s', 'a', lambda c, i: asked.append(c)),
                 'B': _gone.Lookup('s', 'b', lambda c, i: asked.append(c),
                                   admin=True)}
        made = [_gone.Made('A', 'a', '1'), _gone.Made('B', 'b', '2')]
        _gone.left_behind('owner', 'admin', made, table)
        _gone.left_behind('owner', None, made, table)
        self.assertEqual(['owner', 'admin', 'owner', 'owner'], asked)
