"""The benchmarks' own logic: request counting, figures, plots, replay.

No cloud: the request logs are files written here, the rounds are the
JSON the bench writes, the checks are fakes of the project's own check
contract, and the mini-cloud is a fake of the project's MiniCloud and
MariaDB interfaces.
"""

import collections
import datetime
import importlib.util
import json
from pathlib import Path
import uuid

import fixtures
import subunit
import testtools

from heat_upgrade_tests.benchmarks import figures
from heat_upgrade_tests.benchmarks import plain
from heat_upgrade_tests.benchmarks import plots
from heat_upgrade_tests.benchmarks import requests_log
from heat_upgrade_tests.benchmarks import rounds
from heat_upgrade_tests.benchmarks import timeline
from heat_upgrade_tests.benchmarks import upgrade_runs
from heat_upgrade_tests.checks import base
from heat_upgrade_tests import config
from heat_upgrade_tests import copies
from heat_upgrade_tests.minicloud import cloud as cloud_mod
from heat_upgrade_tests import state

REPO = Path(__file__).resolve().parents[3]
UWSGI = ('[pid: 941|app: 0|req: 3/3] 127.0.0.1 () {{34 vars in 721 bytes}} '
         '[Tue Dec  1 20:29:57 2026] {method} {path} => generated 231 bytes '
         'in 14 msecs (HTTP/1.1 {status}) 5 headers in 308 bytes (1 '
         'switches on core 0)\n')


def uwsgi(method, path, status=200):
    return UWSGI.format(method=method, path=path, status=status)


class TimelineTest(testtools.TestCase):

    def test_a_phase_split_around_its_tests(self):
        self.assertEqual(
            {'before_tests': 5.0, 'tests': 20.0, 'after_tests': 2.0},
            timeline.split(100.0, 127.0, [(105.0, 115.0), (110.0, 125.0)]))
        self.assertIsNone(timeline.split(1.0, 2.0, []))

    def test_times_from_a_subunit_stream(self):
        path = Path(self.useFixture(fixtures.TempDir()).path) / 's'
        start = datetime.datetime(2026, 12, 2, tzinfo=datetime.timezone.utc)
        with open(path, 'wb') as f:
            out = subunit.StreamResultToBytes(f)
            for n, (a, b) in enumerate(((0, 3), (1, 5))):
                for status, at in (('inprogress', a), ('success', b)):
                    out.status(test_id=f't{n}', test_status=status,
                               timestamp=start + datetime.timedelta(
                                   seconds=at))
        times = timeline.test_times(path)
        base_ts = start.timestamp()
        self.assertEqual([(base_ts, base_ts + 3), (base_ts + 1, base_ts + 5)],
                         times)


class RequestsLogTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.logs = Path(self.useFixture(fixtures.TempDir()).path)

    def test_service_of_a_log(self):
        self.assertEqual('heat-api',
                         requests_log.service_of('heat-api-2025.2-uwsgi.log'))
        self.assertEqual('keystone',
                         requests_log.service_of('keystone-uwsgi.log'))
        self.assertIsNone(requests_log.service_of('heat-api-2025.2.log'))

    def test_kind_hides_ids_and_names(self):
        self.assertEqual(
            'GET /v1/*/stacks/*/*',
            requests_log.kind('GET', '/v1/b214eb22cd0446548213e2a6d1d0dcee/'
                              'stacks/hut-values-ab12cd34/'
                              f'{uuid.uuid4()}?resolve_outputs=False'))
        self.assertEqual('POST /v3/auth/tokens',
                         requests_log.kind('POST', '/v3/auth/tokens'))
        self.assertEqual('GET /v2.0/ports',
                         requests_log.kind('GET', '/v2.0/ports?name=x'))

    def test_counts_only_what_came_after_the_mark(self):
        heat = self.logs / 'heat-api-2025.2-uwsgi.log'
        heat.write_text('*** Starting uWSGI ***\n'
                        + uwsgi('GET', '/v1/p1/stacks/s1/i1'))
        mark = requests_log.mark(self.logs)
        with open(heat, 'a') as f:
            f.write(uwsgi('POST', '/v1/p1/stacks', 201))
            f.write(uwsgi('GET', '/v1/p1/stacks/s1/i1'))
        (self.logs / 'keystone-uwsgi.log').write_text(
            uwsgi('POST', '/v3/auth/tokens', 201))
        counts = requests_log.count_since(self.logs, mark)
        self.assertEqual({('heat-api', 'POST /v1/*/stacks'): 1,
                          ('heat-api', 'GET /v1/*/stacks/*/*'): 1,
                          ('keystone', 'POST /v3/auth/tokens'): 1},
                         dict(counts))
        self.assertEqual(2, requests_log.writes(counts))

    def test_compare_puts_differences_first(self):
        rows = requests_log.compare(
            collections.Counter({('h', 'GET /a'): 2, ('h', 'GET /b'): 1}),
            collections.Counter({('h', 'GET /a'): 2}))
        self.assertEqual([('GET /b', 1, 0), ('GET /a', 2, 2)],
                         [(r['request'], r['framework'], r['plain'])
                          for r in rows])


