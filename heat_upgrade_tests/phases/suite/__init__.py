"""The phases' tests, generated per check: what stestr runs in a phase.

One module per phase (``test_<phase>.py``, named by
``state.suite_module``), each a TestCase whose ``test_<check>`` methods
``base.generate`` adds for the selected checks. Product code, not the
project's own tests: the phase command runs them with stestr.
"""

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
# stestr's top directory: where ``heat_upgrade_tests`` is importable.
TOP_DIR = DIRECTORY.parent.parent.parent
