"""Imports run one way: a module imports its own room and the rooms below.

The package is a house of rooms, ground first and top last (``ROOMS``).
A room may import itself and the rooms its row names, never a room above
it: not at module level, and not inside a function either, where an
upward import hides until the function runs. Every module of the package
(its tests aside) is in exactly one room, so a new module is placed on
purpose rather than wherever its first import happens to work.

The checker reads source text with ``ast`` and imports nothing. It sees
every import of ``heat_upgrade_tests``: module-level and function-local
(functions, methods, ``try`` blocks, ``if TYPE_CHECKING``), ``import x.y``
and ``from x import y``, relative imports, and ``import_module`` of a
literal name. An imported name is read as the module it is, or is in:
``from heat_upgrade_tests.plans.model import Plan`` imports
``heat_upgrade_tests.plans.model``.
"""

import ast
import collections
import fnmatch
import functools
import pathlib
import textwrap
import typing

import testtools

from heat_upgrade_tests.phases.suite import base

PACKAGE = 'heat_upgrade_tests'


class Room(typing.NamedTuple):
    """A row of the table: the modules a room holds, the rooms it imports."""

    name: str
    # fnmatch patterns of module names ('*' crosses dots).
    holds: tuple[str, ...]
    # The rooms it may import besides itself (each listed above it), or
    # ANYTHING.
    may_import: tuple[str, ...]
    # Patterns taken back out of ``holds``.
    but_not: tuple[str, ...] = ()


# The top room's imports: every room, and modules in none (its tests).
ANYTHING = ('<anything>',)


def _in(*names: str) -> tuple[str, ...]:
    return tuple(f'{PACKAGE}.{name}' for name in names)


# THE TABLE. Ground first, top last: a room may import only rooms listed
# above it (table_problems holds the table to that), so the directions
# cannot make a cycle.
ROOMS = (
    # heatdb is in the target layout; no such module in the tree yet.
    Room('ground',
         holds=_in('exceptions', 'config', 'state', 'releases', 'processes',
                   'datafiles', 'heatdb', 'copies'),
         may_import=()),
    Room('installs',
         holds=_in('installs', 'installs.*'),
         may_import=('ground',)),
    Room('services',
         holds=_in('minicloud', 'minicloud.*'),
         may_import=('installs', 'ground')),
    # The cloud clients.
    Room('clients',
         holds=_in('clients', 'engines', 'leaks'),
         may_import=('ground',)),
    Room('runreport',
         holds=_in('runreport', 'runreport.*'),
         may_import=('ground',)),
    # Never plans.
    Room('heat_tests',
         holds=_in('heat_tests'),
         may_import=('installs', 'runreport', 'ground')),
    # 'clients' for leaks. Never phases, checks or integrity.
    Room('plans',
         holds=_in('plans', 'plans.*'),
         may_import=('services', 'installs', 'runreport', 'clients',
                     'heat_tests', 'ground')),
    Room('checks',
         holds=_in('checks', 'checks.*'),
         may_import=('clients', 'ground')),
    Room('integrity',
         holds=_in('integrity', 'integrity.*'),
         may_import=('installs', 'ground')),
    # The phase command, its runner, the mixed phase, the generated
    # stestr modules.
    Room('phases',
         holds=_in('phases', 'phases.*'),
         may_import=('checks', 'clients', 'integrity', 'ground')),
    Room('top',
         holds=(PACKAGE,) + _in('cmd', 'scaffold', 'benchmarks',
                                'benchmarks.*'),
         may_import=ANYTHING),
)


# --- The checker: text in, lines out. ---

def _relative_base(module: str, is_package: bool, level: int) -> str | None:
    """The package ``level`` dots name from ``module``; None above the top."""
    parts = module.split('.') if is_package else module.split('.')[:-1]
    keep = len(parts) - (level - 1)
    return '.'.join(parts[:keep]) if keep > 0 else None


