"""Drop the cached venvs no pin of ``releases.yaml`` refers to any more.

The venv cache keeps one venv per service release of ``releases.yaml``
(``heat-27.0.1``, ``keystone-30.0.0``, ``swift-2.38.3``...); a venv whose
pins change is rebuilt in place, but one whose release no series names
any more (an older point release, a series dropped) stays until
removed. Other venvs (a Heat source tree's ``heat-src-*``, a tempest
venv) are kept: no pin names them, and their next run reuses them.
Leftovers of interrupted builds are removed too.
"""

from pathlib import Path
import re
import shutil

from heat_upgrade_tests.installs import venvs
from heat_upgrade_tests import releases


def _release_venv(services) -> re.Pattern:
    """What a service release's venv is named: SERVICE-VERSION.

    Other venvs (a tempest venv, a source tree's) are not this module's to
    judge.
    """
    return re.compile(r'^(%s)-\d+(\.\d+)+$' % '|'.join(
        re.escape(s) for s in sorted(services)))


def wanted_names(known: dict[str, releases.Series] | None = None
                 ) -> set[str]:
    """The venv names the series of ``releases.yaml`` refer to."""
    known = releases.load_series() if known is None else known
    return {f'{service}-{version}' for series in known.values()
            for service, version in series.versions.items()}


def unreferenced(cache_dir: Path,
                 known: dict[str, releases.Series] | None = None
                 ) -> list[Path]:
    """The cached venvs (and build leftovers) no pin refers to, sorted."""
    cache_dir = Path(cache_dir).expanduser()
    if not cache_dir.is_dir():
        return []
    wanted = wanted_names(known)
    release_venv = _release_venv(releases.packages())
    found = []
    for path in sorted(cache_dir.iterdir()):
        name = path.name
        if name.startswith(('.build-', '.old-')) and path.is_dir():
            found.append(path)
            continue
        if not path.is_dir() or name.startswith('.'):
            continue
        if not (path / venvs.MARKER).exists():
            continue  # not a venv this project built
        if name not in wanted and release_venv.match(name):
            found.append(path)
    return found


def size(path: Path) -> int:
    total = 0
    for item in Path(path).rglob('*'):
        try:
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
        except OSError:
            pass
    return total


def prune(cache_dir: Path, dry_run: bool = False,
          known: dict[str, releases.Series] | None = None
          ) -> list[tuple[Path, int]]:
    """Remove (or only list) the unreferenced venvs; each with its bytes."""
    removed = []
    for path in unreferenced(cache_dir, known):
        removed.append((path, size(path)))
        if not dry_run:
            shutil.rmtree(path)
    return removed
