"""The integrity checks in the mini-cloud's plans, as seen from here.

The checks are a step of a plan (``integrity:`` in
``upgrade/plans/*.yaml``): the plan runner runs ``heat-upgrade-tests
integrity check`` against the mini-cloud's database and both releases,
in a process of its own, and never imports this package; the import runs
one way only, from here to the mini-cloud. The names the functional tests
look for are the runner's.
"""

from heat_upgrade_tests.minicloud import plan
from heat_upgrade_tests.minicloud import plans

REPORT_FILE = plan.INTEGRITY_REPORT
STEP = plans.INTEGRITY_TITLE
