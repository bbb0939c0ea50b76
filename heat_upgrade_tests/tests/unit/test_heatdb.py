"""Heat's database module: URLs, connections and the shared queries.

No database server: PyMySQL's ``connect`` is replaced, and the queries run
on sqlite3 behind the fake PyMySQL connection the row checks' tests use.
"""

import sqlite3

import fixtures
import pymysql
import testtools

from heat_upgrade_tests import exceptions
from heat_upgrade_tests import heatdb
from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests.tests.unit import test_integrity_database

URL = 'mysql+pymysql://heat:p%40ss@db.example:3307/heat?charset=utf8'


class UrlTest(testtools.TestCase):

    def test_parse_url(self):
        args = heatdb.parse_url('mysql+pymysql://heat:p%40ss@db.example:'
                                '3307/heat?charset=utf8')
        self.assertEqual({'user': 'heat', 'password': 'p@ss',
                          'database': 'heat', 'charset': 'utf8',
                          'host': 'db.example', 'port': 3307}, args)
        self.assertEqual('heat@db.example:3307/heat', heatdb.describe_url(
            'mysql+pymysql://heat:p%40ss@db.example:3307/heat'))
        sock = heatdb.parse_url('mysql+pymysql://root@/heat?unix_socket=/s')
        self.assertEqual('/s', sock['unix_socket'])
        self.assertNotIn('host', sock)

    def test_defaults(self):
        args = heatdb.parse_url('mysql://heat@/heat')
        self.assertEqual(('localhost', 3306, 'utf8'),
                         (args['host'], args['port'], args['charset']))

    def test_other_databases_are_a_clear_error(self):
        exc = self.assertRaises(environments.IntegrityError,
                                heatdb.parse_url,
                                'postgresql://heat@db/heat')
        self.assertIn('MySQL/MariaDB only', str(exc))
        self.assertIn('postgresql://', str(exc))

    def test_a_url_without_a_database_is_refused(self):
        exc = self.assertRaises(exceptions.IntegrityError, heatdb.parse_url,
                                'mysql+pymysql://heat:pw@db:3306/')
        self.assertEqual('the database URL names no database', str(exc))

    def test_the_description_never_holds_the_password(self):
        self.assertNotIn('p@ss', heatdb.describe_url(URL))
        self.assertEqual('root@/run/db.sock/heat', heatdb.describe_url(
            'mysql+pymysql://root:secret@/heat?unix_socket=/run/db.sock'))

    def test_conf_value_doubles_each_dollar(self):
        self.assertEqual('mysql+pymysql://u:a$$b$$@h/heat',
                         heatdb.conf_value('mysql+pymysql://u:a$b$@h/heat'))


class ClosingConnection(test_integrity_database.FakeConnection):
    """The fake PyMySQL connection, remembering whether it was closed."""

    closed = False

    def close(self):
        self.closed = True


