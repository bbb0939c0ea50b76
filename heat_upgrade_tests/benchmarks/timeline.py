"""Where a phase command's time goes: before, in and after its tests.

The framework's extra seconds over the plain script are mostly fixed per
phase command (the interpreter and imports, the configuration, the
preflight's calls, stestr's discovery, its workers starting and each
authenticating, the results kept afterwards). The phase's subunit stream
holds each test's start and stop times: with the command's own start and
end, they split its wall time into the time before the first test
started, the span of the tests, and the time after the last one ended.
"""

import datetime
from pathlib import Path

import subunit
import testtools


def test_times(stream: Path) -> list[tuple[float, float]]:
    """``(start, stop)`` of each test, as POSIX timestamps."""
    times = []

    def on_test(test: dict) -> None:
        start, stop = test.get('timestamps', (None, None))
        if start and stop:
            times.append((start.timestamp(), stop.timestamp()))

    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        with open(stream, 'rb') as f:
            subunit.ByteStreamToStreamResult(
                f, non_subunit_name='stdout').run(result)
    finally:
        result.stopTestRun()
    return sorted(times)


def split(started: float, ended: float, times: list[tuple[float, float]]
          ) -> dict[str, float] | None:
    """The command's wall time as before / tests / after, in seconds."""
    if not times:
        return None
    first = min(t[0] for t in times)
    last = max(t[1] for t in times)
    return {'before_tests': max(0.0, first - started),
            'tests': max(0.0, last - first),
            'after_tests': max(0.0, ended - last)}


def now() -> float:
    return datetime.datetime.now(datetime.timezone.utc).timestamp()
