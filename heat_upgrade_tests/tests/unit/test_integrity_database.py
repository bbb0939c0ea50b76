"""Database rules: schema head, row snapshot, event purge, heat-status."""

import json
import os

import fixtures
import testtools

from heat_upgrade_tests import heatdb
from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests.integrity import report
from heat_upgrade_tests.integrity import rows
from heat_upgrade_tests.integrity import runner
from heat_upgrade_tests.integrity import schema
from heat_upgrade_tests.integrity import status
from heat_upgrade_tests import state as state_mod

REVISIONS = [
    {'revision': 'ccc', 'down_revision': 'bbb', 'doc': 'third'},
    {'revision': 'bbb', 'down_revision': 'aaa', 'doc': 'second'},
    {'revision': 'aaa', 'down_revision': None, 'doc': 'initial'},
]


def probed(current, heads=('ccc',), diff=(), text=''):
    return {'heads': list(heads), 'current': list(current),
            'revisions': REVISIONS, 'diff': list(diff), 'diff_text': text,
            'comparator': 'rules'}


class SchemaTest(testtools.TestCase):

    def test_at_head(self):
        finding = schema.head_finding(probed(['ccc']), 'heat 27')
        self.assertEqual(report.PASSED, finding.status)
        self.assertIn('database at ccc, the head of heat 27',
                      finding.summary)

    def test_behind_names_each_unapplied_migration(self):
        finding = schema.head_finding(probed(['aaa']), 'heat 27')
        self.assertEqual(report.FAILED, finding.status)
        self.assertIn("not at heat 27's head ccc: 2 migrations not applied",
                      finding.summary)
        self.assertEqual(['not applied: bbb second',
                          'not applied: ccc third'], finding.details)
        self.assertEqual(['ccc', 'bbb'], finding.data['unapplied'])

    def test_unknown_revision(self):
        finding = schema.head_finding(probed(['zzz']), 'heat 27')
        self.assertEqual(report.FAILED, finding.status)
        self.assertIn('which heat 27 does not know', finding.summary)

    def test_never_migrated(self):
        finding = schema.head_finding(probed([]), 'heat 27')
        self.assertIn('never migrated', finding.summary)

    def test_two_heads(self):
        finding = schema.head_finding(probed(['ccc'], heads=['ccc', 'ddd']),
                                      'heat 27')
        self.assertIn('2 migration heads', finding.summary)

    def test_model_diff_is_printed_in_full(self):
        finding = schema.models_finding(probed(
            ['ccc'], diff=['add_column: column stack.x is in the models but '
                           'missing from the database'],
            text="[ ( 'add_column',\n    None)]"), 'heat 27')
        self.assertEqual(report.FAILED, finding.status)
        self.assertIn('column stack.x', finding.summary)
        self.assertIn("  [ ( 'add_column',", finding.details)


class RowsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def test_stack_roots_skip_skipped_and_destroyed(self):
        for name, record, skipped in (
                ('alive', {'stack': {'id': 's1', 'name': 'n1'}}, None),
                ('gone', {'stack': {'id': 's2'}, 'destroyed': True}, None),
                ('skipped', {}, 'needs nova')):
            st = state_mod.CheckState(self.dir, name)
            doc = st.new('0c6a1a52-6f0e-4c41-9d43-1b1f2a8f3e01')
            doc['record'] = record
            doc['skipped'] = skipped
            st.save(doc)
        with open(os.path.join(self.dir, rows.SNAPSHOT_FILE), 'w') as f:
            f.write('{}')
        self.assertEqual({'s1': 'alive'}, rows.stack_roots(self.dir))

    def test_missing_snapshot_says_what_to_run(self):
        exc = self.assertRaises(environments.IntegrityError,
                                rows.load_snapshot, self.dir)
        self.assertIn('run the pre-upgrade phase', str(exc))
        self.assertIn('database_connection', str(exc))

    def test_snapshot_of_another_schema_is_refused(self):
        with open(os.path.join(self.dir, rows.SNAPSHOT_FILE), 'w') as f:
            json.dump({'schema_version': 99}, f)
        exc = self.assertRaises(environments.IntegrityError,
                                rows.load_snapshot, self.dir)
        self.assertIn('schema version 99', str(exc))

    def test_purge_explains_only_the_oldest_events_of_a_full_stack(self):
        recorded = list(range(1, 11))
        self.assertTrue(rows.purge_explains(recorded, recorded, 10))
        # Oldest three gone from a stack that reached the limit.
        self.assertTrue(rows.purge_explains(recorded, recorded[3:], 10))
        # Below the limit: nothing to purge.
        self.assertFalse(rows.purge_explains(recorded, recorded[3:], 50))
        # A recent event gone while older ones stay: not the purge.
        self.assertFalse(rows.purge_explains(recorded, recorded[:-1], 10))
        # Purge switched off.
        self.assertFalse(rows.purge_explains(recorded, recorded[3:], 0))

    def test_purge_settings_from_heat_conf(self):
        path = os.path.join(self.dir, 'heat.conf')
        with open(path, 'w') as f:
            f.write('[DEFAULT]\nmax_events_per_stack = 30\n'
                    'url = http://x/%(tenant_id)s\n')
        self.assertEqual((30, rows.EVENT_PURGE_BATCH_SIZE),
                         rows.purge_settings([path]))
        self.assertEqual((rows.MAX_EVENTS_PER_STACK,
                          rows.EVENT_PURGE_BATCH_SIZE),
                         rows.purge_settings([]))


