"""The plans of upgrade/plans/ and the rules of their data."""

import os
from pathlib import Path
import textwrap

import fixtures
import testtools

from heat_upgrade_tests import cmd
from heat_upgrade_tests import config
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import model
from heat_upgrade_tests.plans import pairs
from heat_upgrade_tests import releases

# Every moment the drill sets hook into, on the full plan.
DRILL_MOMENTS = ('old-heat-up', 'pre-upgrade', 'heat-down', 'all-down',
                 'no-api', 'keystone-up', 'during-upgrade', 'db-synced',
                 'new-heat-up', 'post-upgrade', 'destroy')
LABELS = model.Labels({'heat': {'old': '2026.1 (26.0.2)',
                                'new': '2026.2 (27.0.1)'},
                       'keystone': {'old': '2026.1 (29.1.0)',
                                    'new': '2026.2 (30.0.0)'},
                       'swift': {'old': '2026.1 (2.37.4)',
                                 'new': '2026.2 (2.38.3)'},
                       'neutron': {'old': '2026.1 (28.0.2)',
                                   'new': '2026.2 (29.0.0)'}})


def side(name: str) -> pairs.Side:
    return pairs.series_side(name, releases.load_series())


class ShippedPlansTest(testtools.TestCase):

    @base.idempotent_id('06ca5f98-1f68-414c-9f3b-71b92cace857')
    def test_the_three_plans_load(self):
        found = model.load_all()
        for name in ('full', 'service-by-service', 'skip-level'):
            self.assertIn(name, found)
        listing = model.listing(found).splitlines()
        self.assertEqual(len(found), len(listing))

    @base.idempotent_id('8a8420b2-7bb3-46d7-bfbd-bda1c8f8e52e')
    def test_every_plan_ends_with_an_always_destroy(self):
        for plan in model.load_all().values():
            last = plan.flat()[-1]
            self.assertEqual(('phase', 'destroy', True, 'destroy'),
                             (last.action, last.name, last.always,
                              last.moment), plan.name)

    @base.idempotent_id('6878cff0-36e4-4dfb-9916-a7f832f73e8a')
    def test_the_loader_opens_and_closes_every_shipped_plan(self):
        """Each shipped plan is its file's steps between the fixed ones.

        The files write none of the opening and closing: the loader adds
        them, so a plan file holds only what varies.
        """
        for plan in model.load_all().values():
            opening, closing = len(model.OPENING), len(model.CLOSING)
            self.assertEqual(model.OPENING, plan.steps[:opening], plan.name)
            self.assertEqual(model.CLOSING, plan.steps[-closing:],
                             plan.name)
            written = model.load(plan.path, framed=False)
            self.assertEqual(plan.steps[opening:-closing], written.steps,
                             plan.name)

    @base.idempotent_id('3fa7c188-df5a-4911-a2ed-32ee313761d4')
    def test_full_keeps_every_drill_moment_and_grenade_order(self):
        plan = model.get('full')
        self.assertLessEqual(set(DRILL_MOMENTS), set(plan.moments()))
        # Grenade's in-tree order (its projects/NN_* directories), this
        # project just before Heat.
        self.assertEqual(('keystone', 'placement', 'swift', 'glance',
                          'neutron', 'nova', 'heat-upgrade-tests', 'heat'),
                         plan.groups()['upgrade'].order)
        names = [model.describe(s, LABELS) for s in plan.flat()]
        for name in ('stop Keystone: no API answers', 'no-api phase',
                     'start Keystone', 'start Swift 2026.2 (2.38.3)',
                     'neutron-db-manage upgrade heads with Neutron 2026.2 '
                     '(29.0.0)', 'start Neutron 2026.2 (29.0.0)',
                     'during-upgrade phase',
                     'db_sync with Heat 2026.2 (27.0.1)',
                     model.INTEGRITY_TITLE, 'start Heat 2026.2 (27.0.1)'):
            self.assertIn(name, names)
        self.assertLess(names.index('stop Keystone: no API answers'),
                        names.index('no-api phase'))
        self.assertLess(names.index('stop Neutron'),
                        names.index('no-api phase'))
        self.assertEqual(('old', 'old'), (plan.start_release('swift'),
                                          plan.start_release('neutron')))

    @base.idempotent_id('11ed8921-27d5-4eba-a012-3b5cc0c2c87d')
    def test_full_with_compute_stops_and_upgrades_the_compute_part(self):
        without = model.get('full')
        plan = model.get('full', compute=True)
        refs = {(s.action, str(s.ref)) for s in plan.flat() if s.ref}
        self.assertFalse({r for r in {(s.action, str(s.ref))
                                      for s in without.flat() if s.ref}
                          if r[1].split('@')[0] in model.COMPUTE_SERVICES})
        names = [(s.action, str(s.ref or s.name)) for s in plan.flat()]
        no_api = names.index(('phase', 'no-api'))
        for service in ('placement', 'glance', 'nova'):
            self.assertEqual('old', plan.start_release(service))
            # Stopped before the no-api phase, as grenade stops it ...
            self.assertLess(names.index(('stop', service)), no_api)
            # ... migrated by the new release, then started as it.
            self.assertLess(names.index(('migrate', f'{service}@new')),
                            names.index(('start', f'{service}@new')))
            self.assertIn(('start', f'{service}@new'), refs)
        # Nova after Placement and Neutron, before Heat.
        self.assertLess(names.index(('start', 'placement@new')),
                        names.index(('start', 'nova@new')))
        self.assertLess(names.index(('start', 'neutron@new')),
                        names.index(('start', 'nova@new')))
        self.assertLess(names.index(('start', 'nova@new')),
                        names.index(('migrate', 'heat@new')))
        self.assertIn('new-nova-up', plan.moments())
        self.assertNotIn('new-nova-up', without.moments())
        self.assertIn('nova', plan.cloud_services)
        self.assertNotIn('nova', without.cloud_services)

    @base.idempotent_id('f7aab453-f1ca-400e-9ae5-51abbf6e433a')
    def test_full_in_a_callers_order(self):
        plan = model.get('full')
        order = ('heat-upgrade-tests', 'keystone', 'swift', 'neutron',
                 'heat')
        members = [s.member for s in plan.flat({'upgrade': order})
                   if s.member]
        self.assertEqual(['heat-upgrade-tests', 'keystone'],
                         members[:2])
        for bad in (('keystone', 'heat'), ('keystone', 'heat', 'heat',
                                           'heat-upgrade-tests'),
                    ('keystone', 'heat-upgrade-tests', 'heat'),
                    ('keystone', 'nova', 'heat', 'heat-upgrade-tests')):
            self.assertRaises(model.PlanError, plan.flat, {'upgrade': bad})
        self.assertRaises(model.PlanError, plan.flat, {'nope': order})

    @base.idempotent_id('d3236958-0655-4569-92a0-42f9b9b0d575')
    def test_service_by_service_keystone_first_verified_with_old_heat(self):
        plan = model.get('service-by-service')
        self.assertEqual('old', plan.keystone)
        flat = plan.flat()
        actions = [(s.action, str(s.ref or s.name)) for s in flat]
        keystone_up = actions.index(('start', 'keystone@new'))
        heat_down = actions.index(('stop', 'heat@old'))
        self.assertLess(actions.index(('migrate', 'keystone@new')),
                        keystone_up)
        verify = [i for i, a in enumerate(actions) if a == ('phase',
                                                            'verify')]
        self.assertTrue(any(keystone_up < i < heat_down for i in verify))
        self.assertLess(heat_down, actions.index(('migrate', 'heat@new')))
        # Swift, then Neutron (its own db tool), each verified after, all
        # before Heat is stopped.
        swift_up = actions.index(('start', 'swift@new'))
        neutron_up = actions.index(('start', 'neutron@new'))
        self.assertLess(keystone_up, swift_up)
        self.assertLess(swift_up, actions.index(('stop', 'neutron@old')))
        self.assertLess(actions.index(('migrate', 'neutron@new')),
                        neutron_up)
        self.assertLess(neutron_up, heat_down)
        for up in (swift_up, neutron_up):
            self.assertTrue(any(up < i < heat_down for i in verify))
        order = plan.groups()['services'].order
        self.assertEqual(('keystone', 'swift', 'cinder', 'glance',
                          'neutron', 'placement', 'nova', 'heat'), order)
        text = model.render(plan, LABELS)
        self.assertIn('(cinder: not on the mini-cloud', text)
        self.assertNotIn('(swift: not on the mini-cloud', text)

    @base.idempotent_id('a24518d2-8c8c-47d0-a3c3-5e4d927fd4d5')
    def test_skip_level_installs_no_release_between(self):
        plan = model.get('skip-level')
        self.assertEqual((model.SLURP,), plan.paths)
        old, new = pairs.resolve(plan, None, None, Path('/nonexistent'),
                                 Path('/nonexistent'))
        self.assertEqual(('2025.1', '2026.1'),
                         (old.series.name, new.series.name))
        releases_used = {r.release for r in plan.refs()} - {None}
        self.assertEqual({'old', 'new'}, releases_used)
        migrations = [str(s.ref) for s in plan.flat()
                      if s.action == 'migrate']
        self.assertEqual(['heat@old', 'keystone@new', 'neutron@new',
                          'heat@new'], migrations)

    @base.idempotent_id('caa7d790-6824-494f-a0af-ab7925070211')
    def test_render_numbers_every_step(self):
        plan = model.get('full')
        text = model.render(plan, LABELS)
        numbered = [line for line in text.splitlines()
                    if line.strip()[:1].isdigit()]
        self.assertEqual(len(plan.flat()), len(numbered))
        self.assertIn('1. db_sync with Heat 2026.1 (26.0.2)', text)
        self.assertIn('destroy phase  (moment destroy; always)', text)


