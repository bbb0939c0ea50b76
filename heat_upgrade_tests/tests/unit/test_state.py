import json
import os
import stat

import fixtures
import testtools

from heat_upgrade_tests import exceptions
from heat_upgrade_tests import state


class CheckStateTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.state = state.CheckState(os.path.join(self.dir, 's'), 'demo')

    def test_round_trip_is_private_and_versioned(self):
        doc = self.state.new('0c6a1a52-6f0e-4c41-9d43-1b1f2a8f3e01')
        doc['record']['stack'] = {'id': 'abc', 'name': 'n'}
        self.state.save(doc)
        mode = stat.S_IMODE(os.stat(self.state.path).st_mode)
        self.assertEqual(0o600, mode)
        loaded = self.state.load('during-upgrade')
        self.assertEqual({'id': 'abc', 'name': 'n'},
                         loaded['record']['stack'])
        self.assertEqual(state.SCHEMA_VERSION, loaded['schema_version'])
        self.assertEqual([], [f for f in os.listdir(self.state.state_dir)
                              if f.startswith('.')])

    def test_missing_state_names_the_phase_to_run_first(self):
        exc = self.assertRaises(exceptions.StateError, self.state.load,
                                'post-upgrade')
        self.assertIn('run the pre-upgrade phase before post-upgrade',
                      str(exc))
        self.assertIn('demo', str(exc))

    def test_corrupt_state_is_a_clear_error(self):
        os.makedirs(self.state.state_dir)
        self.state.path.write_text('{"check": "demo", ')
        exc = self.assertRaises(exceptions.StateError, self.state.load,
                                'during-upgrade')
        self.assertIn('is corrupt', str(exc))
        self.assertIn(str(self.state.path), str(exc))

    def test_state_of_another_check_is_refused(self):
        os.makedirs(self.state.state_dir)
        self.state.path.write_text(json.dumps(
            {'check': 'other', 'schema_version': 1}))
        exc = self.assertRaises(exceptions.StateError, self.state.load,
                                'during-upgrade')
        self.assertIn('not the state of check demo', str(exc))

    def test_unknown_schema_is_refused(self):
        os.makedirs(self.state.state_dir)
        self.state.path.write_text(json.dumps(
            {'check': 'demo', 'schema_version': 99}))
        exc = self.assertRaises(exceptions.StateError, self.state.load,
                                'during-upgrade')
        self.assertIn('schema version 99', str(exc))

    def test_credentials_never_reach_the_state(self):
        doc = self.state.new('0c6a1a52-6f0e-4c41-9d43-1b1f2a8f3e01')
        doc['record']['outputs'] = {'admin_password': 'hunter2'}
        exc = self.assertRaises(exceptions.StateError, self.state.save, doc)
        self.assertIn('record.outputs.admin_password', str(exc))
        self.assertFalse(self.state.path.exists())

    def test_failed_write_keeps_the_previous_document(self):
        doc = self.state.new('0c6a1a52-6f0e-4c41-9d43-1b1f2a8f3e01')
        self.state.save(doc)
        doc['record']['bad'] = object()
        self.assertRaises(TypeError, self.state.save, doc)
        self.assertEqual({}, self.state.load('destroy')['record'])
        self.assertEqual(['demo.json'], os.listdir(self.state.state_dir))


class StateShapeTest(testtools.TestCase):
    """Valid JSON of the wrong shape: the same one line as a corrupt file."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.state = state.CheckState(os.path.join(self.dir, 's'), 'demo')
        self.state.save(self.state.new('0c6a1a52-6f0e-4c41-9d43-1b1f2a8f3e01'))
        self.good = json.loads(self.state.path.read_text())

    def assertCorrupt(self, doc, reason):
        self.state.path.write_text(json.dumps(doc))
        exc = self.assertRaises(exceptions.StateError, self.state.load,
                                'post-upgrade')
        text = str(exc)
        self.assertNotIn('\n', text)
        self.assertTrue(text.startswith(
            f'state file {self.state.path} is corrupt ('), text)
        self.assertTrue(text.endswith('rerun the pre-upgrade phase'), text)
        self.assertIn(reason, text)

    def test_a_key_missing(self):
        doc = dict(self.good)
        del doc['record']
        self.assertCorrupt(doc, "key 'record' missing")

    def test_a_wrong_type(self):
        self.assertCorrupt(dict(self.good, phases=['pre-upgrade']),
                           "'phases' is a list, not a dict")
        self.assertCorrupt(dict(self.good, run_id=7),
                           "'run_id' is a int, not a str")

    def test_an_unknown_phase_outcome(self):
        self.assertCorrupt(dict(self.good, phases={'later': 1}),
                           "phases holds 'later': 1")

    def test_a_newer_schema(self):
        self.assertCorrupt(dict(self.good, schema_version=2),
                           'schema version 2')

    def test_not_an_object(self):
        self.assertCorrupt([1, 2], 'not the state of check demo')
