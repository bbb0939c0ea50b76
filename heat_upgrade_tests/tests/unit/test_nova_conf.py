"""Nova and Neutron-on-OVN: what each process of the compute part reads."""

import configparser
from pathlib import Path

import fixtures
import testtools

from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests.minicloud import neutron
from heat_upgrade_tests.minicloud import nova
from heat_upgrade_tests import releases

VALUES = {
    'transport_url': 'rabbit://nova:pw@127.0.0.1:25672/',
    'compute_host': 'hut-compute',
    'host_ip': '127.0.0.1',
    'keystone_url': 'http://127.0.0.1:25000',
    'password': 'novapassword',
    'region': 'RegionOne',
    'libvirt_uri': 'qemu+unix:///system?socket=/run/x/libvirt-sock',
    'virt_type': 'qemu',
    'ovsdb_connection': 'unix:/run/x/db.sock',
}
DB_URLS = {name: f'mysql+pymysql://nova:pw@127.0.0.1/{name}'
           for name in nova.DATABASES}


def read(*paths: Path) -> configparser.ConfigParser:
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(paths)
    return conf


class NovaConfTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = Path(self.useFixture(fixtures.TempDir()).path)
        self.nova = nova.Nova(self.tmp / 'venv-a', self.tmp / 'run', DB_URLS,
                              VALUES, '127.0.0.1', 28774, self.tmp / 'logs')
        self.nova._configure()

    def test_compute_never_reads_the_databases(self):
        compute = self.nova.config_files(self.tmp / 'venv-a', nova.COMPUTE)
        conf = read(*compute)
        self.assertNotIn('database', conf)
        self.assertNotIn('api_database', conf)
        for process in (nova.API, nova.CONDUCTOR, nova.SCHEDULER):
            conf = read(*self.nova.config_files(self.tmp / 'venv-a',
                                                process))
            self.assertEqual(DB_URLS['nova'], conf['database']['connection'])
            self.assertEqual(DB_URLS['nova_api'],
                             conf['api_database']['connection'])

    def test_guests_get_the_run_hypervisor_switch_and_a_config_drive(self):
        conf = read(self.nova.conf_file)
        self.assertEqual(
            ('qemu', 'none', VALUES['libvirt_uri']),
            (conf['libvirt']['virt_type'], conf['libvirt']['cpu_mode'],
             conf['libvirt']['connection_uri']))
        self.assertEqual(VALUES['ovsdb_connection'],
                         conf['os_vif_ovs']['ovsdb_connection'])
        self.assertEqual('true', conf['DEFAULT']['force_config_drive'])
        # The host OVN's chassis is named after.
        self.assertEqual('hut-compute', conf['DEFAULT']['host'])
        self.assertEqual(str(self.tmp / 'run' / 'instances'),
                         conf['DEFAULT']['instances_path'])
        self.assertTrue((self.tmp / 'run' / 'instances').is_dir())

    def test_the_release_file_names_its_own_paste_file_and_helper(self):
        path = self.nova.release_conf(self.tmp / 'venv-b')
        conf = read(path)
        self.assertEqual(str(self.tmp / 'venv-b/etc/nova/api-paste.ini'),
                         conf['wsgi']['api_paste_config'])
        for section in nova.PRIVSEP_SECTIONS:
            helper = conf[section]['helper_command'].split()
            self.assertEqual(str(self.tmp / 'venv-b/bin/privsep-helper'),
                             helper[0], section)
            self.assertNotIn('sudo', helper)

    def test_files_holding_passwords_are_private(self):
        for path in (self.nova.conf_file, self.nova.db_conf):
            self.assertEqual(0o600, path.stat().st_mode & 0o777, path)


class NeutronOvnConfTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = Path(self.useFixture(fixtures.TempDir()).path)

    def neutron(self, ovn):
        return neutron.Neutron(
            self.tmp / 'venv', self.tmp / 'run', 'mysql+pymysql://x',
            'rabbit://x', 'http://127.0.0.1:25000/v3', 'pw', '127.0.0.1',
            29696, self.tmp / 'logs', ovn=ovn)

    def test_without_ovn_ports_are_never_bound(self):
        server = self.neutron(None)
        files = server.config_files(server.venv)
        self.assertEqual(['neutron.conf', 'release-venv.conf'],
                         [p.name for p in files])

    def test_with_ovn_its_file_is_read_after_neutron_conf(self):
        server = self.neutron({'ovn_nb_connection': 'unix:/r/nb.sock',
                               'ovn_sb_connection': 'unix:/r/sb.sock',
                               'region': 'RegionOne'})
        files = server.config_files(server.venv)
        self.assertEqual(['neutron.conf', 'neutron-ovn.conf',
                          'release-venv.conf'], [p.name for p in files])
        server.start = lambda venv=None: None
        server.fresh_schema = lambda: None
        server.setUp()
        self.addCleanup(server.cleanUp)
        conf = read(*files[:2])
        self.assertEqual('ovn', conf['ml2']['mechanism_drivers'])
        self.assertEqual('ovn-router', conf['DEFAULT']['service_plugins'])
        self.assertEqual('unix:/r/nb.sock', conf['ovn']['ovn_nb_connection'])
        self.assertEqual('true',
                         conf['DEFAULT']['notify_nova_on_port_status_changes'])


class ComputeCatalogueTest(testtools.TestCase):

    def test_the_compute_part_is_named_in_releases_yaml(self):
        packages = releases.packages()
        self.assertEqual({'placement', 'glance', 'nova'},
                         {n for n, p in packages.items() if p.compute})
        for series in releases.load_series().values():
            self.assertTrue(series.version('nova'), series.name)
            self.assertTrue(series.constraints_of('nova').is_file(),
                            series.name)

    def test_a_server_check_runs_on_the_minicloud_only_with_compute(self):
        server_http = checks_base.all_checks()['server_http']
        self.assertFalse(server_http.runs_on_minicloud(compute=False))
        self.assertTrue(server_http.runs_on_minicloud())
        volume = checks_base.all_checks()['volume_attached']
        self.assertFalse(volume.runs_on_minicloud(compute=True))
