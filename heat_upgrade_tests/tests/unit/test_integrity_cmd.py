"""``heat-upgrade-tests integrity``: bad input is a one-line error."""

import os
import subprocess
import sys

import fixtures
import testtools

from heat_upgrade_tests import cmd
from heat_upgrade_tests import config
from heat_upgrade_tests.integrity import cli
from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests import releases


class IntegrityCommandErrorsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def run_cmd(self, *args):
        env = dict(os.environ)
        env.pop('HEAT_UPGRADE_TESTS_CONFIG', None)
        return subprocess.run(
            [sys.executable, '-m', 'heat_upgrade_tests.cmd', '--config-file',
             os.devnull, 'integrity', *args], capture_output=True,
            text=True, env=env, timeout=120, cwd=self.dir)

    def assertOneLineError(self, proc, *fragments):
        self.assertEqual(2, proc.returncode, proc.stderr + proc.stdout)
        self.assertNotIn('Traceback', proc.stderr + proc.stdout)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(1, len(lines), proc.stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def test_unknown_check(self):
        self.assertOneLineError(
            self.run_cmd('check', '--only', 'nope', '--to', sys.executable),
            'unknown check nope')

    def test_unknown_release(self):
        self.assertOneLineError(
            self.run_cmd('check', '--to', 'no-such-release'),
            "cannot tell what 'no-such-release' is")

    def test_python_without_heat(self):
        self.assertOneLineError(
            self.run_cmd('check', '--only', 'upgrade-status', '--to',
                         sys.executable),
            'no heat package in')

    def test_schema_without_database(self):
        self.assertOneLineError(
            self.run_cmd('check', '--only', 'schema', '--to',
                         sys.executable),
            'schema check needs database connection')

    def test_snapshot_without_database(self):
        self.assertOneLineError(self.run_cmd('snapshot'), 'no database')

    def test_rows_without_snapshot_is_a_failed_check(self):
        proc = self.run_cmd('check', '--only', 'rows',
                            '--database-connection',
                            'mysql+pymysql://u:p@127.0.0.1:1/heat',
                            '--state-dir', self.dir)
        self.assertEqual(1, proc.returncode, proc.stderr)
        self.assertNotIn('Traceback', proc.stderr + proc.stdout)
        self.assertIn('FAIL rows: no row snapshot', proc.stdout)
        self.assertIn('run the pre-upgrade phase', proc.stdout)


class ClassifyTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.known = releases.load_series()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def test_kinds(self):
        self.assertEqual(environments.SERIES,
                         environments.classify('2026.1', self.known)[0])
        self.assertEqual(environments.VERSION,
                         environments.classify('27.0.1', self.known)[0])
        kind, path = environments.classify(sys.executable, self.known)
        self.assertEqual(environments.PYTHON, kind)
        self.assertEqual(os.path.abspath(sys.executable), str(path))
        tree = os.path.join(self.dir, 'heat-src')
        os.makedirs(os.path.join(tree, 'heat'))
        open(os.path.join(tree, 'setup.cfg'), 'w').close()
        self.assertEqual(environments.SOURCE,
                         environments.classify(tree, self.known)[0])

    def test_plain_directory_is_refused(self):
        exc = self.assertRaises(environments.IntegrityError,
                                environments.classify, self.dir, self.known)
        self.assertIn('neither a venv', str(exc))

    def locate(self, version):
        series, where = environments.locate(version, self.known)
        return (series.name if series else None, where)

    def test_series_of_releases_and_development_versions(self):
        self.assertEqual(('2026.2', 3.0), self.locate('27.0.1'))
        self.assertEqual(('2026.1', 2.0), self.locate('26.0.3'))
        # A stable branch's next patch belongs to its series...
        self.assertEqual(('2026.1', 2.0), self.locate('26.0.3.dev1'))
        # ...master after the 26.0.0 tag to the next series...
        self.assertEqual(('2026.2', 3.0), self.locate('26.1.0.dev109'))
        # ...and past the newest series, to none, just after it.
        self.assertEqual((None, 3.5), self.locate('27.1.0.dev4'))
        self.assertEqual((None, 3.5), self.locate('99.0.0'))
        self.assertEqual((None, -1.0), self.locate('12.0.0'))

    def test_series_hint(self):
        series, rest = environments.split_hint('2026.2=/src/heat',
                                               self.known)
        self.assertEqual(('2026.2', '/src/heat'), (series.name, rest))
        self.assertEqual((None, '/src/heat'), environments.split_hint(
            '/src/heat', self.known))
        exc = self.assertRaises(environments.IntegrityError,
                                environments.split_hint, '2031.1=/x',
                                self.known)
        self.assertIn('not a known series', str(exc))


class IntegritySettingsTest(testtools.TestCase):
    """What ``integrity check``'s command line gives the runner."""

    def settings(self, *argv):
        args = cmd.build_parser().parse_args(
            ['integrity', 'check', '--to', sys.executable, *argv])
        return cli.settings_from(config.load(config_files=[os.devnull]),
                                 args)

    def test_log_dir_goes_where_the_run_says(self):
        # A plan keeps the integrity step's logs with the run's other logs.
        self.assertEqual('/run/logs/integrity', self.settings(
            '--log-dir', '/run/logs/integrity').log_dir)

    def test_log_dir_defaults_to_the_cache(self):
        self.assertIn('integrity-logs', self.settings().log_dir)
