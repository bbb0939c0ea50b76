"""The release series the upgrade tests know, read from releases.yaml.

Each series names the release of each service (openstack-heat, keystone,
swift, neutron...) and the pip constraints files that pin their
libraries; the file's ``services`` say how each service installs. The data
lives in a YAML file rather than in code, so adding a series needs no code
change, and adding a service no change here.
"""

from collections.abc import Mapping
import dataclasses
from pathlib import Path
import re

import yaml

from heat_upgrade_tests import datafiles
from heat_upgrade_tests import exceptions

RELEASES_FILE = 'releases.yaml'
# A release series name, YYYY.N: the year and its release (two a year,
# .1 and .2). N is read as a number, so that 2025.10 would sort after
# 2025.2, never as a float. Without anchors, so that a series can also be
# found inside a longer name (a log file's); ``series_key`` is the parser.
SERIES_PATTERN = r'[0-9]{4}\.[0-9]+'
_SERIES_NAME = re.compile(SERIES_PATTERN)


@dataclasses.dataclass(frozen=True)
class Package:
    """How a service of ``releases.yaml`` is installed from PyPI."""

    # The service's name in plans and releases.yaml (``heat``).
    service: str
    # Its distribution on PyPI (``openstack-heat``).
    distribution: str
    # What its venv holds beside it, unpinned (the constraints pin them).
    extras: tuple[str, ...] = ()
    # Its service type in a Keystone catalogue (``orchestration``).
    catalog_type: str | None = None
    # Part of the mini-cloud's compute part (``[minicloud] compute``).
    compute: bool = False


@dataclasses.dataclass(frozen=True)
class Series:
    """One release series, e.g. 2026.1, and what to install for it."""

    name: str
    slurp: bool
    # Service -> its release in this series (a service absent: none).
    versions: Mapping[str, str] = dataclasses.field(hash=False)
    # Service -> the pip constraints file of its venv (absent: none).
    constraints: Mapping[str, Path] = dataclasses.field(
        default_factory=dict, hash=False)

    @property
    def sort_key(self) -> tuple[int, int]:
        return series_key(self.name)

    def version(self, service: str) -> str | None:
        """The release of ``service`` in this series, or None."""
        return self.versions.get(service)

    def constraints_of(self, service: str) -> Path | None:
        return self.constraints.get(service)

    def with_heat(self, version: str, **changes) -> 'Series':
        """This series with another Heat (a source tree's version)."""
        return dataclasses.replace(
            self, versions={**self.versions, 'heat': version}, **changes)

    def with_constraints(self, service: str,
                         path: Path | None) -> 'Series':
        return dataclasses.replace(
            self, constraints={**self.constraints, service: path})

    # The names the rest of the project reads.
    heat_version = property(lambda self: self.versions['heat'])
    keystone_version = property(lambda self: self.versions['keystone'])
    swift_version = property(lambda self: self.versions.get('swift'))
    neutron_version = property(lambda self: self.versions.get('neutron'))
    heat_constraints = property(
        lambda self: self.constraints.get('heat'))
    keystone_constraints = property(
        lambda self: self.constraints.get('keystone'))


def series_key(name: str) -> tuple[int, int]:
    """(year, release) of a series name such as ``2026.1``; its sort key.

    The one reading of a series name: the releases file, the
    configuration, the checks' known failures and the plans all order and
    recognise series by it, so they cannot disagree on what a series is.
    ValueError, naming the bad name, for anything not of the form YYYY.N.
    """
    if not isinstance(name, str) or not _SERIES_NAME.fullmatch(name):
        raise ValueError(f'{name!r} is not a release series (YYYY.N)')
    year, _, number = name.partition('.')
    return int(year), int(number)


def is_series_name(name: str) -> bool:
    """Whether ``name`` is of the form of a series (known or not).

    For the callers that tell a series from a Heat version (``2026.1``
    against ``26.0.2``) before they look it up.
    """
    try:
        series_key(name)
    except ValueError:
        return False
    return True


def load_series(path: Path | None = None) -> dict[str, Series]:
    """Every series in ``path`` (default: the project's releases.yaml).

    The dictionary is ordered from the oldest series to the newest.
    """
    doc, path = _read(path)
    entries = doc.get('series')
    if not isinstance(entries, dict) or not entries:
        raise exceptions.ConfigError(f'{path} has no "series" mapping')
    services = _packages(doc, path)
    found = [_parse(path, name, entry, services)
             for name, entry in entries.items()]
    found.sort(key=lambda s: s.sort_key)
    return {s.name: s for s in found}


def packages(path: Path | None = None) -> dict[str, Package]:
    """The services ``releases.yaml`` names, each with how it installs."""
    doc, path = _read(path)
    return _packages(doc, path)


def _read(path: Path | None) -> tuple[dict, Path]:
    path = Path(path) if path is not None else (
        datafiles.upgrade_dir() / RELEASES_FILE)
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise exceptions.ConfigError(f'cannot read {path}: {exc}')
    if not isinstance(doc, dict):
        raise exceptions.ConfigError(f'{path} has no "series" mapping')
    return doc, path


