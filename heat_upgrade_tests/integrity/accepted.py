"""The reviewed file of option removals accepted without a deprecation.

An option that disappears without having been deprecated for removal
fails the options check. Sometimes that is what Heat meant (a client of a
retired project removed with it); such a removal is accepted only once a
person has reviewed it and written down why, in
``upgrade/accepted-option-removals.yaml``::

    removals:
      - group: clients_vitrage
        option: '*'            # every option of the group
        releases: ['2026.2']   # the series that removed it
        reason: Vitrage integration removed with the retired project.

An entry applies to an upgrade whose target is one of ``releases`` or
later while its origin is earlier, so it covers N-1 -> N and skip-level
upgrades alike.
"""

import dataclasses
from pathlib import Path

import yaml

from heat_upgrade_tests import datafiles
from heat_upgrade_tests import exceptions

FILE_NAME = 'accepted-option-removals.yaml'
ANY_OPTION = '*'
_KEYS = {'group', 'option', 'releases', 'reason'}


@dataclasses.dataclass(frozen=True)
class Entry:
    group: str
    option: str
    releases: tuple[str, ...]
    reason: str
    index: int = 0

    def matches(self, group: str, option: str) -> bool:
        return self.group == group and (
            self.option == ANY_OPTION or
            normalize(self.option) == normalize(option))

    def __str__(self) -> str:
        return (f'[{self.group}] {self.option} '
                f'(removed in {", ".join(self.releases)})')


def normalize(name: str) -> str:
    """keystoneauth names options with dashes, heat.conf with either."""
    return name.replace('-', '_')


def default_path() -> Path:
    return datafiles.upgrade_dir() / FILE_NAME


def load(path: Path | None = None,
         known_series: list[str] | None = None) -> list[Entry]:
    """The entries of the file; ConfigError names the bad entry."""
    path = Path(path) if path is not None else default_path()
    try:
        text = path.read_text()
    except OSError as exc:
        raise exceptions.ConfigError(
            f'cannot read the accepted removals file {path}: '
            f'{exc.strerror}')
    return parse(text, str(path), known_series)


def parse(text: str, where: str = '<string>',
          known_series: list[str] | None = None) -> list[Entry]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise exceptions.ConfigError(f'{where} is not YAML: {exc}')
    if doc is None:
        return []
    if not isinstance(doc, dict) or set(doc) != {'removals'}:
        raise exceptions.ConfigError(
            f'{where}: expected one key, "removals", holding a list')
    items = doc['removals'] or []
    if not isinstance(items, list):
        raise exceptions.ConfigError(f'{where}: "removals" is not a list')
    entries = []
    seen = {}
    for index, item in enumerate(items, 1):
        entry = _entry(item, f'{where}: entry {index}', index, known_series)
        for release in entry.releases:
            key = (entry.group, normalize(entry.option), release)
            if key in seen:
                raise exceptions.ConfigError(
                    f'{where}: entries {seen[key]} and {index} both accept '
                    f'[{entry.group}] {entry.option} in {release}')
            seen[key] = index
        entries.append(entry)
    return entries


def _entry(item: object, where: str, index: int,
           known_series: list[str] | None) -> Entry:
    if not isinstance(item, dict):
        raise exceptions.ConfigError(f'{where} is not a mapping')
    missing = sorted(_KEYS - set(item))
    unknown = sorted(set(item) - _KEYS)
    if missing or unknown:
        problems = ([f'missing {", ".join(missing)}'] if missing else []) + (
            [f'unknown {", ".join(unknown)}'] if unknown else [])
        raise exceptions.ConfigError(f'{where}: {"; ".join(problems)}')
    for key in ('group', 'option', 'reason'):
        if not isinstance(item[key], str) or not item[key].strip():
            raise exceptions.ConfigError(
                f'{where}: "{key}" must be a non-empty string')
    found = item['releases']
    if not isinstance(found, list) or not found or not all(
            isinstance(r, str) for r in found):
        raise exceptions.ConfigError(
            f'{where}: "releases" must be a non-empty list of quoted series '
            f'names (unquoted, YAML reads 2026.1 as a number)')
    if known_series is not None:
        unknown_series = [r for r in found if r not in known_series]
        if unknown_series:
            raise exceptions.ConfigError(
                f'{where}: unknown series {", ".join(unknown_series)}; '
                f'known: {", ".join(known_series)}')
    return Entry(group=item['group'].strip(), option=item['option'].strip(),
                 releases=tuple(found),
                 reason=' '.join(item['reason'].split()), index=index)


def applicable(entries: list[Entry], series_names: list[str], old_pos: float,
               new_pos: float) -> list[Entry]:
    """The entries whose removal release lies in ``(old, new]``.

    ``series_names`` are the known series, oldest first; the positions
    are those of ``environments.position``.
    """
    result = []
    for entry in entries:
        for release in entry.releases:
            if release in series_names and \
                    old_pos < series_names.index(release) <= new_pos:
                result.append(entry)
                break
    return result
