"""ensure_free turns a taken port into one line that says what to do."""

import socket

import testtools

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.minicloud import ports


def _listening_socket(reuse: bool = False) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if reuse:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', 0))
    sock.listen(1)
    return sock


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class TestEnsureFree(testtools.TestCase):

    def _busy_port(self) -> int:
        sock = _listening_socket()
        self.addCleanup(sock.close)
        return sock.getsockname()[1]

    def test_free_ports_pass(self):
        ports.ensure_free({'keystone': _free_port(), 'mysql': _free_port()})

    def test_empty_mapping_passes(self):
        ports.ensure_free({})

    def test_busy_port_names_port_service_and_option(self):
        port = self._busy_port()
        exc = self.assertRaises(exceptions.PortBusy, ports.ensure_free,
                                {'mysql': _free_port(), 'keystone': port})
        self.assertEqual(
            f'port {port} (keystone) on 127.0.0.1 is already in use by '
            f'another process; free it or set [minicloud] keystone_port',
            str(exc))

    def test_all_busy_ports_in_one_line(self):
        first, second = self._busy_port(), self._busy_port()
        exc = self.assertRaises(
            exceptions.PortBusy, ports.ensure_free,
            {'keystone': first, 'mysql': _free_port(), 'rabbit': second})
        message = str(exc)
        self.assertNotIn('\n', message)
        self.assertIn(f'{first} (keystone)', message)
        self.assertIn(f'{second} (rabbit)', message)
        self.assertIn('keystone_port, rabbit_port', message)
        self.assertNotIn('mysql', message)

    def test_busy_is_a_minicloud_error(self):
        port = self._busy_port()
        self.assertRaises(exceptions.MiniCloudError, ports.ensure_free,
                          {'epmd': port})

    def test_port_given_twice(self):
        port = _free_port()
        exc = self.assertRaises(exceptions.PortBusy, ports.ensure_free,
                                {'keystone': port, 'heat_api': port})
        self.assertIn('keystone', str(exc))
        self.assertIn('heat_api', str(exc))

    def test_lingering_connection_is_not_busy(self):
        # A server of a previous run (which sets SO_REUSEADDR, as MariaDB
        # and RabbitMQ do) closed a connection that sits in TIME_WAIT:
        # that must not stop a restart.
        server = _listening_socket(reuse=True)
        port = server.getsockname()[1]
        client = socket.create_connection(('127.0.0.1', port))
        conn, _addr = server.accept()
        conn.close()
        client.close()
        server.close()
        ports.ensure_free({'keystone': port})
