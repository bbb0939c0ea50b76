"""The destroy phase of every check (see heat_upgrade_tests.phases)."""

from heat_upgrade_tests.phases import mixed
from heat_upgrade_tests.phases.suite import base


@base.generate
class DestroyTest(base.PhaseTestCase):
    phase = 'destroy'

    @base.idempotent_id('2da18e30-4f6c-4a9d-9e57-8c3a0f4d9d62')
    def test_mixed_phase_stacks(self):
        """What the mixed phase's own tests could not delete, deleted."""
        session = base.session()
        state_dir = session.conf.phases.state_dir
        left = mixed.leftovers(state_dir)
        if not left:
            self.skipTest('the mixed phase left no stack of its own')
        stacks = session.context(_Plain(), 'destroy').stacks
        for stack_id in left:
            stacks.delete(stack_id)
            mixed.forget(state_dir, stack_id)


class _Plain:
    """What ``Session.context`` asks of a check: the member suffices."""

    name = 'mixed'  # the mixed phase's leftovers; what a stuck wait names
    needs_admin = False


load_tests = base.load_tests
