"""Peak memory of the mini-cloud's services, sampled from /proc.

The services are this process's descendants that run in sessions of their
own (every ManagedProcess starts one); phase commands and their test
workers share the driver's session and are not counted.

Each process counts its proportional set size (PSS, from
``/proc/PID/smaps_rollup``): a page shared by N processes counts 1/N in
each. The services fork their workers (heat-engine, uwsgi, Neutron's
periodic workers), which share most of their pages with their master;
the resident size (RSS) would count each shared page once per process,
and say the cloud needs more memory than the machine gives it. Where
``smaps_rollup`` cannot be read, the resident size stands in.
"""

from collections.abc import Iterator
import contextlib
import os
import threading

_PAGE = os.sysconf('SC_PAGE_SIZE')


def _memory(pid: int) -> int | None:
    """The PSS of ``pid`` in bytes, or its RSS if there is no PSS.

    None once the process is gone.
    """
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            for line in f:
                if line.startswith('Pss:'):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open(f'/proc/{pid}/statm') as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (ppid, session id, command name) of every process."""
    found = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index('(') + 1:stat.rindex(')')]
        fields = stat[stat.rindex(')') + 2:].split()
        found[int(entry)] = (int(fields[1]), int(fields[3]), name)
    return found


def service_rss() -> dict[str, int]:
    """Bytes of memory (PSS) of each service command now running.

    Only the services' processes are measured: the others are only walked
    through, from this process down.
    """
    procs = _processes()
    me = os.getpid()
    my_session = os.getsid(me)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    totals: dict[str, int] = {}
    todo = list(children.get(me, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        _, session, name = procs[pid]
        if session == my_session:
            continue
        size = _memory(pid)
        if size is not None:
            name = _service_name(pid, name)
            totals[name] = totals.get(name, 0) + size
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
    """The largest total memory (PSS) of the services seen so far."""

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
