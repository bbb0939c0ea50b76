"""Peak memory of the mini-cloud's services, sampled from /proc.

The services are this process's descendants that run in sessions of their
own (every ManagedProcess starts one); phase commands and their test
workers share the driver's session and are not counted.
"""

from collections.abc import Iterator
import contextlib
import os
import threading

_PAGE = os.sysconf('SC_PAGE_SIZE')


def _processes() -> dict[int, tuple[int, int, str, int]]:
    """pid -> (ppid, session id, command name, resident bytes)."""
    found = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                stat = f.read()
            with open(f'/proc/{entry}/statm') as f:
                resident = int(f.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
        name = stat[stat.index('(') + 1:stat.rindex(')')]
        fields = stat[stat.rindex(')') + 2:].split()
        found[int(entry)] = (int(fields[1]), int(fields[3]), name, resident)
    return found


def service_rss() -> dict[str, int]:
    """Resident bytes of each service command now running."""
    procs = _processes()
    me = os.getpid()
    my_session = os.getsid(me)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    totals: dict[str, int] = {}
    todo = list(children.get(me, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        _, session, name, resident = procs[pid]
        if session != my_session:
            name = _service_name(pid, name)
            totals[name] = totals.get(name, 0) + resident
    return totals


def _service_name(pid: int, name: str) -> str:
    """``uwsgi`` serves Keystone, heat-api and neutron-api: say which."""
    if name != 'uwsgi':
        return name
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            argv = f.read().decode(errors='replace').split('\0')
    except OSError:
        return name
    if '--module' in argv[:-1]:
        module = argv[argv.index('--module') + 1]
        return f'uwsgi ({module.split(".", 1)[0]})'
    return name


class PeakMemory:
    """The largest total resident memory of the services seen so far."""

    def __init__(self, interval: float = 1.0):
        self.interval = interval
        self.peak_bytes = 0
        self.peak_by_command: dict[str, int] = {}

    def sample(self) -> None:
        totals = service_rss()
        total = sum(totals.values())
        if total > self.peak_bytes:
            self.peak_bytes = total
            self.peak_by_command = totals

    @contextlib.contextmanager
    def watching(self) -> Iterator['PeakMemory']:
        """Sample in the background while the block runs."""
        stop = threading.Event()

        def loop():
            while not stop.wait(self.interval):
                self.sample()
        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(5)
