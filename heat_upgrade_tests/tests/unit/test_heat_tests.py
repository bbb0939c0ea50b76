"""Heat's own tests: tempest.conf from clouds.yaml, the before/after rule,
and the plan hooks (on a fake runner; no service started)."""

import io
from pathlib import Path

import fixtures
import testtools
import yaml

from heat_upgrade_tests import config
from heat_upgrade_tests import exceptions
from heat_upgrade_tests import heat_tests
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.plans import upgrade
from heat_upgrade_tests.tests.unit import test_runner
from heat_upgrade_tests.tests.unit import test_runreport

TEST = 'heat_tempest_plugin.tests.functional.test_x.T.test_{}'


class TempestConfTest(testtools.TestCase):

    def test_written_from_both_clouds_yaml_entries(self):
        tmp = Path(self.useFixture(fixtures.TempDir()).path)
        clouds = tmp / 'clouds.yaml'
        entry = {'auth_url': 'http://127.0.0.1:25000/v3',
                 'user_domain_name': 'Default',
                 'project_domain_name': 'Default'}
        clouds.write_text(yaml.safe_dump({'clouds': {
            'm': {'auth': dict(entry, username='mem', password='pw1',
                               project_name='p1'),
                  'region_name': 'RegionOne'},
            'a': {'auth': dict(entry, username='admin', password='pw2',
                               project_name='admin')}}}))
        conf = config.load(config_files=[])
        conf.set_override('clouds_file', str(clouds), 'cloud')
        conf.set_override('cloud', 'm', 'cloud')
        conf.set_override('admin_cloud', 'a', 'cloud')
        self.useFixture(fixtures.EnvironmentVariable('OS_CLOUD'))
        member = heat_tests._credentials(conf, 'm')
        admin = heat_tests._credentials(conf, 'a')
        text = heat_tests.tempest_conf(member, admin, tmp)
        self.assertIn('[heat_plugin]\nauth_url = http://127.0.0.1:25000/v3',
                      text)
        for line in ('username = mem', 'password = pw1',
                     'project_name = p1', 'admin_username = admin',
                     'admin_password = pw2', 'region = RegionOne',
                     'skip_scenario_tests = True', 'nova = False',
                     'heat = True', 'use_dynamic_credentials = False'):
            self.assertIn(f'\n{line}\n', text)

    def test_an_entry_without_a_password_is_one_line(self):
        tmp = Path(self.useFixture(fixtures.TempDir()).path)
        clouds = tmp / 'clouds.yaml'
        clouds.write_text(yaml.safe_dump({'clouds': {'t': {'auth': {
            'auth_url': 'http://x/v3', 'token': 'abc'},
            'auth_type': 'token'}}}))
        conf = config.load(config_files=[])
        conf.set_override('clouds_file', str(clouds), 'cloud')
        exc = self.assertRaises(exceptions.ConfigError,
                                heat_tests._credentials, conf, 't')
        self.assertIn("clouds.yaml entry 't' has no", str(exc))

    def test_the_exclude_list_is_shipped(self):
        path = heat_tests.exclude_list(config.load(config_files=[]))
        lines = [line for line in path.read_text().splitlines()
                 if line and not line.startswith('#')]
        self.assertIn(r'heat_tempest_plugin\.tests\.functional\..*Zaqar',
                      lines)


class CompareTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = Path(self.useFixture(fixtures.TempDir()).path)

    def write(self, side, tests):
        (self.dir / f'{side}.subunit').write_bytes(test_runreport.stream(
            [(TEST.format(name), status,
              test_runreport.TRACE if status == 'fail' else '')
             for name, status in tests]))

    def compare(self):
        out = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                   io.StringIO()))
        code = heat_tests._compare(self.dir)
        return code, out.new_value.getvalue()

    def test_pass_before_fail_after_is_an_upgrade_failure(self):
        self.write('before', [('a', 'success'), ('b', 'success')])
        self.write('after', [('a', 'success'), ('b', 'fail')])
        code, out = self.compare()
        self.assertEqual(1, code)
        self.assertIn('UPGRADE FAILURE: ' + TEST.format('b'), out)
        self.assertNotIn(TEST.format('a'), out)

    def test_failing_both_times_is_reported_not_blamed(self):
        self.write('before', [('a', 'success'), ('b', 'fail')])
        self.write('after', [('a', 'success'), ('b', 'fail')])
        code, out = self.compare()
        self.assertEqual(0, code)
        self.assertIn('reported, not blamed on the upgrade: '
                      + TEST.format('b') + ' fails before and after', out)

    def test_after_without_before_is_one_line(self):
        conf = config.load(config_files=[])
        conf.set_override('results_dir', str(self.dir), 'phases')
        exc = self.assertRaises(exceptions.StateError, heat_tests.run,
                                conf, 'after')
        self.assertIn('run "heat-tests before" first', str(exc))


class PlanHooksTest(testtools.TestCase):
    """The hooks at pre-upgrade and new-heat-up, on the fake runner."""

    def make(self, enabled=True):
        conf = config.load(config_files=[])
        conf.set_override('enabled', enabled, 'heat_tests')
        run = test_runner.FakeRun(model.get('full'))
        run.conf = conf
        run.heat_tests_problems = []
        sides = []

        def hook(context, side):
            sides.append((side, list(context.calls)))
            return ''
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.plans.upgrade._heat_tests_step', hook))
        return run, sides

    def test_before_after_pre_upgrade_and_after_once_new_heat_is_up(self):
        run, sides = self.make()
        run.walk(upgrade.with_heat_tests(run, {}))
        self.assertEqual(['before', 'after'], [s for s, _ in sides])
        self.assertEqual('phase pre-upgrade', sides[0][1][-1])
        self.assertEqual('start heat@new', sides[1][1][-1])
        self.assertIn("Heat's own tests after the upgrade",
                      [s.name for s in run.steps])

    def test_off_by_default(self):
        run, sides = self.make(enabled=False)
        self.assertFalse(config.load(config_files=[]).heat_tests.enabled)
        self.assertEqual({}, upgrade.with_heat_tests(run, {}))

    def test_a_callers_hook_at_the_same_moment_still_runs(self):
        run, sides = self.make()
        run.walk(upgrade.with_heat_tests(
            run, {'pre-upgrade': lambda ctx: ctx.calls.append('drill')}))
        self.assertEqual(['before', 'after'], [s for s, _ in sides])
        self.assertEqual('drill', sides[0][1][-1])
