"""The APIs served by uwsgi: what each is told, from its release."""

import configparser
from pathlib import Path

import fixtures
import testtools

from heat_upgrade_tests.minicloud import glance
from heat_upgrade_tests.minicloud import placement
from heat_upgrade_tests.minicloud import wsgi_service


class WsgiApiTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = Path(self.useFixture(fixtures.TempDir()).path)

    def api(self, api):
        return wsgi_service.WsgiApi(
            api, self.tmp / 'venv-a', self.tmp / 'run', 'mysql+pymysql://x',
            'http://127.0.0.1:25000/v3', 'secret', '127.0.0.1', 28778,
            self.tmp / 'logs')

    def test_glance_reads_its_release_paste_file_and_stores_of_the_run(self):
        server = self.api(glance.API)
        server._configure(self.tmp / 'venv-b')
        conf = configparser.ConfigParser(interpolation=None)
        conf.read(server.conf_file)
        self.assertEqual(str(self.tmp / 'venv-b/etc/glance/'
                             'glance-api-paste.ini'),
                         conf['paste_deploy']['config_file'])
        for section, store in (('local', 'images'),
                               ('os_glance_staging_store', 'staging'),
                               ('os_glance_tasks_store', 'tasks')):
            path = Path(conf[section]['filesystem_store_datadir'])
            self.assertEqual(self.tmp / 'run' / store, path)
            self.assertTrue(path.is_dir())
        self.assertEqual('http://127.0.0.1:25000/v3',
                         conf['keystone_authtoken']['auth_url'])
        # It holds a password: nobody else reads it.
        self.assertEqual(0o600, server.conf_file.stat().st_mode & 0o777)

    def test_placement_is_told_its_database_and_keystone(self):
        server = self.api(placement.API)
        server._configure(server.venv)
        conf = configparser.ConfigParser(interpolation=None)
        conf.read(server.conf_file)
        self.assertEqual('mysql+pymysql://x',
                         conf['placement_database']['connection'])
        self.assertEqual('placement', conf['keystone_authtoken']['username'])
        self.assertEqual('placement.conf', server.conf_file.name)

    def test_the_migrations_as_plans_print_them(self):
        self.assertEqual('placement-manage db sync',
                         placement.API.sync_title)
        self.assertEqual('glance-manage db_sync', glance.API.sync_title)
        self.assertEqual(placement.API.sync_title,
                         placement.PlacementService.migrate_tool)
