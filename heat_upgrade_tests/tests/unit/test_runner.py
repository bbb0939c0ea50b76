"""The one runner's rules, walked with a fake of its step actions."""

from pathlib import Path
import textwrap

import fixtures
import testtools

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import sources
from heat_upgrade_tests.installs import venvs
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.plans import runner


# Heat's releases O and N; the others' (Keystone's) KO and KN.
LABELS = model.Labels({'heat': {'old': 'O', 'new': 'N'},
                       **{name: {'old': 'KO', 'new': 'KN'}
                          for name in ('keystone', 'swift', 'neutron')}})


class FakeRun(runner.PlanRunner):
    """Records each action; fails the phases named in ``failing``."""

    def __init__(self, plan, failing=(), **kwargs):
        super().__init__(plan, echo=False, **kwargs)
        self.failing = set(failing)
        self.calls: list[str] = []
        self.running: set[str] = set()

    @property
    def labels(self):
        return LABELS

    def do_start(self, ref, bus=None):
        self.calls.append(f'start {ref}' + (f' on {bus}' if bus else ''))
        self.running.add(str(ref))

    def do_stop(self, ref):
        self.calls.append(f'stop {ref}')
        self.running = {r for r in self.running
                        if not r.startswith(ref.service)}

    def do_migrate(self, ref):
        self.calls.append(f'migrate {ref}')

    def do_phase(self, phase):
        self.calls.append(f'phase {phase}')
        if phase in self.failing:
            raise exceptions.UpgradeTestError(f'the {phase} phase failed')

    def do_integrity(self, only):
        self.calls.append('integrity')
        if 'integrity' in self.failing:
            raise exceptions.UpgradeTestError('integrity checks failed')

    def do_switch(self, endpoint, ref):
        self.calls.append(f'switch {endpoint} {ref}')

    def do_wait_for(self, ref, timeout):
        self.calls.append(f'wait {ref} {timeout:g}')

    def do_sleep(self, seconds):
        self.calls.append(f'sleep {seconds:g}')


class RunnerTest(testtools.TestCase):

    def hooks(self, run, moments):
        return {m: (lambda ctx, m=m: run.calls.append(f'hook {m}'))
                for m in moments}

    @base.idempotent_id('fe6ae4e0-2824-42a6-8b6c-b1be9561b348')
    def test_full_plan_in_grenade_moments(self):
        run = FakeRun(model.get('full'))
        run.walk(self.hooks(run, ('heat-down', 'db-synced', 'destroy')))
        self.assertEqual([
            'migrate heat@old', 'start heat@old', 'phase pre-upgrade',
            'phase verify', 'stop heat@old', 'hook heat-down',
            'stop neutron', 'stop keystone', 'phase no-api', 'stop swift',
            'start keystone@new', 'start swift@new', 'migrate neutron@new',
            'start neutron@new',
            'phase during-upgrade', 'migrate heat@new', 'integrity',
            'hook db-synced', 'start heat@new', 'phase post-upgrade',
            'phase destroy', 'hook destroy'], run.calls)
        self.assertTrue(run.ok)
        names = [s.name for s in run.steps]
        self.assertIn('hook after heat-down', names)
        self.assertIn('stop Heat O', names)

    @base.idempotent_id('d04416b5-39c3-492c-938b-2141bbf221e8')
    def test_a_callers_order_of_the_group(self):
        order = ('heat-upgrade-tests', 'keystone', 'swift', 'neutron',
                 'heat')
        run = FakeRun(model.get('full'), orders={'upgrade': order})
        self.assertEqual(order, run.upgrade_order)
        run.walk()
        self.assertLess(run.calls.index('phase during-upgrade'),
                        run.calls.index('start keystone@new'))
        self.assertRaises(model.PlanError, FakeRun, model.get('full'),
                          orders={'upgrade': ('heat',)})

    @base.idempotent_id('bce448e5-1663-48c8-9857-20944d56fca6')
    def test_a_failed_phase_ends_the_walk_but_destroy_runs(self):
        run = FakeRun(model.get('full'), failing={'post-upgrade'})
        exc = self.assertRaises(exceptions.UpgradeTestError, run.walk)
        self.assertIn('post-upgrade', str(exc))
        self.assertEqual(['phase post-upgrade', 'phase destroy'],
                         run.calls[-2:])
        self.assertFalse(run.ok)
        run = FakeRun(model.get('full'), failing={'pre-upgrade'})
        self.assertRaises(exceptions.UpgradeTestError, run.walk)
        self.assertEqual(['phase pre-upgrade', 'phase destroy'],
                         run.calls[-2:])
        self.assertNotIn('stop heat@old', run.calls)

    @base.idempotent_id('a1a7bba2-9a31-47bc-a200-47ffd8d1545e')
    def test_the_first_failure_is_raised_even_if_destroy_fails(self):
        run = FakeRun(model.get('full'), failing={'no-api', 'destroy'})
        exc = self.assertRaises(exceptions.UpgradeTestError, run.walk)
        self.assertIn('no-api', str(exc))
        self.assertEqual([False, False], [s.ok for s in run.steps[-2:]])

    @base.idempotent_id('f2f7dcc0-bba2-4075-b9a9-9446af7e7a69')
    def test_a_keep_going_failure_is_recorded_and_its_moment_comes(self):
        run = FakeRun(model.get('full'), failing={'integrity'})
        run.walk(self.hooks(run, ('db-synced',)))
        self.assertIn('hook db-synced', run.calls)
        self.assertEqual('phase destroy', run.calls[-1])
        self.assertFalse(run.ok)
        failed = [s for s in run.steps if not s.ok]
        self.assertEqual([model.INTEGRITY_TITLE], [s.name for s in failed])
        self.assertIn('integrity checks failed', failed[0].detail)

    @base.idempotent_id('eb9f2ca9-3924-48df-b116-0270ed94fcca')
    def test_a_failing_hook_fails_the_run(self):
        run = FakeRun(model.get('full'))

        def boom(ctx):
            raise exceptions.UpgradeTestError('drill broke')
        self.assertRaises(exceptions.UpgradeTestError, run.walk,
                          {'no-api': boom})
        self.assertEqual('phase destroy', run.calls[-1])
        self.assertNotIn('start keystone@new', run.calls)

    @base.idempotent_id('8f9b0a14-1687-48ba-b488-821a439e2028')
    def test_an_interrupt_runs_nothing_more(self):
        run = FakeRun(model.get('full'))

        def interrupt(ctx):
            raise KeyboardInterrupt()
        self.assertRaises(KeyboardInterrupt, run.walk,
                          {'pre-upgrade': interrupt})
        self.assertEqual('phase pre-upgrade', run.calls[-1])

    @base.idempotent_id('e7cda45f-6b82-4ad3-8393-25f149fcd753')
    def test_hooks_at_unknown_moments_are_refused(self):
        run = FakeRun(model.get('skip-level'))
        exc = self.assertRaises(exceptions.ConfigError, run.check_moments,
                                {'verified-new-keystone': print})
        self.assertIn('has no moment verified-new-keystone', str(exc))
        run.check_moments({'no-api': print})

    @base.idempotent_id('72ff1967-7113-4515-85ad-20aff90cd2c1')
    def test_every_vocabulary_step_reaches_its_action(self):
        path = Path(self.useFixture(fixtures.TempDir()).path) / 'r.yaml'
        path.write_text(textwrap.dedent('''
            name: rolling
            summary: s
            steps:
              - start: heat@old
              - start: heat-engine@new#2
              - wait: {for: heat-api@old, timeout: 5}
              - switch: {endpoint: orchestration, to: heat-api@new#2}
              - wait: {seconds: 0}
              - stop: heat-engine@old
              - integrity: {only: [schema]}
        '''))
        # Its steps alone, without the opening and closing of every plan.
        run = FakeRun(model.load(path, framed=False))
        run.walk()
        self.assertEqual([
            'start heat@old', 'start heat-engine@new#2',
            'wait heat-api@old 5', 'switch orchestration heat-api@new#2',
            'sleep 0', 'stop heat-engine@old', 'integrity'], run.calls)
        self.assertIn('start heat-engine#2 N', [s.name for s in run.steps])


