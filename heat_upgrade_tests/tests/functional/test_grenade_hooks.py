"""The grenade plugin (``devstack/upgrade/``) driven as grenade drives it.

``ZuulConfigTest`` checks ``.zuul.yaml`` against what grenade defines.
``GrenadeShimTest`` needs no cloud: registration, dispatch errors and the
shim itself. ``GrenadeHooksOnMiniCloudTest`` asserts on the hook runs that
``grenade_drills.GrenadeHookDrills`` made on the shared mini-cloud at the
moments of its upgrade.

With ``HEAT_UPGRADE_TESTS_GRENADE_DIR`` and
``HEAT_UPGRADE_TESTS_DEVSTACK_DIR`` naming a grenade and a DevStack tree,
the same tests run the hooks under grenade's own grenaderc and functions
(``grenade_drills.real_grenade``) instead of the shim's.
"""

import configparser
import json
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys

import fixtures
import testtools
import yaml

from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import upgrade
from heat_upgrade_tests import releases
from heat_upgrade_tests.tests.functional import grenade_drills
from heat_upgrade_tests.tests.functional.scenario import scenario

UPGRADE_DIR = grenade_drills.REPO_ROOT / 'devstack' / 'upgrade'
CHECK = grenade_drills.CHECKS[0]

# Job names and variables read from openstack/grenade (.zuul.yaml, roles,
# playbooks) and openstack-zuul-jobs; Zuul itself is not available here.
GRENADE_PARENTS = {'grenade', 'grenade-multinode',
                   'grenade-skip-level-always'}
JOB_VARS = {'devstack_plugins', 'devstack_services',
            'grenade_devstack_localrc', 'grenade_localrc',
            'grenade_from_branch', 'tempest_test_regex', 'tox_envlist',
            'zuul_copy_output'}
TOX_JOBS = ['openstack-tox-pep8', 'openstack-tox-py312']
THIS_PLUGIN = 'heat-upgrade-tests'


def passed(output: str, test: str) -> bool:
    """Whether stestr printed ``test`` as passed in ``output``."""
    return re.search(rf'\.{test}(\[[^\]]*\])?( \[[\d.]+s\])? \.\.\. ok',
                     output) is not None


