"""What a long step is doing, and for how long, while it runs.

On a terminal, one status line at the bottom (``[ 12s] virtual
environments``) is redrawn every second and erased when the step ends;
lines the step prints (a phase's test results) go above it. Anywhere else
(CI logs, a pipe) nothing is redrawn and no control character is written:
a plain line ``... virtual environments: still running after 30s`` comes
every ``CI_INTERVAL`` seconds of a step, so a log still says what a silent
step is doing.
"""

from collections.abc import Iterator
import contextlib
import sys
import threading
import time

TTY_INTERVAL = 1.0
CI_INTERVAL = 30.0
_CLEAR = '\r\033[K'
_lock = threading.RLock()
_active: list['_Ticker'] = []


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Ticker:
    def __init__(self, name: str, stream, tty: bool, interval: float):
        self.name = name
        self.stream = stream
        self.tty = tty
        self.interval = interval
        self.start = time.monotonic()
        self.drawn = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f'progress {name}')

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def status(self) -> str:
        return f'[{self.elapsed():4.0f}s] {self.name}'

    def draw(self) -> None:
        if self.tty:
            self.stream.write(_CLEAR + self.status()[:_width() - 1])
            self.drawn = True
        else:
            self.stream.write(f'... {self.name}: still running after '
                              f'{self.elapsed():.0f}s\n')
        self.stream.flush()

    def erase(self) -> None:
        if self.tty and self.drawn:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self.drawn = False

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with _lock:
                if _active and _active[-1] is self:
                    self.draw()

    def begin(self) -> None:
        self._thread.start()

    def end(self) -> None:
        self._stop.set()
        self._thread.join()


def _width() -> int:
    import shutil
    return shutil.get_terminal_size((80, 24)).columns


@contextlib.contextmanager
def showing(name: str, enabled: bool = True, stream=None,
            interval: float | None = None) -> Iterator[None]:
    """Show ``name`` and its running time while the block runs."""
    if not enabled:
        yield
        return
    stream = stream or sys.stdout
    tty = _is_tty(stream)
    ticker = _Ticker(name, stream, tty, interval or (
        TTY_INTERVAL if tty else CI_INTERVAL))
    with _lock:
        if _active:
            _active[-1].erase()
        _active.append(ticker)
    ticker.begin()
    try:
        yield
    finally:
        ticker.end()
        with _lock:
            ticker.erase()
            _active.remove(ticker)


def echo(text: str, stream=None) -> None:
    """Print ``text`` (one line, with its newline) above the status line."""
    stream = stream or sys.stdout
    with _lock:
        ticker = _active[-1] if _active else None
        if ticker is not None and ticker.stream is stream:
            ticker.erase()
        stream.write(text)
        stream.flush()
        if ticker is not None and ticker.stream is stream and ticker.tty:
            ticker.draw()
