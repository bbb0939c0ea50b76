"""The other plans, each on a real mini-cloud of its own, with few checks.

The full plan runs with every check and the drills in ``scenario``; here
``service-by-service`` and ``skip-level`` run as a user runs them
(``heat-upgrade-tests upgrade --plan NAME``) with a small subset of
checks, and so does the patch run: the upgrade to a Heat source tree made
from the new release's sources, once as released (it passes) and once
with a deliberate break (``OS::Heat::RandomString`` without its ``value``
attribute, which the ``values_and_outputs`` check's outputs read): that
run fails, naming the check.

Each run is a process of its own on free ports and a work directory of
its own, one after the other (the functional env runs serially), after
the scenario's mini-cloud has stopped. The source tree comes from PyPI's
sdist, downloaded once into the cache, never into the repository.
"""

import dataclasses
import functools
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
import tarfile

import testtools

from heat_upgrade_tests import config
from heat_upgrade_tests.minicloud import services
from heat_upgrade_tests.phases import check_order
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import model
from heat_upgrade_tests import releases
from heat_upgrade_tests.tests.functional import test_interrupt

WORK_DIR = Path(config.CACHE_HOME).expanduser() / 'functional-plans'
SOURCES = Path(config.CACHE_HOME).expanduser() / 'sources'
RUN_TIMEOUT = 1500
PATCH_CHECK = 'values_and_outputs'
ROLLING_CHECKS = 'values_and_outputs'
RANDOM_STRING = Path('heat', 'engine', 'resources', 'openstack', 'heat',
                     'random_string.py')
VALUE_ATTRIBUTE = 'VALUE: attributes.Schema('
REMOVED_ATTRIBUTE = "'value_removed_by_the_drill': attributes.Schema("


@dataclasses.dataclass
class Run:
    returncode: int
    output: str
    report: dict

    def step(self, prefix: str) -> dict:
        for step in self.report.get('steps', []):
            if step['name'].startswith(prefix):
                return step
        raise AssertionError(f'no step {prefix!r} in the run:\n'
                             f'{self.output[-3000:]}')


