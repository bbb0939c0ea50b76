import uuid

import testtools

from heat_upgrade_tests.checks import base
from heat_upgrade_tests import config


class RegistryTest(testtools.TestCase):

    def test_catalogue_is_found_automatically(self):
        checks = base.all_checks()
        for name in ('values_and_outputs', 'nested_group',
                     'keystone_objects'):
            self.assertIn(name, checks)

    def test_every_check_is_well_declared(self):
        ids = set()
        for name, check in base.all_checks().items():
            self.assertEqual(name, check.name)
            ids.add(check.idempotent_id)
            self.assertTrue(check().template_path().is_file())
        self.assertEqual(len(base.all_checks()), len(ids))

    def test_phase_ids_are_stable_and_distinct(self):
        check = base.all_checks()['values_and_outputs']
        first = base.phase_test_id(check, 'pre-upgrade')
        self.assertEqual(first, base.phase_test_id(check, 'pre-upgrade'))
        self.assertNotEqual(first, base.phase_test_id(check, 'post-upgrade'))
        uuid.UUID(first)

    def test_keystone_check_needs_admin_and_others_do_not(self):
        checks = base.all_checks()
        self.assertTrue(checks['keystone_objects'].needs_admin)
        self.assertFalse(checks['values_and_outputs'].needs_admin)

    def _declare(self, **attrs):
        attrs.setdefault('name', 'demo_check')
        attrs.setdefault('idempotent_id', str(uuid.uuid4()))
        attrs.setdefault('description', 'demo')
        attrs.setdefault('template', 'values_and_outputs.yaml')
        attrs.setdefault('update', base.NoUpdate('a demo'))
        return type('Demo', (base.ResourceCheck,), attrs)

    def test_an_unsaid_update_is_refused(self):
        """An empty update_parameters no longer means "no update"."""
        exc = self.assertRaises(TypeError, base.register, type(
            'Demo', (base.ResourceCheck,), {
                'name': 'demo_silent', 'idempotent_id': str(uuid.uuid4()),
                'description': 'demo',
                'template': 'values_and_outputs.yaml'}))
        self.assertIn('says nothing about its post-upgrade update', str(exc))
        self.assertIn('NoUpdate', str(exc))

    def test_no_update_needs_a_reason_and_no_update_parts(self):
        exc = self.assertRaises(TypeError, base.register, self._declare(
            update=base.NoUpdate(' ')))
        self.assertIn('NoUpdate needs a reason', str(exc))
        exc = self.assertRaises(TypeError, base.register, self._declare(
            update_parameters=lambda self, ctx, record: {'label': 'x'}))
        self.assertIn('says NoUpdate but declares', str(exc))

    def test_the_default_update_must_be_observed(self):
        exc = self.assertRaises(TypeError, base.register, self._declare(
            update=base.ResourceCheck.update,
            update_parameters=lambda self, ctx, record: {'label': 'x'}))
        self.assertIn('needs verify_updated', str(exc))

    def test_every_check_of_the_catalogue_says_what_its_update_is(self):
        for name, check in base.all_checks().items():
            update = check.update
            if isinstance(update, base.NoUpdate):
                self.assertTrue(update.reason.strip(), name)
            else:
                self.assertTrue(callable(update), name)

    def test_a_record_round_trips_and_refuses_undeclared_fields(self):
        record = base.CheckRecord(stack=base.StackRef('i', 'n'),
                                  parameters={'a': 1}, outputs={'o': 2})
        data = record.to_json()
        self.assertEqual({'stack': {'id': 'i', 'name': 'n'},
                          'parameters': {'a': 1}, 'outputs': {'o': 2},
                          'destroyed': False}, data)
        self.assertEqual(record, base.CheckRecord.from_json(data))
        self.assertEqual(base.CheckRecord(), base.CheckRecord.from_json({}))
        exc = self.assertRaises(ValueError, base.CheckRecord.from_json,
                                dict(data, stack_user='u'))
        self.assertIn('stack_user', str(exc))
        self.assertRaises(ValueError, base.CheckRecord.from_json,
                          dict(data, stack={'id': 'i'}))

    def test_every_record_type_is_declared(self):
        for name, check in base.all_checks().items():
            record = check.record_type()
            self.assertEqual(record, check.record_type.from_json(
                record.to_json()), name)

    def test_register_refuses_a_bad_id(self):
        exc = self.assertRaises(TypeError, base.register,
                                self._declare(idempotent_id='nope'))
        self.assertIn('not a UUID', str(exc))

    def test_register_refuses_a_missing_template(self):
        exc = self.assertRaises(TypeError, base.register,
                                self._declare(template='absent.yaml'))
        self.assertIn('no template', str(exc))

    def test_register_refuses_a_duplicate(self):
        known = base.all_checks()['nested_group']
        exc = self.assertRaises(TypeError, base.register,
                                self._declare(name='nested_group'))
        self.assertIn('reuses the name or id', str(exc))
        self.assertIs(known, base.all_checks()['nested_group'])

    def test_register_refuses_a_name_that_is_no_identifier(self):
        exc = self.assertRaises(TypeError, base.register,
                                self._declare(name='Bad-Name'))
        self.assertIn('lower-case Python identifier', str(exc))

    def test_selection_by_configuration(self):
        conf = config.load(config_files=[])
        conf.set_override('enabled_checks', ['nested_group',
                                             'values_and_outputs'], 'phases')
        conf.set_override('disabled_checks', ['values_and_outputs'],
                          'phases')
        self.assertEqual(['nested_group'],
                         list(base.selected_checks(conf)))

    def test_unknown_check_is_a_clear_error(self):
        from heat_upgrade_tests import exceptions
        conf = config.load(config_files=[])
        conf.set_override('enabled_checks', ['nope'], 'phases')
        exc = self.assertRaises(exceptions.ConfigError,
                                base.selected_checks, conf)
        self.assertIn("unknown check(s) nope", str(exc))
