"""The no-api phase of every check (see heat_upgrade_tests.phases)."""

from heat_upgrade_tests.phases.suite import base


@base.generate
class NoApiTest(base.PhaseTestCase):
    phase = 'no-api'


load_tests = base.load_tests