def a_round(n, workers, seconds, plain_seconds=None, db=None):
    phases = {}
    for phase, value in zip(figures.PHASES, seconds):
        phases[phase] = {'seconds': value, 'ok': True}
        if plain_seconds:
            phases[phase]['plain_seconds'] = plain_seconds
    rnd = {'stacks_per_check': n, 'workers': workers, 'stacks': 3 * n,
           'phases': phases}
    if db:
        rnd['db_sync'] = {'rows': db[0], 'seconds': db[1]}
    return rnd


RESULTS = {
    'pair': '2025.2 -> 2026.1', 'scale_workers': 2, 'workers_scale': 3,
    'rounds': [a_round(1, 2, (10, 4, 12, 6), db=(100, 3.0)),
               a_round(3, 1, (40, 12, 48, 24)),
               a_round(3, 2, (22, 8, 26, 13), plain_seconds=20,
                       db=(400, 3.5))],
    'memory': {'peak_memory_mib': 3000.0,
               'peak_memory_by_service_mib': {'heat-engine': 600.0}},
    'runs': [{'label': 'warm', 'seconds': 300.0, 'plan': 'full',
              'from': '2026.1', 'to': '2026.2', 'passed': True,
              'steps': [{'name': 'pre-upgrade phase', 'seconds': 300.0,
                         'ok': True}]}],
}


