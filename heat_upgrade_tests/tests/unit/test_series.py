"""Heat versions mapped to their series, as the gate's hooks need."""

from pathlib import Path

import fixtures
import testtools

from heat_upgrade_tests import config
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests import releases


class SeriesNameTest(testtools.TestCase):
    """The one reading of a series name (YYYY.N) every module shares."""

    def test_key_is_year_and_release_as_numbers(self):
        self.assertEqual((2026, 1), releases.series_key('2026.1'))
        # A number, not a float: 2025.10 is after 2025.2.
        self.assertLess(releases.series_key('2025.2'),
                        releases.series_key('2025.10'))

    def test_anything_else_is_a_value_error_naming_it(self):
        for bad in ('2026', '2026.1.1', '26.1', 'dalmatian', ' 2026.1',
                    '2026.1\n', '2026.', '+2026.1', 2025.1, None):
            exc = self.assertRaises(ValueError, releases.series_key, bad)
            self.assertEqual(f'{bad!r} is not a release series (YYYY.N)',
                             str(exc))
            self.assertFalse(releases.is_series_name(bad), bad)
        self.assertTrue(releases.is_series_name('2030.2'))

    def test_releases_file_refuses_a_name_not_of_the_form(self):
        path = Path(self.useFixture(fixtures.TempDir()).path) / 'r.yaml'
        path.write_text("services:\n  heat: {package: openstack-heat}\n"
                        "  keystone: {package: keystone}\n"
                        "series:\n  '2026':\n    heat: 26.0.0\n"
                        "    keystone: 28.0.0\n")
        exc = self.assertRaises(exceptions.ConfigError,
                                releases.load_series, path)
        self.assertIn("series '2026': not of the form YYYY.N", str(exc))

    def test_series_sort_by_the_key(self):
        known = releases.load_series()
        self.assertEqual(sorted(known, key=releases.series_key), list(known))


class SeriesOfVersionTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.known = releases.load_series()
        newest = list(self.known.values())[-1]
        self.newest = newest.name
        self.newest_major = int(newest.heat_version.split('.')[0])

    def name(self, version):
        return releases.series_name_of_version(version, self.known)

    @base.idempotent_id('5d1f8b2e-7a3c-4e69-9b04-c8e2a6f1d357')
    def test_released_and_stable_versions(self):
        for series in self.known.values():
            self.assertEqual(series.name, self.name(series.heat_version))
        self.assertEqual('2026.1', self.name('26.0.9'))

    @base.idempotent_id('6e2a9c3f-8b4d-4f7a-8c15-d9f3b7a2e468')
    def test_development_versions_past_the_newest(self):
        after = releases.next_series(self.newest)
        major = self.newest_major
        # master after the newest tag, before the next one
        self.assertEqual(after, self.name(f'{major}.1.0.dev4'))
        self.assertEqual(after, self.name(f'{major + 1}.0.0.dev3'))
        self.assertEqual(releases.next_series(self.newest, 2),
                         self.name(f'{major + 1}.1.0.dev7'))
        self.assertIsNone(self.name('12.0.0'))

    @base.idempotent_id('7f3bad4a-9c5e-4a8b-9d26-eaf4c8b3f579')
    def test_next_series_counts_two_a_year(self):
        self.assertEqual('2026.2', releases.next_series('2026.1'))
        self.assertEqual('2027.1', releases.next_series('2026.2'))
        self.assertEqual('2028.1', releases.next_series('2026.2', 3))


class CloudSeriesOptionTest(testtools.TestCase):
    """[cloud] from/to_series: a series, or a Heat version mapped to it."""

    def load(self, **env):
        for key in ('OS_CLOUD__FROM_SERIES', 'OS_CLOUD__TO_SERIES'):
            self.useFixture(fixtures.EnvironmentVariable(key, env.get(key)))
        path = Path(self.useFixture(fixtures.TempDir()).path) / 'hut.conf'
        path.write_text('[cloud]\nfrom_series = 2025.2\n')
        return config.load(config_files=[str(path)])

    @base.idempotent_id('80a4cbe5-ad6f-4b9c-8e37-fb05d9c4a68a')
    def test_versions_from_the_environment_become_series(self):
        conf = self.load(OS_CLOUD__FROM_SERIES='26.0.2',
                         OS_CLOUD__TO_SERIES='27.0.1')
        self.assertEqual('2026.1', conf.cloud.from_series)
        self.assertEqual('2026.2', conf.cloud.to_series)

    @base.idempotent_id('91b5dcf6-be7a-4cad-9f48-a016eab5b79b')
    def test_a_series_is_kept(self):
        conf = self.load()
        self.assertEqual('2025.2', conf.cloud.from_series)
        self.assertIsNone(conf.cloud.to_series)

    @base.idempotent_id('a2c6ed07-cf8b-4dbe-8a59-b127fbc6c8ac')
    def test_unknown_version_is_a_one_line_error(self):
        exc = self.assertRaises(exceptions.ConfigError, self.load,
                                OS_CLOUD__TO_SERIES='12.0.0')
        self.assertIn('[cloud] to_series = 12.0.0', str(exc))
        exc = self.assertRaises(exceptions.ConfigError, self.load,
                                OS_CLOUD__TO_SERIES='banana')
        self.assertIn('neither a release series', str(exc))

    @base.idempotent_id('b3d7fe18-d09c-4ecf-9b6a-c238acd7d9bd')
    def test_an_override_stays_in_its_configuration(self):
        # The mapping above is a set_override; oslo.config shares one
        # group object's overrides between configurations.
        first = config.load(config_files=[])
        first.set_override('from_series', '2026.1', 'cloud')
        self.assertIsNone(config.load(config_files=[]).cloud.from_series)


class UnknownSeriesTest(testtools.TestCase):
    """A name that looks like a series but is unknown: refused at once."""

    def test_the_phases_configuration_refuses_it(self):
        conf = self.useFixture(fixtures.TempDir()).path + '/hut.conf'
        Path(conf).write_text('[cloud]\nfrom_series = 2030.1\n')
        exc = self.assertRaises(exceptions.ConfigError, config.load,
                                config_files=[conf])
        self.assertIn('unknown release series', str(exc))

    def test_the_development_series_is_known(self):
        known = list(releases.load_series())
        after = releases.next_series(known[-1])
        conf = self.useFixture(fixtures.TempDir()).path + '/hut.conf'
        Path(conf).write_text(f'[cloud]\nto_series = {after}\n')
        self.assertEqual(after, config.load(config_files=[conf]).cloud
                         .to_series)

    def test_the_integrity_command_refuses_it_before_any_venv(self):
        from heat_upgrade_tests.integrity import environments
        exc = self.assertRaises(environments.IntegrityError,
                                environments.classify, '2030.1',
                                releases.load_series())
        self.assertIn("unknown release series '2030.1'", str(exc))
