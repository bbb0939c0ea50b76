"""A Heat source tree (the patch under review) as a release of the run.

The tree is installed in development mode into a venv of its own, pinned
like the newest series, so the code is read live: an edit needs no
rebuild. The venv is reused while the tree's dependencies (its
requirements.txt and setup.cfg) and the pins do not change, and it is the
same venv the integrity command uses for that tree.

A tree without git metadata (an unpacked sdist) needs its version from pbr
some other way: pbr reads ``PKG-INFO``, or ``PBR_VERSION`` in the
environment, which reaches pip here.
"""

import hashlib
from pathlib import Path

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import venvs
from heat_upgrade_tests import processes
from heat_upgrade_tests import releases

DEPENDENCY_FILES = ('requirements.txt', 'setup.cfg')


def is_heat_tree(path: Path) -> bool:
    """Whether ``path`` looks like a Heat source tree."""
    path = Path(path)
    return (path / 'setup.cfg').is_file() and (path / 'heat').is_dir()


def venv_name(tree: Path) -> str:
    """One venv per tree path (``heat-src-<hash>``)."""
    digest = hashlib.sha256(str(Path(tree).resolve()).encode()).hexdigest()
    return f'heat-src-{digest[:12]}'


def requirements(tree: Path) -> list[str]:
    """What the tree's venv holds; the mini-cloud serves it with uwsgi."""
    return ['-e', str(Path(tree).resolve()),
            *releases.packages()['heat'].extras]


def fingerprint(tree: Path) -> str:
    """The tree's dependency declarations, so that a change rebuilds."""
    digest = hashlib.sha256()
    for name in DEPENDENCY_FILES:
        path = Path(tree) / name
        digest.update(name.encode() + b'\0')
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv(tree: Path, cache_dir: Path, constraints: Path | None,
                log_dir: Path, timeout: float = 900) -> Path:
    """Build (or reuse) the development venv of ``tree``; its path."""
    tree = Path(tree).expanduser().resolve()
    if not is_heat_tree(tree):
        raise exceptions.ConfigError(
            f'{tree} is not a Heat source tree (no setup.cfg and heat/)')
    name = venv_name(tree)
    return venvs.ensure_venv(
        cache_dir, name, requirements(tree), constraints,
        Path(log_dir) / f'venv-{name}.log', timeout=timeout,
        fingerprint=fingerprint(tree))


def installed_version(venv: Path, log_file: Path,
                      timeout: float = 60) -> str:
    """The openstack-heat version pip recorded in ``venv``."""
    out = processes.run(
        [Path(venv) / 'bin' / 'python', '-c',
         'import importlib.metadata as m; '
         'print(m.version("openstack-heat"))'],
        log_file, f'reading the Heat version of {venv}', timeout=timeout)
    lines = out.strip().splitlines()
    if not lines:
        raise exceptions.MiniCloudError(
            f'{venv} has no openstack-heat distribution')
    return lines[-1].strip()
