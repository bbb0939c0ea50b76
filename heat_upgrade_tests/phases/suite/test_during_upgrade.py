"""The during-upgrade phase: stacks' resources live on with Heat down."""

from heat_upgrade_tests import clients
from heat_upgrade_tests.phases.suite import base


@base.generate
class DuringUpgradeTest(base.PhaseTestCase):
    phase = 'during-upgrade'

    @base.idempotent_id('6e2f8b1c-94a7-4d1b-b3c5-0f8e7d6a5b41')
    def test_heat_is_down(self):
        """Without Heat down, this phase would prove nothing."""
        session = base.session()
        clients.verify_heat_down(
            session.conn, session.conf.timeouts.heat_down_probe_timeout)


load_tests = base.load_tests
