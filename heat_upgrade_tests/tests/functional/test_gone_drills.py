"""The destroy phase's table names a leftover of each type it knows.

One test per resource type of ``_gone.TABLE`` (``test_gone_<type>``): an
object of that type made directly in its service on the shared mini-cloud
is named by the table's lookup while it exists, and no longer once it is
deleted. A type whose service the mini-cloud lacks is skipped with that
reason (drilled where the service runs).
"""

import uuid

import testtools

from heat_upgrade_tests.checks import _gone
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.tests.functional import gone_drills
from heat_upgrade_tests.tests.functional.scenario import scenario

# Stable ids for the generated tests, one per resource type.
_IDS = uuid.UUID('6f1d2c47-93a8-4b0e-8d5c-2e7f4a9b1c03')


class GoneDrillsTest(testtools.TestCase):

    @base.idempotent_id('a4e2c9d1-7b35-4f60-9c8e-1d3b5f7a2e94')
    def test_every_type_of_the_table_has_a_maker_or_needs_a_service(self):
        """A type added to the table without a drill is not done."""
        scenario()
        missing = [t for t in _gone.TABLE
                   if t not in gone_drills.CREATORS and
                   'skipped' not in gone_drills.RESULTS.get(t, {})]
        self.assertEqual([], missing)


def _make_test(type_name: str):
    def test(self):
        scenario()
        result = gone_drills.RESULTS.get(type_name)
        self.assertIsNotNone(result, f'{type_name} was not drilled')
        self.assertNotIn('error', result, result.get('error'))
        if 'skipped' in result:
            self.skipTest(result['skipped'])
        lookup = _gone.TABLE[type_name]
        self.assertEqual([f'{type_name} drill ({result["id"]}) in '
                          f'{lookup.service}'], result['named'])
        self.assertEqual([], result['after_delete'])
    name = type_name.replace('OS::', '').replace('::', '_').lower()
    test.__name__ = f'test_gone_{name}'
    test.__doc__ = f'A leftover {type_name} is named, a deleted one not.'
    return name, base.idempotent_id(str(uuid.uuid5(_IDS, type_name)))(test)


for _type in _gone.TABLE:
    _name, _test = _make_test(_type)
    setattr(GoneDrillsTest, f'test_gone_{_name}', _test)