class StatusTest(testtools.TestCase):

    def test_success(self):
        out = json.dumps({'checks': [{'check': 'Policy File', 'result': 0,
                                      'details': None}]})
        finding = status.finding('heat 27', 'before', [], 0, out, '')
        self.assertEqual(report.PASSED, finding.status)
        self.assertIn('Policy File: Success', finding.details)

    def test_warning_and_failure(self):
        out = json.dumps({'checks': [{'check': 'Policy File', 'result': 2,
                                      'details': 'policy.json found'}]})
        self.assertEqual(report.WARNING, status.finding(
            'h', 'm', [], 1, out, '').status)
        failed = status.finding('h', 'm', [], 2, out, '')
        self.assertEqual(report.FAILED, failed.status)
        self.assertIn('Policy File: Failure (policy.json found)',
                      failed.details)

    def test_broken_command_shows_its_output(self):
        finding = status.finding('h', 'm', [], 1 + 254, 'no json',
                                 'Traceback\nImportError: x')
        self.assertEqual(report.FAILED, finding.status)
        self.assertIn('exit 255', finding.summary)
        self.assertIn('ImportError: x', finding.details)


class SelectionTest(testtools.TestCase):

    def test_all_checks_whose_inputs_exist(self):
        self.assertEqual(
            ['options', 'config-file', 'upgrade-status', 'rpc'],
            runner.selected(runner.Settings(old='a', new='b')))
        self.assertEqual(
            ['rows'], runner.selected(runner.Settings(
                database_connection='mysql://x/heat', state_dir='/s')))

    def test_asked_check_without_its_inputs_is_an_error(self):
        exc = self.assertRaises(
            environments.IntegrityError, runner.selected,
            runner.Settings(new='b', checks=('schema',)))
        self.assertIn('schema check needs database connection', str(exc))
        exc = self.assertRaises(
            environments.IntegrityError, runner.selected,
            runner.Settings(new='b', checks=('nope',)))
        self.assertIn('unknown check nope', str(exc))


class FakeConnection:
    """PyMySQL's interface over sqlite3: ``%s`` marks, cursor contexts."""

    def __init__(self, db):
        self.db = db

    def cursor(self):
        return FakeCursor(self.db.cursor())

    def close(self):
        pass


class FakeCursor:

    def __init__(self, cursor):
        self.cursor = cursor

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, args=()):
        self.cursor.execute(sql.replace('%s', '?'), args)

    def fetchall(self):
        return self.cursor.fetchall()