def upgrade(name: str, *args: str, compute: bool = False) -> Run:
    """``heat-upgrade-tests upgrade ARGS`` on free ports; its outcome.

    Without the compute part unless ``compute``: CI carries it in the
    full plan (the shared scenario) and the service-by-service run only.
    """
    work = WORK_DIR / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    options = services.port_options(compute)
    ports = dict(zip(options, test_interrupt._free_ports(len(options))))
    conf = work / 'hut.conf'
    conf.write_text('[minicloud]\n' + ''.join(
        f'{k} = {v}\n' for k, v in ports.items()) + f'work_dir = {work}/run\n'
        f'compute = {str(compute).lower()}\n')
    proc = subprocess.run(
        [sys.executable, '-m', 'heat_upgrade_tests.cmd', '--config-file',
         str(conf), 'upgrade', *args], capture_output=True, text=True,
        timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    output = proc.stdout + proc.stderr
    (work / 'output.log').write_text(output)
    report = work / 'run' / 'report.json'
    doc = json.loads(report.read_text()) if report.exists() else {}
    return Run(proc.returncode, output, doc)


@functools.cache
def run_of(name: str, *args: str, compute: bool = False) -> Run:
    return upgrade(name, *args, compute=compute)


def heat_sources(version: str) -> Path:
    """The sdist of ``openstack-heat==version``, unpacked in the cache."""
    SOURCES.mkdir(parents=True, exist_ok=True)
    tree = SOURCES / f'openstack_heat-{version}'
    if (tree / 'setup.cfg').is_file():
        return tree
    subprocess.run(
        [sys.executable, '-m', 'pip', 'download', '--no-binary', ':all:',
         '--no-deps', '--disable-pip-version-check',
         '-d', str(SOURCES), f'openstack-heat=={version}'],
        check=True, capture_output=True, timeout=300)
    archive = next(SOURCES.glob(f'openstack?heat-{version}.tar.gz'))
    with tarfile.open(archive) as tar:
        tar.extractall(SOURCES, filter='data')
    return next(p for p in SOURCES.glob(f'openstack?heat-{version}')
                if p.is_dir())


def tree_copy(version: str, name: str, broken: bool) -> Path:
    """A copy of the release's sources; ``broken``: with the drill's break.

    The copies keep their paths from run to run, so their venvs are
    reused.
    """
    tree = SOURCES / name
    if not (tree / 'setup.cfg').is_file():
        shutil.copytree(heat_sources(version), tree, symlinks=True)
    module = tree / RANDOM_STRING
    text = module.read_text()
    if broken and VALUE_ATTRIBUTE in text:
        module.write_text(text.replace(VALUE_ATTRIBUTE, REMOVED_ATTRIBUTE,
                                       1))
    if REMOVED_ATTRIBUTE in module.read_text() and not broken:
        raise AssertionError(f'{module} is broken; remove {tree}')
    return tree


class PlanRunTest(testtools.TestCase):

    def assertPassed(self, run: Run) -> None:
        self.assertEqual(0, run.returncode, run.output[-4000:])
        self.assertTrue(run.report.get('passed'), run.output[-4000:])

    @base.idempotent_id('c1a7f0d2-3b54-4e8a-9f61-7d2e8b4c5a01')
    def test_service_by_service(self):
        run = run_of('service-by-service', '--plan', 'service-by-service',
                     '--checks', 'values_and_outputs,keystone_objects,'
                     'network_resources,swift_container,server_http',
                     compute=True)
        self.assertPassed(run)
        self.assertEqual('service-by-service', run.report['plan'])
        # The plan, numbered, before the run.
        self.assertIn('==> plan service-by-service:', run.output)
        self.assertIn('(cinder: not on the mini-cloud', run.output)
        old, new = (releases.get_series(run.report[k]['series'])
                    for k in ('from', 'to'))
        names = [s['name'] for s in run.report['steps']]
        keystone_up = names.index(
            f'start Keystone {new.name} ({new.keystone_version})')
        verify = names.index('verify phase (old Heat, new Keystone)')
        heat_down = names.index(
            f'stop Heat {old.name} ({old.heat_version})')
        self.assertLess(
            names.index(f'stop Keystone {old.name} '
                        f'({old.keystone_version})'),
            names.index(f'keystone-manage db_sync with Keystone '
                        f'{new.name} ({new.keystone_version})'))
        self.assertLess(keystone_up, verify)
        self.assertLess(verify, heat_down)
        self.assertEqual(0, run.report['phases']['verify']['returncode'])
        # Then Swift and Neutron, one at a time, each verified, before Heat.
        swift_up = names.index(f'start Swift {new.name} '
                               f'({new.swift_version})')
        neutron_sync = names.index(
            f'neutron-db-manage upgrade heads with Neutron {new.name} '
            f'({new.neutron_version})')
        neutron_up = names.index(f'start Neutron {new.name} '
                                 f'({new.neutron_version})')
        self.assertLess(verify, swift_up)
        self.assertLess(swift_up, names.index(
            'verify phase (old Heat, new Swift)'))
        self.assertLess(names.index('verify phase (old Heat, new Swift)'),
                        neutron_sync)
        self.assertLess(neutron_sync, neutron_up)
        self.assertLess(neutron_up, names.index(
            'verify phase (old Heat, new Neutron)'))
        self.assertLess(names.index('verify phase (old Heat, new Neutron)'),
                        heat_down)
        # With the compute part: Glance, Placement and Nova too, in the
        # guide's order, Nova's guest verified after its upgrade.
        nova_up = names.index(f'start Nova {new.name} '
                              f'({new.version("nova")})')
        self.assertLess(names.index(f'stop Nova {old.name} '
                                    f'({old.version("nova")})'), nova_up)
        self.assertLess(names.index('verify phase (old Heat, new Glance)'),
                        neutron_sync)
        self.assertLess(names.index('verify phase (old Heat, new Neutron)'),
                        names.index('verify phase (old Heat, new '
                                    'Placement)'))
        self.assertLess(nova_up, names.index('verify phase (old Heat, new '
                                             'Nova)'))
        self.assertLess(names.index('verify phase (old Heat, new Nova)'),
                        heat_down)
        cells = run.report['phases']
        self.assertEqual(0, cells['verify']['returncode'])
        self.assertIn('test_server_http', run.output)
        self.assertNotRegex(run.output, r'test_server_http\S* \.\.\. '
                                        r'SKIPPED')

    @base.idempotent_id('d2b8a1e3-4c65-4f9b-8a72-8e3f9c5d6b12')
    def test_skip_level(self):
        run = run_of('skip-level', '--plan', 'skip-level', '--checks',
                     'values_and_outputs,keystone_objects')
        self.assertPassed(run)
        self.assertEqual(('2025.1', '2026.1'),
                         (run.report['from']['series'],
                          run.report['to']['series']))
        # No release in between on the mini-cloud: 2025.2's Heat and
        # Keystone are no venv of the run.
        between = releases.get_series('2025.2')
        venvs = run.step('virtual environments')['detail']
        self.assertNotIn(f'heat-{between.heat_version}', venvs)
        self.assertNotIn(f'keystone-{between.keystone_version}', venvs)
        self.assertNotIn(f'neutron-{between.neutron_version}', venvs)
        self.assertIn('neutron-db-manage upgrade heads with Neutron 2026.1',
                      ' '.join(s['name'] for s in run.report['steps']))
        straight = run.step('db_sync with Heat 2026.1')
        self.assertIn("straight from 2025.1", straight['name'])
        self.assertIn('db_sync', straight['name'])
        self.assertEqual(2, len(run.report['db_versions']))

    @base.idempotent_id('e3c9b2f4-5d76-4a0c-9b83-9f4a0d6e7c23')
    def test_patch_as_released_passes(self):
        new = releases.load_series()
        newest = list(new.values())[-1]
        tree = tree_copy(newest.heat_version, 'heat-as-released', False)
        run = run_of('patch-good', '--to', str(tree), '--checks',
                     PATCH_CHECK)
        self.assertPassed(run)
        self.assertEqual(str(tree), run.report['to']['tree'])
        self.assertEqual(newest.name, run.report['to']['series'])

    @base.idempotent_id('f4d0c3a5-6e87-4b1d-8c94-0a5b1e7f8d34')
    def test_patch_that_breaks_the_upgrade_fails_naming_the_check(self):
        newest = list(releases.load_series().values())[-1]
        tree = tree_copy(newest.heat_version, 'heat-broken', True)
        # The series named explicitly, as a developer would for a tree
        # without tags.
        run = run_of('patch-broken', '--to', f'{newest.name}={tree}',
                     '--checks', PATCH_CHECK)
        self.assertEqual(1, run.returncode, run.output[-4000:])
        self.assertFalse(run.report['passed'])
        failed = [s['name'] for s in run.report['steps'] if not s['ok']]
        self.assertIn('post-upgrade phase', failed)
        self.assertRegex(run.output, rf'test_{PATCH_CHECK}\S*'
                                     rf'( \[[\d.]+s\])? \.\.\. FAILED')
        # The old release made the stack; destroy still ran.
        self.assertIn('destroy phase', [s['name'] for s in
                                        run.report['steps']])
        self.assertNotIn('Traceback (most recent call last)',
                         run.output.split('=' * 72)[-1])

    @base.idempotent_id('fb02283d-78f1-4bf5-9709-572862ba7ed3')
    def test_rolling_mixed(self):
        run = run_of('rolling-mixed', '--plan', 'rolling-mixed', '--checks',
                     ROLLING_CHECKS, '--seed', '11')
        self.assertPassed(run)
        self.assertEqual(11, run.report['seed'])
        self.assertIn('seed 11 (replay with --seed 11)', run.output)
        # The seed's order of checks reaches every phase.
        check_seed = model.vary(model.get('rolling-mixed'),
                                11)[0].check_order_seed
        order = check_order.ordered(ROLLING_CHECKS.split(','), check_seed)
        for phase in ('pre-upgrade', 'post-upgrade', 'destroy'):
            self.assertIn(f'==> {phase}: checks in the order of '
                          f'check_order_seed {check_seed}: '
                          f'{" ".join(order)}', run.output)
        old, new = (run.report[k]['series'] for k in ('from', 'to'))
        mixed = run.report['mixed']
        # Once with the old API, once with the new; each predicted
        # compatible, and both releases' engines served, crossing.
        self.assertEqual(2, len(mixed), mixed)
        for outcome in mixed:
            self.assertTrue(outcome['prediction']['compatible'], outcome)
            self.assertTrue(outcome['served'].get(old), outcome)
            self.assertTrue(outcome['served'].get(new), outcome)
            self.assertTrue(outcome['crossings'], outcome)
        self.assertIn('predicted compatible and observed so', run.output)
        self.assertDisruptionReported(run)

    @base.idempotent_id('905d3ac3-4c65-4af7-b514-3e486038b1a6')
    def test_rolling_vhost(self):
        run = run_of('rolling-vhost', '--plan', 'rolling-vhost', '--checks',
                     ROLLING_CHECKS)
        self.assertPassed(run)
        # The new engine and API on a virtual host of their own.
        on_bus = [s['name'] for s in run.report['steps']
                  if 'on virtual host heat-new' in s['detail']]
        self.assertEqual(2, len(on_bus), on_bus)
        budget = run.step('disruption within the plan')
        self.assertTrue(budget['ok'], budget)
        self.assertEqual({'unavailable_seconds': {'heat': 5.0},
                          'failed_stack_operations': 0},
                         run.report['budget'])
        self.assertLessEqual(
            run.report['disruption']['unavailable']['heat'], 5.0)
        self.assertEqual(0, run.report['failed_stack_operations'])
        self.assertDisruptionReported(run)

    def assertDisruptionReported(self, run: Run) -> None:
        doc = run.report['disruption']
        self.assertIsNotNone(doc, run.output[-3000:])
        # At least two samples a second over the sampled part of the run.
        self.assertGreaterEqual(doc['samples'], 1.5 * doc['seconds'], doc)
        self.assertTrue(doc['shown_stack'], doc)
        self.assertIn('disruption (', run.output)
        self.assertRegex(run.output, r'heat +unavailable +[\d.]+s, \d+ '
                                     r'failed requests, longest outage')

    @base.idempotent_id('a5e1d4b6-7f98-4c2e-9da5-1b6c2f8a9e45')
    def test_unsupported_pair_is_one_line(self):
        proc = subprocess.run(
            [sys.executable, '-m', 'heat_upgrade_tests.cmd', 'upgrade',
             '--from', '2025.2', '--to', '2026.2'], capture_output=True,
            text=True, timeout=120, env=dict(os.environ),
            stdin=subprocess.DEVNULL)
        self.assertEqual(2, proc.returncode, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(1, len(lines), proc.stderr)
        self.assertIn('not a supported upgrade path', lines[0])