class FiguresTest(testtools.TestCase):

    def test_merge_keeps_the_latest_round_of_each_kind(self):
        first = {'date': 'd1', 'command': 'c1', 'pair': 'p',
                 'rounds': [a_round(1, 2, (1, 1, 1, 1)),
                            a_round(3, 2, (2, 2, 2, 2))]}
        second = {'date': 'd2', 'command': 'c2',
                  'rounds': [a_round(3, 2, (9, 9, 9, 9)),
                             a_round(10, 2, (5, 5, 5, 5))],
                  'errors': ['x']}
        merged = figures.merge([first, second])
        self.assertEqual([(1, 1), (3, 9), (10, 5)],
                         [(r['stacks_per_check'],
                           r['phases']['verify']['seconds'])
                          for r in merged['rounds']])
        self.assertEqual('p', merged['pair'])
        self.assertEqual(['x'], merged['errors'])
        self.assertEqual(['d1', 'd2'], [p['date'] for p in merged['parts']])
        self.assertRaises(ValueError, figures.merge, [])

    def test_ratio(self):
        self.assertEqual(1.1, figures.ratio(11.0, 10.0))
        self.assertIsNone(figures.ratio(11.0, None))
        self.assertIsNone(figures.ratio(11.0, 0))

    def test_overhead_only_where_the_plain_script_ran(self):
        rows = figures.overhead(RESULTS['rounds'])
        self.assertEqual(4, len(rows))
        pre = rows[0]
        self.assertEqual(('pre-upgrade', 3, 2), (
            pre['phase'], pre['stacks_per_check'], pre['workers']))
        self.assertAlmostEqual(1.1, pre['ratio'])
        self.assertTrue(pre['within_target'])
        self.assertFalse(rows[2]['within_target'])  # 26 / 20

    def test_requests_of_both_sides(self):
        rnd = a_round(1, 2, (1, 1, 1, 1), plain_seconds=1)
        rnd['phases']['pre-upgrade'].update(
            requests={'heat-api POST /v1/*/stacks': 3,
                      'heat-api GET /v1/*/stacks/*/*': 20,
                      'keystone POST /v3/auth/tokens': 4},
            plain_requests={'heat-api POST /v1/*/stacks': 3,
                            'heat-api GET /v1/*/stacks/*/*': 18,
                            'keystone POST /v3/auth/tokens': 1})
        rows = figures.requests([rnd])
        self.assertEqual(1, len(rows))
        self.assertEqual((27, 3, 22, 3), (
            rows[0]['framework'], rows[0]['framework_stack_writes'],
            rows[0]['plain'], rows[0]['plain_stack_writes']))
        self.assertIn('framework 27 (3 stack operations), plain 22 (3)',
                      '\n'.join(figures.summary({'rounds': [rnd]})))
        self.assertTrue(figures.overhead([rnd])[0]['comparable'])
        rnd['phases']['pre-upgrade']['requests'][
            'heat-api PUT /v1/*/stacks/*/*'] = 1
        self.assertFalse(figures.overhead([rnd])[0]['comparable'])
        self.assertIn('NOT COMPARABLE',
                      '\n'.join(figures.summary({'rounds': [rnd]})))

    def test_time_per_stack_at_the_scale_series_workers(self):
        rows = figures.per_stack(RESULTS['rounds'], 2)
        pre = [r for r in rows if r['phase'] == 'pre-upgrade']
        self.assertEqual([(1, 3, 10 / 3), (3, 9, 22 / 9)],
                         [(r['stacks_per_check'], r['stacks'],
                           r['seconds_per_stack']) for r in pre])

    def test_speedups_against_one_worker(self):
        rows = figures.speedups(RESULTS['rounds'], 3)
        pre = {r['workers']: r['speedup'] for r in rows
               if r['phase'] == 'pre-upgrade'}
        self.assertEqual({1: 1.0, 2: 40 / 22}, pre)

    def test_speedup_without_a_one_worker_round_is_none(self):
        rows = figures.speedups([a_round(3, 2, (1, 1, 1, 1))], 3)
        self.assertEqual({None}, {r['speedup'] for r in rows})

    def test_db_sync_points_by_rows(self):
        self.assertEqual([(100, 3.0), (400, 3.5)],
                         [(p['rows'], p['seconds'])
                          for p in figures.db_sync(RESULTS['rounds'])])

    def test_steps_and_memory_from_a_report(self):
        report = {'plan': 'full', 'from': {'series': '2026.1'},
                  'to': {'series': '2026.2'}, 'passed': True,
                  'steps': [{'name': 'a', 'seconds': 1.5, 'ok': True},
                            {'name': 'b', 'seconds': 2.5, 'ok': False}],
                  'peak_memory_bytes': 3 * 2**30,
                  'peak_memory_by_command': {'mariadbd': 2**27,
                                             'heat-engine': 2**29}}
        got = figures.steps(report)
        self.assertEqual(4.0, got['seconds'])
        self.assertEqual(3072.0, got['peak_memory_mib'])
        self.assertEqual(['heat-engine', 'mariadbd'],
                         list(got['peak_memory_by_service_mib']))
        self.assertEqual([False], [s['ok'] for s in got['steps']
                                   if s['name'] == 'b'])

    def test_summary_names_every_figure(self):
        text = '\n'.join(figures.summary(RESULTS))
        self.assertIn('= 1.10 (ok 1.10), +2.0s', text)
        self.assertIn('= 1.30 (OVER 1.10)', text)
        self.assertIn('2.44s a stack', text)
        self.assertIn('speedup 1.82x', text)
        self.assertIn('400 rows, 3.5s', text)
        self.assertIn('peak 3000 MiB (heat-engine 600 MiB)', text)
        self.assertIn('warm: 300s', text)


class PlotsTest(testtools.TestCase):

    def test_plots_are_written(self):
        out = Path(self.useFixture(fixtures.TempDir()).path) / 'plots'
        written = plots.write(RESULTS, out, title='t')
        self.assertEqual(['bench-db-sync.png', 'bench-stacks.png',
                          'bench-workers.png'],
                         sorted(p.name for p in written))
        for path in written:
            self.assertEqual(b'\x89PNG', path.read_bytes()[:4])

    def test_no_rounds_no_plots(self):
        out = Path(self.useFixture(fixtures.TempDir()).path)
        self.assertEqual([], plots.write({'rounds': []}, out))


class Default(base.ResourceCheck):
    name = 'bench_default'
    idempotent_id = str(uuid.uuid4())
    description = 'd'
    template = 'values_and_outputs.yaml'

    def update(self, ctx, record):
        outputs = self.update_stack(ctx, record,
                                    {'value': f'after-{ctx.run_id}'})
        self.assert_equal(f'after-{ctx.run_id}', outputs.get('value'),
                          'the value after the update')


