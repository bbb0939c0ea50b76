"""The release series the upgrade tests know, read from releases.yaml.

Each series names its openstack-heat, keystone, swift and neutron
releases and the pip constraints files that pin their libraries. The data
lives in a YAML file rather than in code, so adding a series needs no code
change.
"""

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
class Series:
    """One release series, e.g. 2026.1, and what to install for it."""

    name: str
    heat_version: str
    keystone_version: str
    slurp: bool
    heat_constraints: Path | None
    keystone_constraints: Path | None
    # The Swift and Neutron of the series (None: the series has none).
    swift_version: str | None = None
    neutron_version: str | None = None
    swift_constraints: Path | None = None
    neutron_constraints: Path | None = None

    @property
    def sort_key(self) -> tuple[int, int]:
        return series_key(self.name)


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
    path = Path(path) if path is not None else (
        datafiles.upgrade_dir() / RELEASES_FILE)
    try:
        with open(path) as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        raise exceptions.ConfigError(f'cannot read {path}: {exc}')
    entries = doc.get('series') if isinstance(doc, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise exceptions.ConfigError(f'{path} has no "series" mapping')
    found = [_parse(path, name, entry) for name, entry in entries.items()]
    found.sort(key=lambda s: s.sort_key)
    return {s.name: s for s in found}


def _parse(path: Path, name: object, entry: object) -> Series:
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
    try:
        heat, keystone = str(entry['heat']), str(entry['keystone'])
    except KeyError as exc:
        raise exceptions.ConfigError(f'{where}: missing {exc}')
    return Series(
        name=name, heat_version=heat, keystone_version=keystone,
        slurp=bool(entry.get('slurp', False)),
        heat_constraints=_constraints(path, where, entry, 'heat'),
        keystone_constraints=_constraints(path, where, entry, 'keystone'),
        swift_version=_optional(entry, 'swift'),
        neutron_version=_optional(entry, 'neutron'),
        swift_constraints=_constraints(path, where, entry, 'swift'),
        neutron_constraints=_constraints(path, where, entry, 'neutron'))


def _optional(entry: dict, key: str) -> str | None:
    value = entry.get(key)
    return str(value) if value else None


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