class PlanDataTest(testtools.TestCase):

    def write(self, text: str) -> Path:
        directory = Path(self.useFixture(fixtures.TempDir()).path)
        path = directory / 'p.yaml'
        path.write_text(textwrap.dedent(text))
        return path

    def error(self, text: str) -> str:
        path = self.write(text)
        return str(self.assertRaises(model.PlanError, model.load, path))

    @base.idempotent_id('b945db10-27c9-4ff0-a77c-acd330cc0b67')
    def test_a_new_plan_is_data_only(self):
        path = self.write('''
            name: rolling
            summary: two engines of different releases at once
            steps:
              - start: heat@old
              - start: heat-engine@new#2
              - wait: {for: heat-api@old, timeout: 30}
              - switch: {endpoint: orchestration, to: heat-api@new#2}
              - wait: {seconds: 1}
              - stop: heat-engine@old
              - stop: heat
        ''')
        plan = model.get('rolling', path.parent)
        refs = [s.ref for s in plan.flat() if s.ref]
        self.assertIn(model.ServiceRef('heat-engine', 'new', 2), refs)
        self.assertIn(model.ServiceRef('heat', None, None), refs)
        names = [model.describe(s, LABELS) for s in plan.flat()]
        self.assertIn('start heat-engine#2 2026.2 (27.0.1)', names)
        self.assertIn('stop every Heat', names)
        self.assertIn('wait 1s', names)

    @base.idempotent_id('a3788efe-c61c-4f1c-a9a6-32170546acae')
    def test_bad_steps_are_one_line_errors(self):
        cases = {
            '- start: heat': 'names no release',
            '- start: cinder@new': 'is not SERVICE@RELEASE',
            '- start: heat@newer': 'release',
            '- phase: halfway': 'unknown phase',
            '- {stop: heat-engine@old, bus: new}': 'bus names a virtual',
            '- {start: keystone@new, bus: new}': 'Keystone uses no bus',
            '- {start: heat@new, bus: Bad_Name}': 'bus names a virtual',
            '- wait: {seconds: [5, 1]}': 'wait needs',
            '- migrate: heat-api@new': 'migrate names one of',
            '- wait: {seconds: 9999}': 'wait needs',
            '- switch: {endpoint: orchestration, to: heat-engine@new}':
                'switches to a heat-api',
            '- {start: heat@new, phase: verify}': 'a step has one of',
            '- {start: heat@new, colour: red}': 'a step has one of',
        }
        for step, expected in cases.items():
            text = f'name: x\nsummary: y\nsteps:\n  {step}\n'
            message = self.error(text)
            self.assertIn(expected, message, step)
            self.assertNotIn('\n', message)

    @base.idempotent_id('cf565d4d-7492-48db-b794-63893dc3f241')
    def test_moments_are_unique_and_pairs_known(self):
        self.assertIn('used twice', self.error('''
            name: x
            summary: y
            steps:
              - {phase: verify, moment: m}
              - {phase: verify, moment: m}
        '''))
        self.assertIn('unknown pair kind', self.error('''
            name: x
            summary: y
            paths: [n-2]
            steps: [{phase: verify}]
        '''))

    @base.idempotent_id('1101b43b-7a6d-4acc-ad21-fd7ec0fb21dd')
    def test_the_loader_adds_the_opening_and_closing(self):
        """A plan of one step runs seven: grenade's fixed moments around it.

        The steps declared in code are those every plan file used to
        write, to the letter, so that no run changed when they moved.
        """
        path = self.write('''
            name: x
            summary: y
            steps:
              - phase: no-api
        ''')
        plan = model.load(path)
        self.assertEqual(
            ['db_sync with Heat 2026.1 (26.0.2)',
             'start Heat 2026.1 (26.0.2)', 'pre-upgrade phase',
             'verify phase', 'no-api phase', 'post-upgrade phase',
             'destroy phase'],
            [model.describe(s, LABELS) for s in plan.flat()])
        self.assertEqual(['old-heat-up', 'pre-upgrade', 'verified',
                          'post-upgrade', 'destroy'], plan.moments())
        self.assertEqual(['no-api'], [s.name for s in model.load(
            path, framed=False).steps])
        as_written = self.write('''
            name: x
            summary: y
            steps:
              - migrate: heat@old
              - start: heat@old
                moment: old-heat-up
              - phase: pre-upgrade
                moment: pre-upgrade
              - phase: verify
                moment: verified
              - phase: post-upgrade
                moment: post-upgrade
              - phase: destroy
                always: true
                moment: destroy
        ''')
        self.assertEqual(model.OPENING + model.CLOSING,
                         model.load(as_written, framed=False).steps)

    @base.idempotent_id('3ce9b699-69a3-4829-b075-2d7352f834f1')
    def test_a_file_writing_the_opening_or_closing_is_refused(self):
        """A fixed step written in a file is a one-line error naming it.

        Otherwise it would run twice: the old Heat's db_sync, pre-upgrade,
        post-upgrade and destroy run once, and the fixed moments are
        hooked once.
        """
        cases = (
            '- migrate: heat@old',
            '- {start: heat@old, moment: old-heat-up}',
            '- phase: pre-upgrade',
            '- {phase: verify, moment: verified}',
            '- {phase: post-upgrade, keep_going: true}',
            '- {phase: destroy, always: true}',
            '- {phase: no-api, moment: destroy}',
            '- {group: g, order: [a], members: {a: [{phase: destroy}]}}',
        )
        for step in cases:
            message = self.error(f'name: x\nsummary: y\nsteps:\n'
                                 f'  - phase: no-api\n  {step}\n')
            self.assertIn('plan p.yaml step 2', message, step)
            self.assertIn('the opening and closing the loader adds',
                          message, step)
            self.assertNotIn('\n', message)

    @base.idempotent_id('ed1cae5e-85b9-4690-a04e-d50a69aaa5ae')
    def test_verify_again_and_the_old_heat_restarted_are_allowed(self):
        """What may repeat is not taken for the opening written again.

        The verify phase is read-only (plans verify after each service);
        the old Heat may be started again once stopped.
        """
        path = self.write('''
            name: x
            summary: y
            steps:
              - {phase: verify, moment: verified-again}
              - stop: heat@old
              - start: heat@old
        ''')
        self.assertIn('verified-again', model.load(path).moments())

    @base.idempotent_id('a9ebe50d-5404-4ce4-84b0-7c74f2b646a9')
    def test_unknown_plan_names_the_known_ones(self):
        exc = self.assertRaises(model.PlanError, model.get, 'rolling-bus')
        self.assertIn("unknown plan 'rolling-bus'; plans: full", str(exc))


