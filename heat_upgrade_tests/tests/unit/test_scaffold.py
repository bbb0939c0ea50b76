"""``heat-upgrade-tests scaffold``: three files to edit, refused until the
placeholders are replaced."""

import importlib.util
import io
from pathlib import Path
import sys

import fixtures
import testtools
import yaml

from heat_upgrade_tests.checks import base
from heat_upgrade_tests import cmd
from heat_upgrade_tests import exceptions
from heat_upgrade_tests import scaffold


class _SysModule(fixtures.Fixture):
    """``sys.modules[name] = module`` for the test, as an import does."""

    def __init__(self, name, module):
        super().__init__()
        self.name, self.module = name, module

    def _setUp(self):
        sys.modules[self.name] = self.module
        self.addCleanup(sys.modules.pop, self.name, None)


class ScaffoldTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = Path(self.useFixture(fixtures.TempDir()).path)

    def _load(self, path: Path, name: str):
        """Import ``path`` as module ``name``, as the registry imports."""
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        self.useFixture(_SysModule(name, module))
        spec.loader.exec_module(module)
        return module

    def _isolated_registry(self, template_dir: Path) -> None:
        """Templates where the scaffold wrote them; the registry restored."""
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.checks.base.TEMPLATE_DIR', template_dir))
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.checks.base._REGISTRY',
            dict(base._REGISTRY)))

    def test_writes_a_check_its_template_and_its_drill(self):
        written = scaffold.scaffold('demo_scaffolded', self.root)
        self.assertEqual({'check', 'template', 'drill'}, set(written))
        for path in written.values():
            self.assertTrue(path.is_file(), path)
        template = yaml.safe_load(written['template'].read_text())
        self.assertIn('OS::Heat::TestResource', str(template))
        drill = self._load(written['drill'], 'demo_scaffolded_drill').DRILL
        self.assertEqual('demo_scaffolded', drill.check)
        self.assertEqual('post-upgrade', drill.phase)

    def test_a_scaffolded_check_is_refused_until_its_placeholders_go(self):
        written = scaffold.scaffold('demo_placeholders', self.root)
        self._isolated_registry(written['template'].parent)
        exc = self.assertRaises(TypeError, self._load, written['check'],
                                'demo_placeholders_check')
        message = str(exc)
        self.assertIn('check demo_placeholders still carries the '
                      'scaffold\'s placeholder', message)
        for where in ('the module docstring', 'description',
                      "proves['pre-upgrade']", "proves['post-upgrade']",
                      'template demo_placeholders.yaml'):
            self.assertIn(where, message)
        self.assertIn('replace each with what the check really makes',
                      message)
        self.assertNotIn('demo_placeholders', base._REGISTRY)
        # The same check with each placeholder replaced is accepted.
        for key in ('check', 'template'):
            path = written[key]
            path.write_text(path.read_text().replace(
                f'{base.PLACEHOLDER}: ', ''))
        module = self._load(written['check'], 'demo_replaced_check')
        self.assertEqual('demo_placeholders',
                         module.DemoPlaceholders.name)
        self.assertIs(module.DemoPlaceholders,
                      base._REGISTRY['demo_placeholders'])

    def test_every_scaffold_gets_a_new_id(self):
        first = scaffold.render('a_check')['check']
        second = scaffold.render('a_check')['check']
        self.assertNotEqual(first, second)

    def test_refuses_to_overwrite(self):
        scaffold.scaffold('demo_twice', self.root)
        exc = self.assertRaises(exceptions.ConfigError, scaffold.scaffold,
                                'demo_twice', self.root)
        self.assertIn('will not overwrite', str(exc))

    def test_refuses_bad_and_taken_names(self):
        for name in ('Bad-Name', '_private', 'base', 'values_and_outputs'):
            self.assertRaises(exceptions.ConfigError, scaffold.scaffold,
                              name, self.root)

    def test_command_line(self):
        out = self.useFixture(fixtures.StringStream('stdout')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.assertEqual(0, cmd.main(['scaffold', 'demo_cli', '--root',
                                      str(self.root)]))
        out.seek(0)
        self.assertIn('wrote the check demo_cli', out.read())
        err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        self.assertEqual(2, cmd.main(['scaffold', 'Bad-Name', '--root',
                                      str(self.root)]))
        self.assertIn('lower-case Python identifier', err.getvalue())