class OwnCreate(Default):
    def create(self, ctx, record):
        pass


class UpdatesAgain(Default):
    def update(self, ctx, record):
        self.update_stack(ctx, record, {'value': 'once'})
        self.update_stack(ctx, record, {'value': 'again'})


class ReadsAfterTheUpdate(Default):
    def update(self, ctx, record):
        self.update_stack(ctx, record, {'value': 'once'})
        ctx.stacks.get(record.stack.id)


class VerifiesThroughTheCloud(Default):
    def verify(self, ctx, record):
        ctx.stacks.get(record.stack.id)


class Admin(Default):
    needs_admin = True


class Quiet(base.ResourceCheck):
    name = 'bench_quiet'
    idempotent_id = str(uuid.uuid4())
    description = 'q'
    template = 'values_and_outputs.yaml'
    update = base.NoUpdate('nothing to change')


class PlainTest(testtools.TestCase):

    def test_replayable(self):
        self.assertIsNone(plain.replayable(Default))
        self.assertIsNone(plain.replayable(Quiet))
        self.assertEqual('hooks of its own: create',
                         plain.replayable(OwnCreate))
        self.assertEqual('needs admin credentials', plain.replayable(Admin))
        for check in (UpdatesAgain, ReadsAfterTheUpdate):
            self.assertEqual('hooks of its own: update',
                             plain.replayable(check))
        self.assertEqual('verify calls the cloud',
                         plain.replayable(VerifiesThroughTheCloud))

    def test_the_catalogue_has_replayable_checks(self):
        found = [n for n, c in base.all_checks().items()
                 if plain.replayable(c) is None]
        self.assertIn('values_and_outputs', found)
        self.assertNotIn('keystone_objects', found)
        # Its update updates the stack twice.
        self.assertNotIn('resource_chain', found)

    def test_stacks_from_the_framework_state(self):
        docs = {
            ('bench_default', 1): {
                'run_id': 'r1', 'record': {
                    'stack': {'id': 'i', 'name': 'n'},
                    'parameters': {'value': 'before', 'other': 1},
                    'outputs': {}, 'destroyed': False}},
            ('bench_default', 2): {'run_id': 'r2', 'skipped': 'no',
                                   'record': {}},
            ('bench_quiet', 1): {
                'run_id': 'r3', 'record': {
                    'stack': {'id': 'j', 'name': 'm'},
                    'parameters': {'a': 1}, 'outputs': {},
                    'destroyed': False}}}
        stacks = plain.from_states({'bench_default': Default,
                                    'bench_quiet': Quiet}, docs, None)
        self.assertEqual(2, len(stacks))
        first = stacks[0]
        self.assertEqual({'value': 'before', 'other': 1}, first.parameters)
        # The update the check's own update asks for, merged into the
        # create's parameters as the framework merges them.
        self.assertEqual({'value': 'after-r1', 'other': 1},
                         first.update.parameters)
        self.assertEqual(Default().template_path(), first.update.template)
        self.assertIsNone(stacks[1].update)

    def test_an_update_asking_no_stack_update_is_named(self):
        class Signals(Default):
            def update(self, ctx, record):
                pass
        record = base.CheckRecord(stack=base.StackRef('i', 'n'))
        exc = self.assertRaises(ValueError, plain.captured_update, Signals,
                                None, 'r', record)
        self.assertIn('made no stack update', str(exc))


class FakeCloud:
    """The project's MiniCloud, as far as a round uses it.

    Its own write_phase_conf, on a default configuration, no services.
    """

    def __init__(self, run_dir):
        self.run_dir = Path(run_dir)
        self.conf = config.load(config_files=[])
        self.clouds_yaml = self.run_dir / 'clouds.yaml'
        self.results_dir = self.run_dir / 'results'
        self.services = {}

    write_phase_conf = cloud_mod.MiniCloud.write_phase_conf


