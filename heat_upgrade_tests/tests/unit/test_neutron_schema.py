"""Neutron's fresh schema: migrated once per venv, then loaded from the
dump that migration left in the venv."""

from pathlib import Path

import fixtures
import testtools

from heat_upgrade_tests.minicloud import neutron
from heat_upgrade_tests.phases.suite import base


class _Server:
    """Stands in for the project's MariaDB fixture: dump and load."""

    def __init__(self):
        self.calls = []

    def dump(self, database, path, log_file):
        self.calls.append(('dump', database))
        Path(path).write_text('-- schema\n')

    def load(self, database, path, log_file):
        self.calls.append(('load', database, Path(path).read_text()))


class FreshSchemaTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = Path(self.useFixture(fixtures.TempDir()).path)
        self.server = _Server()
        self.migrations = []

    def neutron(self, db=True):
        service = neutron.Neutron(
            self.root / 'venv', self.root / 'run', 'mysql+pymysql://x',
            'rabbit://x', 'http://k/v3', 'pw', '127.0.0.1', 1,
            self.root / 'logs', db=self.server if db else None)
        service.db_sync = lambda venv=None: (
            self.migrations.append(venv) or 'abc (head)')
        return service

    @base.idempotent_id('3e0f3c61-3f0e-4f70-9a43-1f0f7f4e2b10')
    def test_first_start_migrates_and_dumps_later_ones_load(self):
        (self.root / 'venv').mkdir()
        first = self.neutron().fresh_schema()
        self.assertEqual(1, len(self.migrations))
        self.assertIn('migrated', first)
        self.assertEqual([('dump', 'neutron')], self.server.calls)
        second = self.neutron().fresh_schema()
        self.assertEqual(1, len(self.migrations), 'migrated again')
        self.assertIn('loaded', second)
        self.assertEqual(('load', 'neutron', '-- schema\n'),
                         self.server.calls[-1])

    @base.idempotent_id('9d1b0f1a-43a4-4a8e-8f5c-6f2f2a0c7d21')
    def test_without_the_server_it_always_migrates(self):
        (self.root / 'venv' / neutron.SCHEMA_DUMP).parent.mkdir(parents=True)
        (self.root / 'venv' / neutron.SCHEMA_DUMP).write_text('-- old\n')
        self.neutron(db=False).fresh_schema()
        self.assertEqual(1, len(self.migrations))
        self.assertEqual([], self.server.calls)
