"""The full upgrade of the default pair and its fault drills, asserted on
the shared real mini-cloud of ``scenario``."""

import socket

import testtools

from heat_upgrade_tests.minicloud import memory
from heat_upgrade_tests.minicloud import plan as plan_mod
from heat_upgrade_tests.tests.functional.scenario import scenario
from heat_upgrade_tests.tests.phases import base


class FullUpgradeTest(testtools.TestCase):

    def drill(self, name) -> plan_mod.PhaseRun:
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
        for phase in ('pre-upgrade', 'during-upgrade', 'post-upgrade'):
            self.assertEqual(0, plan.phase_runs[phase].returncode, phase)

    @base.idempotent_id('3e4d5c6b-7f8a-4b9c-8d1e-2f3a4b5c6d72')
    def test_every_check_ran_in_every_phase(self):
        runs = scenario().plan.phase_runs
        for phase in ('pre-upgrade', 'during-upgrade', 'post-upgrade'):
            output = runs[phase].output
            for check in ('values_and_outputs', 'nested_group',
                          'keystone_objects'):
                self.assertIn(f'test_{check}', output, phase)
        # The keystone check really verified in Keystone with Heat down.
        for test in ('test_keystone_objects', 'test_heat_is_down'):
            self.assertRegex(runs['during-upgrade'].output,
                             rf'{test}\S*( \[[0-9.]+s\])? \.\.\. ok')

    @base.idempotent_id('4f5e6d7c-8a9b-4c0d-9e2f-3a4b5c6d7e83')
    def test_database_reached_the_new_head(self):
        plan = scenario().plan
        old = plan.db_versions[plan.old_series.heat_version]
        new = plan.db_versions[plan.new_series.heat_version]
        self.assertTrue(new)
        self.assertTrue(old)

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
        result = self.drill('keystone_destroy')
        self.assertEqual(0, result.returncode, result.output)

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
        self.assertRegex(run.output, r'test_server_http\S*( \[[\d.]+s\])? '
                                     r'\.\.\. SKIPPED: needs the \w+ service')