class ZuulConfigTest(testtools.TestCase):
    """What can be checked of the Zuul jobs without Zuul."""

    def setUp(self):
        super().setUp()
        with open(grenade_drills.REPO_ROOT / '.zuul.yaml') as f:
            items = yaml.safe_load(f)
        self.jobs = {i['job']['name']: i['job'] for i in items if 'job' in i}
        self.projects = [i['project'] for i in items if 'project' in i]
        self.assertEqual(len(items), len(self.jobs) + len(self.projects))

    @base.idempotent_id('5e6b2ce2-d3dd-4a5a-9f8c-13d7d146bf61')
    def test_jobs_inherit_grenade_jobs_and_their_nodesets(self):
        self.assertEqual(GRENADE_PARENTS,
                         {job['parent'] for job in self.jobs.values()})
        for name, job in self.jobs.items():
            self.assertNotIn('nodeset', job, name)
            self.assertEqual(set(), set(job['vars']) - JOB_VARS, name)
            self.assertIn(f'opendev.org/openstack/{THIS_PLUGIN}',
                          job['required-projects'], name)
            self.assertIn('opendev.org/openstack/heat',
                          job['required-projects'], name)

    @base.idempotent_id('6f7c3df3-e4ee-4b6b-8a9d-24e8e257c072')
    def test_jobs_enable_this_plugin_and_heats(self):
        # Their order in the job does not matter: Zuul sorts them, and the
        # settings put this project before heat (GrenadeShimTest).
        for name, job in self.jobs.items():
            plugins = job['vars']['devstack_plugins']
            self.assertIn(THIS_PLUGIN, plugins, name)
            self.assertIn('heat', plugins, name)
            self.assertTrue(job['vars']['devstack_services']['h-eng'], name)
            # A devstack_plugins in group-vars would replace the whole
            # dict on those nodes.
            for group in job.get('group-vars', {}).values():
                self.assertNotIn('devstack_plugins', group, name)
        text = (grenade_drills.REPO_ROOT / '.zuul.yaml').read_text()
        self.assertNotIn('Order matters', text)
        self.assertNotIn('BEFORE heat', text)

    @base.idempotent_id('0b5e3c71-6d2a-4f08-9a3e-5c1d7e2f4a86')
    def test_irrelevant_files_skip_nothing_the_phases_use(self):
        # What `heat-upgrade-tests phase` imports and reads, from a fresh
        # interpreter: a change to any of it must run the grenade jobs.
        script = (
            'import json, sys; import heat_upgrade_tests.cmd; '
            'from heat_upgrade_tests.checks import base; '
            'from heat_upgrade_tests import releases; '
            'base.all_checks(); releases.load_series(); '
            'print(json.dumps([getattr(m, "__file__", None) or "" '
            'for m in list(sys.modules.values())]))')
        out = subprocess.run([sys.executable, '-c', script], text=True,
                             capture_output=True, timeout=120, check=True)
        root = grenade_drills.REPO_ROOT
        used = sorted({str(Path(f).resolve().relative_to(root))
                       for f in json.loads(out.stdout)
                       if f and Path(f).resolve().is_relative_to(root)})
        self.assertIn('heat_upgrade_tests/releases.py', used)
        # Data files the phases read: the series and their pins, the
        # checks' templates, the hooks.
        used += [str(p.relative_to(root)) for p in (
            list((root / 'upgrade').rglob('*')) +
            list((root / 'heat_upgrade_tests' / 'checks' /
                  'templates').rglob('*')) +
            list((root / 'devstack').rglob('*'))) if p.is_file()]
        for name, job in self.jobs.items():
            for pattern in job.get('irrelevant-files', []):
                skipped = [f for f in used if re.search(pattern, f)]
                self.assertEqual([], skipped, f'{name}: {pattern}')

    @base.idempotent_id('7a8d4e04-f5ff-4c7c-9bae-35f9f368d183')
    def test_localrc_names_settings_of_the_devstack_plugin(self):
        settings = (grenade_drills.REPO_ROOT / 'devstack' /
                    'settings').read_text()
        for name, job in self.jobs.items():
            localrc = job['vars']['grenade_devstack_localrc']
            self.assertEqual(set(), set(localrc) - {'shared', 'old', 'new'})
            for key in localrc['shared']:
                if key.startswith('HEAT_UPGRADE_TESTS_'):
                    self.assertIn(f'\n{key}=${{{key}:-', settings, key)

    @base.idempotent_id('8b9e5f15-a600-4d8d-8cbf-460a047a9e94')
    def test_skip_level_starts_from_a_slurp_branch(self):
        series = releases.load_series()
        froms = {name: job['vars']['grenade_from_branch']
                 for name, job in self.jobs.items()
                 if 'grenade_from_branch' in job['vars']}
        self.assertEqual(['heat-upgrade-tests-grenade-skip-level'],
                         list(froms))
        branch = froms['heat-upgrade-tests-grenade-skip-level']
        self.assertRegex(branch, r'^stable/')
        name = branch.split('/', 1)[1]
        self.assertIn(name, series)
        self.assertTrue(series[name].slurp, branch)
        # The newest SLURP release: series are ordered oldest first.
        self.assertEqual(name, [s for s in series.values() if s.slurp][-1]
                         .name)

    @base.idempotent_id('9caf6a26-b711-4e9e-9dc0-571b5b8baf05')
    def test_every_job_runs_in_check_and_gate(self):
        self.assertEqual(1, len(self.projects))
        wanted = TOX_JOBS + sorted(self.jobs)
        for pipeline in ('check', 'gate'):
            self.assertEqual(
                sorted(wanted),
                sorted(self.projects[0][pipeline]['jobs']), pipeline)


