"""The order a phase runs its tests in: by name, or drawn from a seed.

A plan that lets the order of the checks vary (``shuffle_checks: true``)
draws ``[phases] check_order_seed`` from the run's ``--seed``, and the
seed decides both what each stestr worker runs and in which order:

* stestr deals the listed tests to its workers round robin in the order
  of a Python set of their ids (``selection.filter_tests``), which
  follows the interpreter's string hashing: the phase runs stestr with
  ``PYTHONHASHSEED`` fixed from the seed (``stestr_env``), so the same
  seed deals the same hands;
* each worker runs its tests in the order of the loaded suite, which the
  phase modules' ``load_tests`` sorts by ``phase_order``.

So the same seed gives the same neighbours in the same order, and a
failure that depends on which checks run side by side can be replayed.
"""

from collections.abc import Iterable
import random

from heat_upgrade_tests.checks import base as checks_base
from heat_upgrade_tests import copies


def ordered(names: Iterable[str], seed: int | None) -> list[str]:
    """``names`` sorted, then shuffled by ``seed`` (None: just sorted)."""
    names = sorted(names)
    if seed is not None:
        random.Random(seed).shuffle(names)
    return names


def phase_order(conf) -> list[str]:
    """The state names (checks and their copies) in the phase's order."""
    names = [name for _check, _copy, name in copies.state_names(
        conf, checks_base.selected_checks(conf))]
    return ordered(names, conf.phases.check_order_seed)


def stestr_env(seed: int) -> dict[str, str]:
    """The environment that makes stestr deal its workers ``seed``'s hands."""
    return {'PYTHONHASHSEED': str(seed % 2 ** 32)}
