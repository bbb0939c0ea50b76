"""The rolling plans' parts without a cloud: seed, mix judge, disruption."""

import json
from pathlib import Path
import types

import fixtures
import testtools

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import disruption
from heat_upgrade_tests.plans import mixing
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.runreport import html
from heat_upgrade_tests.tests.unit import test_runner


class RollingPlansTest(testtools.TestCase):

    @base.idempotent_id('72d31a47-d27f-4ba4-add8-3f4312e7c6ca')
    def test_rolling_plans_load(self):
        mixed = model.get('rolling-mixed')
        vhost = model.get('rolling-vhost')
        self.assertEqual(2, [s.name for s in mixed.flat()].count('mixed'))
        self.assertEqual({}, mixed.budget)
        self.assertEqual({'unavailable_seconds': {'heat': 5.0},
                          'failed_stack_operations': 0}, vhost.budget)
        buses = {str(s.ref): s.bus for s in vhost.flat()
                 if s.action == 'start'}
        self.assertEqual('new', buses['heat-engine@new'])
        self.assertEqual('new', buses['heat-api@new#2'])
        self.assertIsNone(buses['heat@old'])
        # The old engine stops even after a failed mixed phase, so that
        # destroy runs with the new engine alone.
        stop = [s for s in mixed.flat() if s.action == 'stop' and
                str(s.ref) == 'heat-engine@old']
        self.assertTrue(stop[0].always)
        self.assertEqual({}, model.get('full').budget)

    @base.idempotent_id('ed6fc90b-bc9d-440a-96dc-d7877a406b0e')
    def test_same_seed_same_plan(self):
        plan = model.get('rolling-mixed')
        labels = test_runner.LABELS
        renders = {}
        for seed in range(20):
            one = model.vary(plan, seed)
            two = model.vary(plan, seed)
            self.assertEqual(one[1:], two[1:])
            self.assertEqual(model.render(one[0], labels, one[1]),
                             model.render(two[0], labels, two[1]))
            renders[seed] = one[1]['retire']
        # Both engines' retirement orders occur over twenty seeds.
        self.assertEqual({('old-api', 'old-engine'),
                          ('old-engine', 'old-api')}, set(renders.values()))
        # A caller's order wins over the seed's.
        _, orders, notes = model.vary(plan, 3, {'retire': ('old-api',
                                                           'old-engine')})
        self.assertEqual(('old-api', 'old-engine'), orders['retire'])
        self.assertFalse([n for n in notes if n.startswith('retire')])

    @base.idempotent_id('90ccec39-3c8d-45ad-8c8b-3fd17e32b6a7')
    def test_runner_prints_and_uses_the_seed(self):
        plan = model.get('rolling-vhost')
        run = test_runner.FakeRun(plan, seed=42)
        again = test_runner.FakeRun(plan, seed=42)
        self.assertIn('seed 42 (replay with --seed 42)', run.render())
        self.assertEqual(run.render(), again.render())
        run.walk()
        again.walk()
        self.assertEqual(run.calls, again.calls)
        pause = [c for c in run.calls if c.startswith('sleep')]
        self.assertEqual(1, len(pause))
        self.assertTrue(1 <= float(pause[0].split()[1]) <= 4, pause)
        drawn = test_runner.FakeRun(plan)
        self.assertIsInstance(drawn.seed, int)
        self.assertIn(f'seed {drawn.seed}', drawn.render())


def _engine(tmp: Path, key: str, text: str):
    log = tmp / f'heat-engine-{key}.log'
    log.write_text(text)
    return types.SimpleNamespace(log_file=log, release=types.SimpleNamespace(
        key=key))


class MixingTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = Path(self.useFixture(fixtures.TempDir()).path)

    def report(self, finding) -> Path:
        path = self.tmp / 'integrity-report.json'
        path.write_text(json.dumps({'findings': [finding]}))
        return path

    @base.idempotent_id('1e9a3145-02c3-4ae5-9865-059f83b3fb04')
    def test_prediction_read_from_the_report(self):
        ok = mixing.predict(self.report({
            'check': 'rpc', 'status': 'passed', 'summary': 'one bus',
            'data': {'breaks': []}}))
        self.assertTrue(ok.compatible)
        bad = mixing.predict(self.report({
            'check': 'rpc', 'status': 'warning', 'summary': 'worker 1.4',
            'data': {'breaks': ['worker check_resource (new sends)']}}))
        self.assertFalse(bad.compatible)
        self.assertIn('check_resource', bad.breaks[0])
        for finding in ({'check': 'schema'},
                        {'check': 'rpc', 'status': 'failed', 'summary': 'x',
                         'data': {'not_compared': ['y']}}):
            exc = self.assertRaises(exceptions.UpgradeTestError,
                                    mixing.predict, self.report(finding))
            self.assertIn('no RPC prediction', str(exc))
        self.assertRaises(exceptions.UpgradeTestError, mixing.predict,
                          self.tmp / 'missing.json')

    @base.idempotent_id('6c1e2223-2e68-4bb0-86ea-10385c26c9cd')
    def test_observed_from_the_engines_logs(self):
        old = _engine(self.tmp, '2026.1', 'before\n')
        new = _engine(self.tmp, '2026.2', '')
        start = mixing.offsets([old, new])
        with open(old.log_file, 'a') as f:
            f.write('INFO heat.engine.service [req-1] Creating stack a\n'
                    'INFO heat.engine.service [req-3] Updating stack b\n'
                    '1 INFO heat.engine.resource [None req-1 u p - - default '
                    'default] creating RandomString "0" Stack "a" [x]\n'
                    '1 INFO heat.engine.resource [None req-1 u p - - default '
                    'default] deleting RandomString "1" Stack "a" [x]\n')
        with open(new.log_file, 'a') as f:
            f.write('INFO heat.engine.service [req-2] Updating stack a\n'
                    'INFO heat.engine.service [req-4] Creating stack b\n')
        seen = mixing.observe([old, new], start)
        self.assertEqual({'2026.1': 2, '2026.2': 2}, seen.served)
        self.assertEqual({'2026.1': 2, '2026.2': 0}, seen.resources)
        self.assertEqual([('a', '2026.1', '2026.2'),
                          ('b', '2026.2', '2026.1')], seen.crossings)
        # What was logged before the phase does not count.
        with open(old.log_file, 'w') as f:
            f.write('Creating stack z\n')
        self.assertEqual(
            {'2026.1': 0, '2026.2': 0},
            mixing.observe([old, new], {old.log_file: 100,
                                        new.log_file: 1000}).served)

    @base.idempotent_id('8c0933f4-6f99-4ada-8b04-205225a1c0c3')
    def test_judge(self):
        good = mixing.Prediction(True, 'one bus can carry both', [])
        bad = mixing.Prediction(False, 'cannot share',
                                ['worker check_resource'])
        crossed = mixing.Observation({'o': 3, 'n': 4}, [('s', 'o', 'n')],
                                     {'o': 30, 'n': 20})
        self.assertIn('observed so', mixing.judge(good, True, [], crossed,
                                                  'o', 'n', 10))

        def error(*args):
            return str(self.assertRaises(exceptions.UpgradeTestError,
                                         mixing.judge, *args))
        # Predicted compatible, the mix fails: both named.
        msg = error(good, False, ['test_x'], crossed, 'o', 'n', 10)
        self.assertIn('predicted compatible (one bus', msg)
        self.assertIn('test_x', msg)
        # Predicted incompatible, the mix passes: a failure too.
        msg = error(bad, True, [], crossed, 'o', 'n', 10)
        self.assertIn('predicted incompatible', msg)
        self.assertIn('but the mix passed', msg)
        # As predicted: the finding, with the reason.
        msg = error(bad, False, ['test_y'], crossed, 'o', 'n', 95)
        self.assertTrue(msg.startswith('FINDING: old and new engines cannot '
                                       'share one bus, as predicted'), msg)
        self.assertIn('worker check_resource', msg)
        self.assertIn('in 95s', msg)
        # A mix where one release served nothing proves nothing.
        msg = error(good, True, [], mixing.Observation(
            {'o': 5, 'n': 0}, [], {'o': 50, 'n': 0}), 'o', 'n', 10)
        self.assertIn('the engines of n served no stack or no resource', msg)
        msg = error(good, True, [], mixing.Observation(
            {'o': 5, 'n': 5}, [('s', 'o', 'n')], {'o': 50, 'n': 0}),
            'o', 'n', 10)
        self.assertIn('the engines of n served no stack or no resource', msg)
        msg = error(good, True, [], mixing.Observation(
            {'o': 5, 'n': 5}, [('s', 'o', 'n')], {'o': 20, 'n': 19}),
            'o', 'n', 10)
        self.assertIn('39 resource operations, fewer than 40', msg)
        msg = error(good, True, [], mixing.Observation(
            {'o': 5, 'n': 5}, [], {'o': 30, 'n': 30}), 'o', 'n', 10)
        self.assertIn('proves nothing about crossing', msg)

    @base.idempotent_id('163dc765-0a08-4b05-9113-05e4f3c02797')
    def test_failed_tests_named_from_the_output(self):
        out = ('{0} heat_upgrade_tests.phases.suite.test_mixed.MixedTest.'
               'test_crossings[id-1c90] [91.2s] ... FAILED\n'
               '{1} heat_upgrade_tests...test_resource_load [3s] ... ok\n')
        self.assertEqual(['test_crossings'], mixing.failed_tests(out))


