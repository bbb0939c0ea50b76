"""The phase rules, with a fake check and session of the project's own."""

import os
import uuid

import fixtures
import testtools

from heat_upgrade_tests.checks import base
from heat_upgrade_tests import config
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.phases import runner
from heat_upgrade_tests import state


class FakeStacks:
    """The project's StackOps, without a cloud.

    What the framework asks of it is noted in the check's ``calls``
    (``status``, ``outputs``, ``delete``) and fails when named in its
    ``fail_in``, as the check's own hooks do (``check``: the class of the
    last context).
    """

    timeout = 10
    interval = 0.01
    check: type = None

    def __init__(self, outputs=None, status='CREATE_COMPLETE'):
        self.outputs_now = {'x': 1} if outputs is None else outputs
        self.status = status
        self.deleted: list[str] = []
        # What Heat lists of the stack's resources (before its delete).
        self.listed: list[dict] = []

    def create(self, name, template, environment, parameters, tags=None):
        self.check.note('stack create')
        return 'sid'

    def wait_for(self, stack_id, action):
        pass

    def get(self, stack_id):
        self.check.note('status')
        return type('Stack', (), {'status': self.status, 'name': 'sname',
                                  'status_reason': ''})()

    def outputs(self, stack_id):
        self.check.note('outputs')
        return dict(self.outputs_now)

    def update(self, stack_id, template, environment, parameters):
        self.check.note('stack update')

    def resources(self, stack_id, nested_depth=0):
        return list(self.listed)

    def delete(self, stack_id):
        self.check.note('delete')
        self.deleted.append(stack_id)


class FakeSession:
    """The project's Session, without a cloud.

    ``admin`` stands for the admin connection (None: the admin entry is
    not usable); ``stacks`` for the stack operations.
    """

    def __init__(self, conf, admin=None, stacks=None):
        self.conf = conf
        self.admin = admin
        self.stacks = stacks or FakeStacks()
        self.offline: list[bool] = []

    def context(self, check, run_id, save=None, offline=False):
        self.offline.append(offline)
        self.stacks.check = type(check)
        return base.CheckContext(conf=self.conf, conn=None,
                                 admin_conn=None if offline else self.admin,
                                 stacks=self.stacks, run_id=run_id,
                                 save=save)


class FakeCheck(base.ResourceCheck):
    """A check of the six hooks, each noting its call."""

    name = 'fake'
    idempotent_id = str(uuid.uuid4())
    description = 'fake'
    template = 'values_and_outputs.yaml'
    calls: list = []
    fail_in: set = set()
    skip_reason = None

    @classmethod
    def note(cls, what):
        cls.calls.append(what)
        if what in cls.fail_in:
            raise exceptions.CheckFailed(f'check fake: {what} broke')

    def _call(self, what):
        type(self).note(what)

    def unsupported(self, ctx):
        return self.skip_reason or super().unsupported(ctx)

    def create(self, ctx, record):
        record.stack = base.StackRef(id='sid', name='sname')
        ctx.save()
        self._call('create')
        record.outputs = {'x': 1}

    def verify(self, ctx, record):
        self._call('verify')

    def verify_outside_heat(self, ctx, record):
        self._call('verify_outside_heat')

    def update(self, ctx, record):
        self._call('update')

    def verify_gone(self, ctx, record):
        self._call('verify_gone')


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
        runner.run_check_phase(self.session, FakeCheck, phase=phase)

    def doc(self):
        return state.CheckState(self.conf.phases.state_dir,
                                'fake').load('test')

    def test_full_sequence(self):
        for phase in ('pre-upgrade', 'during-upgrade', 'post-upgrade'):
            self.run_phase(phase)
        self.assertEqual(['create', 'status', 'verify',
                          'verify_outside_heat',
                          'status', 'verify', 'outputs', 'update'],
                         FakeCheck.calls)
        # post-upgrade verifies and updates, and never deletes.
        self.assertFalse(self.doc()['record']['destroyed'])
        self.run_phase('destroy')
        self.assertEqual(['delete', 'verify_gone'], FakeCheck.calls[-2:])
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
        self.assertEqual(['create', 'delete', 'verify_gone'],
                         FakeCheck.calls)

    def test_destroy_phase_cleans_up_after_a_failed_post_upgrade(self):
        self.run_phase('pre-upgrade')
        FakeCheck.fail_in = {'outputs'}
        self.assertRaises(exceptions.CheckFailed, self.run_phase,
                          'post-upgrade')
        self.assertNotIn('delete', FakeCheck.calls)
        self.assertNotIn('update', FakeCheck.calls)
        self.assertFalse(self.doc()['record']['destroyed'])
        self.run_phase('destroy')
        self.assertEqual('verify_gone', FakeCheck.calls[-1])
        doc = self.doc()
        self.assertEqual('failed', doc['phases']['post-upgrade'])
        self.assertEqual('passed', doc['phases']['destroy'])
        self.assertTrue(doc['record']['destroyed'])

    def test_destroy_is_idempotent(self):
        self.run_phase('pre-upgrade')
        self.run_phase('destroy')
        exc = self.assertRaises(exceptions.CheckSkipped, self.run_phase,
                                'destroy')
        self.assertIn('no stack left to destroy', str(exc))
        self.assertEqual(1, FakeCheck.calls.count('delete'))

    def test_a_failed_destroy_can_be_run_again(self):
        self.run_phase('pre-upgrade')
        FakeCheck.fail_in = {'delete'}
        self.assertRaises(exceptions.CheckFailed, self.run_phase, 'destroy')
        self.assertFalse(self.doc()['record']['destroyed'])
        FakeCheck.fail_in = set()
        self.run_phase('destroy')
        self.assertTrue(self.doc()['record']['destroyed'])

    def test_no_update_is_said_and_skips_the_update(self):
        class Quiet(FakeCheck):
            update = base.NoUpdate('nothing to change')
        self.run_phase('pre-upgrade')
        runner.run_check_phase(self.session, Quiet, phase='post-upgrade')
        self.assertEqual(['status', 'verify', 'outputs'],
                         FakeCheck.calls[-3:])

    def test_a_record_field_the_check_does_not_declare_is_refused(self):
        self.run_phase('pre-upgrade')
        st = state.CheckState(self.conf.phases.state_dir, 'fake')
        doc = st.load('test')
        doc['record']['surprise'] = 1
        st.save(doc)
        exc = self.assertRaises(exceptions.StateError, self.run_phase,
                                'post-upgrade')
        self.assertIn('is corrupt', str(exc))
        self.assertIn('surprise', str(exc))
        self.assertEqual(1, len(str(exc).splitlines()))

    def test_pre_upgrade_refuses_to_forget_a_live_stack(self):
        self.run_phase('pre-upgrade')
        exc = self.assertRaises(exceptions.StateError, self.run_phase,
                                'pre-upgrade')
        self.assertIn('run the destroy phase first', str(exc))

    def test_unknown_phase_is_refused(self):
        exc = self.assertRaises(exceptions.ConfigError, self.run_phase,
                                'mid-upgrade')
        self.assertIn("unknown phase 'mid-upgrade'", str(exc))


