"""Ctrl-C in the middle of building the mini-cloud stops everything.

Runs beside the shared scenario on ports and a work directory of its own,
and interrupts ``heat-upgrade-tests upgrade`` as a user's Ctrl-C does.
"""

import functools
import os
import signal
import socket
import subprocess
import sys
import time

import fixtures
import testtools

from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.plans import memory

PORT_OPTIONS = ('keystone_port', 'heat_api_port', 'heat_cfn_port',
                'mysql_port', 'rabbit_port', 'rabbit_dist_port', 'epmd_port',
                'swift_proxy_port', 'swift_object_port',
                'swift_container_port', 'swift_account_port',
                'neutron_port')


# rabbitmqctl itself listens on one of these while it runs.
RABBITMQCTL_PORTS = range(35672, 35683)


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        while len(sockets) < count:
            sock = socket.socket()
            sock.bind(('127.0.0.1', 0))
            if sock.getsockname()[1] in RABBITMQCTL_PORTS:
                sock.close()
                continue
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class InterruptTest(testtools.TestCase):

    @base.idempotent_id('b0c1d2e3-f4a5-4b6c-8d7e-9f0a1b2c3d4e')
    def test_ctrl_c_while_services_start_stops_them_all(self):
        work = self.useFixture(fixtures.TempDir()).path
        ports = dict(zip(PORT_OPTIONS, _free_ports(len(PORT_OPTIONS))))
        conf = os.path.join(work, 'hut.conf')
        with open(conf, 'w') as f:
            f.write('[minicloud]\n' + ''.join(
                f'{k} = {v}\n' for k, v in ports.items()) +
                f'work_dir = {work}/run\ncompute = false\n')
        log_path = os.path.join(work, 'out.log')
        with open(log_path, 'w') as log:
            # As from a terminal: a test run started in the background of
            # a non-interactive shell inherits SIGINT ignored, and Python
            # then keeps ignoring it (so would a user's background job).
            proc = subprocess.Popen(
                [sys.executable, '-m', 'heat_upgrade_tests.cmd',
                 '--config-file', conf, 'upgrade'],
                stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=functools.partial(
                    signal.signal, signal.SIGINT, signal.SIG_DFL))
        # If this test fails before the driver stopped its services, take
        # them down too, so that a failing run leaves nothing behind.
        self.addCleanup(subprocess.call, ['pkill', '-KILL', '-f', work])
        self.addCleanup(proc.kill)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with open(log_path) as f:
                if '--> start MariaDB' in f.read():
                    break
            self.assertIsNone(proc.poll(), 'the upgrade ended too early')
            time.sleep(0.5)
        time.sleep(5)  # MariaDB and RabbitMQ are starting or up
        started = set(memory.service_rss())
        proc.send_signal(signal.SIGINT)
        returncode = proc.wait(180)
        with open(log_path) as f:
            output = f.read()
        self.assertEqual(130, returncode, output)
        self.assertIn('heat-upgrade-tests: interrupted', output)
        self.assertTrue(started, 'no service had started when interrupted')
        leftovers = [line for line in subprocess.run(
            ['ps', '-eo', 'args'], capture_output=True, text=True
        ).stdout.splitlines() if work in line]
        self.assertEqual([], leftovers)
        for name, port in ports.items():
            with socket.socket() as sock:
                self.assertNotEqual(0, sock.connect_ex(('127.0.0.1', port)),
                                    f'{name} {port} still listens')
