"""Processes the mini-cloud starts, each stopped by its fixture's cleanup."""

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import fixtures
from tempest.lib.common.utils import test_utils

from heat_upgrade_tests import exceptions

F = TypeVar('F', bound=fixtures.Fixture)

# Set while a Ctrl-C that reached the main thread waits for services being
# started in other threads (cloud.MiniCloud): each wait for a process to be
# ready gives up at its next poll, so those threads end soon, each fixture
# cleaning up what it started.
# What every process of the run creates is its user's alone: the
# services' stores hold secrets (RabbitMQ writes RPC contexts with their
# tokens to its message store; MariaDB's files hold the password hashes),
# whatever the work directory.
PRIVATE_UMASK = 0o077
INTERRUPTED = threading.Event()


def wait_until(predicate: Callable[[], bool], timeout: float,
               what: str | Callable[[], str], interval: float = 0.5,
               failed: Callable[[], str | None] | None = None,
               error: type[Exception] = exceptions.TimeoutExpired) -> None:
    """Poll ``predicate`` until it is true, for at most ``timeout`` seconds.

    The project's one poller: the bounded waits (a process to be ready,
    a stack, a resource, the benchmark's plain stacks) go through it, so
    they all look at the same times and say the same when the bound runs
    out (the gate's HTTP wait, which gives up without an error, is
    ``call_until_true`` itself). ``predicate`` may raise to fail at once
    (a FAILED status).

    ``what`` names what is awaited, so the timeout message says it; a
    callable is asked only then, for what only the end knows (the last
    status seen). ``failed`` may return a reason to give up early (a
    process that died). ``error`` is the type raised at the bound: the
    plain benchmark script, which has nothing of the framework, raises
    Python's own TimeoutError.

    The polling is tempest.lib's ``call_until_true`` (it looks at once,
    then after each ``interval`` while the bound, on ``time.time``, has
    not passed); the predicate is asked once more when it has, so a zero
    timeout still looks and the last look is at the bound.
    """
    reasons: list[str] = []

    def settled() -> bool:
        if predicate():
            return True
        reason = failed() if failed is not None else None
        if reason:
            reasons.append(reason)
            return True
        return False

    done = test_utils.call_until_true(settled, timeout,
                                      interval) or settled()
    if reasons:
        raise exceptions.MiniCloudError(
            f'gave up waiting for {_text(what)}: {reasons[0]}')
    if not done:
        raise error(f'timed out after {timeout:.0f}s waiting for '
                    f'{_text(what)}')


def _text(what: str | Callable[[], str]) -> str:
    return what if isinstance(what, str) else what()


