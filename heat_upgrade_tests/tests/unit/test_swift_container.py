"""swift_container's no-api probe: skipped, with grenade's reason, unless
Swift serves then."""

import types

import testtools

from heat_upgrade_tests.checks import swift_container
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.phases.suite import base


class NoApiTest(testtools.TestCase):

    @base.idempotent_id('fadcb1e8-5bf2-43d9-a4a5-266166393d38')
    def test_skipped_where_swift_is_down_at_no_api(self):
        conf = types.SimpleNamespace(phases=types.SimpleNamespace(
            swift_serves_at_no_api=False))
        ctx = types.SimpleNamespace(conf=conf)
        record = swift_container.ContainerRecord(probe_url='http://x/')
        exc = self.assertRaises(exceptions.CheckSkipped,
                                swift_container.SwiftContainer()
                                .verify_data_plane, ctx, record)
        self.assertIn('grenade stops Swift', str(exc))