class DisruptionTest(testtools.TestCase):

    @staticmethod
    def sample(at, heat=True, keystone=True, step='s'):
        return disruption.Sample(
            at, step, {'heat': heat, 'keystone': keystone},
            {'heat': 0 if heat else 2, 'keystone': 0 if keystone else 1},
            {'heat': '' if heat else 'ConnectionError',
             'keystone': '' if keystone else 'HTTP 503'})

    @base.idempotent_id('0c1d5e3a-8f41-4b7e-9a52-6d3e2f1b7c90')
    def test_timeline_is_what_the_report_draws(self):
        s = self.sample
        doc = disruption.timeline(
            [s(10.0, step='a'), s(10.5, heat=False, step='a'),
             s(11.0, step='b')], 10.0)
        heat = [p for p in doc['probes'] if p['name'] == 'heat'][0]
        self.assertEqual([[0.0, True], [0.5, False], [1.0, True]],
                         heat['samples'])
        self.assertEqual([{'t': 0.0, 'label': 'a'}, {'t': 1.0, 'label': 'b'}],
                         doc['marks'])
        # The report's plot takes it as it is.
        self.assertIsNotNone(html.timeline(doc))

    @base.idempotent_id('7813a34c-153c-4a00-91f4-02b476d7d74a')
    def test_outages_summed_and_timed(self):
        s = self.sample
        samples = [s(100.0), s(100.5, heat=False, step='stop'),
                   s(101.0, heat=False, step='start'), s(101.5),
                   s(102.0, keystone=False), s(102.5)]
        report = disruption.summarize(samples, 100.0, 0.5, 'st/1')
        self.assertEqual(1.0, report.unavailable['heat'])
        self.assertEqual(0.5, report.unavailable['keystone'])
        self.assertEqual(4, report.failed_requests['heat'])
        self.assertEqual(1, report.failed_requests['keystone'])
        self.assertEqual(1.0, report.longest['heat'])
        heat = [o for o in report.outages if o.service == 'heat'][0]
        self.assertEqual((0.5, ['stop', 'start']), (heat.start, heat.steps))
        text = '\n'.join(report.lines())
        self.assertIn('heat     unavailable   1.0s, 4 failed requests', text)
        self.assertIn('ConnectionError', text)
        # Still down when sampling stopped: counted to the last sample's end.
        report = disruption.summarize([s(0.0), s(0.5, heat=False)], 0.0,
                                      0.5, None)
        self.assertEqual(0.5, report.longest['heat'])

    @base.idempotent_id('3df22467-fada-4060-93a3-5f6c101a9cff')
    def test_budget(self):
        s = self.sample
        samples = [s(0.0)] + [s(0.5 * i, heat=False) for i in range(1, 14)
                              ] + [s(7.0)]
        report = disruption.summarize(samples, 0.0, 0.5, None)
        budget = {'unavailable_seconds': {'heat': 5.0},
                  'failed_stack_operations': 0}
        over = disruption.over_budget(report, budget, 1)
        self.assertEqual(['heat unavailable 6.5s (budget 5s)',
                          '1 failed stack operations (budget 0)'], over)
        self.assertEqual([], disruption.over_budget(report, {}, 3))
        self.assertEqual([], disruption.over_budget(
            disruption.summarize([s(0.0), s(0.5)], 0.0, 0.5, None),
            budget, 0))


