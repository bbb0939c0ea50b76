"""Where each compared Heat release lives: one python per release.

A side of the comparison may be given as

* a series name of ``upgrade/releases.yaml`` (``2026.2``): the venv of
  that series' Heat in the venv cache, under the very name and pins the
  mini-cloud uses (``heat-27.0.1``), so both share one build;
* a package version (``27.0.1``): the same, pinned by the series of that
  major version when there is one;
* a Heat source tree (the patch under test is not on PyPI): installed in
  development mode into a venv of its own, pinned like the newest series;
  the code is read live, so edits need no rebuild (new dependencies do:
  remove the venv);
* an existing environment: a python executable or a venv directory (the
  gate, where devstack installs Heat into a global venv).

A release's series comes from its version: the series of the same major
version, or the one after it for a development version past that
series' (pbr makes ``26.1.0.dev109`` of master after the 26.0.0 tag). When
that guess is wrong (a tree cloned without its tags), the side names its
series: ``2026.2=~/src/heat``.

Nothing here imports Heat; ``probe`` runs the helper script with the
release's python and reads the JSON it prints.
"""

from concurrent import futures
import dataclasses
import json
import os
from pathlib import Path
import re
import shutil
import subprocess

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import requirements
from heat_upgrade_tests.installs import sources
from heat_upgrade_tests.installs import venvs
from heat_upgrade_tests import releases

PROBE = Path(__file__).resolve().parent / 'helpers' / 'heat_probe.py'
_VERSION = re.compile(r'^\d+(\.\d+){1,3}([.\-+]?[A-Za-z0-9.]+)?$')
SERIES, VERSION, SOURCE, PYTHON = 'series', 'version', 'source', 'python'


# The integrity package's error, by the name its modules and users know;
# defined with the other errors so that ``heatdb`` can raise it too.
IntegrityError = exceptions.IntegrityError


@dataclasses.dataclass
class HeatEnv:
    """One Heat release as the checks see it: its python and identity."""

    spec: str
    kind: str
    python: Path
    version: str
    series: releases.Series | None
    namespaces: list[str]
    # Where the release sits among the known series (their index; x.5
    # for a development version after the newest).
    position: float = -1.0

    @property
    def label(self) -> str:
        where = f' ({self.series.name})' if self.series else ''
        return f'heat {self.version}{where}'

    @property
    def series_name(self) -> str | None:
        return self.series.name if self.series else None

    @property
    def heat_namespaces(self) -> list[str]:
        """Heat's own ``oslo.config.opts`` namespaces (``heat.*``)."""
        return [n for n in self.namespaces if n.startswith('heat.')]


# The version rules live with the series they map to.
major = releases.major
locate = releases.locate
series_of_version = releases.series_of_version


def position(env: HeatEnv, known: dict[str, releases.Series]) -> float:
    """Where ``env`` sits among the known series, for ordering."""
    return env.position


def between(old: HeatEnv, new: HeatEnv,
            known: dict[str, releases.Series]) -> list[releases.Series]:
    """The known series strictly between ``old`` and ``new``."""
    low, high = position(old, known), position(new, known)
    return [s for i, s in enumerate(known.values()) if low < i < high]


def _series_venv(series: releases.Series, cache_dir: Path,
                 log_dir: Path, timeout: float) -> Path:
    # The mini-cloud's venv of the release: one per release, shared.
    name, reqs, pins = requirements.spec('heat', series)
    venv = venvs.ensure_venv(cache_dir, name, reqs, pins,
                             log_dir / f'venv-{name}.log', timeout=timeout)
    return venv / 'bin' / 'python'


def _version_venv(version: str, known: dict[str, releases.Series],
                  cache_dir: Path, log_dir: Path, timeout: float) -> Path:
    for series in known.values():
        if series.heat_version == version:
            return _series_venv(series, cache_dir, log_dir, timeout)
    pins = series_of_version(version, known)
    series = (pins or list(known.values())[-1]).with_heat(version)
    name = requirements.venv_name('heat', series)
    venv = venvs.ensure_venv(
        cache_dir, name, requirements.of('heat', series),
        pins.heat_constraints if pins else None,
        log_dir / f'venv-{name}.log', timeout=timeout)
    return venv / 'bin' / 'python'


def _source_venv(tree: Path, known: dict[str, releases.Series],
                 cache_dir: Path, log_dir: Path, timeout: float) -> Path:
    # The mini-cloud's venv of the tree (``sources``), so that a plan and
    # this command share one build of the patch under review.
    newest = list(known.values())[-1]
    venv = sources.ensure_venv(tree, cache_dir, newest.heat_constraints,
                               log_dir, timeout=timeout)
    return venv / 'bin' / 'python'


