"""Fault drills of the integrity checks, on the shared mini-cloud.

Right after the new release's ``db_sync`` (moment ``db-synced``), each
drill breaks something the way an upgrade could, always on a database or
file of its own, never on the main run's, and runs ``heat-upgrade-tests
integrity check`` on it as a user would:

* ``unapplied``: a fresh database migrated by the new release's own
  scripts up to the revision before its head: a migration left
  unapplied, with the schema that goes with it (2026.1 and 2026.2 share
  one head, so stamping the main database back would prove nothing);
* ``column``: a copy of Heat's database with a column dropped after
  ``db_sync``;
* ``row``: a copy with one resource row recorded by pre-upgrade deleted;
* ``options``: the new release's option data with an option removed
  that no release deprecated (a doctored copy of its generator JSON).

Each must fail the right check with a clear message; the results are in
the shared ``results`` under ``integrity_*``. The drill databases are
dropped after post-upgrade.
"""

import configparser
import json
import os
from pathlib import Path
import secrets
import subprocess
import sys
import time

from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests.integrity import rows
from heat_upgrade_tests.plans import upgrade

PREFIX = 'integrity_'
DATABASES = {'unapplied': 'heat_drill_unapplied',
             'column': 'heat_drill_column', 'row': 'heat_drill_row'}
DRILL_USER = 'heat_drill'
# A column of Heat's models that no index or foreign key uses.
DROPPED_COLUMN = ('stack', 'parent_resource_name')
# An option of every release, never deprecated.
REMOVED_OPTION = ('DEFAULT', 'num_engine_workers')
TIMEOUT = 600


def copy_database(db, source: str, target: str) -> None:
    """Copy every table of ``source`` into ``target``, keys and rows.

    ``SHOW CREATE TABLE`` keeps the foreign keys that ``CREATE TABLE ...
    LIKE`` would drop (they would show up as differences from the models).
    """
    conn = db.connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute('SET FOREIGN_KEY_CHECKS = 0')
            cursor.execute(f'SHOW FULL TABLES FROM `{source}` '
                           f"WHERE Table_type = 'BASE TABLE'")
            tables = [row[0] for row in cursor.fetchall()]
            cursor.execute(f'USE `{target}`')
            for table in tables:
                cursor.execute(f'SHOW CREATE TABLE `{source}`.`{table}`')
                cursor.execute(cursor.fetchone()[1])
                cursor.execute(f'INSERT INTO `{target}`.`{table}` '
                               f'SELECT * FROM `{source}`.`{table}`')
    finally:
        conn.close()


class IntegrityDrills:
    """A drill set (see ``scenario.Drills``); results are ``integrity_*``."""

    def __init__(self, results: dict):
        self.results = results
        self.password = secrets.token_urlsafe(18)

    def _database(self, plan, key: str) -> str:
        """A new, empty database of the drills; its URL."""
        name = DATABASES[key]
        plan.cloud.db.execute(f'DROP DATABASE IF EXISTS `{name}`')
        return plan.cloud.db.create_database(name, DRILL_USER, self.password)

    def _conf(self, plan) -> Path:
        """The drills' own configuration: the shared venv cache only."""
        path = plan.run_dir / 'drill-integrity.conf'
        parser = configparser.ConfigParser()
        parser['minicloud'] = {'cache_dir': str(plan.cache_dir)}
        parser['integrity'] = {'heat_config_files': ''}
        with open(path, 'w') as f:
            parser.write(f)
        return path

    def _run(self, plan, name: str, *args: str) -> None:
        argv = [sys.executable, '-m', 'heat_upgrade_tests.cmd',
                '--config-file', str(self._conf(plan)), 'integrity',
                'check', *args]
        start = time.monotonic()
        env = {k: v for k, v in os.environ.items()
               if k != 'HEAT_UPGRADE_TESTS_CONFIG'}
        try:
            proc = subprocess.run(argv, capture_output=True, text=True,
                                  timeout=TIMEOUT, env=env,
                                  stdin=subprocess.DEVNULL)
            output, code = proc.stdout + proc.stderr, proc.returncode
        except subprocess.TimeoutExpired:
            output, code = f'no end within {TIMEOUT}s', -9
        log = plan.run_dir / 'logs' / f'drill-{PREFIX}{name}.log'
        log.write_text(output)
        self.results[PREFIX + name] = upgrade.PhaseRun(
            name, code, output, time.monotonic() - start)

    def _new_python(self, plan) -> str:
        return str(plan.new.venv / 'bin' / 'python')

    def unapplied(self, plan) -> None:
        url = self._database(plan, 'unapplied')
        python = Path(self._new_python(plan))
        revisions = environments.probe(python, 'schema',
                                       database_url=url)
        head = revisions['heads'][0]
        before = next(r['down_revision'] for r in revisions['revisions']
                      if r['revision'] == head)
        environments.probe(python, 'migrate', before, database_url=url)
        self.results[PREFIX + 'unapplied_revision'] = head
        self._run(plan, 'unapplied', '--only', 'schema', '--to',
                  str(python), '--database-connection', url)

    def column(self, plan) -> None:
        url = self._database(plan, 'column')
        copy_database(plan.cloud.db, 'heat', DATABASES['column'])
        plan.cloud.db.drop_column(DATABASES['column'], *DROPPED_COLUMN)
        self._run(plan, 'column', '--only', 'schema', '--to',
                  self._new_python(plan), '--database-connection', url)

    def row(self, plan) -> None:
        url = self._database(plan, 'row')
        copy_database(plan.cloud.db, 'heat', DATABASES['row'])
        snapshot = rows.load_snapshot(plan.cloud.state_dir)
        resource, stack = sorted(snapshot['rows']['resource'].items())[0]
        self.results[PREFIX + 'row_deleted'] = (resource, stack)
        conn = plan.cloud.db.connect(DATABASES['row'])
        try:
            with conn.cursor() as cursor:
                # Its resource_data rows would refuse the delete.
                cursor.execute('SET FOREIGN_KEY_CHECKS = 0')
                cursor.execute('DELETE FROM resource WHERE id = %s',
                               (resource,))
        finally:
            conn.close()
        self._run(plan, 'row', '--only', 'rows', '--database-connection',
                  url, '--state-dir', str(plan.cloud.state_dir))

    def options(self, plan) -> None:
        data_dir = plan.run_dir / 'drill-integrity-options'
        old = str(plan.old.venv / 'bin' / 'python')
        self._run(plan, 'options_baseline', '--only', 'options', '--from',
                  old, '--to', self._new_python(plan), '--save-options',
                  str(data_dir))
        doc = json.loads((data_dir / f'heat-{plan.new.version}.json')
                         .read_text())
        group, name = REMOVED_OPTION
        opts = doc['options'][group]['opts']
        doc['options'][group]['opts'] = [o for o in opts
                                         if o['name'] != name]
        doctored = data_dir / 'doctored.json'
        doctored.write_text(json.dumps(doc))
        self._run(plan, 'options', '--only', 'options', '--from', old,
                  '--to', self._new_python(plan), '--new-options-json',
                  str(doctored))

    def db_synced(self, plan) -> None:
        for drill in (self.unapplied, self.column, self.row, self.options):
            try:
                drill(plan)
            except Exception as exc:  # noqa: B902 - reported by its test
                self.results[PREFIX + drill.__name__ + '_error'] = repr(exc)

    def post_upgrade(self, plan) -> None:
        for name in DATABASES.values():
            plan.cloud.db.execute(f'DROP DATABASE IF EXISTS `{name}`')

    def hooks(self):
        return {'db-synced': self.db_synced,
                'post-upgrade': self.post_upgrade}