def _literal_import(node: ast.AST) -> str | None:
    """The name in ``import_module('x')`` or ``__import__('x')``, if any."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(
        func, 'id', None)
    first = node.args[0]
    if (name in ('import_module', '__import__')
            and isinstance(first, ast.Constant)
            and isinstance(first.value, str)):
        return first.value
    return None


def imports_in_source(source: str, module: str, is_package: bool = False,
                      filename: str = '<source>',
                      package: str = PACKAGE) -> list[str]:
    """Every name of ``package`` that ``source`` imports, anywhere in it.

    ``module`` is the source's own module name (and ``is_package`` says
    whether it is a package's ``__init__``), to resolve relative imports.
    ``from a.b import c`` imports ``a.b.c``: a module or a name in one.
    """
    found = set()
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            origin = node.module
            if node.level:
                origin = _relative_base(module, is_package, node.level)
                if origin is None:
                    continue
                if node.module:
                    origin = f'{origin}.{node.module}'
            for alias in node.names:
                found.add(origin if alias.name == '*'
                          else f'{origin}.{alias.name}')
        else:
            literal = _literal_import(node)
            if literal:
                found.add(literal)
    return sorted(name for name in found
                  if name == package or name.startswith(package + '.'))


def imports_in_file(path: pathlib.Path, module: str,
                    is_package: bool = False) -> list[str]:
    """``imports_in_source`` of a file."""
    return imports_in_source(path.read_text(encoding='utf-8'), module,
                             is_package, str(path))


def package_modules(root: pathlib.Path) -> dict[str, tuple[pathlib.Path,
                                                           bool]]:
    """Each module under the package directory ``root``, its tests aside.

    ``{module name: (path, is a package's __init__)}``.
    """
    modules = {}
    for path in sorted(root.rglob('*.py')):
        parts = path.relative_to(root.parent).with_suffix('').parts
        if parts[1:2] == ('tests',):
            continue
        is_package = parts[-1] == '__init__'
        if is_package:
            parts = parts[:-1]
        modules['.'.join(parts)] = (path, is_package)
    return modules


def rooms_of(module: str, table=ROOMS) -> list[str]:
    """The rooms holding ``module``: exactly one, in a table that is right."""
    def matches(patterns):
        return any(fnmatch.fnmatchcase(module, p) for p in patterns)
    return [room.name for room in table
            if matches(room.holds) and not matches(room.but_not)]


def module_of(name: str, modules) -> str:
    """The module ``name`` is, or is a name in (the longest known prefix)."""
    candidate = name
    while candidate:
        if candidate in modules:
            return candidate
        candidate = candidate.rpartition('.')[0]
    return name


def _module_imports(imports: dict[str, list[str]]):
    """``(importer, imported module)`` pairs, sorted, each once."""
    return sorted({(importer, module_of(name, imports))
                   for importer, names in imports.items() for name in names}
                  - {(m, m) for m in imports})


def _placement(module: str, held: list[str]) -> str:
    if not held:
        return f'{module} is in no room'
    return f'{module} is in more than one room: {", ".join(held)}'


def violations(imports: dict[str, list[str]], table=ROOMS) -> list[str]:
    """Each module out of place and each import against the table.

    ``imports`` maps every module of the package to the names it imports
    (``imports_in_source``); its keys are the modules an imported name is
    read against. One line per problem, each import pair once.
    """
    allowed = {room.name: room.may_import for room in table}
    found = []
    for module in sorted(imports):
        held = rooms_of(module, table)
        if not held:
            found.append(f'{_placement(module, held)} (place it in ROOMS)')
        elif len(held) > 1:
            found.append(_placement(module, held))
    for importer, imported in _module_imports(imports):
        source = rooms_of(importer, table)
        if len(source) != 1 or allowed[source[0]] is ANYTHING:
            continue
        target = rooms_of(imported, table)
        if len(target) != 1:
            found.append(f'{importer} -> {imported} '
                         f'({_placement(imported, target)})')
        elif target != source and target[0] not in allowed[source[0]]:
            found.append(f'{importer} -> {imported} (room {source[0]} '
                         f'may not import room {target[0]})')
    return found


def _shortest_path(start: str, goal: str, graph) -> list[str]:
    """The rooms of a shortest way from ``start`` to ``goal``, both in."""
    parent = {start: None}
    queue = collections.deque([start])
    while queue:
        room = queue.popleft()
        if room == goal:
            path = [room]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            return path[::-1]
        for following in sorted(graph[room]):
            if following not in parent:
                parent[following] = room
                queue.append(following)
    return []


def room_cycles(imports: dict[str, list[str]], table=ROOMS) -> list[str]:
    """Each group of rooms that import one another, and its cycles.

    A line per group, naming its rooms; under it a line per import the
    table does not allow from one of its rooms to another, with the
    shortest cycle that import closes, each step shown by one import that
    makes it. (In a table that runs one way, every cycle has such a step.)
    """
    allowed = {room.name: room.may_import for room in table}
    order = {room.name: row for row, room in enumerate(table)}
    edges = {}
    for importer, imported in _module_imports(imports):
        source, target = rooms_of(importer, table), rooms_of(imported, table)
        if len(source) == len(target) == 1 and source != target:
            edges.setdefault((source[0], target[0]), (importer, imported))
    graph = collections.defaultdict(set)
    for source, target in edges:
        graph[source].add(target)

    def reach(room):
        seen, todo = set(), [room]
        while todo:
            for following in graph[todo.pop()] - seen:
                seen.add(following)
                todo.append(following)
        return seen
    reachable = {room.name: reach(room.name) for room in table}

    found, placed = [], set()
    for room in table:
        if room.name in placed:
            continue
        group = [other.name for other in table
                 if other.name == room.name
                 or (other.name in reachable[room.name]
                     and room.name in reachable[other.name])]
        placed.update(group)
        if len(group) < 2:
            continue
        inside = sorted((pair for pair in edges
                         if pair[0] in group and pair[1] in group),
                        key=lambda pair: (order[pair[0]], order[pair[1]]))
        wrong = [(source, target) for source, target in inside
                 if allowed[source] is not ANYTHING
                 and target not in allowed[source]]
        found.append(f'rooms {", ".join(group)} import one another:')
        for source, target in wrong or inside:
            cycle = [source] + _shortest_path(target, source, graph)
            steps = '; '.join(' -> '.join(edges[pair])
                              for pair in zip(cycle, cycle[1:]))
            found.append(f'  {" -> ".join(cycle)} ({steps})')
    return found


def table_problems(table=ROOMS) -> list[str]:
    """What keeps a table from running one way.

    Each row may import only rooms listed above it, and only the last row
    may import anything: then no two rooms may import one another.
    """
    names = [room.name for room in table]
    problems = [f'room {name} is listed twice'
                for name in sorted(set(names)) if names.count(name) > 1]
    for row, room in enumerate(table):
        if room.may_import is ANYTHING:
            if row != len(table) - 1:
                problems.append(f'room {room.name} may import anything '
                                'but is not the last row')
            continue
        for other in room.may_import:
            if other not in names:
                problems.append(f'room {room.name} may import room {other}'
                                ', which is not in the table')
            elif names.index(other) >= row:
                problems.append(f'room {room.name} may import room {other}'
                                ', which is not listed above it')
    return problems


@functools.cache
def tree_imports() -> dict[str, list[str]]:
    """The imports of every module of the package this file is in.

    Found from this file, not from the package imported: that may be
    another tree (an editable install elsewhere).
    """
    root = pathlib.Path(__file__).resolve().parents[2]
    return {module: imports_in_file(path, module, is_package)
            for module, (path, is_package) in package_modules(root).items()}


# --- The tests. ---

def _imports(sources: dict[str, str]) -> dict[str, list[str]]:
    """``{module: source}`` read as the walk reads the package's files."""
    return {module: imports_in_source(textwrap.dedent(text), module,
                                      package=module.split('.')[0])
            for module, text in sources.items()}


# A small table of its own for the checker's mechanics, so that those tests
# do not move when ROOMS does.
SMALL = (
    Room('low', holds=('pkg.low', 'pkg.low.*'), may_import=()),
    Room('mid', holds=('pkg.mid.*',), but_not=('pkg.mid.special',),
         may_import=('low',)),
    Room('high', holds=('pkg.high', 'pkg.mid.special'),
         may_import=('mid', 'low')),
    Room('top', holds=('pkg',), may_import=ANYTHING),
)


class TreeTest(testtools.TestCase):
    """The package as it is now, held to ROOMS."""

    @base.idempotent_id('ed74dc8c-7e0b-4ea8-aad9-f60820d0a4b4')
    def test_imports_run_one_way(self):
        """Every module in one room, every import to its room or below.

        Function-local imports count: deferring an upward import to call
        time hides the knot without untying it.
        """
        found = violations(tree_imports())
        if found:
            self.fail(f'{len(found)} imports or modules break the table '
                      f'(ROOMS in {__name__}):\n' + '\n'.join(found))

    @base.idempotent_id('9cfd217e-9aba-47e4-87b8-e69cc2238bca')
    def test_no_cycle_between_rooms(self):
        """No rooms import one another, however long the way round.

        A cycle ties its rooms into one: none can be moved, tested or
        understood without the others.
        """
        found = room_cycles(tree_imports())
        if found:
            self.fail('rooms in cycles:\n' + '\n'.join(found))

    @base.idempotent_id('daba6476-540f-422f-b54f-a8243b7f55f4')
    def test_table_runs_one_way(self):
        """ROOMS itself allows no cycle and names only its own rooms.

        Otherwise an allowed import could close a loop the other tests
        would have to report against the table's own word.
        """
        self.assertEqual([], table_problems(ROOMS))

    @base.idempotent_id('aac13e51-7b72-428c-9283-4e280462ba99')
    def test_walk_reads_the_package_and_not_its_tests(self):
        """The walk sees the package, and not its tests.

        An empty walk would pass anything; the tests are not in the table.
        """
        modules = tree_imports()
        self.assertIn(PACKAGE, modules)
        self.assertIn(f'{PACKAGE}.cmd', modules)
        self.assertGreater(len(modules), 50)
        self.assertEqual([], [m for m in modules
                              if m.startswith(f'{PACKAGE}.tests')])

    @base.idempotent_id('a0883eee-7212-4ddf-ae63-a18170db457d')
    def test_rooms_of_the_tricky_modules(self):
        """The plans have a room apart; packages join their rooms.

        ``plans.*`` is plans and ``minicloud.*`` services, with no
        exception either way, and a package's ``__init__`` is in the room
        of its modules (``checks.base`` imports ``checks``).
        """
        self.assertEqual(['plans'], rooms_of(f'{PACKAGE}.plans.upgrade'))
        self.assertEqual(['plans'], rooms_of(f'{PACKAGE}.plans.model'))
        self.assertEqual(['plans'], rooms_of(f'{PACKAGE}.plans'))
        self.assertEqual(['services'], rooms_of(f'{PACKAGE}.minicloud.heat'))
        self.assertEqual(['services'], rooms_of(f'{PACKAGE}.minicloud'))
        self.assertEqual(['checks'], rooms_of(f'{PACKAGE}.checks'))
        self.assertEqual(['integrity'], rooms_of(
            f'{PACKAGE}.integrity.helpers.heat_probe'))
        self.assertEqual(['top'], rooms_of(PACKAGE))
        self.assertEqual([], rooms_of(f'{PACKAGE}.tests.functional.drills'))


class CollectTest(testtools.TestCase):
    """imports_in_source: every import of the package, wherever it is."""

    @base.idempotent_id('db16b177-2ed9-4124-908f-7b5bb18095e6')
    def test_every_form_and_place_is_collected(self):
        """Both forms, aliases, and imports nested anywhere are collected.

        Functions, methods, try blocks and ``if TYPE_CHECKING``: an import
        anywhere in a module runs some day, or tells a reader it may.
        """
        source = textwrap.dedent('''
            import os
            import typing
            import heat_upgrade_tests.a.b
            import heat_upgrade_tests.c as c
            from heat_upgrade_tests import d, e as ee
            from heat_upgrade_tests.f import *

            if typing.TYPE_CHECKING:
                from heat_upgrade_tests.g import G

            try:
                from heat_upgrade_tests import h
            except ImportError:
                h = None

            def func():
                from heat_upgrade_tests.i import j
                return j

            class K:
                def method(self):
                    import heat_upgrade_tests.l
                    return importlib.import_module('heat_upgrade_tests.m')
            ''')
        self.assertEqual(
            [f'{PACKAGE}.{name}' for name in (
                'a.b', 'c', 'd', 'e', 'f', 'g.G', 'h', 'i.j', 'l', 'm')],
            imports_in_source(source, f'{PACKAGE}.x'))

    @base.idempotent_id('8c5092f7-c094-485a-9d5d-3836917adc5f')
    def test_relative_imports_are_made_absolute(self):
        """Relative imports are made absolute, from the importer's package.

        A relative import is an import all the same; for an ``__init__``
        the package is the module itself, and dots above the top are
        dropped (Python refuses them anyway).
        """
        source = textwrap.dedent('''
            from . import sibling
            from .inner import name
            from .. import uncle
            from .... import beyond_the_top
            ''')
        self.assertEqual(
            [f'{PACKAGE}.minicloud.inner.name', f'{PACKAGE}.minicloud.sibling',
             f'{PACKAGE}.uncle'],
            imports_in_source(source, f'{PACKAGE}.minicloud.heat'))
        # minicloud/__init__.py: the same package as minicloud/heat.py.
        self.assertEqual(
            [f'{PACKAGE}.minicloud.inner.name', f'{PACKAGE}.minicloud.sibling',
             f'{PACKAGE}.uncle'],
            imports_in_source(source, f'{PACKAGE}.minicloud',
                              is_package=True))

    @base.idempotent_id('313deef3-342d-4f60-ad26-43d001f01a6c')
    def test_other_packages_are_left_alone(self):
        """Other packages are left alone, even when named alike.

        Only the package's own imports have a direction to keep.
        """
        source = textwrap.dedent('''
            import heat_upgrade_tests_extra
            from heat_upgrade_testsuite import x
            import testtools
            ''')
        self.assertEqual([], imports_in_source(source, f'{PACKAGE}.x'))

    @base.idempotent_id('35210fe1-462e-4d37-8aca-d3c5f6328e1b')
    def test_a_name_is_read_as_its_module(self):
        """``from m import Name`` is an import of module m, in m's room.

        ``plans.model.Plan`` is a name in ``plans.model``, and the line
        names that module. Read as a module of its own, a name would be
        judged by whatever pattern its dotted name happens to match (a
        name in ``mixed``, which its room names exactly, by none).
        """
        imports = _imports({
            f'{PACKAGE}.minicloud.heat': '''
                from heat_upgrade_tests.plans.model import Plan
                ''',
            f'{PACKAGE}.plans.model': 'Plan = object\n',
        })
        self.assertEqual(
            [f'{PACKAGE}.minicloud.heat -> {PACKAGE}.plans.model '
             '(room services may not import room plans)'],
            violations(imports))


class ViolationsTest(testtools.TestCase):
    """violations and room_cycles, fed source text."""

    @base.idempotent_id('384e97f1-0411-4d0b-bddf-32e1ef3419ac')
    def test_upward_function_local_import_is_reported(self):
        """A function-local upward import is reported.

        A ground module reaching up to plans inside a function ties the
        rooms as surely as at the top of the file; it only hides it.
        """
        imports = _imports({
            f'{PACKAGE}.releases': '''
                from heat_upgrade_tests import exceptions

                def series():
                    from heat_upgrade_tests.plans import upgrade
                    return upgrade, exceptions
                ''',
            f'{PACKAGE}.exceptions': '',
            f'{PACKAGE}.plans.upgrade': '',
        })
        self.assertEqual(
            [f'{PACKAGE}.releases -> {PACKAGE}.plans.upgrade '
             '(room ground may not import room plans)'],
            violations(imports))

    @base.idempotent_id('1cc4183c-20c2-48e9-adca-322f5b33f08e')
    def test_upward_module_level_import_is_reported(self):
        """A module-level upward import is reported: plans to phases."""
        imports = _imports({
            f'{PACKAGE}.plans.driver': '''
                from heat_upgrade_tests import phases
                from heat_upgrade_tests.plans import model
                ''',
            f'{PACKAGE}.plans.model': '',
            f'{PACKAGE}.phases': '',
        })
        self.assertEqual(
            [f'{PACKAGE}.plans.driver -> {PACKAGE}.phases '
             '(room plans may not import room phases)'],
            violations(imports))

    @base.idempotent_id('474e61da-fc24-474e-bd61-df6be85139a2')
    def test_module_in_no_room_is_reported(self):
        """A module in no room is reported, and so is an import of it.

        A new module must be placed in the table on purpose, not slip
        past it.
        """
        imports = _imports({
            f'{PACKAGE}.newcomer': '',
            f'{PACKAGE}.config': 'from heat_upgrade_tests import newcomer\n',
        })
        self.assertEqual(
            [f'{PACKAGE}.newcomer is in no room (place it in ROOMS)',
             f'{PACKAGE}.config -> {PACKAGE}.newcomer '
             f'({PACKAGE}.newcomer is in no room)'],
            violations(imports))

    @base.idempotent_id('316a8ac0-e21e-4935-b082-13faaeeb426b')
    def test_allowed_imports_and_placements_pass(self):
        """Allowed imports pass; a module in two rooms is reported.

        Down, within a room and from the top there is nothing to say. In
        two rooms, a module's room would be a guess.
        """
        imports = _imports({
            'pkg': 'from pkg.low import anything\nimport pkg.stray\n',
            'pkg.low': '',
            'pkg.low.one': 'from pkg.low import two\n',
            'pkg.low.two': '',
            'pkg.mid.a': 'def f():\n    from pkg.low.one import name\n',
            'pkg.mid.special': 'from pkg.mid import a\n',
            'pkg.high': 'import pkg.mid.special\nimport pkg.low.two\n',
        })
        self.assertEqual([], violations(imports, SMALL))
        imports['pkg.low.extra'] = []
        twice = SMALL + (Room('again', holds=('pkg.low.extra',),
                              may_import=()),)
        self.assertEqual(
            ['pkg.low.extra is in more than one room: low, again'],
            violations(imports, twice))

    @base.idempotent_id('3ca7df47-d94c-4e03-937a-f23e4e00e4cb')
    def test_cycle_between_rooms_is_reported(self):
        """A cycle between rooms is reported, with its imports.

        low -> high -> mid -> low: the group is named, then the cycle
        the upward import closes, one import shown for each step.
        """
        imports = _imports({
            'pkg.low': 'def f():\n    from pkg import high\n',
            'pkg.high': 'from pkg.mid import a\n',
            'pkg.mid.a': 'import pkg.low\n',
            'pkg': 'import pkg.low\n',
        })
        self.assertEqual(
            ['rooms low, mid, high import one another:',
             '  low -> high -> mid -> low (pkg.low -> pkg.high; '
             'pkg.high -> pkg.mid.a; pkg.mid.a -> pkg.low)'],
            room_cycles(imports, SMALL))
        self.assertEqual([], room_cycles(
            {'pkg.low': [], 'pkg.high': ['pkg.low'], 'pkg': ['pkg.high']},
            SMALL))

    @base.idempotent_id('fdd9ea02-b84a-40f0-a2ba-b06fd5083ab5')
    def test_table_problems_are_reported(self):
        """A table that could loop is reported, row by row.

        A row importing a room listed below it or not in the table, or a
        row importing anything but the last, would let allowed imports
        make a cycle.
        """
        bad = (
            Room('low', holds=('pkg.low',), may_import=('high',)),
            Room('any', holds=('pkg',), may_import=ANYTHING),
            Room('high', holds=('pkg.high',), may_import=('low', 'attic')),
        )
        self.assertEqual(
            ['room low may import room high, which is not listed above it',
             'room any may import anything but is not the last row',
             'room high may import room attic, which is not in the table'],
            table_problems(bad))
