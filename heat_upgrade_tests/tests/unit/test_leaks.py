"""Counting what a run leaves behind (the project's own logic)."""

import types

import testtools

from heat_upgrade_tests import leaks


class Listing:
    def __init__(self, objects):
        self.objects = objects

    def __call__(self):
        return [types.SimpleNamespace(id=i, name=n)
                for i, n in self.objects.items()]


class Response:
    status_code = 200

    def __init__(self, stacks):
        self.stacks = stacks

    def json(self):
        return {'stacks': self.stacks}


def cloud(stacks, users):
    identity = types.SimpleNamespace(
        users=Listing(users), groups=Listing({}), roles=Listing({'r': 'a'}),
        projects=Listing({}), domains=Listing({}))
    orchestration = types.SimpleNamespace(
        get=lambda url, **kw: Response(stacks))
    return types.SimpleNamespace(identity=identity,
                                 orchestration=orchestration)


class LeaksTest(testtools.TestCase):

    def test_nothing_left(self):
        before = leaks.inventory(cloud([], {'u1': 'admin'}))
        after = leaks.inventory(cloud([{'id': 's', 'stack_name': 'x',
                                        'stack_status': 'DELETE_COMPLETE'}],
                                      {'u1': 'admin'}))
        left = leaks.left_behind(before, after)
        self.assertEqual({k: {} for k in leaks.KINDS}, left)
        self.assertEqual(['left behind by the run: 0 stacks, 0 users, '
                          '0 groups, 0 roles, 0 projects, 0 domains '
                          '(nothing)'], leaks.describe(left))

    def test_what_is_left_is_named(self):
        before = leaks.inventory(cloud([], {'u1': 'admin'}))
        after = leaks.inventory(cloud(
            [{'id': 's1', 'stack_name': 'hut-keystone-objects-1',
              'stack_status': 'UPDATE_FAILED'}],
            {'u1': 'admin', 'u2': 'hut-user'}))
        lines = leaks.describe(leaks.left_behind(before, after))
        self.assertEqual('left behind by the run: 1 stacks, 1 users, '
                         '0 groups, 0 roles, 0 projects, 0 domains',
                         lines[0])
        self.assertIn('  stack hut-keystone-objects-1 (s1)', lines)
        self.assertIn('  user hut-user (u2)', lines)
