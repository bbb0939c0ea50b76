import inspect
import re
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
        """A check says what its update is: no default stands for it."""
        exc = self.assertRaises(TypeError, base.register, type(
            'Demo', (base.ResourceCheck,), {
                'name': 'demo_silent', 'idempotent_id': str(uuid.uuid4()),
                'description': 'demo',
                'template': 'values_and_outputs.yaml'}))
        self.assertIn('says nothing about its post-upgrade update', str(exc))
        self.assertIn('NoUpdate', str(exc))

    def test_no_update_needs_a_reason(self):
        exc = self.assertRaises(TypeError, base.register, self._declare(
            update=base.NoUpdate(' ')))
        self.assertIn('NoUpdate needs a reason', str(exc))

    def test_the_contract_is_six_hooks(self):
        self.assertLessEqual(len(base.HOOKS), 6)
        for hook in base.HOOKS:
            self.assertIn(hook, vars(base.ResourceCheck), hook)
        for name in base.DECLARATIONS:
            self.assertIn(name, base.ResourceCheck.__annotations__, name)

    def test_a_retired_hook_is_refused_with_what_replaced_it(self):
        for name, advice in base.RETIRED.items():
            exc = self.assertRaises(TypeError, base.register, self._declare(
                **{name: lambda self, ctx, record: None}))
            self.assertIn(f'{name} is no longer a hook', str(exc))
            self.assertIn(advice, str(exc))

    def test_overriding_the_frameworks_part_is_refused(self):
        for name in ('verify_stack', 'create_stack', 'update_stack',
                     'assert_equal', 'unsupported', 'stack_name',
                     'known_failure'):
            exc = self.assertRaises(TypeError, base.register, self._declare(
                **{name: lambda self, *args: None}))
            self.assertIn(f'overrides {name}, which is the framework\'s',
                          str(exc))

    def test_a_mixin_is_held_to_the_contract_too(self):
        mixin = type('Mixin', (), {'verify_heat_down': lambda *a: None})
        cls = type('Demo', (mixin, base.ResourceCheck), {
            'name': 'demo_mixin', 'idempotent_id': str(uuid.uuid4()),
            'description': 'demo', 'template': 'values_and_outputs.yaml',
            'update': base.NoUpdate('a demo')})
        exc = self.assertRaises(TypeError, base.register, cls)
        self.assertIn('verify_heat_down is no longer a hook', str(exc))

    def test_no_check_of_the_catalogue_overrides_outside_the_contract(self):
        problems = [line for check in base.all_checks().values()
                    for line in base.outside_contract(check)]
        self.assertEqual([], problems)

    def test_every_template_a_check_names_exists(self):
        problems = []
        for name, check in base.all_checks().items():
            source = inspect.getsource(inspect.getmodule(check))
            for template in re.findall(r"'([a-z0-9_]+\.yaml)'", source):
                if not (base.TEMPLATE_DIR / template).is_file():
                    problems.append(f'{name}: {template}')
        self.assertEqual([], problems)

    def test_plain_create(self):
        def one_call(self, ctx, record):
            """A docstring is allowed."""
            self.create_stack(ctx, record, {'label': 'x'})

        def with_tags(self, ctx, record):
            self.create_stack(ctx, record, {}, tags=['t'])

        def and_more(self, ctx, record):
            self.create_stack(ctx, record, {})
            record.outputs = {}
        self.assertTrue(base.plain_create(self._declare()))
        self.assertTrue(base.plain_create(self._declare(create=one_call)))
        self.assertFalse(base.plain_create(self._declare(create=with_tags)))
        self.assertFalse(base.plain_create(self._declare(create=and_more)))
        checks = base.all_checks()
        self.assertTrue(base.plain_create(checks['nested_group']))
        self.assertFalse(base.plain_create(checks['tags_and_preview']))

    def test_a_repair_goes_with_a_refusal_of_the_delete(self):
        def repair(check, ctx, record):
            return 'repaired'
        for known in (base.KnownFailure('destroy', 'bug', repair=repair),
                      base.KnownFailure('destroy', 'bug', refusal='no'),
                      base.KnownFailure('post-upgrade', 'bug', refusal='no',
                                        repair=repair)):
            self.assertRaises(TypeError, base.register, self._declare(
                known_failures=(known,)))

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