class AdminCheck(FakeCheck):
    needs_admin = True


class AdminReaderCheck(FakeCheck):
    reads_as_admin = 'looks up its stack user in Keystone'


class NeedsAdminTest(testtools.TestCase):
    """A check needing admin is skipped without it, in every phase."""

    def setUp(self):
        super().setUp()
        tmp = self.useFixture(fixtures.TempDir()).path
        self.conf = config.load(config_files=[])
        self.conf.set_override('state_dir', os.path.join(tmp, 'state'),
                               'phases')
        FakeCheck.calls = []

    def run_phase(self, check, phase, admin):
        runner.run_check_phase(FakeSession(self.conf, admin), check,
                               phase=phase)

    def test_pre_upgrade_without_admin_is_a_skip_carried_on(self):
        for check in (AdminCheck, AdminReaderCheck):
            exc = self.assertRaises(exceptions.CheckSkipped, self.run_phase,
                                    check, 'pre-upgrade', None)
            self.assertIn('needs admin credentials', str(exc))
            for phase in ('during-upgrade', 'no-api', 'post-upgrade',
                          'destroy'):
                exc = self.assertRaises(exceptions.CheckSkipped,
                                        self.run_phase, check, phase,
                                        object())
                self.assertIn('skipped since pre-upgrade', str(exc))
            state.CheckState(self.conf.phases.state_dir, 'fake').path.unlink()
        self.assertEqual([], FakeCheck.calls)

    def test_no_api_opens_no_connection_and_asks_no_credentials(self):
        # Grenade stops Keystone before verify_noapi: the phase gets an
        # offline context, and an admin check says it has no probe, not
        # that it lacks credentials.
        self.run_phase(AdminCheck, 'pre-upgrade', object())
        session = FakeSession(self.conf, object())
        exc = self.assertRaises(exceptions.CheckSkipped,
                                runner.run_check_phase, session, AdminCheck,
                                phase='no-api')
        self.assertEqual([True], session.offline)
        self.assertIn('has no data-plane probe', str(exc))
        self.assertNotIn('admin', str(exc))

    def test_later_phases_without_admin_are_skips_never_passes(self):
        for check, what in ((AdminCheck, 'runs as admin'),
                            (AdminReaderCheck, 'looks up its stack user')):
            FakeCheck.calls = []
            self.run_phase(check, 'pre-upgrade', object())
            for phase in ('during-upgrade', 'post-upgrade'):
                exc = self.assertRaises(exceptions.CheckSkipped,
                                        self.run_phase, check, phase, None)
                self.assertIn(what, str(exc))
                self.assertIn("clouds.yaml entry 'devstack-admin' is not "
                              "usable", str(exc))
            exc = self.assertRaises(exceptions.CheckSkipped, self.run_phase,
                                    check, 'destroy', None)
            self.assertIn('its stack sname is left behind', str(exc))
            self.assertEqual(['create', 'status', 'verify'],
                             FakeCheck.calls)
            # With admin back, destroy still cleans up.
            self.run_phase(check, 'destroy', object())
            self.assertEqual(['delete', 'verify_gone'],
                             FakeCheck.calls[-2:])


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
        self.session = FakeSession(self.conf, stacks=self.stacks)
        FakeCheck.calls = []
        self.addCleanup(setattr, FakeCheck, 'fail_in', set())

    def test_verify_any_number_of_times_leaves_the_state(self):
        self.run_phase('pre-upgrade')
        path = state.CheckState(self.conf.phases.state_dir, 'fake').path
        before = path.read_bytes()
        for _ in range(3):
            self.run_phase('verify')
        self.assertEqual(before, path.read_bytes())
        self.assertEqual(['create', 'status', 'verify'] +
                         ['status', 'verify', 'outputs',
                          'verify_outside_heat'] * 3,
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
