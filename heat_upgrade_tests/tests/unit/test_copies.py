"""``[phases] stacks_per_check``: copies of a check through every phase.

The default (1) must be exactly the run without copies: the same state
file, test name and test id; with N, each copy is its own test with its
own state, carried through every phase apart from the others.
"""

import os

import fixtures
import testtools

from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests import config
from heat_upgrade_tests import copies
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.phases import runner
from heat_upgrade_tests import state
from heat_upgrade_tests.tests.unit import test_phases


class NamesTest(testtools.TestCase):

    def test_copy_one_is_the_check_itself(self):
        self.assertEqual('nested_group', copies.state_name('nested_group'))
        self.assertEqual('nested_group',
                         copies.state_name('nested_group', 1))
        self.assertEqual(('nested_group', 1), copies.split('nested_group'))

    def test_further_copies_round_trip(self):
        name = copies.state_name('nested_group', 3)
        self.assertEqual('nested_group__copy3', name)
        self.assertEqual(('nested_group', 3), copies.split(name))
        self.assertTrue(name.isidentifier())

    def test_copy_zero_is_refused(self):
        self.assertRaises(ValueError, copies.state_name, 'x', 0)

    def test_default_configuration_has_one_copy(self):
        conf = config.load(config_files=[])
        self.assertEqual(1, conf.phases.stacks_per_check)
        self.assertEqual([('a', 1, 'a'), ('b', 1, 'b')],
                         copies.state_names(conf, ['a', 'b']))

    def test_n_copies_per_check(self):
        conf = config.load(config_files=[])
        conf.set_override('stacks_per_check', 3, 'phases')
        self.assertEqual(['a', 'a__copy2', 'a__copy3'],
                         [n for _c, _k, n in copies.state_names(conf, ['a'])])

    def test_option_is_bounded(self):
        conf = config.load(config_files=[])
        self.assertRaises(ValueError, conf.set_override,
                          'stacks_per_check', 0, 'phases')

    def test_option_is_listed_for_the_generator(self):
        names = [opt.name for group, opts in config.list_opts()
                 if group.name == 'phases' for opt in opts]
        self.assertIn('stacks_per_check', names)

    def test_test_ids(self):
        check = test_phases.FakeCheck
        first = checks_base.phase_test_id(check, 'pre-upgrade')
        self.assertEqual(first, copies.test_id(
            check.idempotent_id, 'pre-upgrade', first, 1))
        second = copies.test_id(check.idempotent_id, 'pre-upgrade', first,
                                2)
        self.assertNotEqual(first, second)
        # Stable: the same copy of the same phase has the same id.
        self.assertEqual(second, copies.test_id(
            check.idempotent_id, 'pre-upgrade', first, 2))
        self.assertNotEqual(second, copies.test_id(
            check.idempotent_id, 'post-upgrade', first, 2))


class CopiesThroughPhasesTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.conf = config.load(config_files=[])
        self.state_dir = os.path.join(tmp, 'state')
        self.conf.set_override('state_dir', self.state_dir, 'phases')
        self.session = test_phases.FakeSession(self.conf)
        test_phases.FakeCheck.calls = []
        self.addCleanup(setattr, test_phases.FakeCheck, 'fail_in', set())

    def run_phase(self, phase, copy=1):
        runner.run_check_phase(self.session, test_phases.FakeCheck,
                               phase=phase, copy=copy)

    def doc(self, name):
        return state.CheckState(self.state_dir, name).load('test')

    def test_default_copy_writes_the_check_state_only(self):
        self.run_phase('pre-upgrade')
        self.assertEqual(['fake.json'], sorted(os.listdir(self.state_dir)))

    def test_each_copy_has_its_own_state_and_run_id(self):
        for copy in (1, 2, 3):
            self.run_phase('pre-upgrade', copy)
        self.assertEqual(['fake.json', 'fake__copy2.json',
                          'fake__copy3.json'],
                         sorted(os.listdir(self.state_dir)))
        docs = [self.doc(copies.state_name('fake', k)) for k in (1, 2, 3)]
        self.assertEqual(3, len({d['run_id'] for d in docs}))
        self.assertEqual(['fake', 'fake__copy2', 'fake__copy3'],
                         [d['check'] for d in docs])

    def test_copies_are_carried_apart_through_every_phase(self):
        for copy in (1, 2):
            self.run_phase('pre-upgrade', copy)
        for phase in ('during-upgrade', 'post-upgrade'):
            for copy in (1, 2):
                self.run_phase(phase, copy)
        # One copy's failure stays its own.
        test_phases.FakeCheck.fail_in = {'delete'}
        self.assertRaises(exceptions.CheckFailed, self.run_phase,
                          'destroy', 2)
        test_phases.FakeCheck.fail_in = set()
        self.run_phase('destroy', 1)
        self.assertEqual('passed', self.doc('fake')['phases']['destroy'])
        self.assertTrue(self.doc('fake')['record']['destroyed'])
        second = self.doc('fake__copy2')
        self.assertEqual('failed', second['phases']['destroy'])
        self.assertFalse(second['record']['destroyed'])
        self.run_phase('destroy', 2)
        self.assertTrue(self.doc('fake__copy2')['record']['destroyed'])

    def test_a_later_phase_without_a_copy_state_names_it(self):
        self.run_phase('pre-upgrade', 1)
        exc = self.assertRaises(exceptions.StateError, self.run_phase,
                                'post-upgrade', 2)
        self.assertIn('fake__copy2', str(exc))

    def test_known_findings_read_every_copy(self):
        self.conf.set_override('stacks_per_check', 2, 'phases')
        for copy in (1, 2):
            self.run_phase('pre-upgrade', copy)
        for name in ('fake', 'fake__copy2'):
            st = state.CheckState(self.state_dir, name)
            doc = st.load('test')
            doc['known_findings'] = {'post-upgrade': {
                'reason': 'bug 1', 'from_series': '*', 'to_series': '*',
                'error': f'broke in {name}'}}
            st.save(doc)
        lines = runner.known_findings(self.conf, 'post-upgrade', ['fake'])
        self.assertEqual(2, len(lines))
        self.assertIn('broke in fake__copy2', lines[1])


# Where testtools' ``attr`` decorator keeps a test's attributes.
ATTRS = '__testtools_attrs'


class GeneratedTestsTest(testtools.TestCase):
    """The phase tests generated per check and copy."""

    def generated(self, stacks_per_check):
        from heat_upgrade_tests.phases.suite import base as phase_base
        conf = config.load(config_files=[])
        conf.set_override('enabled_checks', ['values_and_outputs'],
                          'phases')
        conf.set_override('stacks_per_check', stacks_per_check, 'phases')
        self.useFixture(fixtures.MockPatchObject(
            phase_base, 'session',
            return_value=test_phases.FakeSession(conf)))

        class Generated(phase_base.PhaseTestCase):
            phase = 'pre-upgrade'
        phase_base.generate(Generated)
        return {name: getattr(Generated, name) for name in dir(Generated)
                if name.startswith('test_')}

    def test_default_is_one_test_per_check_with_its_id(self):
        tests = self.generated(1)
        self.assertEqual(['test_values_and_outputs'], sorted(tests))
        check = checks_base.all_checks()['values_and_outputs']
        self.assertEqual(
            {f'id-{checks_base.phase_test_id(check, "pre-upgrade")}'},
            getattr(tests['test_values_and_outputs'], ATTRS))

    def test_one_test_per_copy(self):
        tests = self.generated(3)
        self.assertEqual(['test_values_and_outputs',
                          'test_values_and_outputs__copy2',
                          'test_values_and_outputs__copy3'], sorted(tests))
        ids = {next(iter(getattr(t, ATTRS))) for t in tests.values()}
        self.assertEqual(3, len(ids))
