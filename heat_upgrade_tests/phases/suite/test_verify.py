"""The verify phase of every check: read-only, repeatable (see
heat_upgrade_tests.phases)."""

from heat_upgrade_tests.phases.suite import base


@base.generate
class VerifyTest(base.PhaseTestCase):
    phase = 'verify'


load_tests = base.load_tests