class GrenadeShimTest(testtools.TestCase):
    """The plugin's settings and dispatch through the shim; no cloud."""

    def setUp(self):
        super().setUp()
        self.stack_root = Path(self.useFixture(fixtures.TempDir()).path)

    def hook(self, *args, plugins=None, **env) -> upgrade.PhaseRun:
        grenade_drills.write_pluginrc(
            self.stack_root, plugins or grenade_drills.JOB_PLUGINS)
        hook_env = grenade_drills.hook_env(self.stack_root)
        hook_env.update(env)
        return grenade_drills.run_hook(list(args), hook_env, timeout=60)

    @base.idempotent_id('b4c1e6a2-7d3f-4e5a-9b8c-1f2e3d4c5b61')
    def test_registers_under_its_own_name_never_heat(self):
        result = self.hook(
            'settings', plugins={THIS_PLUGIN: grenade_drills.REPO_ROOT})
        self.assertEqual(0, result.returncode, result.output)
        self.assertIn('Upgrade projects: keystone heat-upgrade-tests\n',
                      result.output)
        # Grenade finds a plugin where enable_grenade_plugin put it.
        where = (self.stack_root / 'new' / THIS_PLUGIN / 'devstack' /
                 'upgrade' if grenade_drills.real_grenade() else UPGRADE_DIR)
        self.assertIn(f'PLUGIN_DIR[heat-upgrade-tests]={where}\n',
                      result.output)
        self.assertNotIn('PLUGIN_DIR[heat]=', result.output)
        # Only the in-tree keystone stand-in saves a database.
        self.assertIn('DATABASES_TO_SAVE: keystone\n', result.output)
        # In Zuul devstack is configured before grenade: no localrc edits.
        self.assertIn('DevStack is configured externally', result.output)
        self.assertEqual([], list(self.stack_root.glob('localrc.*')))

    @base.idempotent_id('4e9b2d17-3c6a-4b85-9f10-7a2c5e8d1b93')
    def test_upgrade_order_puts_this_project_just_before_heat(self):
        # As Zuul gives them (sorted: heat first), and the other way round.
        heat = grenade_drills.JOB_PLUGINS['heat']
        this = grenade_drills.REPO_ROOT
        wanted = ('keystone', THIS_PLUGIN, 'heat')
        self.assertEqual(wanted, grenade_drills.upgrade_order(
            self.stack_root))
        pluginrc = self.stack_root / 'pluginrc'
        pluginrc.write_text(f'enable_grenade_plugin {THIS_PLUGIN} {this}\n'
                            f'enable_grenade_plugin heat {heat}\n')
        env = grenade_drills.hook_env(self.stack_root)
        result = grenade_drills.run_hook(['settings'], env, timeout=60)
        self.assertIn('Upgrade projects: keystone heat-upgrade-tests heat\n',
                      result.output)
        # Without Heat's plugin it still registers, last.
        self.assertEqual(('keystone', THIS_PLUGIN),
                         grenade_drills.upgrade_order(
                             self.stack_root, {THIS_PLUGIN: this}))

    @base.idempotent_id('c5d2f7b3-8e4a-4f6b-8c9d-2a3f4e5d6c72')
    def test_localrc_enables_heat_and_this_plugin_outside_zuul(self):
        real = grenade_drills.real_grenade()
        if real and not shutil.which('dsconf'):
            self.skipTest('grenade\'s devstack_localrc needs dsconf '
                          '(devstack-tools), which grenade installs when it '
                          'deploys DevStack itself')
        result = self.hook('settings', GRENADE_USE_EXTERNAL_DEVSTACK='False')
        self.assertEqual(0, result.returncode, result.output)
        for side, tree in (('base', 'old'), ('target', 'new')):
            path = (self.stack_root / tree / 'devstack' / 'localrc' if real
                    else self.stack_root / f'localrc.{side}')
            localrc = path.read_text()
            self.assertIn('is_plugin_enabled heat || enable_plugin heat ',
                          localrc)
            self.assertIn('enable_service h-api h-api-cfn h-eng heat',
                          localrc)
            self.assertIn('is_plugin_enabled heat-upgrade-tests || '
                          'enable_plugin heat-upgrade-tests ', localrc)

    @base.idempotent_id('d6e3a8c4-9f5b-4a7c-9dae-3b4a5f6e7d83')
    def test_hooks_are_executable(self):
        # grenade runs them as commands, not through bash.
        for name in ('resources.sh', 'upgrade.sh', 'shutdown.sh'):
            self.assertTrue(os.access(UPGRADE_DIR / name, os.X_OK), name)

    @base.idempotent_id('e7f4b9d5-0a6c-4b8d-8ebf-4c5b6a7f8e94')
    def test_shutdown_stops_nothing(self):
        result = self.hook('shutdown')
        self.assertEqual(0, result.returncode, result.output)
        self.assertIn('nothing to stop', result.output)

    @base.idempotent_id('f8a5c0e6-1b7d-4c9e-9fc0-5d6c7b8a9fa5')
    def test_unknown_or_missing_phase_fails(self):
        for args in (('resources',), ('resources', 'bogus'),
                     ('resources', 'verify', 'mid-upgrade')):
            result = self.hook(*args)
            self.assertNotEqual(0, result.returncode, args)
            self.assertIn('[ERROR]', result.output, args)
            self.assertNotIn('running the', result.output, args)

    @base.idempotent_id('a9b6d1f7-2c8e-4daf-8ad1-6e7d8c9b0ab6')
    def test_verify_pre_upgrade_before_create_fails(self):
        result = self.hook('resources', 'verify', 'pre-upgrade')
        self.assertNotEqual(0, result.returncode)
        self.assertIn('verify pre-upgrade ran before create', result.output)

    @base.idempotent_id('bac7e2a8-3d9f-4eb0-9be2-7f8e9dac1bc7')
    def test_resource_save_and_get_behave_as_grenade(self):
        grenade_dir = grenade_drills.SHIM_DIR
        if grenade_drills.real_grenade():
            grenade_dir = grenade_drills.prepare_real_grenade(
                self.stack_root, grenade_drills.JOB_PLUGINS)
        script = (
            'source "$GRENADE_DIR/grenaderc"; '
            'source "$GRENADE_DIR/functions"; '
            + ('init_grenade_db; ' if grenade_drills.real_grenade() else '')
            + 'resource_save p k v1; resource_save q k w; '
            'resource_save p k v2; '
            'echo "[$(resource_get p k)][$(resource_get q k)]'
            '[$(resource_get p none)][$(resource_get none k)]"')
        env = grenade_drills.hook_env(self.stack_root)
        env['GRENADE_DIR'] = str(grenade_dir)
        out = subprocess.run(['bash', '-c', script], env=env, text=True,
                             capture_output=True, timeout=30, check=True)
        self.assertEqual('[v2][w][][]\n', out.stdout)
        db = configparser.ConfigParser()
        db.read(self.stack_root / 'save' / 'grenade_db.ini')
        self.assertEqual({'p': {'k': 'v2'}, 'q': {'k': 'w'}},
                         {s: dict(db[s]) for s in db.sections()})