class ManagedProcess(fixtures.Fixture):
    """One long-running process in a session of its own.

    Output goes to ``log_file``. Cleanup sends SIGTERM to the whole process
    group, waits ``stop_timeout`` seconds and then SIGKILLs what is left, so
    nothing outlives the mini-cloud, also after a failure or Ctrl-C.

    ``term_leader_only``: SIGTERM goes to the leader alone, which stops
    its own children (a uwsgi master: systemd stops devstack's uwsgi
    services so, with ``KillMode=process``); the SIGKILL after the bound
    still reaches the whole group.
    """

    def __init__(self, name: str, argv: Sequence[str], log_file: Path,
                 env: Mapping[str, str] | None = None,
                 cwd: Path | None = None, stop_timeout: float = 20.0,
                 term_leader_only: bool = False):
        super().__init__()
        self.term_leader_only = term_leader_only
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_file = Path(log_file)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.stop_timeout = stop_timeout
        self.popen: subprocess.Popen | None = None

    def _setUp(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        with open(self.log_file, 'ab') as log:
            try:
                self.popen = subprocess.Popen(
                    self.argv, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=env, cwd=self.cwd,
                    start_new_session=True, umask=PRIVATE_UMASK)
            except OSError as exc:
                raise exceptions.MiniCloudError(
                    f'cannot start {self.name} ({self.argv[0]}): {exc}')
        self.addCleanup(self.stop)

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def exit_reason(self) -> str | None:
        """Why the process is gone, or None while it runs."""
        if self.popen is None or self.popen.poll() is None:
            return None
        return (f'{self.name} exited with status {self.popen.returncode}; '
                f'see {self.log_file}')

    def wait_ready(self, predicate: Callable[[], bool], timeout: float,
                   what: str | None = None, interval: float = 0.5) -> None:
        """Wait until ``predicate``; give up at once if the process ends.

        ``interval`` as in ``wait_until``: shorter for daemons ready in
        a fraction of a second (Open vSwitch's), whose start is a chain
        of such waits.
        """
        wait_until(predicate, timeout, what or f'{self.name} to be ready',
                   interval=interval, failed=self._gone_or_interrupted)

    def _gone_or_interrupted(self) -> str | None:
        if INTERRUPTED.is_set():
            return 'interrupted'
        return self.exit_reason()

    def terminate(self) -> None:
        """SIGTERM to the process group, without waiting (see stop_all)."""
        if self.popen is not None and self.popen.poll() is None:
            self._term(self.popen.pid)

    def _term(self, pid: int) -> None:
        if not self.term_leader_only:
            _signal_group(pid, signal.SIGTERM)
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        """Stop the process group: SIGTERM, a bounded wait, then SIGKILL."""
        if self.popen is None:
            return
        popen, self.popen = self.popen, None
        if popen.poll() is None:
            self._term(popen.pid)
            try:
                popen.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                _signal_group(popen.pid, signal.SIGKILL)
                popen.wait(10)
        # Children that ignored SIGTERM or outlived their leader.
        _signal_group(popen.pid, signal.SIGKILL)


def stop_all(running: Sequence[ManagedProcess]) -> None:
    """Stop processes that need nothing of each other, all at once.

    Every one is sent SIGTERM first, then each is waited for within its
    own bound (SIGKILL after it), so their graceful stops overlap instead
    of adding up.
    """
    for process in running:
        process.terminate()
    for process in running:
        process.cleanUp()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run(argv: Sequence[str], log_file: Path, what: str,
        env: Mapping[str, str] | None = None, timeout: float = 300,
        cwd: Path | None = None, secret_args: Collection[str] = (),
        umask: int | None = None) -> str:
    """Run a short command to completion, bounded; return its output.

    The output is appended to ``log_file``; a failure raises
    MiniCloudError naming ``what`` and the log file. Some tools take a
    password as an argument (``rabbitmqctl add_user``): each string in
    ``secret_args`` is masked wherever the command line or its output is
    written to the log or put in an error message. ``umask``: the
    command's (default ``PRIVATE_UMASK``; the package manager, which
    installs for the whole machine, passes its own).
    """
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    log_file = Path(log_file)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run([str(a) for a in argv], capture_output=True,
                              text=True, env=full_env, timeout=timeout,
                              umask=PRIVATE_UMASK if umask is None
                              else umask,
                              cwd=cwd, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise exceptions.TimeoutExpired(
            f'timed out after {timeout:.0f}s: {what}; see {log_file}')
    except OSError as exc:
        raise exceptions.MiniCloudError(f'{what} failed: {exc}')
    stdout = _mask(proc.stdout, secret_args)
    stderr = _mask(proc.stderr, secret_args)
    with open(log_file, 'a') as log:
        log.write(_mask(f'$ {" ".join(str(a) for a in argv)}\n',
                        secret_args))
        log.write(stdout)
        log.write(stderr)
    if proc.returncode != 0:
        last = (stderr or stdout).strip().splitlines()[-1:]
        detail = f': {last[0]}' if last else ''
        raise exceptions.MiniCloudError(
            f'{what} failed (exit {proc.returncode}){detail}; see {log_file}')
    return proc.stdout


def _mask(text: str, secrets: Collection[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, '***')
    return text


def use(parent: fixtures.Fixture, child: F) -> F:
    """``parent.useFixture(child)``, but a failed setUp keeps its error.

    fixtures cleans a child whose setUp failed, then ``useFixture`` tries to
    gather the child's details and can replace the real error (a timeout, a
    Ctrl-C) with a TypeError. Here the child's first error is raised as it
    was, KeyboardInterrupt included, so the user sees what happened.
    """
    try:
        child.setUp()
    except fixtures.MultipleExceptions as exc:
        error = exc.args[0]
        raise error[1].with_traceback(error[2])
    parent.addCleanup(child.cleanUp)
    return child
