"""Each drill makes its check's own assertion fail, mechanically proven.

No cloud here: the text a drill expects must be fixed text of an assertion
in the check's own module (a ``self.fail`` or ``self.assert_equal``
message of ``heat_upgrade_tests/checks/<check>.py``) and nowhere in the
framework's side of the contract (``checks/base.py``,
``phases/lifecycle.py``), so that a drill passes only when the check's own
logic fired, never the generic output comparison or a status string. A
drill of a check whose only proof is that comparison says so
(``asserts='outputs'``). No drill edits the project's own state.
"""

import ast
import inspect
from pathlib import Path

import testtools

from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests.phases import lifecycle
from heat_upgrade_tests.tests.functional import drills

CHECKS_DIR = Path(checks_base.__file__).parent
ASSERTIONS = ('fail', 'assert_equal')


def all_strings(path: Path) -> list[str]:
    """Every string literal of a module, f-strings' fixed parts included."""
    return [node.value for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def assertion_texts(path: Path) -> list[str]:
    """The fixed text of the messages of a module's own assertions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and
                isinstance(node.func, ast.Attribute) and
                node.func.attr in ASSERTIONS):
            for arg in node.args + [kw.value for kw in node.keywords]:
                found += [n.value for n in ast.walk(arg)
                          if isinstance(n, ast.Constant) and
                          isinstance(n.value, str)]
    return found


def framework_strings() -> list[str]:
    """Every string of the framework's side of the check contract."""
    return (all_strings(CHECKS_DIR / 'base.py') +
            all_strings(Path(lifecycle.__file__)))


class DrillsTest(testtools.TestCase):

    def test_own_drills_expect_text_of_the_checks_own_assertions(self):
        base_strings = framework_strings()
        problems = []
        for name, drill in drills.all_drills().items():
            if drill.asserts != 'own':
                continue
            module = CHECKS_DIR / f'{name}.py'
            if not any(drill.expect in text
                       for text in assertion_texts(module)):
                problems.append(f'{name}: {drill.expect!r} is not the text '
                                f'of an assertion of {module.name}')
            if any(drill.expect in text for text in base_strings):
                problems.append(f'{name}: {drill.expect!r} is also text of '
                                f'the framework (checks/base.py, '
                                f'phases/lifecycle.py): it could be what '
                                f'fails')
            if len(drill.expect) < 10:
                problems.append(f'{name}: {drill.expect!r} is too short to '
                                f'name one assertion')
        self.assertEqual([], problems)

    def test_output_drills_expect_the_output_comparison(self):
        self.assertIn('outputs after the upgrade', framework_strings())
        self.assertEqual('outputs after the upgrade',
                         lifecycle.OUTPUTS_AFTER_UPGRADE)
        for name, drill in drills.all_drills().items():
            if drill.asserts == 'outputs':
                self.assertEqual(drills.OUTPUTS_EXPECT, drill.expect, name)
                self.assertEqual('post-upgrade', drill.phase, name)

    def test_the_checks_that_must_have_own_drills_have_them(self):
        must = ('autoscaling_signal', 'suspend_resume', 'snapshot_restore',
                'update_rollback', 'cfn_template', 'template_validation',
                'wait_handle_signalled_after')
        found = drills.all_drills()
        self.assertEqual([], [n for n in must if found[n].asserts != 'own'])

    def test_no_drill_edits_the_projects_state(self):
        self.assertFalse(hasattr(drills.Toolbox, 'edit_state'))
        for name, drill in drills.all_drills().items():
            source = inspect.getsource(inspect.getmodule(drill.inject))
            for word in ('edit_state', 'state_file', 'write_text'):
                self.assertNotIn(word, source, name)

    def test_asserts_is_declared_and_checked(self):
        self.assertRaises(ValueError, drills.Drill, 'x', 'f', 'heat-down',
                          'post-upgrade', 'e', lambda tb: None, 'mine')
        self.assertRaises(ValueError, drills.Drill, 'x', 'f', 'heat-down',
                          'post-upgrade', 'e', lambda tb: None, 'outputs')