class PairsTest(testtools.TestCase):

    @base.idempotent_id('1809078f-aa12-4f23-8a0a-0348c937b794')
    def test_defaults(self):
        nowhere = Path('/nonexistent')
        old, new = pairs.resolve(model.get('full'), None, None, nowhere,
                                 nowhere)
        self.assertEqual(('2026.1', '2026.2'),
                         (old.series.name, new.series.name))
        old, new = pairs.resolve(model.get('full'), '2025.2', None,
                                 nowhere, nowhere)
        self.assertEqual('2026.1', new.series.name)

    @base.idempotent_id('4670cbb6-a6b6-4032-8b52-00a26b501d51')
    def test_supported_paths(self):
        full = model.get('full')
        self.assertEqual(model.N_1, pairs.check(full, side('2025.2'),
                                                side('2026.1')))
        self.assertEqual(model.SLURP, pairs.check(full, side('2025.1'),
                                                  side('2026.1')))

    @base.idempotent_id('a30a630c-ab4c-4487-96f6-e8e3236d6621')
    def test_unsupported_pair_refused_unless_asked(self):
        full = model.get('full')
        exc = self.assertRaises(pairs.PairError, pairs.check, full,
                                side('2025.2'), side('2026.2'))
        message = str(exc)
        self.assertIn('2025.2 -> 2026.2 is not a supported upgrade path',
                      message)
        self.assertIn('2025.2 and 2026.2 are not SLURP releases', message)
        self.assertIn(pairs.ALLOW_OPTION, message)
        self.assertNotIn('\n', message)
        self.assertEqual('unsupported', pairs.check(
            full, side('2025.2'), side('2026.2'), allow_unsupported=True))
        self.assertIn('skips 2 releases', str(self.assertRaises(
            pairs.PairError, pairs.check, full, side('2025.1'),
            side('2026.2'))))

    @base.idempotent_id('0defd219-b825-408b-a55f-15f011d61c8d')
    def test_skip_level_refuses_n_1_and_backwards(self):
        skip = model.get('skip-level')
        exc = self.assertRaises(pairs.PairError, pairs.check, skip,
                                side('2026.1'), side('2026.2'))
        self.assertIn('plan skip-level upgrades slurp pairs', str(exc))
        exc = self.assertRaises(pairs.PairError, pairs.check, skip,
                                side('2026.1'), side('2025.1'),
                                allow_unsupported=True)
        self.assertIn('the target must be a later series', str(exc))

    @base.idempotent_id('6d13a0ba-d9bf-4237-8d29-a132e941ecbc')
    def test_a_tree_spec_is_told_from_a_series(self):
        self.assertFalse(pairs.looks_like_tree('2026.2'))
        self.assertTrue(pairs.looks_like_tree('~/src/heat'))
        self.assertTrue(pairs.looks_like_tree('2026.2=/src/heat'))


