"""Phase tests generated per check, so stestr lists ``check x phase``.

Each phase module declares one TestCase class and calls ``generate``; a
test method ``test_<check>`` is added per registered check, carrying the
check's phase test id (derived from its idempotent id) as a testtools
attribute, which stestr shows as ``[id-...]``.
"""

import functools
import os
import unittest

import fixtures
from tempest.lib import decorators
import testtools
from testtools import testcase

from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests import config
from heat_upgrade_tests import copies
from heat_upgrade_tests import engines
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.phases import check_order
from heat_upgrade_tests.phases import runner


@functools.cache
def session() -> runner.Session:
    """One configuration and set of connections per test process."""
    return runner.Session(config.load())


class PhaseTestCase(testtools.TestCase):
    phase: str

    def setUp(self):
        super().setUp()
        timeouts = session().conf.timeouts
        # A bound on the whole test, beyond the bounds of each wait, so
        # that no test can hang a phase.
        bound = int(os.environ.get('OS_TEST_TIMEOUT', 0)) or (
            4 * timeouts.stack_timeout + 60)
        self.useFixture(fixtures.Timeout(bound, gentle=True))
        # Another test of the phase found no engine serving: say it, once
        # a line, rather than wait out this test's own timeouts.
        found = engines.not_serving(session().conf.phases.state_dir)
        if found:
            self.fail(f'{found} (found by another test of this phase)')


def _make_test(check: type[checks_base.ResourceCheck], phase: str,
               copy: int = 1):
    def test(self):
        try:
            runner.run_check_phase(session(), check, phase=phase, copy=copy)
        except exceptions.CheckSkipped as exc:
            self.skipTest(str(exc))
    test.__doc__ = check.description
    test.__name__ = f'test_{copies.state_name(check.name, copy)}'
    test_id = copies.test_id(check.idempotent_id, phase,
                             checks_base.phase_test_id(check, phase), copy)
    return testcase.attr(f'id-{test_id}')(test)


def generate(cls: type[PhaseTestCase]) -> type[PhaseTestCase]:
    """Class decorator adding one test per selected check and copy.

    ``[phases] stacks_per_check`` copies of each check (``copies``): with
    the default 1, one test per check, named after it.
    """
    conf = session().conf
    checks = checks_base.selected_checks(conf)
    for name, copy, test_name in copies.state_names(conf, checks):
        setattr(cls, f'test_{test_name}',
                _make_test(checks[name], cls.phase, copy))
    return cls


def load_tests(loader, standard_tests, pattern):
    """The phase modules' ``load_tests``: the checks in the seed's order.

    The checks' tests in the order ``[phases] check_order_seed`` draws
    (check_order), the phase's other tests after them; the loader's order
    (by name) without a seed.
    """
    conf = session().conf
    if conf.phases.check_order_seed is None:
        return standard_tests
    rank = {f'test_{name}': i
            for i, name in enumerate(check_order.phase_order(conf))}
    tests = list(testtools.iterate_tests(standard_tests))
    return unittest.TestSuite(sorted(
        tests, key=lambda t: rank.get(t._testMethodName, len(rank))))


# A stable id for a test across renames: tempest.lib's decorator (the
# ``id-<uuid>`` attribute stestr shows, and the id in the docstring).
idempotent_id = decorators.idempotent_id
