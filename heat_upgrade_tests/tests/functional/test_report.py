"""The run's HTML report, looked at in a real browser, and Heat's tests.

On the shared mini-cloud's full upgrade (``scenario``): the report the
run wrote is opened in headless Chromium (Debian's ``chromium``; the
browser downloads of other tools are not reachable here), and the matrix
is read from the rendered DOM (``--dump-dom``): every check, one cell per
phase run. A screenshot is kept beside the report (``report.png``; the
docs show one). The drills' batch gets a report of its own, whose failing
cells carry each drill's failure. Heat's own tests ran before and after
the upgrade, and are in the report.
"""

import html.parser
import os
from pathlib import Path
import shutil
import subprocess

import testtools

from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests.phases.suite import base
from heat_upgrade_tests.runreport import html as html_mod
from heat_upgrade_tests.runreport import results as results_mod
from heat_upgrade_tests.tests.functional import catalogue_drills
from heat_upgrade_tests.tests.functional import drills
from heat_upgrade_tests.tests.functional.scenario import scenario

BROWSER_TIMEOUT = 120
INSTALL_TIMEOUT = 900


class Matrix(html.parser.HTMLParser):
    """The matrix of a rendered page: columns, and per check its cells."""

    def __init__(self):
        super().__init__()
        self.columns = 0
        self.rows: dict[str, list[tuple[str, str]]] = {}
        self._in_table = False
        self._check = None
        self._cell: list[str] | None = None
        self._status = ''

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'table' and attrs.get('id') == 'matrix-table':
            self._in_table = True
        if not self._in_table:
            return
        if tag == 'tr':
            self._check = attrs.get('data-check')
            if self._check:
                self.rows[self._check] = []
        elif tag == 'th' and self._check is None:
            self.columns += 1
        elif tag == 'td' and self._check and 'data-status' in attrs:
            self._cell, self._status = [], attrs['data-status']

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == 'td' and self._cell is not None:
            self.rows[self._check].append(
                (self._status, ''.join(self._cell).strip()))
            self._cell = None
        elif tag == 'table' and self._in_table:
            self._in_table = False


def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing (root)."""
    found = shutil.which('chromium')
    if found:
        return found
    if os.geteuid() != 0:
        raise testtools.TestCase.skipException(
            'chromium is not installed and apt-get needs root')
    subprocess.run(['apt-get', 'install', '-y', 'chromium'], check=True,
                   capture_output=True, timeout=INSTALL_TIMEOUT,
                   env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'))
    return shutil.which('chromium')


def browse(page: Path, screenshot: Path | None = None) -> str:
    """The DOM of ``page`` as Chromium rendered it; a screenshot too."""
    argv = [chromium(), '--headless', '--no-sandbox', '--disable-gpu',
            '--hide-scrollbars', '--window-size=1400,1100']
    uri = page.resolve().as_uri()
    if screenshot is not None:
        subprocess.run(argv + [f'--screenshot={screenshot}', uri],
                       check=True, capture_output=True,
                       timeout=BROWSER_TIMEOUT)
    return subprocess.run(argv + ['--dump-dom', uri], check=True,
                          capture_output=True, text=True,
                          timeout=BROWSER_TIMEOUT).stdout


class ReportTest(testtools.TestCase):

    @base.idempotent_id('6b0e5c4d-2f71-4a8e-9d36-1c7f0a9e4b52')
    def test_the_runs_report_in_a_browser_shows_every_check(self):
        plan = scenario().plan
        page = plan.run_dir / 'report.html'
        self.assertTrue(page.is_file(), f'no {page}')
        shot = plan.run_dir / 'report.png'
        matrix = Matrix()
        matrix.feed(browse(page, shot))
        self.assertGreater(shot.stat().st_size, 10000)
        checks = sorted(checks_base.selected_checks(plan.conf))
        # Every check, and the phases' own tests (during-upgrade's
        # heat_is_down) beside them.
        self.assertEqual([], sorted(set(checks) - set(matrix.rows)))
        runs = len(plan.phase_results)
        self.assertEqual(runs + 1, matrix.columns)  # the check column
        for name in checks:
            statuses = [s for s, _ in matrix.rows[name]]
            self.assertEqual(runs, len(statuses), name)
            self.assertNotIn('missing', statuses, name)

    @base.idempotent_id('9a4c2e7f-3d15-4b60-8f92-5e1b7d0c6a38')
    def test_the_drills_report_shows_each_failing_cell_and_message(self):
        scenario()
        drill_dir = (scenario().plan.cloud.results_dir /
                     f'state-drill-{catalogue_drills.NAME}')
        page = html_mod.write(drill_dir,
                              scenario().plan.run_dir / 'drills-report.html')
        matrix = Matrix()
        matrix.feed(browse(page))
        run = results_mod.load(drill_dir)
        labels = [c.phase for c in run.columns]
        shown = 0
        for name, drill in drills.all_drills().items():
            outcome = catalogue_drills.RESULTS.outcomes.get(
                drill.phase, {}).get(name)
            if outcome is None or outcome.status not in ('failure',
                                                         'error'):
                continue  # test_drill_<name> says why
            status, text = matrix.rows[name][labels.index(drill.phase)]
            self.assertEqual('fail', status, name)
            text = text.removeprefix(html_mod.MARKS[status][0])
            # The cell shows the start of the failure; the whole message
            # is in the test's output the cell links to.
            message = run.columns[labels.index(drill.phase)].tests[
                name].message
            self.assertIn(drill.expect, message, name)
            self.assertIn(f'check {name}', text + message, name)
            self.assertTrue(message.startswith(text[:60].rstrip('.')),
                            f'{name}: {text!r} vs {message!r}')
            shown += 1
        self.assertGreater(shown, len(drills.all_drills()) // 2)

    @base.idempotent_id('e2d8b6a1-7c43-4f09-b5e3-0a9d6f2c8e71')
    def test_heat_tests_ran_before_and_after_and_are_in_the_report(self):
        plan = scenario().plan
        if not plan.conf.heat_tests.enabled:
            self.skipTest('[heat_tests] enabled is off for this run')
        run = results_mod.load(plan.run_dir)
        passed = {side: sum(1 for r in run.heat_tests
                            if getattr(r, side) is not None and
                            getattr(r, side).status == results_mod.PASS)
                  for side in ('before', 'after')}
        self.assertGreater(passed['before'], 20, passed)
        self.assertGreater(passed['after'], 20, passed)
        self.assertEqual([], [r.name for r in run.regressions])
        self.assertEqual([], plan.heat_tests_problems)
        self.assertIn('id="heat-tests-table"',
                      (plan.run_dir / 'report.html').read_text())
