"""The full upgrade of the default pair and its fault drills, asserted on
the shared real mini-cloud of ``scenario``."""

import re
import socket

import testtools

from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests.phases import runner
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import memory
from heat_upgrade_tests.plans import upgrade
from heat_upgrade_tests.tests.functional import catalogue_drills
from heat_upgrade_tests.tests.functional import scenario as scenario_mod
from heat_upgrade_tests.tests.functional.scenario import scenario

# Each phase's hook of a check that may declare, by not implementing it,
# that the check has nothing to do in that phase.
OPTIONAL_HOOKS = {runner.DURING_UPGRADE: 'verify_outside_heat',
                  runner.NO_API: 'verify_data_plane'}


def declared_skip(check: type[checks_base.ResourceCheck],
                  phase: str) -> str | None:
    """The skip reason a check's class declares for ``phase``, if any.

    A check that does not implement the phase's optional hook inherits the
    base class's, which skips with its own reason before using anything.
    """
    hook = OPTIONAL_HOOKS.get(phase)
    if hook is None or getattr(check, hook) is not getattr(
            checks_base.ResourceCheck, hook):
        return None
    try:
        getattr(check(), hook)(None, None)
    except exceptions.CheckSkipped as exc:
        return str(exc)
    return None


def expected_skips(plan, phase: str) -> dict[str, str]:
    """Per check skipped in ``phase`` of the main run, text of its reason.

    Gate-only checks skip everywhere for want of a service; a check skips
    where its class declares it has nothing to do, and where a known
    failure declared for this upgrade happened.
    """
    conf = plan.conf
    old, new = plan.old_series.name, plan.new_series.name
    skips = {}
    for name, check in checks_base.selected_checks(conf).items():
        compute = conf.minicloud.compute
        if not check.runs_on_minicloud(compute):
            there = checks_base.MINICLOUD_SERVICES | (
                checks_base.MINICLOUD_COMPUTE_SERVICES if compute
                else frozenset())
            service = [s for s in check.required_services
                       if s not in there][0]
            skips[name] = f'needs the {service} service'
            continue
        known = [k for k in check.known_failures
                 if k.applies(phase, old, new)]
        if known:
            skips[name] = f'{runner.KNOWN_FINDING} ({known[0].reason})'
            continue
        declared = declared_skip(check, phase)
        if declared:
            skips[name] = declared
    if phase == runner.DESTROY and 'mixed' not in plan.phase_runs:
        # The destroy phase's own test of what a mixed phase left, in a
        # plan without one.
        skips['mixed_phase_stacks'] = 'the mixed phase left no stack'
    return skips


