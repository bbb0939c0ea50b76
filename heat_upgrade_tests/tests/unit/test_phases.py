"""The phase rules, with a fake check and session of the project's own."""

import os
import uuid

import fixtures
import testtools

from heat_upgrade_tests.checks import base
from heat_upgrade_tests import config
from heat_upgrade_tests import exceptions
from heat_upgrade_tests import phases
from heat_upgrade_tests import state


class FakeSession:

    def __init__(self, conf):
        self.conf = conf

    def context(self, check, run_id, save=None, offline=False):
        return base.CheckContext(conf=self.conf, conn=None, admin_conn=None,
                                 stacks=None, run_id=run_id, save=save)


class FakeCheck(base.ResourceCheck):
    name = 'fake'
    idempotent_id = str(uuid.uuid4())
    description = 'fake'
    template = 'values_and_outputs.yaml'
    calls: list = []
    fail_in: set = set()
    skip_reason = None

    def _call(self, what):
        type(self).calls.append(what)
        if what in self.fail_in:
            self.fail(f'{what} broke')

    def unsupported(self, ctx):
        return self.skip_reason

    def create(self, ctx, record):
        record['stack'] = {'id': 'sid', 'name': 'sname'}
        ctx.save()
        self._call('create')
        record['outputs'] = {'x': 1}

    def verify(self, ctx, record):
        self._call('verify')

    def verify_heat_down(self, ctx, record):
        self._call('verify_heat_down')

    def verify_upgraded(self, ctx, record):
        self._call('verify_upgraded')

    def destroy(self, ctx, record):
        self._call('destroy')


class PhasesTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.conf = config.load(config_files=[])
        self.conf.set_override('state_dir', os.path.join(tmp, 'state'),
                               'phases')
        self.session = FakeSession(self.conf)
        FakeCheck.calls = []
        self.addCleanup(setattr, FakeCheck, 'fail_in', set())
        self.addCleanup(setattr, FakeCheck, 'skip_reason', None)

    def run_phase(self, phase):
        phases.run_check_phase(self.session, FakeCheck, phase=phase)

    def doc(self):
        return state.CheckState(self.conf.phases.state_dir,
                                'fake').load('test')

    def test_full_sequence(self):
        for phase in ('pre-upgrade', 'during-upgrade', 'post-upgrade'):
            self.run_phase(phase)
        self.assertEqual(['create', 'verify', 'verify_heat_down',
                          'verify_upgraded', 'destroy'], FakeCheck.calls)
        doc = self.doc()
        self.assertTrue(doc['record']['destroyed'])
        self.assertEqual({'pre-upgrade': 'passed',
                          'during-upgrade': 'passed',
                          'post-upgrade': 'passed',
                          'destroy': 'passed'}, doc['phases'])
        exc = self.assertRaises(exceptions.CheckSkipped, self.run_phase,
                                'destroy')
        self.assertIn('no stack left', str(exc))

    def test_later_phase_without_state_names_pre_upgrade(self):
        exc = self.assertRaises(exceptions.StateError, self.run_phase,
                                'during-upgrade')
        self.assertIn('run the pre-upgrade phase before during-upgrade',
                      str(exc))

    def test_destroy_without_state_is_a_skip(self):
        self.assertRaises(exceptions.CheckSkipped, self.run_phase, 'destroy')

    def test_skip_is_recorded_and_carried(self):
        FakeCheck.skip_reason = 'needs the compute service'
        self.assertRaises(exceptions.CheckSkipped, self.run_phase,
                          'pre-upgrade')
        exc = self.assertRaises(exceptions.CheckSkipped, self.run_phase,
                                'post-upgrade')
        self.assertIn('needs the compute service', str(exc))
        self.assertEqual([], FakeCheck.calls)

    def test_stack_id_is_kept_when_create_fails(self):
        FakeCheck.fail_in = {'create'}
        exc = self.assertRaises(exceptions.CheckFailed, self.run_phase,
                                'pre-upgrade')
        self.assertIn('check fake: create broke', str(exc))
        doc = self.doc()
        self.assertEqual('failed', doc['phases']['pre-upgrade'])
        self.assertEqual('sid', doc['record']['stack']['id'])
        # A later phase refuses to verify, but destroy cleans up.
        self.assertRaises(exceptions.CheckFailed, self.run_phase,
                          'during-upgrade')
        self.run_phase('destroy')
        self.assertEqual(['create', 'destroy'], FakeCheck.calls)

    def test_destroy_runs_when_post_upgrade_verification_fails(self):
        self.run_phase('pre-upgrade')
        FakeCheck.fail_in = {'verify_upgraded'}
        self.assertRaises(exceptions.CheckFailed, self.run_phase,
                          'post-upgrade')
        self.assertEqual('destroy', FakeCheck.calls[-1])
        doc = self.doc()
        self.assertEqual('failed', doc['phases']['post-upgrade'])
        self.assertTrue(doc['record']['destroyed'])

    def test_pre_upgrade_refuses_to_forget_a_live_stack(self):
        self.run_phase('pre-upgrade')
        exc = self.assertRaises(exceptions.StateError, self.run_phase,
                                'pre-upgrade')
        self.assertIn('run the destroy phase first', str(exc))

    def test_unknown_phase_is_refused(self):
        exc = self.assertRaises(exceptions.ConfigError, self.run_phase,
                                'mid-upgrade')
        self.assertIn("unknown phase 'mid-upgrade'", str(exc))


