"""Progress of long steps: redrawn on a terminal, plain lines elsewhere."""

import io
import time

import testtools

from heat_upgrade_tests.plans import progress


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


class ProgressTest(testtools.TestCase):

    def test_ci_lines_without_control_characters(self):
        out = io.StringIO()
        with progress.showing('virtual environments', stream=out,
                              interval=0.05):
            time.sleep(0.18)
            progress.echo('    a test line\n', stream=out)
            time.sleep(0.1)
        text = out.getvalue()
        self.assertNotIn('\r', text)
        self.assertNotIn('\033', text)
        lines = text.splitlines()
        self.assertIn('    a test line', lines)
        ticks = [line for line in lines if line.startswith('... ')]
        self.assertGreaterEqual(len(ticks), 2, text)
        self.assertRegex(ticks[0], r'^\.\.\. virtual environments: still '
                                   r'running after \d+s$')

    def test_terminal_status_line_redrawn_and_erased(self):
        out = FakeTerminal()
        with progress.showing('start Heat', stream=out, interval=0.05):
            time.sleep(0.15)
            progress.echo('    line\n', stream=out)
            time.sleep(0.1)
        text = out.getvalue()
        self.assertIn('\r\033[K[', text)
        self.assertIn('] start Heat', text)
        # A printed line starts on a cleared line, and the page ends
        # with the status line erased.
        self.assertIn('\r\033[K    line\n', text)
        self.assertTrue(text.endswith('\r\033[K'), repr(text[-40:]))

    def test_disabled_prints_nothing(self):
        out = FakeTerminal()
        with progress.showing('x', enabled=False, stream=out,
                              interval=0.01):
            time.sleep(0.05)
        self.assertEqual('', out.getvalue())
