"""The release pair a plan upgrades, and whether it is a supported path.

Each side is a series of ``upgrade/releases.yaml`` or a Heat source tree
(``~/src/heat``, or ``2026.2=~/src/heat`` to name its series). A tree's
series comes from its version by the rule the integrity command uses
(``releases.series_name_of_version``); its libraries are pinned like the
newest series'. OpenStack supports N-1 -> N and SLURP -> next SLURP; any
other pair is refused with its reason unless asked for explicitly.
"""

import dataclasses
from pathlib import Path

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import sources
from heat_upgrade_tests.plans import model
from heat_upgrade_tests import releases

ALLOW_OPTION = '--allow-unsupported-pair'


class PairError(exceptions.ConfigError):
    """A pair that is no upgrade, or not one the plan runs."""


@dataclasses.dataclass(frozen=True)
class Side:
    """One release of the upgrade: its series, and its tree if any."""

    series: releases.Series
    # Where the series sits among the known ones (past them for a tree of
    # the series after the newest).
    index: int
    tree: Path | None = None
    venv: Path | None = None

    @property
    def label(self) -> str:
        where = f', {self.tree}' if self.tree else ''
        return f'{self.series.name} ({self.series.heat_version}{where})'


def _known() -> dict[str, releases.Series]:
    return releases.load_series()


def series_side(name: str, known: dict[str, releases.Series]) -> Side:
    if name not in known:
        releases.get_series(name)  # the usual one-line error
    return Side(known[name], list(known).index(name))


def _future_series(name: str, version: str,
                   known: dict[str, releases.Series]) -> releases.Series:
    """A series past the newest known (master): the newest's Keystone."""
    newest = list(known.values())[-1]
    return newest.with_heat(version, name=name,
                            slurp=releases.series_key(name)[1] == 1)


def tree_side(spec: str, known: dict[str, releases.Series],
              cache_dir: Path, log_dir: Path,
              timeout: float = 900) -> Side:
    """A Heat source tree, built into its venv; its series from its version.

    ``SERIES=TREE`` names the series when the version cannot tell (a
    tree cloned without its tags).
    """
    hint, sep, path = spec.partition('=')
    if not sep:
        hint, path = '', spec
    elif hint not in known:
        raise PairError(f'{spec!r}: {hint!r} is not a known series '
                        f'({", ".join(known)})')
    tree = Path(path).expanduser().resolve()
    newest = list(known.values())[-1]
    venv = sources.ensure_venv(tree, cache_dir, newest.heat_constraints,
                               log_dir, timeout=timeout)
    version = sources.installed_version(venv, Path(log_dir) / 'sources.log')
    name = hint or releases.series_name_of_version(version, known)
    if name is None:
        raise PairError(f'{tree}: Heat {version} is older than every known '
                        f'series; name its series ({newest.name}={path})')
    if name in known:
        series = known[name].with_heat(version)
        index = list(known).index(name)
    else:
        series = _future_series(name, version, known)
        index = len(known) - 1 + _distance(newest.name, name)
    # The newest series' pins apply to a tree, whatever its series.
    series = series.with_constraints('heat', newest.heat_constraints)
    return Side(series, index, tree=tree, venv=venv)


def _distance(older: str, newer: str) -> int:
    steps = 0
    while releases.next_series(older, steps) != newer:
        steps += 1
        if steps > 20:
            raise PairError(f'series {newer} is not after {older}')
    return steps


def looks_like_tree(spec: str) -> bool:
    path = spec.partition('=')[2] or spec
    return '/' in path or path.startswith(('~', '.')) or Path(
        path).expanduser().is_dir()


def side(spec: str, known: dict[str, releases.Series], cache_dir: Path,
         log_dir: Path) -> Side:
    """A series name or a Heat source tree."""
    if spec in known or not looks_like_tree(spec):
        return series_side(spec, known)
    return tree_side(spec, known, cache_dir, log_dir)


def path_kind(old: Side, new: Side) -> str | None:
    """``n-1``, ``slurp`` or None (not a supported upgrade path)."""
    distance = new.index - old.index
    if distance == 1:
        return model.N_1
    if distance == 2 and old.series.slurp and new.series.slurp:
        return model.SLURP
    return None


def why_unsupported(old: Side, new: Side) -> str:
    distance = new.index - old.index
    pair = f'{old.series.name} -> {new.series.name}'
    if distance == 2:
        not_slurp = [s.name for s in (old.series, new.series)
                     if not s.slurp]
        why = (f'{not_slurp[0]} is not a SLURP release'
               if len(not_slurp) == 1 else
               f'{" and ".join(not_slurp)} are not SLURP releases')
    else:
        why = f'it skips {distance - 1} releases'
    return (f'{pair} is not a supported upgrade path ({why}; supported: '
            f'N-1 -> N and SLURP -> next SLURP); {ALLOW_OPTION} runs it '
            f'anyway')


def check(plan: model.Plan, old: Side, new: Side,
          allow_unsupported: bool = False) -> str:
    """The pair's kind; PairError when the plan should not run it."""
    if new.index <= old.index:
        raise PairError(f'cannot upgrade from {old.series.name} to '
                        f'{new.series.name}: the target must be a later '
                        f'series')
    kind = path_kind(old, new)
    if allow_unsupported:
        return kind or 'unsupported'
    if kind is None:
        raise PairError(why_unsupported(old, new))
    if kind not in plan.paths:
        raise PairError(
            f'plan {plan.name} upgrades {" or ".join(plan.paths)} pairs; '
            f'{old.series.name} -> {new.series.name} is {kind} (pick '
            f'another plan, or {ALLOW_OPTION})')
    return kind


def _default_new(kind: str, known: dict[str, releases.Series]) -> str:
    names = list(known)
    if kind == model.N_1:
        return names[-1]
    for name in reversed(names):
        index = names.index(name)
        if known[name].slurp and index >= 2 and known[names[index - 2]].slurp:
            return name
    raise PairError('no two SLURP series two apart in releases.yaml')


def _default_old(new: Side, kind: str,
                 known: dict[str, releases.Series]) -> Side:
    back = 2 if kind == model.SLURP else 1
    index = new.index - back
    if index < 0:
        raise PairError(f'no series known {back} before {new.series.name}')
    name = list(known)[min(index, len(known) - 1)]
    return series_side(name, known)


def resolve(plan: model.Plan, from_spec: str | None, to_spec: str | None,
            cache_dir: Path, log_dir: Path,
            allow_unsupported: bool = False) -> tuple[Side, Side]:
    """The (old, new) pair of a run of ``plan``, checked."""
    known = _known()
    kind = plan.default_pair
    if to_spec:
        new = side(to_spec, known, cache_dir, log_dir)
    elif from_spec:
        old = side(from_spec, known, cache_dir, log_dir)
        step = 2 if kind == model.SLURP else 1
        names = list(known)
        if old.index + step >= len(names):
            raise PairError(f'no series known {step} after '
                            f'{old.series.name}; give --to')
        new = series_side(names[old.index + step], known)
    else:
        new = series_side(_default_new(kind, known), known)
    if from_spec:
        old = side(from_spec, known, cache_dir, log_dir)
    else:
        old = _default_old(new, kind, known)
    check(plan, old, new, allow_unsupported)
    return old, new
