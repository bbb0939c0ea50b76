"""'Down' is proven: refused, or a proxy without its application.

Real sockets of this machine, no HTTP server standing in for a service: a
port nothing listens on, and a port that listens and never answers (what
a heat-api whose workers all wait on an engine looks like from outside).
"""

import socket
import threading

import fixtures
import testtools

from heat_upgrade_tests import clients
from heat_upgrade_tests import exceptions


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class ProbeApiTest(testtools.TestCase):

    def test_a_port_nothing_listens_on_is_down(self):
        url = f'http://127.0.0.1:{_free_port()}/'
        answer = clients.probe_api(url, timeout=2)
        self.assertEqual(clients.DOWN, answer.state)
        self.assertIn('connection refused', answer.detail)

    def test_a_listening_socket_that_never_answers_is_not_down(self):
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(('127.0.0.1', 0))
        # The kernel accepts the connection into the backlog; nobody reads.
        listener.listen(8)
        url = f'http://127.0.0.1:{listener.getsockname()[1]}/'
        answer = clients.probe_api(url, timeout=0.5)
        self.assertEqual(clients.UNANSWERED, answer.state)
        self.assertIn('accepted the connection but gave no answer within '
                      '0.5s', answer.detail)

    def test_a_socket_that_accepts_and_closes_is_not_down(self):
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(('127.0.0.1', 0))
        listener.listen(8)
        port = listener.getsockname()[1]

        def close_each():
            conn, _ = listener.accept()
            conn.recv(1024)
            conn.close()
        closer = threading.Thread(target=close_each, daemon=True)
        closer.start()
        answer = clients.probe_api(f'http://127.0.0.1:{port}/', timeout=2)
        closer.join(5)
        self.assertEqual(clients.UNANSWERED, answer.state)
        self.assertIn('answered nothing', answer.detail)


class VerifyHeatDownTest(testtools.TestCase):
    """The during-upgrade precondition, on the probe's three answers."""

    def verify(self, state):
        answer = clients.Answer(state, 'what the probe saw')
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.clients.probe_heat_api',
            lambda conn, timeout: answer))
        clients.verify_heat_down(None, 1)

    def test_down_passes(self):
        self.verify(clients.DOWN)

    def test_up_or_listening_fails_saying_which(self):
        failed = exceptions.UpgradeTestError
        exc = self.assertRaises(failed, self.verify, clients.UP)
        self.assertIn("Heat's API is up (what the probe saw)", str(exc))
        exc = self.assertRaises(failed, self.verify, clients.UNANSWERED)
        self.assertIn("Heat's API is up but not answering (what the probe "
                      "saw): a listening heat-api is not a stopped one",
                      str(exc))
