"""Each check's fault drill, asserted on the shared mini-cloud's batch.

One test per drill (``test_drill_<check>``): the check passed pre-upgrade,
its fault was injected, the phase the drill names failed for that check
with the expected text, and the phases before it did not. A gate-only
check's test asserts it skipped for want of its service, and is skipped.
"""

import re

import testtools

from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.tests.functional import catalogue_drills
from heat_upgrade_tests.tests.functional import drills
from heat_upgrade_tests.tests.functional.scenario import scenario

PHASE_ORDER = ('pre-upgrade', 'during-upgrade', 'post-upgrade')


class CatalogueDrillsTest(testtools.TestCase):

    def outcome(self, phase: str, check: str) -> catalogue_drills.Outcome:
        scenario()
        results = catalogue_drills.RESULTS
        found = results.outcomes.get(phase, {}).get(check)
        if found is None:
            self.fail(f'no {phase} result for {check} in the drills\' '
                      f'batch: {results.errors or scenario().error}')
        return found

    @base.idempotent_id('0f3d6c2a-8b1e-4e57-9a40-7c2d5e1b9f63')
    def test_batch_ran_every_phase(self):
        scenario()
        results = catalogue_drills.RESULTS
        self.assertEqual([], results.errors)
        self.assertEqual(set(PHASE_ORDER) | {'destroy'}, set(results.runs))

    @base.idempotent_id('2c7a9e41-5b3d-4f86-8e1a-6d4b0c9f7e25')
    def test_destroy_after_the_failed_post_upgrade_deletes_or_names(self):
        # The drills broke their checks' stacks and made post-upgrade fail;
        # destroy, run after it, deletes each stack, or fails saying which:
        # the check's own verify_gone (a drill that rewrote Heat's record
        # of a resource leaves it behind, and the check must say so), or
        # the bounded wait naming the stack (a broken stack still running
        # the update its drill made fail). Never a hang or an anonymous
        # error.
        scenario()
        outcomes = catalogue_drills.RESULTS.outcomes.get('destroy')
        self.assertTrue(outcomes, catalogue_drills.RESULTS.errors)
        deleted = 0
        for name, check in checks_base.all_checks().items():
            outcome = outcomes.get(name)
            self.assertIsNotNone(outcome, name)
            if not check.runs_on_minicloud(_compute()):
                self.assertEqual('skipped', outcome.status, name)
                continue
            if outcome.status == 'ok':
                deleted += 1
                continue
            if any(k.phase == 'destroy' for k in check.known_failures):
                self.assertEqual('skipped', outcome.status, name)
                self.assertIn('KNOWN FINDING', outcome.text, name)
                continue
            stack = "hut-" + name.replace('_', '-') + "-"
            self.assertTrue(
                f'CheckFailed: check {name}: ' in outcome.text or
                re.search(rf'timed out after \d+s waiting for stack '
                          rf'{stack}\S* \(\S+\) to be deleted',
                          outcome.text), f'{name}: {outcome.text}')
        # Most drills leave a stack Heat deletes at once.
        self.assertGreaterEqual(deleted, len(outcomes) // 2, outcomes)


def _compute() -> bool:
    """Whether the shared scenario's mini-cloud has its compute part."""
    return scenario().plan.conf.minicloud.compute


def _make_test(name: str, drill: drills.Drill):
    def test(self):
        check = checks_base.all_checks()[name]
        pre = self.outcome('pre-upgrade', name)
        if not check.runs_on_minicloud(_compute()):
            self.assertEqual('skipped', pre.status, pre.text)
            self.assertIn('needs the', pre.text)
            self.skipTest(f'gate-only check: {pre.text.strip()}')
        self.assertEqual('ok', pre.status, pre.text)
        self.assertEqual('injected',
                         catalogue_drills.RESULTS.injected.get(name))
        for phase in PHASE_ORDER[1:PHASE_ORDER.index(drill.phase)]:
            before = self.outcome(phase, name)
            self.assertIn(before.status, ('ok', 'skipped'),
                          f'{phase} failed before the phase the drill '
                          f'names: {before.text}')
        caught = self.outcome(drill.phase, name)
        self.assertIn(caught.status, ('failure', 'error'),
                      f'{drill.phase} did not fail after: {drill.fault}')
        # Failures of a check say 'check <name>:'; a wait that fails
        # names the check's stack, hut-<name>-<run>.
        stack = f"hut-{name.replace('_', '-')}-"
        self.assertTrue(f'check {name}:' in caught.text or
                        stack in caught.text, caught.text)
        self.assertIn(drill.expect, caught.text)
    test.__doc__ = f'{name}: {drill.fault}; {drill.phase} must fail.'
    test.__name__ = f'test_drill_{name}'
    check = checks_base.all_checks().get(name)
    if check is None:
        return test
    return base.idempotent_id(checks_base.phase_test_id(check, 'drill'))(
        test)


for _name, _drill in drills.all_drills().items():
    setattr(CatalogueDrillsTest, f'test_drill_{_name}',
            _make_test(_name, _drill))
