"""The compute part of the mini-cloud, on a real mini-cloud of its own.

``[minicloud] compute`` adds Open vSwitch with OVN, libvirt, Placement
and Glance (Nova comes next: doc/source/compute.rst). Here a mini-cloud of
MariaDB, RabbitMQ, those and Keystone, of the newest series, runs on free
ports, and each new service proves it serves: OVN made its integration
bridge, libvirt answers on the run's own socket, Placement lists its
resource providers through Keystone, Glance holds the run-time guest
image the cloud uploaded, with its properties, and gives back its bytes.
"""

import hashlib
import os
from pathlib import Path
import shutil
import tempfile

import fixtures
import testtools

from heat_upgrade_tests import config
from heat_upgrade_tests.installs import guest
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.installs import requirements
from heat_upgrade_tests.installs import venvs
from heat_upgrade_tests.minicloud import cloud as cloud_mod
from heat_upgrade_tests.minicloud import glance
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests.minicloud import services
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests import releases
from heat_upgrade_tests.tests.functional import test_interrupt

WORK_DIR = Path(config.CACHE_HOME).expanduser() / 'functional-compute'
SERVICES = ('keystone', 'placement', 'glance')


class ComputePartTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        shutil.rmtree(WORK_DIR, ignore_errors=True)
        WORK_DIR.mkdir(parents=True)
        self.addCleanup(shutil.rmtree, WORK_DIR, ignore_errors=True)
        logs = WORK_DIR / 'logs'
        logs.mkdir()
        options = services.port_options(compute=True)
        ports = dict(zip(options, test_interrupt._free_ports(len(options))))
        conf_file = WORK_DIR / 'hut.conf'
        conf_file.write_text('[minicloud]\ncompute = true\n' + ''.join(
            f'{k} = {v}\n' for k, v in ports.items()))
        conf = config.load(config_files=[str(conf_file)])
        packages.ensure_system_packages(logs / 'apt.log')
        for table in packages.COMPUTE_TABLES:
            packages.ensure_system_packages(logs / 'apt.log', table)
        series = releases.default_pair()[1]
        starting: dict[str, service.Release] = {}
        for name in SERVICES:
            venv_name, reqs, pins = requirements.spec(name, series)
            venv = venvs.ensure_venv(
                Path(os.path.expanduser(conf.minicloud.cache_dir)),
                venv_name, reqs, pins, logs / f'venv-{venv_name}.log')
            starting[name] = service.Release(name, series.name,
                                             series.version(name), venv)
        self.cloud = self.useFixture(
            cloud_mod.MiniCloud(conf, WORK_DIR / 'run', starting))
        self.conn = self.cloud.admin_connection()
        self.addCleanup(self.conn.close)

    @base.idempotent_id('d2b7e4a1-6c39-4f85-9e0a-3b1c7d5f8e26')
    def test_the_switch_and_the_hypervisor_run_privately(self):
        switch = self.cloud.services['ovn'].server
        self.assertIn('br-int', switch.ovs_vsctl('list-br').split())
        hypervisor = self.cloud.services['libvirt'].server
        self.assertIn(str(WORK_DIR), hypervisor.connection_uri)
        self.assertIn('Running hypervisor: QEMU', hypervisor.virsh('version'))
        self.assertEqual({}, hypervisor.guest_pids())

    @base.idempotent_id('7e3b1c95-2d48-4f06-a9e1-5c8d0b6f2a73')
    def test_placement_and_glance_serve_through_keystone(self):
        catalog = {e['type'] for e in self.conn.config.get_service_catalog()
                   .catalog}
        self.assertLessEqual({'placement', 'image'}, catalog)
        # Placement: an authenticated read (no provider yet, no Nova).
        self.assertEqual([], list(self.conn.placement.resource_providers()))
        # Glance: the run-time guest, uploaded by the cloud with the
        # properties Nova needs, marked by its digest.
        tmp = Path(self.useFixture(fixtures.TempDir()).path)
        image = guest.build(Path(config.CACHE_HOME).expanduser(),
                            tmp / 'guest.log')
        found = [i for i in self.conn.image.images()
                 if (i.properties or {}).get(glance.GUEST_PROPERTY) ==
                 image.digest]
        self.assertEqual(1, len(found), found)
        shown = self.conn.image.get_image(found[0].id)
        self.assertEqual(('active', 'public', image.size),
                         (shown.status, shown.visibility, shown.size))
        for key, value in guest.IMAGE_PROPERTIES.items():
            self.assertEqual(value, shown.properties.get(key, getattr(
                shown, key, None)), key)
        with tempfile.TemporaryFile() as back:
            self.conn.image.download_image(shown, output=back)
            back.seek(0)
            digest = hashlib.sha256(back.read()).hexdigest()
        self.assertEqual(image.digest, f'sha256:{digest}')
