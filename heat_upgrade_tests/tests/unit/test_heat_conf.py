"""The mini-cloud's heat.conf: what it tunes, as oslo.config reads it.

Each tuning is documented (doc/source/performance.rst, failures.rst) with
what it must not change; these tests pin the values those pages argue
for, read the way Heat reads them (oslo.config with Heat's and
oslo.messaging's own options), so a template edit that drops one, or
misspells a section, fails here rather than as a slow or hung run.
"""

import os
from pathlib import Path

import fixtures
from oslo_config import cfg
import testtools

from heat_upgrade_tests.minicloud import heat
from heat_upgrade_tests.phases.suite import base


class HeatConfTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = Path(self.useFixture(fixtures.TempDir()).path)
        self.path = heat.render_heat_conf(
            self.dir / 'heat.conf', transport_url='rabbit://u:p@h:1/heat',
            db_url='mysql+pymysql://u:p@h/heat',
            auth_url='http://127.0.0.1:5000/v3', host='127.0.0.1',
            api_port=8004, heat_password='pw$1', domain_admin_password='d')

    def _read(self, group: str | None, opts: list) -> cfg.ConfigOpts:
        conf = cfg.ConfigOpts()
        conf.register_opts(opts, group=group)
        conf(['--config-file', str(self.path)], project='hut-test')
        return conf

    @base.idempotent_id('d589d523-5da4-4091-812f-9dbfb9859a2b')
    def test_topic_queues_are_durable(self):
        # A RabbitMQ restart must not drop a convergence message
        # (doc/source/failures.rst, "The services under Heat restart").
        conf = self._read('oslo_messaging_rabbit', [
            cfg.BoolOpt('amqp_durable_queues', default=False)])
        self.assertTrue(conf.oslo_messaging_rabbit.amqp_durable_queues)

    @base.idempotent_id('29d99c94-186f-4378-bfb8-430daa5aa42f')
    def test_tunings_and_secrets(self):
        conf = self._read(None, [
            cfg.IntOpt('graceful_shutdown_timeout'),
            cfg.IntOpt('periodic_interval'),
            cfg.IntOpt('rpc_response_timeout'),
            cfg.IntOpt('max_stacks_per_tenant')])
        self.assertEqual((10, 5, 30, 4096),
                         (conf.graceful_shutdown_timeout,
                          conf.periodic_interval, conf.rpc_response_timeout,
                          conf.max_stacks_per_tenant))
        # It holds passwords: only its owner reads it; a $ in a password
        # survives oslo.config's substitution.
        self.assertEqual(0o600, os.stat(self.path).st_mode & 0o777)
        conf = self._read('keystone_authtoken', [cfg.StrOpt('password')])
        self.assertEqual('pw$1', conf.keystone_authtoken.password)