class GrenadeHooksOnMiniCloudTest(testtools.TestCase):
    """The hooks at their moments of the shared mini-cloud's upgrade."""

    def run_of(self, name) -> upgrade.PhaseRun:
        result = scenario().drills.get(grenade_drills.PREFIX + name)
        if result is None:
            self.fail(f'hook run {name} did not happen: {scenario().error}')
        return result

    def assertPassed(self, name) -> upgrade.PhaseRun:
        result = self.run_of(name)
        self.assertEqual(0, result.returncode,
                         f'{result.phase} failed:\n{result.output}')
        return result

    @base.idempotent_id('cbd8f3b9-4eaa-4fc1-8cf3-8a9faebd2cd8')
    def test_create_runs_pre_upgrade_and_saves_the_config(self):
        self.assertPassed('early_create')
        self.assertNotIn('running the', self.run_of('early_create').output)
        result = self.assertPassed('create')
        self.assertIn('running the pre-upgrade phase', result.output)
        if grenade_drills.heat_tests_enabled():
            # Heat's own tests after the checks' stacks exist.
            out = result.output
            self.assertIn('the heat-tests-before phase passed', out)
            self.assertLess(out.index('the pre-upgrade phase passed'),
                            out.index('running the heat-tests-before'))
            self.assertRegex(out, r"==> Heat's tests before the upgrade: "
                                  r"[1-9]\d* pass")
        self.assertTrue(passed(result.output, f'test_{CHECK}'),
                        result.output)
        db = configparser.ConfigParser()
        db.read(scenario().plan.run_dir / 'grenade' / 'save' /
                'grenade_db.ini')
        self.assertEqual(
            str(scenario().plan.run_dir / 'grenade' /
                'heat-upgrade-tests.conf'),
            db['heat-upgrade-tests']['config'])

    @base.idempotent_id('dce9a4ca-5fbb-4ad2-9d04-9bafbfce3de9')
    def test_verify_pre_upgrade_runs_the_verify_phase(self):
        # Read-only: grenade may call it any number of times.
        result = self.assertPassed('verify_pre')
        self.assertIn('==> verify: running the phase tests', result.output)

    @base.idempotent_id('edfab5db-6acc-4be3-8e15-acb0cadf4efa')
    def test_upgrade_with_heat_up_fails_the_hook(self):
        result = self.run_of('upgrade_with_heat_up')
        self.assertNotEqual(0, result.returncode, result.output)
        self.assertIn("Heat's API is up", result.output)
        self.assertIn('the during-upgrade phase failed', result.output)
        self.assertIn("before Heat's upgrade", result.output)

    @base.idempotent_id('fe0bc6ec-7bdd-4cf4-9f26-bdc1dbe05f0b')
    def test_shutdown_and_verify_noapi_with_every_service_down(self):
        # As in grenade, Keystone is down too: the no-api phase must pass
        # without authenticating, its checks skipped with their reason.
        self.assertIs(False, scenario().drills.get(
            grenade_drills.PREFIX + 'keystone_answered_noapi'))
        self.assertPassed('shutdown')
        result = self.assertPassed('verify_noapi')
        self.assertIn('running the no-api phase', result.output)
        self.assertRegex(result.output,
                         rf'test_{CHECK}\S*( \[[\d.]+s\])? \.\.\. SKIPPED: '
                         rf'{CHECK} has no '
                         rf'data-plane probe')

    @base.idempotent_id('5fa0c3e8-4d7b-4c96-8a21-8b3d6f9e2ca4')
    def test_plan_upgrades_in_grenade_order(self):
        plan = scenario().plan
        # Grenade's in-tree projects come right after Keystone (Placement,
        # Glance and Nova with the compute part), this plugin before Heat.
        in_tree = (('placement', 'swift', 'glance', 'neutron', 'nova')
                   if plan.conf.minicloud.compute else ('swift', 'neutron'))
        self.assertEqual(('keystone', *in_tree, THIS_PLUGIN, 'heat'),
                         plan.upgrade_order)
        steps = [s.name for s in plan.steps]
        new = plan.new_series.heat_version
        self.assertLess(steps.index('start Keystone'),
                        steps.index('during-upgrade phase'))
        self.assertLess(steps.index('during-upgrade phase'),
                        [i for i, n in enumerate(steps)
                         if n.startswith('db_sync') and new in n][0])

    @base.idempotent_id('6ab1d4f9-5e8c-4da7-9b32-9c4e7a0f3db5')
    def test_phases_learn_the_series_from_the_hooks(self):
        plan = scenario().plan
        old, new = plan.old_series, plan.new_series
        db = configparser.ConfigParser()
        db.read(plan.run_dir / 'grenade' / 'save' / 'grenade_db.ini')
        saved = db['heat-upgrade-tests']
        self.assertEqual(old.heat_version, saved['from_heat_version'])
        self.assertEqual(new.heat_version, saved['to_heat_version'])
        # The drills' phase configuration names no series.
        conf = (plan.run_dir / 'grenade' /
                'heat-upgrade-tests.conf').read_text()
        self.assertNotIn('_series', conf)
        self.assertIn(f'upgrade from series {old.name} to unknown',
                      self.run_of('create').output)
        for name in ('verify_post', 'destroy'):
            self.assertIn(f'upgrade from series {old.name} to {new.name}',
                          self.run_of(name).output, name)

    @base.idempotent_id('0f1cd7fd-8cee-4d05-8a37-cef2ecf16a1c')
    def test_upgrade_runs_during_upgrade_with_heat_down(self):
        result = self.assertPassed('upgrade')
        self.assertIn('running the during-upgrade phase', result.output)
        self.assertTrue(passed(result.output, 'test_heat_is_down'),
                        result.output)
        self.assertIn(f'.test_{CHECK}', result.output)
        self.assertIn('Failed: 0', result.output)

    @base.idempotent_id('1a2de8ae-9dff-4e16-9b48-df03fd027b2d')
    def test_verify_post_upgrade_then_destroy(self):
        result = self.assertPassed('verify_post')
        self.assertIn('running the post-upgrade phase', result.output)
        if grenade_drills.heat_tests_enabled():
            # Heat's own tests first, before the checks' stacks change;
            # compared with the run before.
            out = result.output
            self.assertIn('the heat-tests-after phase passed', out)
            self.assertLess(out.index('the heat-tests-after phase passed'),
                            out.index('running the post-upgrade phase'))
            self.assertRegex(out, r"==> Heat's tests after the upgrade: ")
        self.assertTrue(passed(result.output, f'test_{CHECK}'),
                        result.output)
        result = self.assertPassed('destroy')
        self.assertIn('running the destroy phase', result.output)
        state = scenario().plan.run_dir / 'state-grenade-hooks'
        doc = json.loads((state / f'{CHECK}.json').read_text())
        self.assertIs(True, doc['record'].get('destroyed'), doc)

    @base.idempotent_id('2b3ef9bf-a0aa-4f27-8c59-e0a4ae138c3e')
    def test_later_hooks_found_the_config_create_saved(self):
        # Only create and what ran before it were given the config file.
        config = str(scenario().plan.run_dir / 'grenade' /
                     'heat-upgrade-tests.conf')
        for name in ('verify_noapi', 'upgrade', 'verify_post', 'destroy'):
            self.assertIn(f'with {config}:', self.run_of(name).output, name)

    @base.idempotent_id('3c4f0ac0-b1bb-4038-9d6a-f1b5bf249d4f')
    def test_results_left_where_zuul_collects_them(self):
        results = scenario().plan.cloud.results_dir / 'state-grenade-hooks'
        for phase in ('pre-upgrade', 'no-api', 'during-upgrade',
                      'post-upgrade', 'destroy'):
            for suffix in ('subunit', 'xml'):
                path = results / phase / f'{phase}.{suffix}'
                self.assertTrue(path.is_file(), str(path))
                self.assertGreater(path.stat().st_size, 0, str(path))

    @base.idempotent_id('4d5a1bd1-c2cc-4149-8e7b-02c6c035ae50')
    def test_each_hook_run_is_short(self):
        # A bound against a hang, not a speed measurement: one check.
        for name in ('create', 'verify_noapi', 'upgrade', 'verify_post',
                     'destroy'):
            self.assertLess(self.run_of(name).seconds, 120, name)
