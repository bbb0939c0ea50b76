"""Integrity checks: on the shared mini-cloud, and cloud-free on two pairs.

``IntegrityOnMiniCloudTest`` asserts on what the full upgrade of the
shared scenario did (its integrity step right after ``db_sync``, the
phases' database checks) and on the drills of ``integrity_drills``.
``CloudFreePairsTest`` runs ``heat-upgrade-tests integrity check`` with no
cloud for the older pairs CI must cover: 2025.2 -> 2026.2 and the
skip-level 2025.1 -> 2026.1.
"""

import json
import os
from pathlib import Path
import subprocess
import sys

import fixtures
import testtools

from heat_upgrade_tests.integrity import report
from heat_upgrade_tests.integrity import rows
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.plans import upgrade
from heat_upgrade_tests.tests.functional import integrity_drills
from heat_upgrade_tests.tests.functional.scenario import scenario

DEFAULT_PAIR = ('2026.1', '2026.2')


def _finding(doc, check):
    found = report.find(doc, check)
    if found is None:
        raise AssertionError(f'no {check} finding in the report')
    return found


class IntegrityOnMiniCloudTest(testtools.TestCase):

    def plan(self) -> upgrade.UpgradeRun:
        return scenario().plan

    def report(self) -> dict:
        path = self.plan().run_dir / upgrade.INTEGRITY_REPORT
        if not path.exists():
            self.fail(f'no integrity report: {scenario().error}')
        return json.loads(path.read_text())

    def drill(self, name) -> upgrade.PhaseRun:
        drills = scenario().drills
        error = drills.get(f'{integrity_drills.PREFIX}{name}_error')
        self.assertIsNone(error, f'drill {name} broke')
        result = drills.get(integrity_drills.PREFIX + name)
        if result is None:
            self.fail(f'drill {name} did not run: {scenario().error}')
        return result

    def default_pair_only(self):
        plan = self.plan()
        pair = (plan.old_series.name, plan.new_series.name)
        if pair != DEFAULT_PAIR:
            self.skipTest(f'expectations are for {DEFAULT_PAIR}, the run '
                          f'is {pair}')

    @base.idempotent_id('7789d499-0477-44f8-af31-9719a1a7a66a')
    def test_integrity_step_ran_after_db_sync_and_passed(self):
        steps = [s.name for s in self.plan().steps]
        index = steps.index(model.INTEGRITY_TITLE)
        new = self.plan().new_series.name
        self.assertIn(f'db_sync with Heat {new}', steps[index - 1])
        self.assertIn(f'start Heat {new}', steps[index + 2]
                      if steps[index + 1].startswith('hook') else
                      steps[index + 1])
        step = self.plan().steps[index]
        self.assertTrue(step.ok, step.detail)

    @base.idempotent_id('c64fe81d-0c2b-469d-befc-665f37de2454')
    def test_database_at_new_head_matching_models_rows_present(self):
        doc = self.report()
        head = _finding(doc, 'schema-head')
        self.assertEqual(report.PASSED, head['status'], head['summary'])
        new_version = self.plan().new_series.heat_version
        self.assertEqual([self.plan().db_versions[new_version]],
                         head['data']['current'])
        models = _finding(doc, 'schema-models')
        self.assertEqual(report.PASSED, models['status'],
                         '\n'.join(models['details']))
        found = _finding(doc, 'rows')
        self.assertEqual(report.PASSED, found['status'], found['summary'])
        counts = found['data']['counts']
        for table in ('stack', 'resource', 'raw_template', 'event'):
            self.assertGreater(counts[table], 0, table)

    @base.idempotent_id('7653b3fb-880f-46e1-9083-2802016970a3')
    def test_options_of_the_default_pair(self):
        self.default_pair_only()
        options = _finding(self.report(), 'options')
        verdicts = {(r['group'], r['option']): r['verdict']
                    for r in options['data']['removals']}
        # Removed in 2026.2 without any deprecation: accepted only by the
        # reviewed exception, and said so.
        for name in ('ca_file', 'cert_file', 'endpoint_type', 'insecure',
                     'key_file'):
            self.assertEqual('exception',
                             verdicts[('clients_vitrage', name)])
        # Deprecated for removal by 2026.1.
        for name in ('allowed_auth_uris', 'auth_uri'):
            self.assertEqual('deprecated', verdicts[('ec2authtoken', name)])
        self.assertEqual(report.WARNING, options['status'])
        self.assertIn('[clients_vitrage]', options['summary'])

    @base.idempotent_id('f2039245-f1de-47dc-8372-a974e0b37943')
    def test_heat_conf_status_and_rpc_of_the_default_pair(self):
        self.default_pair_only()
        doc = self.report()
        conf = _finding(doc, 'config-file')
        self.assertEqual(report.PASSED, conf['status'],
                         '\n'.join(conf['details']))
        status = _finding(doc, 'upgrade-status')
        self.assertEqual(report.PASSED, status['status'])
        self.assertIn('before the new Heat starts', status['summary'])
        rpc = _finding(doc, 'rpc')
        self.assertEqual(report.PASSED, rpc['status'], rpc['summary'])
        worker = rpc['data']['worker']
        self.assertEqual(('1.9', '1.9'),
                         (worker['old_version'], worker['new_version']))

    @base.idempotent_id('ada2404e-e19f-4776-8521-b99a770611b2')
    def test_phases_record_rows_and_check_the_database_first(self):
        runs = self.plan().phase_runs
        self.assertIn('==> integrity: recorded the rows of',
                      runs['pre-upgrade'].output)
        snapshot = rows.load_snapshot(self.plan().cloud.state_dir)
        self.assertTrue(snapshot['roots'])
        post = runs['post-upgrade'].output
        checks = post.index('integrity checks of the database')
        tests = post.index('running the phase tests')
        self.assertLess(checks, tests)
        for line in ('PASS schema-head', 'PASS schema-models', 'PASS rows',
                     'PASS upgrade-status'):
            self.assertIn(line, post)
        self.assertIn('with the new Heat up', post)

    @base.idempotent_id('03b41d90-5305-4073-92d3-c5336c71af7b')
    def test_drill_unapplied_migration_fails_the_schema_checks(self):
        result = self.drill('unapplied')
        head = scenario().drills[integrity_drills.PREFIX +
                                 'unapplied_revision']
        self.assertEqual(1, result.returncode, result.output)
        self.assertIn('FAIL schema-head', result.output)
        self.assertIn('1 migration not applied', result.output)
        self.assertIn(f'not applied: {head}', result.output)
        self.assertIn('FAIL schema-models', result.output)
        self.assertIn('missing from the database', result.output)
        self.assertNotIn('Traceback', result.output)

    @base.idempotent_id('81cf6349-2175-4320-aa63-b92b743ad63e')
    def test_drill_column_dropped_fails_the_model_check(self):
        result = self.drill('column')
        self.assertEqual(1, result.returncode, result.output)
        self.assertIn('PASS schema-head', result.output)
        table, column = integrity_drills.DROPPED_COLUMN
        self.assertIn('FAIL schema-models: 1 difference between',
                      result.output)
        self.assertIn(f'column {table}.{column} is in the models but '
                      f'missing from the database', result.output)
        self.assertIn('full diff of alembic compare_metadata', result.output)

    @base.idempotent_id('de0e8d96-72e5-4c46-85c9-f9aab7362f24')
    def test_drill_row_deleted_fails_the_row_check(self):
        result = self.drill('row')
        resource, _ = scenario().drills[integrity_drills.PREFIX +
                                        'row_deleted']
        self.assertEqual(1, result.returncode, result.output)
        self.assertIn('FAIL rows: 1 row recorded before the upgrade '
                      'missing', result.output)
        self.assertIn(f'resource {resource} (stack ', result.output)
        self.assertIn('of check ', result.output)

    @base.idempotent_id('a86037bb-8747-4670-b532-29d7704b8313')
    def test_drill_option_removed_without_deprecation_fails(self):
        baseline = self.drill('options_baseline')
        self.assertEqual(0, baseline.returncode, baseline.output)
        result = self.drill('options')
        self.assertEqual(1, result.returncode, result.output)
        group, name = integrity_drills.REMOVED_OPTION
        self.assertIn('FAIL options: 1 of ', result.output)
        self.assertIn(f'removed [{group}] {name}: NOT ACCEPTED', result.output)
        old = self.plan().old_series.name
        self.assertIn(f'never deprecated for removal nor kept as an alias in '
                      f'heat {self.plan().old_series.heat_version} ({old})',
                      result.output)