class FailingCursor:
    """A cursor whose every query fails as PyMySQL's do."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, args=()):
        raise pymysql.err.OperationalError(1146, "Table 'heat.x' "
                                                 "doesn't exist")


class ConnectTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.db = sqlite3.connect(':memory:')
        self.db.execute('CREATE TABLE service (id TEXT)')
        self.db.execute("INSERT INTO service VALUES ('e1')")
        self.conn = ClosingConnection(self.db)
        self.calls = []

        def connect(**kwargs):
            self.calls.append(kwargs)
            return self.conn
        self.useFixture(fixtures.MockPatchObject(pymysql, 'connect',
                                                 connect))

    def test_connect_passes_the_url_and_a_timeout(self):
        self.assertIs(self.conn, heatdb.connect(URL))
        self.assertEqual([dict(heatdb.parse_url(URL), connect_timeout=10)],
                         self.calls)

    def test_a_database_out_of_reach_is_one_line_without_password(self):
        def refuse(**kwargs):
            raise pymysql.err.OperationalError(2003, "Can't connect")
        self.useFixture(fixtures.MockPatchObject(pymysql, 'connect', refuse))
        exc = self.assertRaises(exceptions.IntegrityError, heatdb.connect,
                                URL)
        self.assertEqual("cannot connect to Heat's database heat@db.example:"
                         "3307/heat: (2003, \"Can't connect\")", str(exc))

    def test_cursor_closes_its_connection_even_on_error(self):
        with heatdb.cursor(URL) as cur:
            cur.execute('SELECT id FROM service')
            self.assertEqual([('e1',)], cur.fetchall())
        self.assertTrue(self.conn.closed)
        self.conn.closed = False

        def broken():
            with heatdb.cursor(URL):
                raise RuntimeError('in the caller')
        self.assertRaises(RuntimeError, broken)
        self.assertTrue(self.conn.closed)

    def test_read_returns_the_rows_and_closes(self):
        self.assertEqual([('e1',)], heatdb.read(
            URL, 'SELECT id FROM service WHERE id = %s', ('e1',)))
        self.assertTrue(self.conn.closed)

    def test_a_query_that_fails_is_one_line_without_password(self):
        self.conn.cursor = FailingCursor
        exc = self.assertRaises(exceptions.UpgradeTestError, heatdb.read,
                                URL, 'SELECT 1 FROM x')
        self.assertNotIsInstance(exc, exceptions.IntegrityError)
        self.assertIn("cannot read Heat's database heat@db.example:3307/"
                      "heat: ", str(exc))
        self.assertNotIn('p@ss', str(exc))
        self.assertTrue(self.conn.closed)


class LiveStacksTest(testtools.TestCase):

    def test_deleted_stacks_are_not_live(self):
        db = sqlite3.connect(':memory:')
        db.executescript('''
            CREATE TABLE stack (id TEXT, name TEXT, owner_id TEXT,
                action TEXT, status TEXT, deleted_at TEXT);
            INSERT INTO stack VALUES
                ('a', 'hut-a', NULL, 'CREATE', 'COMPLETE', NULL),
                ('a1', 'hut-a-group', 'a', 'UPDATE', 'IN_PROGRESS', NULL),
                ('b', 'hut-b', NULL, 'DELETE', 'FAILED', NULL),
                ('c', 'hut-c', NULL, 'DELETE', 'IN_PROGRESS', NULL),
                ('d', 'hut-d', NULL, 'DELETE', 'COMPLETE', NULL),
                ('e', 'hut-e', NULL, 'DELETE', 'COMPLETE', 'then'),
                ('f', 'hut-f', NULL, 'CREATE', 'FAILED', 'then');
        ''')
        cursor = test_integrity_database.FakeCursor(db.cursor())
        self.assertEqual({'a': 'hut-a', 'a1': 'hut-a-group', 'b': 'hut-b',
                          'c': 'hut-c'}, heatdb.live_stacks(cursor))


class FakeServer:
    """The project's MariaDB, answering the row counts."""

    def __init__(self, tables):
        self.tables = tables

    def execute(self, sql, database=None, args=None):
        if sql == 'SHOW TABLES':
            return [(t,) for t in self.tables]
        table = sql.split('`')[1]
        return [(self.tables[table],)]


class RecordingCursor:
    """A cursor that keeps each statement; SHOW TABLES names two."""

    def __init__(self):
        self.statements = []
        self.rows = []

    def execute(self, sql, args=None):
        self.statements.append(sql)
        self.rows = [('event',), ('stack',)] if sql.startswith(
            'SHOW TABLES') else []

    def fetchall(self):
        return self.rows


class CopyTest(testtools.TestCase):

    def test_row_counts(self):
        self.assertEqual({'stack': 3, 'resource': 7},
                         heatdb.row_counts(FakeServer({'stack': 3,
                                                       'resource': 7})))

    def test_copy_tables_schema_then_rows_keys_unchecked(self):
        cursor = RecordingCursor()
        heatdb.copy_tables(cursor, 'heat', 'copy')
        self.assertEqual([
            'SET FOREIGN_KEY_CHECKS=0',
            'SHOW TABLES FROM `heat`',
            'CREATE TABLE `copy`.`event` LIKE `heat`.`event`',
            'INSERT INTO `copy`.`event` SELECT * FROM `heat`.`event`',
            'CREATE TABLE `copy`.`stack` LIKE `heat`.`stack`',
            'INSERT INTO `copy`.`stack` SELECT * FROM `heat`.`stack`',
        ], cursor.statements)
