"""The HTML report, rendered from a run directory written here.

The run directory holds what a real run leaves (report.json, the phases'
subunit streams as stestr writes them, the checks' state, the integrity
report, Heat's own tests before and after); the page is then read back.
"""

import datetime
import html.parser
import io
import json
from pathlib import Path
import subprocess
import sys

import fixtures
import subunit
import testtools

from heat_upgrade_tests.runreport import html as html_mod
from heat_upgrade_tests.runreport import results

PREFIX = 'heat_upgrade_tests.phases.suite'
T0 = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)


def stream(tests: list[tuple[str, str, str]]) -> bytes:
    """A subunit v2 stream of ``(test id, status, text)``."""
    out = io.BytesIO()
    writer = subunit.StreamResultToBytes(out)
    for test_id, status, text in tests:
        writer.status(test_id=test_id, test_status='inprogress',
                      timestamp=T0)
        if text:
            name = 'reason' if status == 'skip' else 'traceback'
            writer.status(test_id=test_id, file_name=name,
                          file_bytes=text.encode(),
                          mime_type='text/plain; charset=utf8', eof=True)
        writer.status(test_id=test_id, test_status=status,
                      timestamp=T0 + datetime.timedelta(seconds=2))
    return out.getvalue()


def phase_id(phase: str, check: str) -> str:
    module = phase.replace('-', '_')
    return f'{PREFIX}.test_{module}.T.test_{check}[id-1234]'


TRACE = ('Traceback (most recent call last):\n  File "x.py", line 1\n'
         'heat_upgrade_tests.exceptions.CheckFailed: check beta: output '
         'changed: expected 1, observed 2\n')


class Cells(html.parser.HTMLParser):
    """``(check, column index) -> status`` of the page's matrix."""

    def __init__(self):
        super().__init__()
        self.cells: dict[tuple[str, int], str] = {}
        self._check = None
        self._col = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'tr':
            self._check, self._col = attrs.get('data-check'), 0
        elif tag == 'td' and self._check and 'data-status' in attrs:
            self.cells[(self._check, self._col)] = attrs['data-status']
            self._col += 1


class ReportTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.dir = Path(self.useFixture(fixtures.TempDir()).path)
        phases = self.dir / 'results' / 'phases'
        phases.mkdir(parents=True)
        (phases / '01-pre-upgrade.subunit').write_bytes(stream([
            (phase_id('pre-upgrade', 'alpha'), 'success', ''),
            (phase_id('pre-upgrade', 'beta'), 'success', ''),
            (phase_id('pre-upgrade', 'gamma'), 'skip',
             'needs the compute service'),
            (phase_id('pre-upgrade', 'delta'), 'success', '')]))
        (phases / '02-post-upgrade.subunit').write_bytes(stream([
            (phase_id('post-upgrade', 'alpha'), 'skip',
             'KNOWN FINDING (Heat bug 1): outputs lost'),
            (phase_id('post-upgrade', 'beta'), 'fail', TRACE),
            (phase_id('post-upgrade', 'gamma'), 'skip',
             'needs the compute service'),
            (phase_id('post-upgrade', 'delta'), 'success', '')]))
        (self.dir / 'logs').mkdir()
        (self.dir / 'logs' / 'heat-engine-2026.2.log').write_text('x\n')
        (self.dir / 'state').mkdir()
        (self.dir / 'state' / 'delta.json').write_text(json.dumps({
            'unexpected_successes': {'post-upgrade': {'reason': 'bug 2'}}}))
        (self.dir / 'report.json').write_text(json.dumps({
            'plan': 'full', 'passed': False,
            'from': {'series': '2026.1', 'heat': '26.0.2', 'tree': None},
            'to': {'series': '2026.2', 'heat': '27.0.1', 'tree': None},
            'steps': [{'name': 'pre-upgrade phase', 'seconds': 12.5,
                       'ok': True, 'detail': ''},
                      {'name': 'post-upgrade phase', 'seconds': 20.0,
                       'ok': False, 'detail': 'the post-upgrade phase '
                                              'failed'}],
            'phase_runs': [
                {'step': 'pre-upgrade phase', 'phase': 'pre-upgrade',
                 'returncode': 0, 'seconds': 12.5,
                 'subunit': 'results/phases/01-pre-upgrade.subunit',
                 'log': 'logs/phase-pre-upgrade.log'},
                {'step': 'post-upgrade phase', 'phase': 'post-upgrade',
                 'returncode': 1, 'seconds': 20.0,
                 'subunit': 'results/phases/02-post-upgrade.subunit'}],
            'peak_memory_bytes': 900 * 2**20,
            'peak_memory_by_command': {'heat-engine': 300 * 2**20}}))
        (self.dir / 'integrity-report.json').write_text(json.dumps({
            'title': 'integrity', 'findings': [
                {'check': 'options', 'status': 'warning',
                 'summary': '5 removed, accepted by reviewed exception',
                 'details': ['removed [x] y: accepted (exception): r'],
                 'data': {}}]}))

    def _heat_tests(self, before, after):
        base = self.dir / 'results' / 'heat-tests'
        base.mkdir(parents=True, exist_ok=True)
        test = 'heat_tempest_plugin.tests.api.test_heat_api.T.test_x'
        (base / 'before.subunit').write_bytes(stream([(test, before, '')]))
        (base / 'after.subunit').write_bytes(stream(
            [(test, after, TRACE if after == 'fail' else '')]))

    def test_matrix_cells(self):
        run = results.load(self.dir)
        self.assertEqual(['alpha', 'beta', 'delta', 'gamma'], run.checks)
        page = html_mod.render(run)
        cells = Cells()
        cells.feed(page)
        self.assertEqual({
            ('alpha', 0): 'pass', ('alpha', 1): 'known',
            ('beta', 0): 'pass', ('beta', 1): 'fail',
            ('delta', 0): 'pass', ('delta', 1): 'unexpected',
            ('gamma', 0): 'skip', ('gamma', 1): 'skip'}, cells.cells)

    def test_failing_cell_names_its_message_and_links_output(self):
        run = results.load(self.dir)
        [(column, test)] = run.failures
        self.assertEqual('post-upgrade phase', column.label)
        self.assertEqual(
            'heat_upgrade_tests.exceptions.CheckFailed: check beta: output '
            'changed: expected 1, observed 2', test.message)
        page = html_mod.render(run)
        anchor = f't-{column.key}-test_beta'
        self.assertIn(f'href="#{anchor}"', page)
        self.assertIn(f'id="{anchor}" open', page)
        self.assertIn('observed 2', page)
        self.assertIn('FAILED', page)

    def test_sections(self):
        page = html_mod.render(results.load(self.dir))
        self.assertIn('needs the compute service', page)
        self.assertIn('KNOWN FINDING (Heat bug 1)', page)
        self.assertIn('<b>accepted exception:</b>', page)
        self.assertIn('href="logs/heat-engine-2026.2.log"', page)
        self.assertIn('900 MiB', page)
        self.assertIn('12.5s', page)
        self.assertNotIn('http://', page.replace(
            'http://www.w3.org/2000/svg', ''))  # nothing fetched

    def test_heat_tests_regression(self):
        self._heat_tests('success', 'fail')
        run = results.load(self.dir)
        self.assertEqual(['regression'],
                         [r.verdict for r in run.heat_tests])
        self.assertIn('class="regression">regression',
                      html_mod.render(run))

    def test_heat_tests_failing_both_times_not_blamed(self):
        self._heat_tests('fail', 'fail')
        run = results.load(self.dir)
        self.assertEqual([], run.regressions)
        self.assertEqual('fails before and after', run.heat_tests[0].verdict)

    def test_disruption_plot_and_extra_section(self):
        (self.dir / 'disruption.json').write_text(json.dumps({
            'probes': [{'name': 'heat-api', 'samples': [
                [0, True], [5, False], [9, True]]}],
            'marks': [{'t': 4, 'label': 'stop old Heat'}]}))
        (self.dir / 'report.d').mkdir()
        (self.dir / 'report.d' / 'leaks.json').write_text(json.dumps({
            'title': 'Leaks', 'columns': ['kind', 'count'],
            'rows': [['stacks', 0]]}))
        page = html_mod.render(results.load(self.dir))
        self.assertIn('<svg', page)
        self.assertIn('heat-api (1/3 down)', page)
        self.assertIn('stop old Heat', page)
        self.assertIn('<h2>Leaks</h2>', page)

    def test_results_directory_without_summary(self):
        # A drill's results: <phase>/<phase>.subunit, no report.json.
        drill = self.dir / 'drill'
        (drill / 'post-upgrade').mkdir(parents=True)
        (drill / 'post-upgrade' / 'post-upgrade.subunit').write_bytes(
            (self.dir / 'results' / 'phases' /
             '02-post-upgrade.subunit').read_bytes())
        run = results.load(drill)
        self.assertEqual(['post-upgrade'], [c.label for c in run.columns])
        self.assertEqual(['beta'], [t.name[5:] for _, t in run.failures])
        self.assertFalse(run.passed)

    def test_command_renders_and_refuses_an_empty_directory(self):
        cmd = [sys.executable, '-m', 'heat_upgrade_tests.cmd', 'report']
        done = subprocess.run(cmd + [str(self.dir)], capture_output=True,
                              text=True)
        self.assertEqual(0, done.returncode, done.stderr)
        self.assertIn(f'HTML report: {self.dir / "report.html"}',
                      done.stdout)
        self.assertTrue((self.dir / 'report.html').is_file())
        empty = self.useFixture(fixtures.TempDir()).path
        done = subprocess.run(cmd + [empty], capture_output=True, text=True)
        self.assertEqual(2, done.returncode)
        [line] = done.stderr.splitlines()
        self.assertIn('holds no results of a run', line)
