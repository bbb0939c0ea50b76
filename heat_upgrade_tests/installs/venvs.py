"""Cached virtual environments for Keystone and each Heat release.

Each service runs from a venv of its own, so two Heat releases (and
Keystone) coexist on one machine with their own library pins. Building one
takes about a minute, so a venv is kept in a cache and reused while the
hash in its marker file matches what would be built now: the requirements,
the content of the constraints file and the Python version.

The venv is made with the ``virtualenv`` library rather than ``python -m
venv``: a stock Debian Python without the python3-venv package has no
ensurepip, so ``venv`` cannot seed pip there.

A venv is built in a temporary directory beside its final place and renamed
into place only once complete, marker included. A Ctrl-C or a failed pip
install therefore never leaves a half-built venv that looks valid; leftover
build directories are removed by the next build.
"""

from collections.abc import Iterator
import contextlib
import errno
import fcntl
import hashlib
import json
import os
from pathlib import Path
import shutil
import sys
import tempfile
import time

from heat_upgrade_tests import exceptions
from heat_upgrade_tests import processes

MARKER = '.heat-upgrade-tests-venv'
# Bump when the way a venv is built changes, so old caches are rebuilt.
_BUILD_SCHEME = 1
_BUILD_PREFIX = '.build-'
_OLD_PREFIX = '.old-'


def venv_hash(requirements: list[str], constraints: Path | None,
              fingerprint: str = '') -> str:
    """The hash a venv built from these inputs carries in its marker.

    ``fingerprint`` stands for inputs the requirements do not show, such as
    the dependencies of a source tree installed in development mode.
    """
    if constraints is not None:
        try:
            pins = Path(constraints).read_text()
        except OSError as exc:
            raise exceptions.ConfigError(
                f'cannot read constraints file {constraints}: {exc}')
    else:
        pins = None
    doc = {
        'scheme': _BUILD_SCHEME,
        'requirements': list(requirements),
        'constraints': pins,
        'python': sys.version,
        'implementation': sys.implementation.name,
    }
    if fingerprint:
        doc['fingerprint'] = fingerprint
    blob = json.dumps(doc, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def is_current(venv: Path, digest: str) -> bool:
    """Whether ``venv`` is complete and was built from ``digest``."""
    try:
        recorded = (Path(venv) / MARKER).read_text().strip()
    except OSError:
        return False
    return recorded == digest and (Path(venv) / 'bin' / 'python').exists()


def ensure_venv(cache_dir: Path, name: str, requirements: list[str],
                constraints: Path | None, log_file: Path,
                timeout: float = 900, fingerprint: str = '') -> Path:
    """Return ``cache_dir/name``, a venv with ``requirements`` installed.

    An existing venv is reused when its marker holds the same hash;
    otherwise a new one is built (pip output goes to ``log_file``, nothing
    is printed) and replaces it. ``timeout`` bounds the whole build,
    including the wait for another process building the same venv.
    """
    cache_dir = Path(cache_dir).expanduser().absolute()
    target = cache_dir / name
    digest = venv_hash(requirements, constraints, fingerprint)
    if is_current(target, digest):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with _locked(cache_dir / f'.{name}.lock', timeout, name):
        # Another process may have built it while this one waited.
        if is_current(target, digest):
            return target
        _remove_leftovers(cache_dir, name)
        build = Path(tempfile.mkdtemp(prefix=f'{_BUILD_PREFIX}{name}-',
                                      dir=cache_dir))
        try:
            _build(build, target, requirements, constraints, log_file,
                   deadline, digest)
            _swap_into_place(build, target, cache_dir, name)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return target


def _build(build: Path, target: Path, requirements: list[str],
           constraints: Path | None, log_file: Path, deadline: float,
           digest: str) -> None:
    processes.run(
        [sys.executable, '-m', 'virtualenv', '--no-periodic-update',
         '--no-download', '--activators', '', str(build)],
        log_file, f'creating a virtualenv for {target.name}',
        timeout=_remaining(deadline, target.name))
    argv = [str(build / 'bin' / 'python'), '-m', 'pip', 'install',
            '--no-input', '--disable-pip-version-check']
    if constraints is not None:
        argv += ['-c', str(Path(constraints).absolute())]
    argv += list(requirements)
    processes.run(argv, log_file,
                  f'pip install into the {target.name} venv',
                  timeout=_remaining(deadline, target.name))
    _relocate(build, target)
    _write_atomically(build / MARKER, digest + '\n')


def _relocate(build: Path, target: Path) -> None:
    """Point the scripts pip wrote at the venv's final path.

    pip writes the absolute path of the venv's python in each script's
    shebang; after the rename that path would not exist. Compiled bytecode
    needs no change: the import system corrects its recorded file names.
    """
    old = str(build).encode()
    new = str(target).encode()
    # mkdtemp made the directory private; a venv is readable by all.
    os.chmod(build, 0o755)
    for script in [build / 'pyvenv.cfg', *(build / 'bin').iterdir()]:
        if script.is_symlink() or not script.is_file():
            continue
        data = script.read_bytes()
        is_script = data.startswith(b'#!')
        if old not in data or (script.parent.name == 'bin' and not is_script):
            continue
        mode = script.stat().st_mode
        tmp = script.with_name(f'.{script.name}.tmp')
        tmp.write_bytes(data.replace(old, new))
        os.chmod(tmp, mode)
        os.replace(tmp, script)


def _swap_into_place(build: Path, target: Path, cache_dir: Path,
                     name: str) -> None:
    if os.path.lexists(target):
        # A stale venv: move it aside in one rename, so ``target`` is never
        # a mixture of the two; remove it once the new one is in place.
        aside = Path(tempfile.mkdtemp(prefix=f'{_OLD_PREFIX}{name}-',
                                      dir=cache_dir))
        os.rename(target, aside / name)
        os.rename(build, target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.rename(build, target)


def _remove_leftovers(cache_dir: Path, name: str) -> None:
    """Remove what an interrupted build of ``name`` left behind."""
    for prefix in (_BUILD_PREFIX, _OLD_PREFIX):
        for path in cache_dir.glob(f'{prefix}{name}-*'):
            shutil.rmtree(path, ignore_errors=True)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f'.{path.name}.tmp')
    tmp.write_text(text)
    os.replace(tmp, path)


def _remaining(deadline: float, name: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise exceptions.TimeoutExpired(
            f'timed out building the {name} venv')
    return left


@contextlib.contextmanager
def _locked(lock_file: Path, timeout: float, name: str) -> Iterator[None]:
    """Hold an exclusive lock, so two runs never build one venv at once.

    The lock file is removed when the holder is done, whatever happened
    (a failed build leaves no lock behind in the cache): a waiter that
    then gets the lock of the removed file sees that the file on disk is
    not its own and opens the new one.
    """
    held: dict[str, int] = {}

    def acquired() -> bool:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise
        try:
            same = os.stat(lock_file).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # removed by the holder before us: try again
            os.close(fd)
            return False
        held['fd'] = fd
        return True

    processes.wait_until(
        acquired, timeout,
        f'another process building the {name} venv', interval=1)
    try:
        yield
    finally:
        try:
            os.unlink(lock_file)
        except FileNotFoundError:
            pass
        os.close(held['fd'])