class MixedPhaseRulesTest(testtools.TestCase):
    """The mixed phase's bookkeeping, with test_phases' fake check."""

    def setUp(self):
        super().setUp()
        from heat_upgrade_tests import config
        from heat_upgrade_tests.tests.unit import test_phases
        tmp = self.useFixture(fixtures.TempDir()).path
        self.conf = config.load(config_files=[])
        self.conf.set_override('state_dir', f'{tmp}/state', 'phases')
        self.session = test_phases.FakeSession(self.conf)
        self.stacks = self.session.stacks
        self.check = test_phases.FakeCheck
        self.check.calls = []
        self.addCleanup(setattr, self.check, 'fail_in', set())

    def run_phase(self, phase, check=None):
        from heat_upgrade_tests.phases import runner
        runner.run_check_phase(self.session, check or self.check,
                               phase=phase)

    def doc(self):
        from heat_upgrade_tests import state
        return state.CheckState(self.conf.phases.state_dir, 'fake').load('t')

    @base.idempotent_id('bfc91c0f-24ac-4976-a678-4f6aedab7d13')
    def test_a_new_stack_lives_its_whole_life_while_mixed(self):
        self.run_phase('pre-upgrade')
        self.check.calls = []
        self.run_phase('mixed')
        # Its create does more than make the stack: the pre-upgrade stack
        # is not updated while mixed.
        self.assertEqual(['create', 'status', 'verify',
                          'status', 'verify', 'outputs', 'update',
                          'delete', 'verify_gone'],
                         self.check.calls)
        doc = self.doc()
        self.assertEqual('passed', doc['phases']['mixed'])
        self.assertNotIn('mixed_updated', doc)
        self.assertEqual([{'id': 'sid', 'name': 'sname', 'deleted': True}],
                         doc['mixed_stacks'])
        self.run_phase('destroy')
        # The new stack's delete, then the pre-upgrade stack's.
        self.assertEqual(['sid', 'sid'], self.stacks.deleted)

    @base.idempotent_id('0d6c2f4e-7a53-4e18-9b0c-5f1e3a8d2c64')
    def test_a_plain_stack_is_updated_while_mixed_and_accepted_so(self):
        from heat_upgrade_tests.tests.unit import test_phases

        from heat_upgrade_tests.checks import base as checks_base

        class Plain(test_phases.FakeCheck):
            create = checks_base.ResourceCheck.create
        self.run_phase('pre-upgrade', Plain)
        self.check.calls = []
        self.run_phase('mixed', Plain)
        self.assertEqual(['status', 'stack update', 'outputs'],
                         self.check.calls[:3])
        self.assertTrue(self.doc()['mixed_updated'])
        # The later phases accept the UPDATE_COMPLETE it left; a stack
        # nobody updated while mixed may not show it.
        self.stacks.status = 'UPDATE_COMPLETE'
        self.run_phase('post-upgrade', Plain)
        from heat_upgrade_tests import state
        path = state.CheckState(self.conf.phases.state_dir, 'fake').path
        doc = self.doc()
        del doc['mixed_updated']
        path.write_text(__import__('json').dumps(doc))
        exc = self.assertRaises(exceptions.CheckFailed, self.run_phase,
                                'post-upgrade', Plain)
        self.assertIn('is UPDATE_COMPLETE', str(exc))

    @base.idempotent_id('4a0f6e38-91c2-4b57-a3d1-6e2b8c9f0a17')
    def test_what_a_failed_mix_left_is_destroyed(self):
        self.run_phase('pre-upgrade')
        self.check.fail_in = {'update'}
        self.assertRaises(exceptions.CheckFailed, self.run_phase, 'mixed')
        doc = self.doc()
        self.assertEqual('failed', doc['phases']['mixed'])
        self.assertFalse(doc['mixed_stacks'][0]['deleted'])
        self.check.fail_in = set()
        self.run_phase('destroy')
        self.assertEqual(['sid', 'sid'], self.stacks.deleted)
        self.assertTrue(self.doc()['mixed_stacks'][0]['deleted'])


class MatrixFindingTest(testtools.TestCase):

    @base.idempotent_id('c3e8a0d4-1b7f-4f2e-9a65-2d4c8e1f7b93')
    def test_a_predicted_finding_is_no_fault(self):
        from heat_upgrade_tests.plans import matrix
        from heat_upgrade_tests.plans import runner
        finding = 'FINDING: old and new engines cannot share one bus, ...'
        run = types.SimpleNamespace(
            mixed_outcomes=[{'finding': finding}],
            steps=[runner.StepResult('pre-upgrade phase', 1, True),
                   runner.StepResult('mixed phase', 60, False, finding),
                   runner.StepResult('destroy phase', 9, True)])
        self.assertTrue(matrix.as_predicted(run))
        # Anything else failing too, or a contradicted prediction: a fault.
        run.steps.append(runner.StepResult('destroy phase', 9, False, 'x'))
        self.assertFalse(matrix.as_predicted(run))
        run.steps.pop()
        run.mixed_outcomes = [{'finding': 'predicted compatible, but'}]
        self.assertFalse(matrix.as_predicted(run))
        cell = matrix.Cell('rolling-mixed', '2025.2', '2026.1', False, 1.0,
                           finding=True)
        self.assertEqual('FIND', cell.mark)
