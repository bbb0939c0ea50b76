"""The services' registry agrees with releases.yaml, the options, the plans.

Adding a service is its module, its registry line, its keys in
``releases.yaml``, its port options and its plan steps
(doc/source/adding-a-service.rst): these tests fail, naming what is
missing, when one of those places is forgotten.
"""

from pathlib import Path

import fixtures
from oslo_config import cfg
import testtools

from heat_upgrade_tests import config
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests.minicloud import services
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import model
from heat_upgrade_tests import releases

# A port in the ephemeral range can be taken by an outgoing connection
# (FIELD-NOTES: a RabbitMQ port there was).
EPHEMERAL_LOW = 32768


class RegistryTest(testtools.TestCase):

    @base.idempotent_id('0f3c7a52-6e1b-4d8f-9a2c-5b7e4d1f8a60')
    def test_each_versioned_service_installs_from_releases_yaml(self):
        packages = releases.packages()
        known = releases.load_series()
        for name, cls in services.REGISTRY.items():
            self.assertTrue(issubclass(cls, service.Service), name)
            if not cls.versioned:
                continue
            self.assertIn(name, packages,
                          f'{name}: no entry under services: in '
                          f'releases.yaml')
            self.assertTrue(any(s.version(name) for s in known.values()),
                            f'{name}: no series of releases.yaml names a '
                            f'release of it')

    @base.idempotent_id('a1d4e8b0-3c5f-4a7e-8b2d-6f9c1e3a5d72')
    def test_ports_are_minicloud_options_distinct_and_not_ephemeral(self):
        opts = {o.name: o for o in config.minicloud_opts}
        defaults = {}
        for name, cls in services.REGISTRY.items():
            for option in cls.port_options:
                self.assertIn(option, opts, f'{name}: no [minicloud] '
                                            f'{option} in config.py')
                self.assertIsInstance(opts[option], cfg.PortOpt, option)
                default = opts[option].default
                self.assertLess(default, EPHEMERAL_LOW, option)
                self.assertNotIn(default, defaults,
                                 f'{option} shares port {default} with '
                                 f'{defaults.get(default)}')
                defaults[default] = option

    @base.idempotent_id('c7b2f9e4-1a6d-4e3b-9f8c-2d5a7e0b4c86')
    def test_process_names_belong_to_one_service_each(self):
        seen = {}
        for name, cls in services.REGISTRY.items():
            for process in cls.names():
                self.assertNotIn(process, seen, f'{process} named by '
                                                f'{seen.get(process)} too')
                seen[process] = name
                self.assertIs(cls, services.of_process(process))

    @base.idempotent_id('e5a8c1d3-7f2b-4b9e-a6d4-3c8f1b7e2a94')
    def test_plans_name_what_the_registry_runs(self):
        self.assertEqual(services.process_names(), model.SERVICES)
        self.assertEqual(services.migratable(), model.MIGRATABLE)
        self.assertEqual('keystone', services.with_cloud()[0])
        for plan in model.load_all().values():
            for ref in plan.refs():
                owner = services.of_process(ref.service)
                self.assertTrue(owner.versioned, f'{plan.name}: {ref}')
                if ref.release:
                    self.assertIn(ref.release, model.RELEASES)


class _Recorder(service.Service):
    """A service that only records what the cloud asks of it."""

    calls: list = []

    def prepare(self):
        self.calls.append(f'prepare {self.name}')

    def start(self, release, process=None, instance=None, bus=None):
        self.calls.append(f'start {self.name}'
                          + (f'@{release.series}' if release else ''))
        return ''

    def register(self):
        self.calls.append(f'register {self.name}')


def _fake(name_, **attrs):
    return type(f'Fake{name_.title()}', (_Recorder,),
                dict(name=name_, title=name_.title(), **attrs))


class CloudStartTest(testtools.TestCase):
    """The cloud's order of start, on fakes of the services."""

    def setUp(self):
        super().setUp()
        _Recorder.calls = []
        registry = {cls.name: cls for cls in (
            _fake('mariadb', versioned=False),
            _fake('rabbitmq', versioned=False),
            _fake('keystone'), _fake('swift'), _fake('neutron'),
            _fake('heat', starts_with_cloud=False))}
        self.useFixture(fixtures.MockPatchObject(services, 'REGISTRY',
                                                 registry))
        self.dir = Path(self.useFixture(fixtures.TempDir()).path)

    def start(self, **releases):
        from heat_upgrade_tests.minicloud import cloud as cloud_mod
        conf = config.load(config_files=[])
        cloud = cloud_mod.MiniCloud(conf, self.dir / 'run', {
            name: service.Release(name, series, '1.0', self.dir)
            if series else None for name, series in releases.items()})
        cloud.setUp()
        self.addCleanup(cloud.cleanUp)
        return cloud, list(_Recorder.calls)

    @base.idempotent_id('3b6e9d2f-8c4a-4f1e-b7d5-9a2c6e4f1b08')
    def test_order_of_prepare_start_and_register(self):
        cloud, calls = self.start(keystone='2026.2', swift='2026.1',
                                  neutron='2026.1')
        index = calls.index
        # The machine's services first, then every other prepares before
        # it starts; Keystone registers Heat (started later by the plans)
        # and then itself; the others register once all are up.
        self.assertEqual({'start mariadb', 'start rabbitmq'},
                         set(calls[:2]))
        for name in ('keystone', 'swift', 'neutron'):
            self.assertLess(index(f'prepare {name}'),
                            index(f'start {name}@' + (
                                '2026.2' if name == 'keystone' else
                                '2026.1')))
            self.assertGreaterEqual(index(f'prepare {name}'), 2)
        self.assertIn('prepare heat', calls)
        self.assertNotIn('start heat', ' '.join(calls))
        self.assertLess(index('start keystone@2026.2'),
                        index('register heat'))
        self.assertLess(index('register heat'), index('register keystone'))
        # Once everything else is done, in the registry's order.
        self.assertEqual(['register swift', 'register neutron'], calls[-2:])
        self.assertEqual(2, sum(c.startswith(('register swift',
                                              'register neutron'))
                                for c in calls))
        self.assertTrue(cloud.clouds_yaml.is_file())

    @base.idempotent_id('5d8a1f4c-2e7b-4c9d-8f3a-6b1e9c4d7a25')
    def test_a_service_without_a_release_is_not_run(self):
        cloud, calls = self.start(keystone='2026.2', swift=None,
                                  neutron='2026.1')
        self.assertNotIn('swift', cloud.services)
        self.assertFalse([c for c in calls if c.endswith('swift')])
        self.assertIn('register neutron', calls)

    @base.idempotent_id('8e2c5a7d-4f1b-4a6e-9c3d-1b7f5e8a2c49')
    def test_one_password_per_name_across_threads(self):
        cloud, _ = self.start(keystone='2026.2')
        from concurrent import futures
        with futures.ThreadPoolExecutor(max_workers=8) as pool:
            found = set(pool.map(lambda _: cloud.password('shared'),
                                 range(64)))
        self.assertEqual(1, len(found))
