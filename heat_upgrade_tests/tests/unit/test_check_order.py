"""The phases' order of checks, drawn from the run's seed (check_order)."""

import types
import unittest

import fixtures
import testtools

from heat_upgrade_tests.phases import check_order
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import model

NAMES = [f'check_{i:02d}' for i in range(24)]


class OrderedTest(testtools.TestCase):

    @base.idempotent_id('5394dcbd-0ac5-4c84-852c-c0db9453990a')
    def test_same_seed_same_order_and_seeds_differ(self):
        self.assertEqual(NAMES, check_order.ordered(reversed(NAMES), None))
        one = check_order.ordered(NAMES, 7)
        self.assertEqual(one, check_order.ordered(list(reversed(NAMES)), 7))
        self.assertEqual(sorted(one), NAMES)
        self.assertNotEqual(NAMES, one)
        orders = {tuple(check_order.ordered(NAMES, s)) for s in range(10)}
        self.assertEqual(10, len(orders))

    @base.idempotent_id('edb2da0a-df48-4593-a38d-eb185a342880')
    def test_stestr_deals_by_the_hash_seed(self):
        self.assertEqual({'PYTHONHASHSEED': '12'},
                         check_order.stestr_env(12))
        self.assertEqual({'PYTHONHASHSEED': '0'},
                         check_order.stestr_env(2 ** 32))


def _phase_case() -> type:
    """A stand-in for a generated phase class (test_<state name>).

    Made in a function, so that the loader does not run it here.
    """
    case = type('PhaseCase', (testtools.TestCase,), {})
    for name in ('alpha', 'beta', 'gamma', 'delta', 'epsilon',
                 'resource_load'):
        setattr(case, f'test_{name}', lambda self: None)
    return case


class LoadTestsTest(testtools.TestCase):

    def _load(self, seed):
        conf = types.SimpleNamespace(phases=types.SimpleNamespace(
            check_order_seed=seed))
        session = types.SimpleNamespace(conf=conf)
        self.useFixture(fixtures.MockPatchObject(
            base, 'session', lambda: session))
        self.useFixture(fixtures.MockPatchObject(
            check_order, 'phase_order',
            lambda c: check_order.ordered(
                ['alpha', 'beta', 'gamma', 'delta', 'epsilon'],
                c.phases.check_order_seed)))
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(_phase_case())
        loaded = base.load_tests(unittest.defaultTestLoader, suite, None)
        return [t._testMethodName[len('test_'):]
                for t in testtools.iterate_tests(loaded)]

    @base.idempotent_id('36936204-af51-4655-be81-2eaf34a1c1a8')
    def test_without_a_seed_the_loader_order(self):
        self.assertEqual(['alpha', 'beta', 'delta', 'epsilon', 'gamma',
                          'resource_load'], self._load(None))

    @base.idempotent_id('98f098f0-50b0-4a89-bac0-cbe22bed1557')
    def test_with_a_seed_the_seed_order_then_the_rest(self):
        got = self._load(3)
        self.assertEqual(check_order.ordered(
            ['alpha', 'beta', 'gamma', 'delta', 'epsilon'], 3) +
            ['resource_load'], got)
        self.assertNotEqual(self._load(None), got)


class PlanSeedTest(testtools.TestCase):

    @base.idempotent_id('4e683b76-4f11-41a9-86f8-e8558f53bff5')
    def test_plans_that_shuffle_get_a_check_seed_from_the_run_seed(self):
        for name in ('full', 'rolling-mixed', 'rolling-vhost',
                     'service-by-service', 'skip-level'):
            plan = model.get(name)
            self.assertTrue(plan.shuffle_checks, name)
            self.assertIsNone(plan.check_order_seed)
            one, _, notes = model.vary(plan, 11)
            two, _, _ = model.vary(plan, 11)
            self.assertIsNotNone(one.check_order_seed)
            self.assertEqual(one.check_order_seed, two.check_order_seed)
            self.assertIn(f'checks in the order of check_order_seed '
                          f'{one.check_order_seed}', notes)
        seeds = {model.vary(model.get('full'), s)[0].check_order_seed
                 for s in range(10)}
        self.assertGreater(len(seeds), 1)

    @base.idempotent_id('da9d17e5-7d14-4c1f-80d1-6c72b60b3db9')
    def test_a_plan_without_shuffle_checks_keeps_the_order(self):
        path = self.useFixture(fixtures.TempDir()).path + '/p.yaml'
        with open(path, 'w') as f:
            f.write('name: p\nsummary: s\nsteps:\n  - phase: verify\n')
        plan = model.load(path)
        self.assertIsNone(model.vary(plan, 11)[0].check_order_seed)
        with open(path, 'a') as f:
            f.write('shuffle_checks: sometimes\n')
        self.assertIn('shuffle_checks is true or false',
                      str(self.assertRaises(model.PlanError, model.load,
                                            path)))