class RoundsTest(testtools.TestCase):

    def test_wanted_rounds_share_one_round(self):
        wanted = rounds.wanted_rounds([1, 3, 10], [1, 2, 4], 2, 3)
        self.assertEqual([(1, 2, False), (3, 1, False), (3, 2, True),
                          (3, 4, False), (10, 2, False)],
                         [(w['stacks_per_check'], w['workers'],
                           w['overhead']) for w in wanted])
        self.assertEqual(5, sum(w['overhead'] for w in rounds.wanted_rounds(
            [1, 3, 10], [1, 2, 4], 2, 3, overhead='all')))
        self.assertFalse(any(w['overhead'] for w in rounds.wanted_rounds(
            [1, 3], [1, 2], 2, 3, overhead='none')))

    def test_round_conf_sets_scale_and_workers(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        path, state_dir = rounds.round_conf(FakeCloud(tmp), 'bench-x3-w4',
                                            ['a'], 3, 4)
        conf = config.load(config_files=[str(path)])
        self.assertEqual(3, conf.phases.stacks_per_check)
        self.assertEqual(4, conf.phases.concurrency)
        self.assertEqual(str(state_dir), conf.phases.state_dir)

    def test_read_states_of_every_copy(self):
        tmp = Path(self.useFixture(fixtures.TempDir()).path)
        for copy in (1, 2):
            st = state.CheckState(tmp, copies.state_name('a', copy))
            doc = st.new(str(uuid.uuid4()))
            st.save(doc)
        docs = rounds.read_states(tmp, ['a'], 3)
        self.assertEqual([('a', 1), ('a', 2)], sorted(docs))


def bench_script():
    """bench/bench.py, loaded as a module (it is a script, not a package's)."""
    spec = importlib.util.spec_from_file_location(
        'bench_script', REPO / 'bench' / 'bench.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BenchScriptTest(testtools.TestCase):
    """bench/bench.py's command line."""

    def script(self):
        return bench_script()

    def test_quick_is_a_small_subset(self):
        args = self.script().parse_args(['--quick'])
        self.assertEqual(([1, 3], [1, 2], []),
                         (args.scales, args.workers, args.runs))

    def test_full_defaults(self):
        module = self.script()
        args = module.parse_args([])
        self.assertEqual(([1, 3, 10], [1, 2, 4], ['cold', 'warm']),
                         (args.scales, args.workers, args.runs))
        for name in module.default_checks(False):
            self.assertIsNone(plain.replayable(base.all_checks()[name]))

    def test_bad_values_are_one_line_errors(self):
        module = self.script()
        self.assertRaises(SystemExit, module.parse_args, ['--scales', '0'])
        self.assertRaises(SystemExit, module.parse_args, ['--runs', 'hot'])

    def test_figures_from_results_without_a_cloud(self):
        out = Path(self.useFixture(fixtures.TempDir()).path)
        results = out / 'in.json'
        results.write_text(json.dumps(RESULTS))
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', open(
            out / 'stdout', 'w')))
        code = self.script().main(['--figures-from', str(results),
                                   '--out', str(out / 'o')])
        self.assertEqual(0, code)
        self.assertTrue((out / 'o' / 'bench-stacks.png').is_file())
        self.assertIn('speedup', (out / 'o' / 'summary.txt').read_text())
        tables = (out / 'o' / 'results.rst').read_text()
        self.assertIn('seconds a stack', tables)
        self.assertIn('heat-engine  600', tables)
        self.assertIn('**in all** (warm: full 2026.1 -> 2026.2)', tables)


class UpgradeRunsTest(testtools.TestCase):

    def test_cold_gets_a_venv_cache_of_its_own(self):
        tmp = Path(self.useFixture(fixtures.TempDir()).path)
        argv = upgrade_runs.command('cold', tmp)
        conf = argv[argv.index('--config-file') + 1]
        self.assertIn(f'cache_dir = {tmp / "venvs"}', Path(conf).read_text())
        self.assertEqual(['upgrade', '--work-dir', str(tmp / 'cold-run')],
                         argv[-3:])

    def test_warm_uses_the_shared_cache(self):
        tmp = Path(self.useFixture(fixtures.TempDir()).path)
        argv = upgrade_runs.command('warm', tmp, ['--checks', 'a'])
        self.assertNotIn('--config-file', argv)
        self.assertEqual(['--checks', 'a'], argv[-2:])
        self.assertRaises(ValueError, upgrade_runs.command, 'hot', tmp)


class OverheadSelectionTest(testtools.TestCase):

    def test_a_check_the_plain_script_cannot_replay_is_refused(self):
        module = bench_script()
        out = Path(self.useFixture(fixtures.TempDir()).path)
        err = out / 'stderr'
        with open(err, 'w') as f:
            self.useFixture(fixtures.MonkeyPatch('sys.stderr', f))
            code = module.main(['--quick', '--checks', 'keystone_objects',
                                '--out', str(out)])
        self.assertEqual(2, code)
        self.assertIn('keystone_objects (hooks of its own',
                      err.read_text())