class CloudFreePairsTest(testtools.TestCase):
    """The command Heat's own gate could run: no cloud, just releases."""

    def run_pair(self, old, new):
        out = Path(self.useFixture(fixtures.TempDir()).path) / 'report.json'
        env = {k: v for k, v in os.environ.items()
               if k != 'HEAT_UPGRADE_TESTS_CONFIG'}
        proc = subprocess.run(
            [sys.executable, '-m', 'heat_upgrade_tests.cmd', '--config-file',
             os.devnull, 'integrity', 'check', '--from', old, '--to', new,
             '--report', str(out)], capture_output=True, text=True,
            timeout=1200, env=env)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
        return proc.stdout, json.loads(out.read_text())

    def assertWorkerJump(self, doc):
        rpc = _finding(doc, 'rpc')
        worker = rpc['data']['worker']
        self.assertEqual(('1.4', '1.9'),
                         (worker['old_version'], worker['new_version']))
        self.assertEqual(report.WARNING, rpc['status'])
        self.assertIn('worker RPC 1.4 -> 1.9', rpc['summary'])
        self.assertIn('cannot share one bus', rpc['summary'])
        self.assertIn('check_resource',
                      [b['method'] for b in worker['new_to_old']])

    @base.idempotent_id('458dcc51-c30b-499a-8447-9320b7b1e3d2')
    def test_2025_2_to_2026_2(self):
        output, doc = self.run_pair('2025.2', '2026.2')
        self.assertWorkerJump(doc)
        options = _finding(doc, 'options')
        verdicts = {(r['group'], r['option']): r['verdict']
                    for r in options['data']['removals']}
        self.assertEqual('exception', verdicts[('clients_vitrage',
                                                'insecure')])
        # Deprecated in 2026.1, the release between.
        self.assertEqual('deprecated', verdicts[('ec2authtoken',
                                                 'auth_uri')])
        self.assertEqual('renamed', verdicts[('ec2authtoken', 'ca_file')])
        self.assertIn('== integrity:', output)

    @base.idempotent_id('8eedf51f-69ac-4ae3-9006-a4a5b29fe2a5')
    def test_2025_1_to_2026_1_skip_level(self):
        _, doc = self.run_pair('2025.1', '2026.1')
        self.assertWorkerJump(doc)
        options = _finding(doc, 'options')
        verdicts = {(r['group'], r['option']): r['verdict']
                    for r in options['data']['removals']}
        for group in ('clients_monasca', 'heat_api', 'heat_api_cfn',
                      'eventlet_opts'):
            self.assertIn('exception', {v for (g, _), v in verdicts.items()
                                        if g == group}, group)
        # 2026.1 keeps the old names as deprecated aliases.
        self.assertEqual('renamed', verdicts[('ec2authtoken', 'key_file')])
