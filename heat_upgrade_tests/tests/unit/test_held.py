"""A phase held by a database behind its head changes no stack.

The cloud and the database checks are the project's own interfaces,
faked here; the functional test ``test_failures.DatabaseBehindTest`` runs
it on a real mini-cloud.
"""

import uuid

import fixtures
import testtools

from heat_upgrade_tests import config
from heat_upgrade_tests.phases import command
from heat_upgrade_tests import state as state_mod


class HeldPhaseTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        conf_file = f'{self.dir}/hut.conf'
        with open(conf_file, 'w') as f:
            f.write(f'[phases]\nstate_dir = {self.dir}/state\n'
                    f'enabled_checks = values_and_outputs\n')
        self.conf = config.load(config_files=[conf_file])
        state = state_mod.CheckState(f'{self.dir}/state',
                                     'values_and_outputs')
        doc = state.new(str(uuid.uuid4()))
        doc.update(phases={'pre-upgrade': 'passed'},
                   record={'stack': {'id': 'sid', 'name': 'hut-v-1'}})
        state.save(doc)
        self.calls = []
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.phases.command.preflight',
            lambda conf, phase: None))

        def before(conf, phase):
            return 1, 'database at c6214ca60943, not at the head'
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.phases.integrity.before', before))
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.phases.command.subprocess.call',
            lambda argv, **kw: self.calls.append(argv) or 0))
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.phases.command._nothing_failed',
            lambda d: False))
        self.out = self.useFixture(fixtures.StringStream('stdout')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', self.out))

    def output(self):
        self.out.seek(0)
        return self.out.read()

    def test_post_upgrade_runs_the_read_only_checks(self):
        self.assertEqual(1, command.run_phase(self.conf, 'post-upgrade'))
        self.assertEqual(1, len(self.calls))
        self.assertIn(r'^heat_upgrade_tests\.phases\.suite\.test_verify\.',
                      self.calls[0])
        text = self.output()
        self.assertIn('HELD, no stack is updated or deleted: database at '
                      'c6214ca60943', text)
        self.assertIn('1 stack(s) left for a later destroy', text)
        self.assertIn('hut-v-1 (sid) of check values_and_outputs', text)

    def test_destroy_deletes_nothing(self):
        self.assertEqual(1, command.run_phase(self.conf, 'destroy'))
        self.assertEqual([], self.calls)
        self.assertIn('hut-v-1 (sid) of check values_and_outputs',
                      self.output())
