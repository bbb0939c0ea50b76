"""The check catalogue is complete: enough checks, each with its drill."""

import inspect
import re

import testtools
import yaml

from heat_upgrade_tests.checks import _catalogue
from heat_upgrade_tests.checks import base
from heat_upgrade_tests import state
from heat_upgrade_tests.tests.functional import drills


class CatalogueTest(testtools.TestCase):

    def test_at_least_twenty_checks_run_on_the_minicloud(self):
        minicloud = [n for n, c in base.all_checks().items()
                     if c.runs_on_minicloud()]
        self.assertGreaterEqual(len(minicloud), 20, minicloud)

    def test_gate_only_checks_say_what_they_need(self):
        gate = {n: c for n, c in base.all_checks().items()
                if not c.runs_on_minicloud()}
        self.assertIn('volume_attached', gate)
        self.assertFalse({'network_resources', 'swift_container',
                          'server_http'} & set(gate))
        for name, check in gate.items():
            self.assertTrue(set(check.required_services) - (
                base.MINICLOUD_SERVICES | base.MINICLOUD_COMPUTE_SERVICES),
                name)
        # Without the compute part, the server checks are the gate's too.
        self.assertFalse(base.all_checks()['server_http'].runs_on_minicloud(
            compute=False))

    def test_every_check_has_a_drill(self):
        """A check without a fault drill is not done."""
        self.assertEqual(sorted(base.all_checks()),
                         sorted(drills.all_drills()))

    def test_drills_expect_a_phase_the_check_verifies_in(self):
        checks = base.all_checks()
        for name, drill in drills.all_drills().items():
            if drill.phase == 'during-upgrade':
                self.assertIsNot(base.ResourceCheck.verify_outside_heat,
                                 checks[name].verify_outside_heat, name)

    def test_a_drill_refuses_an_unknown_moment(self):
        self.assertRaises(ValueError, drills.Drill, 'x', 'f', 'lunch',
                          'post-upgrade', 'e', lambda tb: None)

    def test_templates_parse_and_proofs_name_phases(self):
        for name, check in base.all_checks().items():
            # And the update's: every template a check's module names.
            named = re.findall(r"'([a-z0-9_]+\.yaml)'", inspect.getsource(
                inspect.getmodule(check)))
            paths = [check().template_path()] + check().environment_paths(
                tuple(named))
            for path in paths:
                self.assertIsInstance(yaml.safe_load(path.read_text()),
                                      dict, path)
            self.assertLessEqual(set(check.proves), set(state.PHASE_ORDER),
                                 name)
            self.assertTrue(check.description.strip(), name)

    def test_every_check_is_described_for_the_docs(self):
        for name, check in base.all_checks().items():
            info = _catalogue.describe(check)
            self.assertEqual(name, info['name'])
            self.assertIn('pre-upgrade', info['proves'])
            self.assertIn('post-upgrade', info['proves'])
            self.assertTrue(info['proves']['verify'], name)
        keystone = _catalogue.describe(base.all_checks()['keystone_catalog'])
        self.assertIn('admin credentials', keystone['needs'])
        self.assertEqual('destroy', keystone['known_failures'][0]['phase'])