class UpgradeCommandTest(testtools.TestCase):
    """``heat-upgrade-tests upgrade``'s plan options, no mini-cloud."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.EnvironmentVariable(
            'HEAT_UPGRADE_TESTS_CONFIG', os.devnull))
        self.out = self.useFixture(fixtures.StringStream('stdout')).stream
        self.err = self.useFixture(fixtures.StringStream('stderr')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', self.out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', self.err))
        self.addCleanup(self.clear_overrides)

    @staticmethod
    def clear_overrides():
        # The command overrides options; overrides live in the option
        # groups every ConfigOpts shares.
        conf = config.load(config_files=[])
        for opt in ('from_series', 'to_series', 'work_dir'):
            conf.clear_override(opt, 'minicloud')
        conf.clear_override('enabled_checks', 'phases')

    @base.idempotent_id('2a1adb8c-d6cc-4307-ae68-66d35ccbe7b6')
    def test_list_plans_one_line_each(self):
        self.assertEqual(0, cmd.main(['upgrade', '--list-plans']))
        self.out.seek(0)
        lines = self.out.read().splitlines()
        self.assertEqual(len(model.load_all()), len(lines))
        self.assertTrue(lines[0].startswith('full '))

    @base.idempotent_id('4fef0837-2b95-4c78-9247-d65ed9640b01')
    def test_bad_input_is_one_line(self):
        for argv, expected in (
                (['--plan', 'nope'], "unknown plan 'nope'"),
                (['--from', '2025.2', '--to', '2026.2'],
                 'not a supported upgrade path'),
                (['--plan', 'skip-level', '--from', '2026.1', '--to',
                  '2026.2'],
                 'upgrades slurp pairs'),
                (['--checks', 'no_such_check'], 'unknown check')):
            self.clear_overrides()
            self.err.seek(0)
            self.err.truncate()
            self.assertEqual(2, cmd.main(['upgrade', *argv]), argv)
            self.err.seek(0)
            lines = self.err.read().strip().splitlines()
            self.assertEqual(1, len(lines), lines)
            self.assertIn(expected, lines[0])