class FakeStacks:
    """StackOps of the project, seen read-only: status and outputs."""

    def __init__(self, outputs):
        self.outputs_now = outputs

    def get(self, stack_id):
        return type('Stack', (), {'status': 'CREATE_COMPLETE',
                                  'name': 'sname', 'status_reason': ''})()

    def outputs(self, stack_id):
        return dict(self.outputs_now)


class StackSession(FakeSession):

    def __init__(self, conf, stacks):
        super().__init__(conf)
        self.stacks = stacks

    def context(self, check, run_id, save=None, offline=False):
        return base.CheckContext(conf=self.conf, conn=None, admin_conn=None,
                                 stacks=self.stacks, run_id=run_id,
                                 save=save)


class VerifyPhaseTest(testtools.TestCase):
    """verify: read-only, repeatable, and the state never written."""

    run_phase = PhasesTest.run_phase
    doc = PhasesTest.doc

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.conf = config.load(config_files=[])
        self.conf.set_override('state_dir', os.path.join(tmp, 'state'),
                               'phases')
        self.stacks = FakeStacks({'x': 1})
        self.session = StackSession(self.conf, self.stacks)
        FakeCheck.calls = []
        self.addCleanup(setattr, FakeCheck, 'fail_in', set())

    def test_verify_any_number_of_times_leaves_the_state(self):
        self.run_phase('pre-upgrade')
        path = state.CheckState(self.conf.phases.state_dir, 'fake').path
        before = path.read_bytes()
        for _ in range(3):
            self.run_phase('verify')
        self.assertEqual(before, path.read_bytes())
        self.assertEqual(['create', 'verify'] + ['verify_heat_down'] * 3,
                         FakeCheck.calls)
        # The later phases still run as if verify had not.
        self.run_phase('during-upgrade')
        self.assertEqual('passed', self.doc()['phases']['during-upgrade'])

    def test_verify_fails_on_changed_outputs_without_writing(self):
        self.run_phase('pre-upgrade')
        path = state.CheckState(self.conf.phases.state_dir, 'fake').path
        before = path.read_bytes()
        self.stacks.outputs_now = {'x': 2}
        exc = self.assertRaises(exceptions.CheckFailed, self.run_phase,
                                'verify')
        self.assertIn('outputs differ', str(exc))
        self.assertEqual(before, path.read_bytes())

    def test_verify_needs_a_passed_pre_upgrade(self):
        FakeCheck.fail_in = {'verify'}
        self.assertRaises(exceptions.CheckFailed, self.run_phase,
                          'pre-upgrade')
        exc = self.assertRaises(exceptions.CheckFailed, self.run_phase,
                                'verify')
        self.assertIn('pre-upgrade did not pass', str(exc))