class RowSnapshotTest(testtools.TestCase):
    """Recording and checking rows, on a tiny database of our own."""

    def setUp(self):
        super().setUp()
        import sqlite3
        self.db = sqlite3.connect(':memory:')
        # Heat's columns that the row check reads (a subset of each table).
        self.db.executescript('''
            CREATE TABLE stack (id TEXT, name TEXT, owner_id TEXT,
                raw_template_id INT, prev_raw_template_id INT,
                deleted_at TEXT, status TEXT, tenant TEXT, username TEXT,
                disable_rollback BOOLEAN, parent_resource_name TEXT,
                nested_depth INT, updated_at TEXT);
            CREATE TABLE resource (id INT, stack_id TEXT, name TEXT,
                nova_instance TEXT, current_template_id INT,
                rsrc_metadata TEXT, status TEXT);
            CREATE TABLE raw_template (id INT, template TEXT);
            CREATE TABLE software_config (id TEXT, name TEXT,
                `group` TEXT, config TEXT);
            CREATE TABLE snapshot (id TEXT, stack_id TEXT, name TEXT,
                status TEXT, data TEXT);
            CREATE TABLE event (id INT, stack_id TEXT);
            INSERT INTO stack VALUES
                ('root', 'hut-a', NULL, 1, NULL, NULL, 'COMPLETE', 'p',
                 'u', 1, NULL, 0, NULL),
                ('child', 'hut-a-group', 'root', 2, NULL, NULL, 'COMPLETE',
                 'p', 'u', 1, 'group', 1, NULL),
                ('grandchild', 'hut-a-member', 'child', 3, NULL, NULL,
                 'COMPLETE', 'p', 'u', 1, '0', 2, NULL),
                ('other', 'not-ours', NULL, 9, NULL, NULL, 'COMPLETE', 'q',
                 'v', 1, NULL, 0, NULL);
            INSERT INTO resource VALUES
                (10, 'root', 'config', 'cfg-1', 1, '{"a": 1}', 'COMPLETE'),
                (11, 'child', 'group', 'phys', 2, '{}', 'COMPLETE'),
                (12, 'grandchild', 'member', NULL, 4, NULL, 'COMPLETE'),
                (99, 'other', 'x', NULL, 9, NULL, 'COMPLETE');
            INSERT INTO raw_template VALUES (1, '{"resources": {}}'),
                (2, '{}'), (3, '{}'), (4, '{}'), (9, '{}');
            INSERT INTO software_config VALUES
                ('cfg-1', 'script', 'script', '{"config": "echo"}'),
                ('cfg-other', 'x', 'Heat::Ungrouped', '{}');
            INSERT INTO snapshot VALUES ('snap-1', 'root', 'hut-before',
                'COMPLETE', '{"resources": {"config": {}}}');
            INSERT INTO event VALUES (1, 'root'), (2, 'root'), (3, 'root'),
                (4, 'child');
        ''')
        self.useFixture(fixtures.MockPatchObject(
            heatdb, 'connect', lambda url: FakeConnection(self.db)))

    def snapshot(self):
        with FakeCursor(self.db.cursor()) as cursor:
            found = rows.read_rows(cursor, {'root': 'nested_group'})
        return dict(found, roots={'root': 'nested_group'},
                    schema_version=rows.SCHEMA_VERSION)

    def test_read_rows_follows_nested_stacks_and_owners(self):
        found = self.snapshot()
        self.assertEqual({'root', 'child', 'grandchild'},
                         set(found['stacks']))
        self.assertEqual('root', found['stacks']['grandchild']['root'])
        self.assertEqual({'10': 'root', '11': 'child', '12': 'grandchild'},
                         found['rows']['resource'])
        self.assertEqual({'1', '2', '3', '4'},
                         set(found['rows']['raw_template']))
        self.assertEqual({'cfg-1': 'root'}, found['rows']['software_config'])
        self.assertEqual({'snap-1': 'root'}, found['rows']['snapshot'])
        self.assertEqual({'root': [1, 2, 3], 'child': [4]}, found['events'])

    def test_everything_present_passes(self):
        finding = rows.check('mysql://x/heat', self.snapshot())
        self.assertEqual(report.PASSED, finding.status, finding.details)
        self.assertEqual(3, finding.data['counts']['resource'])

    def test_missing_rows_are_named_with_their_check(self):
        snapshot = self.snapshot()
        self.db.executescript('''
            DELETE FROM resource WHERE id = 12;
            DELETE FROM raw_template WHERE id = 1;
            UPDATE stack SET deleted_at = 'now' WHERE id = 'child';
            DELETE FROM event WHERE id = 3;
        ''')
        finding = rows.check('mysql://x/heat', snapshot)
        self.assertEqual(report.FAILED, finding.status)
        self.assertIn('4 rows recorded before the upgrade missing',
                      finding.summary)
        self.assertIn('resource 12 (stack hut-a-member of check '
                      'nested_group) is gone', finding.details)
        self.assertIn('raw_template 1 (stack hut-a of check nested_group) '
                      'is gone', finding.details)
        self.assertIn('stack child (stack hut-a-group of check '
                      'nested_group) was live and is now marked deleted',
                      finding.details)
        self.assertTrue(any('1 event of stack hut-a' in d and
                            'does not explain' in d
                            for d in finding.details))

    def test_purged_events_are_accepted(self):
        snapshot = self.snapshot()
        self.db.execute('DELETE FROM event WHERE id = 1')
        conf = os.path.join(self.useFixture(fixtures.TempDir()).path, 'c')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\nmax_events_per_stack = 3\n')
        finding = rows.check('mysql://x/heat', snapshot, [conf])
        self.assertEqual(report.PASSED, finding.status, finding.details)
        self.assertIn('1 event of stack hut-a of check nested_group '
                      'purged by Heat (max_events_per_stack=3)',
                      finding.details)

    def test_content_is_recorded_as_digests_of_the_kept_columns(self):
        found = self.snapshot()
        self.assertEqual(set(rows.CONTENT_COLUMNS), set(found['content']))
        self.assertEqual({'10', '11', '12'}, set(found['content']['resource']))
        self.assertEqual(set(rows.CONTENT_COLUMNS['resource']),
                         set(found['content']['resource']['10']))
        # JSON is compared decoded: a re-encoding is not a rewrite.
        self.assertEqual(rows.digest('{"a": 1}'), rows.digest('{ "a":1 }'))
        self.assertNotEqual(rows.digest('{"a": 1}'), rows.digest('{"a": 2}'))

    def test_a_row_rewritten_by_the_upgrade_is_named_with_its_column(self):
        snapshot = self.snapshot()
        self.db.executescript('''
            UPDATE resource SET rsrc_metadata = '{"a": 2}' WHERE id = 10;
            UPDATE raw_template SET template = '{"resources": null}'
                WHERE id = 1;
            UPDATE snapshot SET data = '{}' WHERE id = 'snap-1';
            UPDATE software_config SET `group` = 'ansible'
                WHERE id = 'cfg-1';
        ''')
        finding = rows.check('mysql://x/heat', snapshot)
        self.assertEqual(report.FAILED, finding.status)
        self.assertIn('4 columns of rows recorded before the upgrade '
                      'rewritten', finding.summary)
        self.assertNotIn('missing', finding.summary)
        for line in (
                'resource 10 (stack hut-a of check nested_group): column '
                'rsrc_metadata was rewritten (no migration should change '
                'it)',
                'raw_template 1 (stack hut-a of check nested_group): '
                'column template was rewritten',
                'snapshot snap-1 (stack hut-a of check nested_group): '
                'column data was rewritten',
                'software_config cfg-1 (stack hut-a of check '
                'nested_group): column group was rewritten'):
            self.assertTrue(any(d.startswith(line)
                                for d in finding.details), line)

    def test_what_the_engine_rewrites_is_not_a_rewrite(self):
        snapshot = self.snapshot()
        self.db.executescript('''
            UPDATE stack SET status = 'FAILED', updated_at = 'now';
            UPDATE resource SET status = 'FAILED', current_template_id = 7;
        ''')
        finding = rows.check('mysql://x/heat', snapshot)
        self.assertEqual(report.PASSED, finding.status, finding.details)
        self.assertIn('its content unchanged', finding.summary)
        self.assertTrue(any(d.startswith('content compared: stack (name')
                            and 'events by id only' in d
                            for d in finding.details))

    def test_the_content_of_a_stack_in_progress_is_not_compared(self):
        self.db.execute("UPDATE stack SET status = 'IN_PROGRESS' "
                        "WHERE id = 'child'")
        snapshot = self.snapshot()
        self.db.execute("UPDATE resource SET nova_instance = 'new' "
                        "WHERE id = 11")
        finding = rows.check('mysql://x/heat', snapshot)
        self.assertEqual(report.PASSED, finding.status, finding.details)
        self.assertIn('content not compared (present only): the rows of 1 '
                      'stack IN_PROGRESS when the snapshot was taken (root)',
                      finding.details)
        # Still present, though: a row gone is a row gone.
        self.db.execute('DELETE FROM resource WHERE id = 11')
        self.assertEqual(report.FAILED, rows.check(
            'mysql://x/heat', snapshot).status)

    def test_stacks_destroyed_by_the_checks_are_not_counted_as_lost(self):
        snapshot = self.snapshot()
        self.db.executescript('''
            DELETE FROM resource;
            UPDATE stack SET deleted_at = 'now';
        ''')
        finding = rows.check('mysql://x/heat', snapshot, live_roots=set())
        self.assertEqual(report.WARNING, finding.status, finding.details)
        self.assertIn('not checked: the rows of 1 stack the checks '
                      'destroyed since (root)', finding.details)
        failed = rows.check('mysql://x/heat', snapshot,
                            live_roots={'root'})
        self.assertEqual(report.FAILED, failed.status)