class FullUpgradeTest(testtools.TestCase):

    def drill(self, name) -> upgrade.PhaseRun:
        result = scenario().drills.get(name)
        if result is None:
            self.fail(f'drill {name} did not run: {scenario().error}')
        return result

    @base.idempotent_id('2d3c4b5a-6e7f-4a8b-9c0d-1e2f3a4b5c61')
    def test_full_upgrade_passes(self):
        plan = scenario().plan
        failed = [f'{s.name}: {s.detail}' for s in plan.steps if not s.ok]
        self.assertEqual([], failed)
        self.assertTrue(plan.ok)
        self.assertEqual({'pre-upgrade', 'verify', 'no-api',
                          'during-upgrade', 'post-upgrade', 'destroy'},
                         set(plan.phase_runs))
        for phase, run in plan.phase_runs.items():
            self.assertEqual(0, run.returncode, phase)

    @base.idempotent_id('3e4d5c6b-7f8a-4b9c-8d1e-2f3a4b5c6d72')
    def test_every_check_passed_in_every_phase(self):
        """Every selected check's test is ok, or skipped as declared.

        Read from each phase's junit results, for every phase the plan ran
        (destroy too, where the plan runs it): a check's test passed, or
        skipped with the reason its class declares, and the checks skipped
        are exactly those expected.
        """
        plan = scenario().plan
        cloud = plan.cloud
        self.assertIsNotNone(cloud, scenario().error)
        selected = set(checks_base.selected_checks(plan.conf))
        self.assertTrue(plan.phase_runs, scenario().error)
        for phase in plan.phase_runs:
            junit = (cloud.results_dir / cloud.state_dir.name / phase /
                     f'{phase}.xml')
            outcomes = {re.sub(r'\[.*\]$', '', name): outcome for
                        name, outcome in
                        catalogue_drills.junit_outcomes(junit).items()}
            self.assertEqual(set(), selected - set(outcomes),
                             f'{phase}: checks with no result')
            expected = expected_skips(plan, phase)
            skipped = {name for name, o in outcomes.items()
                       if o.status == 'skipped'}
            self.assertEqual(sorted(expected), sorted(skipped),
                             f'{phase}: the checks skipped')
            for name, outcome in sorted(outcomes.items()):
                if name in expected:
                    self.assertIn(expected[name], outcome.text,
                                  f'{phase}: {name} skipped for another '
                                  f'reason')
                else:
                    self.assertEqual('ok', outcome.status,
                                     f'{phase}: {name}: {outcome.text}')
        # The keystone check really verified in Keystone with Heat down.
        for test in ('test_keystone_objects', 'test_heat_is_down'):
            self.assertRegex(plan.phase_runs['during-upgrade'].output,
                             rf'{test}\S*( \[[0-9.]+s\])? \.\.\. ok')

    @base.idempotent_id('4f5e6d7c-8a9b-4c0d-9e2f-3a4b5c6d7e83')
    def test_database_reached_the_new_head(self):
        """db_sync left the database at the head each release defines."""
        plan = scenario().plan
        self.assertIsNotNone(plan.new, scenario().error)
        for release in (plan.old, plan.new):
            heads = environments.probe(release.venv / 'bin' / 'python',
                                       'heads')['heads']
            self.assertEqual(1, len(heads), f'{release.version}: {heads}')
            self.assertEqual(heads[0], plan.db_versions.get(release.version),
                             f'the database after the db_sync of '
                             f'{release.version}')

    @base.idempotent_id('5a6f7e8d-9b0c-4d1e-8f3a-4b5c6d7e8f94')
    def test_drill_keystone_object_deleted_fails_during_upgrade(self):
        self.assertTrue(self.drill('keystone_pre').ok,
                        self.drill('keystone_pre').output)
        result = self.drill('keystone_user_deleted')
        self.assertNotEqual(0, result.returncode)
        self.assertIn('check keystone_objects: user', result.output)
        self.assertIn('is gone from Keystone', result.output)

    @base.idempotent_id('6b7a8f9e-0c1d-4e2f-9a4b-5c6d7e8f9a05')
    def test_drill_missing_state_names_the_phase_to_run_first(self):
        result = self.drill('missing_state')
        self.assertEqual(2, result.returncode)
        self.assertIn('run the pre-upgrade phase before during-upgrade',
                      result.output)
        self.assertNotIn('Traceback', result.output)

    @base.idempotent_id('7c8b9a0f-1d2e-4f3a-8b5c-6d7e8f9a0b16')
    def test_drill_during_upgrade_with_heat_up_fails(self):
        result = self.drill('during_with_heat_up')
        self.assertNotEqual(0, result.returncode)
        self.assertIn("Heat's API is up", result.output)

    @base.idempotent_id('8d9c0b1a-2e3f-4a4b-9c6d-7e8f9a0b1c27')
    def test_drill_post_upgrade_with_heat_down_fails_fast(self):
        result = self.drill('post_with_heat_down')
        self.assertEqual(2, result.returncode)
        self.assertIn('does not answer', result.output)
        self.assertNotIn('Traceback', result.output)
        # A bound against a hang, far above the probe timeout; not a
        # speed measurement.
        self.assertLess(result.seconds, 120)

    @base.idempotent_id('9e0d1c2b-3f4a-4b5c-8d7e-8f9a0b1c2d38')
    def test_drill_stack_cleaned_up_after_the_upgrade(self):
        """destroy deleted the stack in Heat and its objects in Keystone.

        Seen by the admin, in Heat and in Keystone themselves, right after
        the destroy phase ran (the user was deleted behind Heat's back by
        an earlier drill; the group and the role were not).
        """
        result = self.drill('keystone_destroy')
        self.assertEqual(0, result.returncode, result.output)
        self.assertRegex(result.output,
                         r'test_keystone_objects\S*( \[[0-9.]+s\])? '
                         r'\.\.\. ok')
        seen = scenario_mod.KEYSTONE_DESTROYED
        self.assertNotIn('error', seen, seen.get('error'))
        self.assertIn(seen.get('stack_status'), (None, 'DELETE_COMPLETE'),
                      f'stack {seen.get("stack_id")} in Heat')
        self.assertEqual({'user': None, 'group': None, 'role': None},
                         seen.get('keystone'), 'left in Keystone')

    @base.idempotent_id('af1e2d3c-4a5b-4c6d-9e8f-9a0b1c2d3e49')
    def test_nothing_left_running(self):
        plan = scenario().plan
        self.assertEqual({}, memory.service_rss())
        opts = plan.conf.minicloud
        for port in (opts.keystone_port, opts.heat_api_port,
                     opts.mysql_port, opts.rabbit_port, opts.epmd_port):
            with socket.socket() as sock:
                self.assertNotEqual(
                    0, sock.connect_ex((opts.host, port)),
                    f'something still listens on port {port}')


class NoApiMomentTest(testtools.TestCase):
    """The no-api phase where grenade runs it: every service down."""

    @base.idempotent_id('1c7e4a92-8d3b-4f56-a0e9-2b6d8f3c5a17')
    def test_no_api_phase_passes_with_keystone_and_heat_down(self):
        plan = scenario().plan
        steps = [s.name for s in plan.steps]
        stop = steps.index('stop Keystone: no API answers')
        self.assertLess(stop, steps.index('no-api phase'))
        self.assertLess(steps.index('no-api phase'),
                        steps.index('start Keystone'))
        run = plan.phase_runs['no-api']
        self.assertEqual(0, run.returncode, run.output)
        # Each check is skipped with its own reason: no data-plane probe
        # on the mini-cloud, or the reason it was skipped in pre-upgrade.
        for check in ('values_and_outputs', 'keystone_objects'):
            self.assertRegex(
                run.output, rf'test_{check}\S*( \[[\d.]+s\])? \.\.\. '
                            rf'SKIPPED: {check} has no data-plane probe')
        self.assertRegex(run.output, r'test_volume_attached\S*( \[[\d.]+s\])? '
                                     r'\.\.\. SKIPPED: needs the \w+ service')
        # With the compute part, the server answers with every API down.
        if plan.conf.minicloud.compute:
            self.assertRegex(run.output,
                             r'test_server_http( \[[\d.]+s\])? \.\.\. ok')
