"""Destroy waits, bounded, for a cloud coming back before it refuses."""

import io

import fixtures
import testtools

from heat_upgrade_tests import clients
from heat_upgrade_tests import config
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.phases import command


class Conn:
    def close(self):
        pass


class AwaitRecoveryTest(testtools.TestCase):
    """On the project's own seams: ``clients.connect`` and the probe."""

    def setUp(self):
        super().setUp()
        self.conf = config.load(config_files=[])
        self.out = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', self.out))
        # What each look finds, in order; the last repeats.
        self.looks: list = []

        def connect(conf):
            look = self.looks.pop(0) if len(self.looks) > 1 else (
                self.looks[0])
            if isinstance(look, Exception):
                raise look
            self.state = look
            return Conn()
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.clients.connect', connect))
        self.useFixture(fixtures.MonkeyPatch(
            'heat_upgrade_tests.clients.probe_heat_api',
            lambda conn, timeout: clients.Answer(self.state, self.state)))

    def wait(self, timeout=5):
        command._await_recovery(self.conf, timeout, interval=0.01)

    def test_a_cloud_that_answers_is_not_waited_for(self):
        self.looks = [clients.UP]
        self.wait()
        self.assertEqual('', self.out.getvalue())

    def test_keystone_then_heat_coming_back_is_waited_for(self):
        self.looks = [exceptions.CloudUnreachable('keystone restarting'),
                      clients.UNANSWERED, clients.UNANSWERED, clients.UP]
        self.wait()
        self.assertIn('==> destroy: waiting up to 5s for Keystone and '
                      'Heat\'s API to answer again (the identity service: '
                      'keystone restarting)', self.out.getvalue())
        self.assertEqual([clients.UP], self.looks)

    def test_a_cloud_that_stays_away_is_named_then_left_to_preflight(self):
        self.looks = [clients.DOWN]
        self.wait(timeout=0.05)
        self.assertIn('==> destroy: timed out', self.out.getvalue())
        self.assertIn("Keystone and Heat's API to answer again (last: "
                      "Heat's API: down)", self.out.getvalue())

    def test_refused_credentials_are_an_answer_at_once(self):
        self.looks = [exceptions.CredentialsRefused('refused')]
        self.assertRaises(exceptions.CredentialsRefused, self.wait)
        self.assertEqual('', self.out.getvalue())

    def test_zero_waits_for_nothing(self):
        self.looks = [exceptions.CloudUnreachable('away')]
        command._await_recovery(self.conf, 0)
        self.assertEqual('', self.out.getvalue())
