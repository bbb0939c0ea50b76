"""Private mount namespaces for a system daemon's compile-time paths.

Some daemons the mini-cloud runs keep files at paths no option moves
(libvirt's ``/run/libvirt``, ``/var/lib/libvirt``...). Run in a mount
namespace of its own (util-linux's ``unshare``), such a daemon sees
directories of the run bind-mounted on those paths, and the host sees
none of it. Each daemon gets its own namespace with the same mounts, so
several daemons (and the processes they start) share one set of files.

A bind mount needs its target to exist on the host: what is missing is
made, empty but for ``MARKER`` (hidden under the mount inside), and
removed once no namespace on the host mounts anything there, whichever
run made it.
"""

from collections.abc import Iterable, Sequence
import errno
import os
from pathlib import Path
import re

from heat_upgrade_tests.installs import packages

# In each mount point the run makes on the host (hidden under the mount
# inside): it may go when nothing uses it.
MARKER = '.made-by-heat-upgrade-tests'

# Run in the new mount namespace by ``sh -c``: bind each SOURCE on its
# TARGET, then become the daemon (argv after ``--``).
_ENTER = ('set -e; while [ "$1" != -- ]; do mount --bind "$1" "$2"; '
          'shift 2; done; shift; exec "$@"')


def namespace_argv(mounts: Sequence[tuple[Path, Path]],
                   argv: Sequence[str | Path]) -> list[str]:
    """``argv`` run in a new mount namespace holding ``mounts``.

    Mounts made there are private to it (``--propagation private``): the
    host sees none. ``unshare`` and ``sh`` exec, so the process is the
    daemon itself.
    """
    pairs = [str(p) for mount in mounts for p in mount]
    return [packages.UNSHARE, '--mount', '--propagation', 'private',
            '/bin/sh', '-c', _ENTER, 'mount-namespace', *pairs, '--',
            *(str(a) for a in argv)]


def _rmdir(path: Path) -> None:
    # Only an empty directory goes.
    try:
        path.rmdir()
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EBUSY):
            raise


def make_mount_points(targets: Iterable[Path]) -> None:
    """Make the bind mounts' missing targets, each holding ``MARKER``.

    A bind mount needs its target. What is made stays empty on the host
    but for the marker (hidden under the mount inside), which tells any
    run's cleanup it may go (``remove_mount_points``).
    """
    for target in targets:
        missing = []
        parent = target
        while not parent.exists():
            missing.insert(0, parent)
            parent = parent.parent
        for path in missing:
            path.mkdir(exist_ok=True)
            (path / MARKER).write_text(
                'made by heat-upgrade-tests as a mount point of its private '
                'libvirt; removed when no libvirt of a run uses it\n')


def remove_mount_points(targets: Iterable[Path],
                        proc: Path = Path('/proc')) -> None:
    """Remove the targets (and parents) a run made, once nothing uses them.

    A directory goes only if it holds nothing but ``MARKER`` and no mount
    namespace on the host mounts anything there: removing the mount
    point of another run's libvirt (another fixture, or the guests it
    left running) would detach its mount, and its daemons would lose
    their files.
    """
    in_use = mount_points(proc)
    for target in targets:
        for path in [target, *target.parents]:
            if path in in_use or not path.is_dir():
                break
            try:
                if set(os.listdir(path)) != {MARKER}:
                    break
                (path / MARKER).unlink()
            except OSError:
                break
            _rmdir(path)


def mount_points(proc: Path = Path('/proc')) -> set[Path]:
    """Every mount point of every mount namespace on the host."""
    seen, points = set(), set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            namespace = os.readlink(entry / 'ns' / 'mnt')
            if namespace in seen:
                continue
            table = (entry / 'mountinfo').read_text()
        except OSError:
            continue
        seen.add(namespace)
        for line in table.splitlines():
            fields = line.split()
            if len(fields) > 4:
                # Octal escapes: a space is \040.
                points.add(Path(re.sub(
                    r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)),
                    fields[4])))
    return points