def _packages(doc: dict, path: Path) -> dict[str, Package]:
    entries = doc.get('services')
    if not isinstance(entries, dict) or not {'heat', 'keystone'} <= set(
            entries):
        raise exceptions.ConfigError(
            f'{path} has no "services" mapping naming heat and keystone')
    found = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict) or not entry.get('package'):
            raise exceptions.ConfigError(
                f'{path}: service {name!r} names no package')
        found[name] = Package(str(name), str(entry['package']),
                              tuple(str(e) for e in entry.get('with', ())),
                              entry.get('catalog'),
                              bool(entry.get('compute', False)))
    return found


def _parse(path: Path, name: object, entry: object,
           services: Mapping[str, Package]) -> Series:
    where = f'{path}: series {name!r}'
    if not isinstance(name, str):
        # An unquoted 2025.1 is a float; 2025.10 would silently be 2025.1.
        raise exceptions.ConfigError(f'{where}: quote the series name')
    try:
        series_key(name)
    except ValueError:
        raise exceptions.ConfigError(f'{where}: not of the form YYYY.N')
    if not isinstance(entry, dict):
        raise exceptions.ConfigError(f'{where}: not a mapping')
    for required in ('heat', 'keystone'):
        if required not in entry:
            raise exceptions.ConfigError(f'{where}: missing {required!r}')
    return Series(
        name=name, slurp=bool(entry.get('slurp', False)),
        versions={service: str(entry[service]) for service in services
                  if entry.get(service)},
        constraints={service: found for service in services
                     if (found := _constraints(path, where, entry,
                                               service)) is not None})


def _constraints(path: Path, where: str, entry: dict,
                 service: str) -> Path | None:
    value = entry.get(f'{service}_constraints')
    if not value:
        return None
    resolved = (Path(path).parent / value).resolve()
    if not resolved.is_file():
        raise exceptions.ConfigError(
            f'{where}: constraints file {resolved} does not exist')
    return resolved


def get_series(name: str, path: Path | None = None) -> Series:
    """The series called ``name``; ConfigError names the known ones."""
    known = load_series(path)
    try:
        return known[name]
    except KeyError:
        raise exceptions.ConfigError(
            f"unknown release series '{name}'; known: "
            + ', '.join(known))


def previous(series: Series, path: Path | None = None) -> Series:
    """The series just before ``series`` (N-1 of an N-1 -> N upgrade)."""
    known = load_series(path)
    if series.name not in known:
        get_series(series.name, path)  # raises the usual ConfigError
    older = [s for s in known.values() if s.sort_key < series.sort_key]
    if not older:
        raise exceptions.ConfigError(
            f'no series known before {series.name}')
    return older[-1]


def default_pair(path: Path | None = None) -> tuple[Series, Series]:
    """(from, to) of the default upgrade: the newest and the one before."""
    newest = list(load_series(path).values())[-1]
    return previous(newest, path), newest


# -- Heat versions and their series ------------------------------------------
def major(version: str) -> int | None:
    match = re.match(r'^(\d+)', version or '')
    return int(match.group(1)) if match else None


def _minor(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r'\d+', version)[:2])


def locate(version: str, known: dict[str, Series]
           ) -> tuple[Series | None, float]:
    """The series of a Heat ``version`` and its position among ``known``.

    A development version whose major.minor is past its major's series
    (pbr's ``26.1.0.dev109`` on master after 26.0.0) belongs to the next
    series; past the newest, to no known series, just after it.
    """
    names = list(known)
    for index, series in enumerate(known.values()):
        if series.heat_version == version:
            return series, float(index)
    wanted = major(version)
    for index, series in enumerate(known.values()):
        if major(series.heat_version) != wanted:
            continue
        if 'dev' in version and _minor(version) > _minor(
                series.heat_version):
            if index + 1 < len(names):
                return known[names[index + 1]], float(index + 1)
            return None, index + 0.5
        return series, float(index)
    majors = [major(s.heat_version) or 0 for s in known.values()]
    if majors and (wanted or 0) > max(majors):
        return None, len(names) - 0.5
    return None, -1.0


def series_of_version(version: str,
                      known: dict[str, Series]
                      ) -> Series | None:
    """The series of a Heat ``version`` (see ``locate``)."""
    return locate(version, known)[0]


def next_series(name: str, steps: int = 1) -> str:
    """The series ``steps`` after ``name``: two a year, ``.1`` and ``.2``."""
    year, half = series_key(name)
    index = year * 2 + (half - 1) + steps
    return f'{index // 2}.{index % 2 + 1}'


def series_name_of_version(version: str,
                           known: dict[str, Series] | None = None
                           ) -> str | None:
    """The series name of a Heat ``version``, also past the newest known.

    Known series by ``locate``; past the newest (master in the gate, say
    ``27.1.0.dev4`` after 2026.2's 27.0.x, or ``28.0.0.dev3`` before the
    28.0.0 tag), one series per Heat major, and a development version of
    a minor past .0 is of the series after its major's. None for a
    version older than every known series.
    """
    known = load_series() if known is None else known
    series, where = locate(version, known)
    if series is not None:
        return series.name
    wanted = major(version)
    if where < 0 or wanted is None or not known:
        return None
    newest = list(known.values())[-1]
    steps = wanted - (major(newest.heat_version) or 0)
    if 'dev' in version and _minor(version)[1:] > (0,):
        steps += 1
    return next_series(newest.name, max(steps, 1))