class FakeRoundCloud(FakeCloud):
    """The MiniCloud a whole round uses: its directories too."""

    def __init__(self, run_dir):
        super().__init__(run_dir)
        self.log_dir = self.run_dir / 'logs'
        self.results_dir = self.run_dir / 'results'
        self.clouds_yaml = self.run_dir / 'clouds.yaml'
        self.log_dir.mkdir(parents=True)


class FakeScript:
    """The plain script (the project's own PlainScript), recording."""

    calls: list = []

    def __init__(self, conn, concurrency, poll_interval, timeout, tag):
        type(self).calls.append(('init', concurrency, poll_interval))

    def run(self, phase, stacks):
        type(self).calls.append((phase, len(stacks)))
        return 1.0


class RoundTest(testtools.TestCase):
    """One round, with the phase command and plain script faked."""

    def setUp(self):
        super().setUp()
        self.cloud = FakeRoundCloud(self.useFixture(fixtures.TempDir()).path)
        self.run = type('Run', (), {'cloud': self.cloud, 'new': None})()
        self.phases = []
        self.fail_in = set()
        FakeScript.calls = []
        self.useFixture(fixtures.MockPatchObject(
            rounds.upgrade, 'run_phase_command', self.fake_phase))
        self.useFixture(fixtures.MockPatchObject(
            rounds, '_plain_connection', lambda cloud, timeout: None))
        self.useFixture(fixtures.MockPatchObject(
            rounds.plain, 'PlainScript', FakeScript))

    def fake_phase(self, conf_path, phase, log, echo=False, timeout=0):
        """The phase command: pre-upgrade leaves a state per copy."""
        self.phases.append(phase)
        conf = config.load(config_files=[str(conf_path)])
        if phase == 'pre-upgrade':
            for name in conf.phases.enabled_checks:
                for copy in copies.numbers(conf):
                    st = state.CheckState(conf.phases.state_dir,
                                          copies.state_name(name, copy))
                    doc = st.new(str(uuid.uuid4()))
                    doc['record'] = {'stack': {'id': 'i', 'name': 'n'},
                                     'parameters': {}, 'outputs': {},
                                     'destroyed': False}
                    st.save(doc)
        code = 1 if phase in self.fail_in else 0
        return rounds.upgrade.PhaseRun(phase, code, '', 2.0)

    def test_every_phase_beside_the_plain_script(self):
        rnds = rounds.Rounds(['values_and_outputs'], [], db_sync=False,
                             echo=lambda line: None)
        rnd = rnds.one(self.run, 2, 3, overhead=True)
        self.assertEqual(list(figures.PHASES), self.phases)
        self.assertEqual(2, rnd['stacks'])
        # The plain script polls as the phases do on the mini-cloud.
        self.assertEqual([('init', 3, float(cloud_mod.POLL_INTERVAL))] +
                         [(p, 2) for p in figures.PHASES],
                         FakeScript.calls)
        self.assertEqual(1.0, rnd['phases']['verify']['plain_seconds'])

    def test_destroy_runs_after_a_failed_phase(self):
        self.fail_in = {'verify'}
        rnds = rounds.Rounds(['values_and_outputs'], [], db_sync=False,
                             echo=lambda line: None)
        rnd = rnds.one(self.run, 1, 2, overhead=True)
        self.assertEqual(['pre-upgrade', 'verify', 'destroy'], self.phases)
        self.assertFalse(rnd['phases']['verify']['ok'])
        self.assertIn(('destroy', 1), FakeScript.calls)

    def test_a_failed_db_sync_stays_in_its_round(self):
        def broken(*args):
            raise RuntimeError('no database')
        self.useFixture(fixtures.MockPatchObject(
            rounds.dbsync, 'timed_db_sync', broken))
        rnds = rounds.Rounds(['values_and_outputs'],
                             [{'stacks_per_check': 1, 'workers': 1,
                               'overhead': False}], db_sync=True,
                             echo=lambda line: None)
        rnds.hook(self.run)
        self.assertEqual([], rnds.errors)
        self.assertEqual('RuntimeError: no database',
                         rnds.results[0]['db_sync_error'])
        self.assertEqual(list(figures.PHASES), self.phases)