class SourceTreeVenvTest(testtools.TestCase):

    @base.idempotent_id('6b0e3a63-b41e-4a4f-bf8b-254613ef6b0e')
    def test_a_trees_venv_follows_its_dependencies(self):
        tree = Path(self.useFixture(fixtures.TempDir()).path)
        (tree / 'heat').mkdir()
        (tree / 'setup.cfg').write_text('[metadata]\nname = openstack-heat\n')
        (tree / 'requirements.txt').write_text('pbr\n')
        self.assertTrue(sources.is_heat_tree(tree))
        reqs = sources.requirements(tree)
        before = venvs.venv_hash(reqs, None, sources.fingerprint(tree))
        (tree / 'heat' / 'x.py').write_text('# an edit of the code\n')
        self.assertEqual(before, venvs.venv_hash(
            reqs, None, sources.fingerprint(tree)))
        (tree / 'requirements.txt').write_text('pbr\nnew-dependency\n')
        self.assertNotEqual(before, venvs.venv_hash(
            reqs, None, sources.fingerprint(tree)))
        self.assertEqual(sources.venv_name(tree), sources.venv_name(
            tree / '.'))
        self.assertIn('pyuwsgi', reqs)
        # No fingerprint: the hash of the venvs already in the cache.
        self.assertEqual(venvs.venv_hash(['x'], None),
                         venvs.venv_hash(['x'], None, ''))


class InTreeOrderTest(testtools.TestCase):

    @base.idempotent_id('2ae5b4e6-abbd-4ae3-8369-1587f0d702c1')
    def test_grenade_order_gets_swift_and_neutron_after_keystone(self):
        from heat_upgrade_tests.tests.functional import grenade_drills
        self.assertEqual(
            ('keystone', 'swift', 'neutron', 'heat-upgrade-tests', 'heat'),
            grenade_drills.with_in_tree(('keystone', 'heat-upgrade-tests',
                                         'heat')))
        order = ('keystone', 'neutron', 'swift', 'heat')
        self.assertEqual(order, grenade_drills.with_in_tree(order))
        # With the compute part: Placement, Glance and Nova where grenade
        # puts them.
        self.assertEqual(
            ('keystone', 'placement', 'swift', 'glance', 'neutron', 'nova',
             'heat-upgrade-tests', 'heat'),
            grenade_drills.with_in_tree(('keystone', 'heat-upgrade-tests',
                                         'heat'), compute=True))
