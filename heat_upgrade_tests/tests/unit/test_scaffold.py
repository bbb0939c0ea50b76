"""``heat-upgrade-tests scaffold``: three files that work as written."""

import importlib.util
import io
from pathlib import Path

import fixtures
import testtools
import yaml

from heat_upgrade_tests.checks import base
from heat_upgrade_tests import cmd
from heat_upgrade_tests import exceptions
from heat_upgrade_tests import scaffold


class ScaffoldTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.root = Path(self.useFixture(fixtures.TempDir()).path)

    def _load(self, path: Path, name: str):
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def test_writes_a_check_its_template_and_its_drill(self):
        written = scaffold.scaffold('demo_scaffolded', self.root)
        self.assertEqual({'check', 'template', 'drill'}, set(written))
        for path in written.values():
            self.assertTrue(path.is_file(), path)
        template = yaml.safe_load(written['template'].read_text())
        self.assertIn('OS::Heat::TestResource', str(template))
        # The module registers as a check once its template is where the
        # registry looks; the registry is restored afterwards.
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.checks.base.TEMPLATE_DIR',
            written['template'].parent))
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.checks.base._REGISTRY',
            dict(base._REGISTRY)))
        module = self._load(written['check'], 'demo_scaffolded_check')
        self.assertEqual('demo_scaffolded', module.DemoScaffolded.name)
        self.assertIn('demo_scaffolded', base._REGISTRY)
        drill = self._load(written['drill'], 'demo_scaffolded_drill').DRILL
        self.assertEqual('demo_scaffolded', drill.check)
        self.assertEqual('post-upgrade', drill.phase)

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
