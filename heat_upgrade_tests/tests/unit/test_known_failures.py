"""Known failures, release ranges and the minimum series of a check."""

import os
import uuid

import fixtures
import testtools

from heat_upgrade_tests.checks import base
from heat_upgrade_tests import config
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.phases import runner
from heat_upgrade_tests import releases
from heat_upgrade_tests import state
from heat_upgrade_tests.tests.unit import test_phases


class SeriesRangeTest(testtools.TestCase):

    def test_ranges(self):
        for spec, series, expected in (
                ('*', '2026.1', True),
                ('2026.1', '2026.1', True),
                ('2026.1', '2026.2', False),
                ('2025.2..', '2026.1', True),
                ('2025.2..', '2025.1', False),
                ('..2026.1', '2026.2', False),
                ('..2026.1', '2025.1', True),
                ('2025.2..2026.1', '2026.1', True),
                ('2025.2..2026.1', '2026.2', False),
                ('2025.1..2025.2', '2025.10', False),
                ('2026.1', None, True)):
            self.assertEqual(expected, base.in_series_range(spec, series),
                             f'{series} in {spec}')

    def test_a_bad_series_is_refused(self):
        self.assertRaises(ValueError, releases.series_key, '2026')
        self.assertRaises(ValueError, releases.series_key, 'dalmatian')

    def test_known_failure_applies_to_its_phase_and_range(self):
        known = base.KnownFailure('post-upgrade', 'bug', from_series='2026.1',
                                  to_series='2026.2..')
        self.assertTrue(known.applies('post-upgrade', '2026.1', '2026.2'))
        self.assertFalse(known.applies('pre-upgrade', '2026.1', '2026.2'))
        self.assertFalse(known.applies('post-upgrade', '2025.2', '2026.2'))
        self.assertFalse(known.applies('post-upgrade', '2026.1', '2026.1'))


class DeclarationTest(testtools.TestCase):

    def _declare(self, **attrs):
        attrs.setdefault('name', 'demo_known')
        attrs.setdefault('idempotent_id', str(uuid.uuid4()))
        attrs.setdefault('description', 'demo')
        attrs.setdefault('template', 'values_and_outputs.yaml')
        attrs.setdefault('update', base.NoUpdate('a demo'))
        return type('Demo', (base.ResourceCheck,), attrs)

    def test_unknown_phase_is_refused(self):
        cls = self._declare(known_failures=(
            base.KnownFailure('mid-upgrade', 'bug'),))
        exc = self.assertRaises(TypeError, base.register, cls)
        self.assertIn("unknown phase 'mid-upgrade'", str(exc))

    def test_a_reason_is_required(self):
        cls = self._declare(known_failures=(
            base.KnownFailure('destroy', ' '),))
        exc = self.assertRaises(TypeError, base.register, cls)
        self.assertIn('needs a reason', str(exc))

    def test_bad_series_are_refused(self):
        for attrs in ({'min_series': 'caracal'},
                      {'known_failures': (base.KnownFailure(
                          'destroy', 'bug', to_series='..2026'),)}):
            self.assertRaises(TypeError, base.register,
                              self._declare(**attrs))

    def test_min_series_skips_an_older_cloud(self):
        conf = config.load(config_files=[])
        check = self._declare(min_series='2026.1')()
        ctx = base.CheckContext(conf=conf, conn=None, admin_conn=None,
                                stacks=None, run_id='r')
        conf.set_override('from_series', '2025.2', 'cloud')
        self.assertIn('needs Heat 2026.1 or newer', check.unsupported(ctx))
        conf.set_override('from_series', '2026.1', 'cloud')
        self.assertIsNone(check.unsupported(ctx))
        conf.clear_override('from_series', 'cloud')
        self.assertIsNone(check.unsupported(ctx))


class KnownCheck(test_phases.FakeCheck):
    known_failures = (
        base.KnownFailure('during-upgrade', 'Heat bug 1: stays down',
                          to_series='2026.2'),
        base.KnownFailure('pre-upgrade', 'documented limitation',
                          from_series='2025.1'),
    )


class KnownFailurePhaseTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.conf = config.load(config_files=[])
        self.conf.set_override('state_dir', os.path.join(tmp, 'state'),
                               'phases')
        self.conf.set_override('from_series', '2026.1', 'cloud')
        self.conf.set_override('to_series', '2026.2', 'cloud')
        # Overrides live in the shared option groups: leave none behind
        # for the next test in this process.
        for opt in ('from_series', 'to_series'):
            self.addCleanup(self.conf.clear_override, opt, 'cloud')
        self.session = test_phases.FakeSession(self.conf)
        KnownCheck.calls = []
        self.addCleanup(setattr, KnownCheck, 'fail_in', set())

    def run_phase(self, phase):
        runner.run_check_phase(self.session, KnownCheck, phase=phase)

    def doc(self):
        return state.CheckState(self.conf.phases.state_dir,
                                'fake').load('test')

    def test_a_known_failure_is_a_reported_skip(self):
        self.run_phase('pre-upgrade')
        KnownCheck.fail_in = {'verify_outside_heat'}
        exc = self.assertRaises(exceptions.CheckSkipped, self.run_phase,
                                'during-upgrade')
        self.assertIn('KNOWN FINDING (Heat bug 1: stays down)', str(exc))
        self.assertIn('verify_outside_heat broke', str(exc))
        doc = self.doc()
        self.assertEqual('known-failure', doc['phases']['during-upgrade'])
        note = doc['known_findings']['during-upgrade']
        self.assertEqual('Heat bug 1: stays down', note['reason'])
        lines = runner.known_findings(self.conf, 'during-upgrade', ['fake'])
        self.assertEqual(1, len(lines))
        self.assertTrue(lines[0].startswith(
            'KNOWN FINDING: fake in during-upgrade (from * to 2026.2)'))
        # The phases after it still run.
        self.run_phase('post-upgrade')
        self.assertIn('update', KnownCheck.calls)

    def test_an_unexpected_pass_is_reported(self):
        self.run_phase('pre-upgrade')
        self.run_phase('during-upgrade')
        doc = self.doc()
        self.assertEqual('passed', doc['phases']['during-upgrade'])
        self.assertIn('during-upgrade', doc['unexpected_successes'])
        lines = runner.known_findings(self.conf, 'during-upgrade', ['fake'])
        self.assertIn('UNEXPECTED PASS: fake in during-upgrade', lines[0])
        self.assertIn('narrow or remove the declaration', lines[0])

    def test_out_of_range_it_is_a_real_failure(self):
        self.conf.set_override('to_series', '2027.1', 'cloud')
        self.run_phase('pre-upgrade')
        KnownCheck.fail_in = {'verify_outside_heat'}
        self.assertRaises(exceptions.CheckFailed, self.run_phase,
                          'during-upgrade')
        self.assertEqual([], runner.known_findings(
            self.conf, 'during-upgrade', ['fake']))

    def test_unknown_series_assumes_the_failure_applies(self):
        self.conf.clear_override('to_series', 'cloud')
        self.run_phase('pre-upgrade')
        KnownCheck.fail_in = {'verify_outside_heat'}
        self.assertRaises(exceptions.CheckSkipped, self.run_phase,
                          'during-upgrade')

    def test_known_failure_in_pre_upgrade_skips_later_phases(self):
        self.conf.set_override('from_series', '2025.1', 'cloud')
        KnownCheck.fail_in = {'verify'}
        self.assertRaises(exceptions.CheckSkipped, self.run_phase,
                          'pre-upgrade')
        exc = self.assertRaises(exceptions.CheckSkipped, self.run_phase,
                                'post-upgrade')
        self.assertIn('KNOWN FINDING in pre-upgrade', str(exc))
        self.assertNotIn('update', KnownCheck.calls)
        # destroy still cleans the stack up.
        self.run_phase('destroy')
        self.assertIn('delete', KnownCheck.calls)


class DestroyKnownCheck(test_phases.FakeCheck):
    known_failures = (base.KnownFailure('destroy', 'cannot delete'),)


class KnownDestroyTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.conf = config.load(config_files=[])
        self.conf.set_override('state_dir', os.path.join(tmp, 'state'),
                               'phases')
        self.session = test_phases.FakeSession(self.conf)
        self.addCleanup(setattr, DestroyKnownCheck, 'fail_in', set())

    def run_phase(self, phase):
        runner.run_check_phase(self.session, DestroyKnownCheck, phase=phase)

    def test_a_known_destroy_failure_never_hides_a_real_one(self):
        self.run_phase('pre-upgrade')
        DestroyKnownCheck.fail_in = {'outputs', 'delete'}
        exc = self.assertRaises(exceptions.CheckFailed, self.run_phase,
                                'post-upgrade')
        self.assertIn('outputs broke', str(exc))
        # The destroy phase's known failure is its own, reported there.
        exc = self.assertRaises(exceptions.CheckSkipped, self.run_phase,
                                'destroy')
        self.assertIn('KNOWN FINDING (cannot delete)', str(exc))

    def test_a_known_destroy_failure_is_reported_by_the_destroy_phase(self):
        self.run_phase('pre-upgrade')
        self.run_phase('post-upgrade')
        DestroyKnownCheck.fail_in = {'delete'}
        exc = self.assertRaises(exceptions.CheckSkipped, self.run_phase,
                                'destroy')
        self.assertIn('KNOWN FINDING (cannot delete)', str(exc))
        self.assertEqual([], runner.known_findings(
            self.conf, 'post-upgrade', ['fake']))
        lines = runner.known_findings(self.conf, 'destroy', ['fake'])
        self.assertEqual(1, len(lines))
        self.assertIn('KNOWN FINDING: fake in destroy', lines[0])