def classify(spec: str, known: dict[str, releases.Series]) -> tuple[str,
                                                                    Path]:
    """What kind of side ``spec`` is, and the path it names, if any."""
    if spec in known:
        return SERIES, Path()
    path = Path(spec).expanduser()
    if path.is_file() and os.access(path, os.X_OK):
        return PYTHON, path.absolute()
    if path.is_dir():
        if (path / 'bin' / 'python').exists():
            return PYTHON, (path / 'bin' / 'python').absolute()
        if sources.is_heat_tree(path):
            return SOURCE, path.resolve()
        raise IntegrityError(
            f'{spec} is a directory but neither a venv (no bin/python) nor '
            f'a Heat source tree (no setup.cfg and heat/)')
    if releases.is_series_name(spec):
        # YYYY.N is a series, never a Heat version: refused before any
        # venv is built.
        raise IntegrityError(
            f'unknown release series {spec!r}; known: {", ".join(known)}')
    if _VERSION.match(spec) and os.sep not in spec:
        return VERSION, Path()
    which = shutil.which(spec) if os.sep not in spec else None
    if which:
        return PYTHON, Path(which)
    raise IntegrityError(
        f'cannot tell what {spec!r} is: not a series ({", ".join(known)}), '
        f'a version (X.Y.Z), a python, a venv or a Heat source tree')


def split_hint(spec: str, known: dict[str, releases.Series]
               ) -> tuple[releases.Series | None, str]:
    """``2026.2=~/src/heat`` -> (series 2026.2, ``~/src/heat``)."""
    hint, sep, rest = spec.partition('=')
    if not sep:
        return None, spec
    if hint not in known:
        raise IntegrityError(
            f'{spec!r}: {hint!r} is not a known series ({", ".join(known)})')
    return known[hint], rest


def resolve(spec: str, cache_dir: Path, log_dir: Path,
            timeout: float = 900) -> HeatEnv:
    """The HeatEnv ``spec`` names, building its venv when needed."""
    known = releases.load_series()
    hint, spec = split_hint(spec, known)
    kind, path = classify(spec, known)
    cache_dir = Path(cache_dir).expanduser()
    log_dir = Path(log_dir).expanduser()
    if kind == SERIES:
        python = _series_venv(known[spec], cache_dir, log_dir, timeout)
    elif kind == VERSION:
        python = _version_venv(spec, known, cache_dir, log_dir, timeout)
    elif kind == SOURCE:
        python = _source_venv(path, known, cache_dir, log_dir, timeout)
    else:
        python = path
    info = probe(python, 'info')
    if not info.get('version'):
        raise IntegrityError(f'{python} has a heat package but no '
                             f'openstack-heat distribution')
    if hint is not None or kind == SERIES:
        series = hint or known[spec]
        where = float(list(known).index(series.name))
    else:
        series, where = locate(info['version'], known)
    return HeatEnv(spec=spec, kind=kind, python=python,
                   version=info['version'], series=series,
                   namespaces=info['namespaces'], position=where)


def resolve_all(specs: list[str], cache_dir: Path, log_dir: Path,
                timeout: float = 900) -> list[HeatEnv]:
    """Resolve several sides at once: venv builds run in parallel."""
    with futures.ThreadPoolExecutor(max_workers=max(1, len(specs))) as pool:
        jobs = [pool.submit(resolve, spec, cache_dir, log_dir, timeout)
                for spec in specs]
        return [job.result() for job in jobs]


def series_env(series: releases.Series, cache_dir: Path, log_dir: Path,
               timeout: float = 900) -> HeatEnv:
    return resolve(series.name, cache_dir, log_dir, timeout)


def heat_manage_python() -> Path | None:
    """The python of the ``heat-manage`` on PATH (devstack's global venv).

    Its first line names the interpreter of the environment Heat runs in.
    """
    script = shutil.which('heat-manage')
    if not script:
        return None
    try:
        with open(script, 'rb') as f:
            first = f.readline().decode(errors='replace').strip()
    except OSError:
        return None
    if not first.startswith('#!'):
        return None
    interpreter = first[2:].strip().split()[0]
    return Path(interpreter) if os.path.exists(interpreter) else None


def run_python(python: Path, args: list[str], what: str,
               timeout: float = 300, env: dict | None = None,
               check: bool = True) -> subprocess.CompletedProcess:
    """Run ``python args...`` quietly; IntegrityError when it fails.

    Python warnings are silenced (old releases warn about eventlet on
    every import), so that stderr holds only what matters.
    """
    full_env = dict(os.environ)
    full_env['PYTHONWARNINGS'] = 'ignore'
    full_env.update(env or {})
    try:
        proc = subprocess.run([str(python), *args], capture_output=True,
                              text=True, timeout=timeout, env=full_env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise IntegrityError(f'{what} timed out after {timeout:.0f}s')
    except OSError as exc:
        raise IntegrityError(f'cannot run {python} for {what}: {exc}')
    if check and proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise IntegrityError(
            f'{what} failed (exit {proc.returncode}): ' + ' | '.join(tail))
    return proc


def probe(python: Path, command: str, *args: str,
          database_url: str | None = None, timeout: float = 300) -> dict:
    """Run one command of the helper script in ``python``; its JSON.

    A database URL travels in the environment, never on a command line.
    """
    env = {}
    argv = [str(PROBE), command, *args]
    if database_url is not None:
        env['HEAT_PROBE_DATABASE_URL'] = database_url
        argv.insert(2, '-')
    proc = run_python(Path(python), argv, f'heat probe {command} in {python}',
                      timeout=timeout, env=env)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise IntegrityError(f'heat probe {command} in {python} printed no '
                             f'JSON: {proc.stdout[:200]!r}')
