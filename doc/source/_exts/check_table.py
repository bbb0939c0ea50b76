"""Sphinx extension: the check table, generated from the registry.

``.. check-table::`` renders every registered check (what it creates,
what it needs, what each phase proves, its fault drill);
``.. known-findings-table::`` renders every declared known failure. Both
are built when the docs are, from the same registry the phase tests are
generated from, so the docs cannot drift from the code.
"""

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList

from heat_upgrade_tests.checks import _catalogue
from heat_upgrade_tests.checks import base
from heat_upgrade_tests.tests.functional import drills


def _cell(lines: list[str], first: bool) -> list[str]:
    """The lines of one list-table cell (the first one of a row starts
    the row)."""
    lead = '   * - ' if first else '     - '
    out = [lead + (lines[0] if lines else '')]
    out += ['       ' + line for line in lines[1:]]
    return out


def check_table_rst() -> list[str]:
    found_drills = drills.all_drills()
    rows = ['.. list-table::', '   :header-rows: 1',
            '   :widths: 18 25 37 20', '',
            '   * - Check', '     - Creates', '     - Proves, per phase',
            '     - Fault drill']
    for name, check in base.all_checks().items():
        info = _catalogue.describe(check)
        where = 'mini-cloud and gate' if info['minicloud'] else 'gate only'
        first = [f'``{name}``', '',
                 f'Runs on: {where}.', '',
                 'Needs: ' + (', '.join(info['needs']) or
                              'a non-admin member') + '.',
                 '', f'Id: ``{info["id"]}``']
        proves = []
        for phase, text in info['proves'].items():
            proves.append(f'* **{phase}**: {text}')
        for known in info['known_failures']:
            proves.append(f'* **known finding in {known["phase"]}** '
                          f'(from {known["from"]} to {known["to"]}): '
                          f'{known["reason"]}')
        drill = found_drills.get(name)
        drill_text = [f'{drill.fault}; **{drill.phase}** must fail '
                      f'("{drill.expect}").'] if drill else ['none']
        rows += _cell(first, True)
        rows += _cell([info['creates']], False)
        rows += _cell(proves, False)
        rows += _cell(drill_text, False)
    return rows


def known_findings_rst() -> list[str]:
    rows = ['.. list-table::', '   :header-rows: 1',
            '   :widths: 20 15 15 50', '',
            '   * - Check', '     - Phase', '     - Series',
            '     - Reason']
    for name, check in base.all_checks().items():
        for known in check.known_failures:
            rows += _cell([f'``{name}``'], True)
            rows += _cell([known.phase], False)
            rows += _cell([f'from {known.from_series} to '
                           f'{known.to_series}'], False)
            rows += _cell([known.reason], False)
    return rows


class _Generated(Directive):
    generate = None

    def run(self):
        node = nodes.section()
        node.document = self.state.document
        self.state.nested_parse(StringList(type(self).generate()),
                                self.content_offset, node)
        return node.children


class CheckTable(_Generated):
    generate = staticmethod(check_table_rst)


class KnownFindingsTable(_Generated):
    generate = staticmethod(known_findings_rst)


def setup(app):
    app.add_directive('check-table', CheckTable)
    app.add_directive('known-findings-table', KnownFindingsTable)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
