"""The pre-upgrade phase of every check (see heat_upgrade_tests.phases)."""

from heat_upgrade_tests.phases.suite import base


@base.generate
class PreUpgradeTest(base.PhaseTestCase):
    phase = 'pre-upgrade'


load_tests = base.load_tests
