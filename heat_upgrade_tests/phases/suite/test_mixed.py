"""The mixed phase: old and new engines serve at once (rolling plans).

Per check, the generated test runs its mixed step (``mixed.step``: the
pre-upgrade stack updated, a new stack's whole life). Two more tests make
the mix carry enough work that an incompatible one cannot pass by luck:

* ``test_resource_load``: a group of ``LOAD_COUNT`` random strings
  created, updated (every member replaced) and deleted: ``4N+3`` resource
  operations (N+1 to create, 2N+1 to replace, N+1 to delete), each carried
  by at least one ``check_resource`` cast that the bus hands to any
  engine worker. With two workers per engine, a cast a new worker sends
  reaches an old one about half the time; an old worker drops a cast of a
  version it does not serve (2025.2's worker RPC 1.4 against 2026.1's
  1.9). If only a quarter of the casts crossed from new to old, the
  chance that none of 67 does is (3/4)**67, under one in 10**8.
* ``test_crossings``: ``CROSS_CYCLES`` small stacks each created, updated
  and deleted through the API, each call served by any engine: the
  runner finds in the engines' logs one whose create was served by one
  release and whose update or delete by the other (with both releases
  equally likely per call, none crossing in six cycles is 1 in 4096).

Their stacks are recorded before they are waited for (``mixed.remember``)
and the destroy phase deletes whatever they left.
"""

from pathlib import Path
import uuid

from heat_upgrade_tests.phases import mixed
from heat_upgrade_tests.phases.suite import base

TEMPLATES = Path(__file__).parent / 'templates'
LOAD_COUNT = 16
CROSS_CYCLES = 6


@base.generate
class MixedTest(base.PhaseTestCase):
    phase = 'mixed'

    def _stacks(self):
        session = base.session()
        return session, session.context(_Plain(), 'mixed').stacks

    def _create(self, stacks, template: str, name: str, params: dict):
        state_dir = base.session().conf.phases.state_dir
        stack_id = stacks.create(name, TEMPLATES / template, [], params)
        mixed.remember(state_dir, stack_id, name)

        def delete() -> None:
            # Forgotten only once deleted: else the destroy phase's.
            stacks.delete(stack_id)
            mixed.forget(state_dir, stack_id)
        self.addCleanup(delete)
        stacks.wait_for(stack_id, 'CREATE')
        return stack_id

    @base.idempotent_id('0b8f6c1e-2d4a-4e7b-9c35-6a1f8e2d7b40')
    def test_resource_load(self):
        """4N+3 resource operations while old and new engines serve."""
        _, stacks = self._stacks()
        name = f'hut-mixed-load-{uuid.uuid4().hex[:8]}'
        stack_id = self._create(stacks, 'mixed_load.yaml', name,
                                {'count': LOAD_COUNT, 'length': 8})
        values = stacks.outputs(stack_id)['values']
        self.assertEqual(LOAD_COUNT, len(values), values)
        self.assertEqual({8}, {len(v) for v in values})
        stacks.update(stack_id, TEMPLATES / 'mixed_load.yaml', [],
                      {'count': LOAD_COUNT, 'length': 12})
        after = stacks.outputs(stack_id)['values']
        # Every member replaced: new values of the new length.
        self.assertEqual({12}, {len(v) for v in after}, after)
        self.assertFalse(set(values) & set(after))
        stacks.delete(stack_id)

    @base.idempotent_id('1c907d2f-3e5b-4f8c-8d46-7b2f9e3c8c51')
    def test_crossings(self):
        """Stacks created, updated and deleted, each call to any engine."""
        _, stacks = self._stacks()
        prefix = f'hut-mixed-cross-{uuid.uuid4().hex[:8]}'
        for cycle in range(CROSS_CYCLES):
            stack_id = self._create(stacks, 'mixed_cross.yaml',
                                    f'{prefix}-{cycle}', {'length': 6})
            stacks.update(stack_id, TEMPLATES / 'mixed_cross.yaml', [],
                          {'length': 9})
            self.assertEqual('9', str(stacks.outputs(stack_id)['length']))
            stacks.delete(stack_id)


class _Plain:
    """What ``Session.context`` asks of a check: the member suffices."""

    name = 'mixed'  # what a stuck wait names
    needs_admin = False


load_tests = base.load_tests
