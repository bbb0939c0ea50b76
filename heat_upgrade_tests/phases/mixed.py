"""The mixed phase: old and new engines both serve (the rolling plans).

Elasticsearch's mixed-cluster tests and the Cinder and Ceilometer partial
upgrades ask what works while a cloud is half upgraded. Here, per check,
while the old and new ``heat-engine`` share one bus:

* the stack pre-upgrade made (with the old release) is updated, and its
  outputs stay what they were (``lifecycle.mixed_update``);
* a new stack of the check lives its whole life: created, verified,
  updated with the effect observed, deleted with what it made gone
  (``lifecycle.whole_life``).

The phase tests add a load of resource operations and create, update and
delete cycles, so that each stack operation lands on either engine
(``phases/suite/test_mixed.py``); which engine served what is read from
the engines' logs by the upgrade run (``plans/mixing.py``).

A new stack of the mixed phase is written into the check's state before
it is waited for, so that the destroy phase deletes it if the mixed phase
could not (an incompatible mix leaves stacks IN_PROGRESS).
"""

import dataclasses
import json
import os
from pathlib import Path
from typing import Any
import uuid

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.phases import lifecycle

MIXED_STACKS = 'mixed_stacks'
# Set once the mixed phase updated the pre-upgrade stack: its status is
# then UPDATE_COMPLETE, which the later phases accept.
MIXED_UPDATED = 'mixed_updated'
# The phase tests' own stacks (load, crossings), for the destroy phase: in
# a directory of its own, since every *.json of the state directory is a
# check's state.
LEFTOVERS_FILE = Path('mixed-phase', 'stacks.json')


def step(check, ctx, doc: dict[str, Any]):
    """The mixed step of one check, as the phase runs it."""
    def run(ctx, record) -> None:
        allowed = lifecycle.statuses(
            check, updated_while_mixed=bool(doc.get(MIXED_UPDATED)))
        if lifecycle.mixed_update(check, ctx, record, allowed):
            doc[MIXED_UPDATED] = True
            if ctx.save:
                ctx.save()
        fresh = check.record_type()
        entry: dict[str, Any] = {}

        def save_fresh() -> None:
            if fresh.stack is not None and not entry:
                entry.update(id=fresh.stack.id, name=fresh.stack.name,
                             deleted=False)
                doc.setdefault(MIXED_STACKS, []).append(entry)
            if ctx.save:
                ctx.save()
        fresh_ctx = dataclasses.replace(
            ctx, run_id=f'{ctx.run_id}m{uuid.uuid4().hex[:4]}',
            save=save_fresh)
        lifecycle.whole_life(check, fresh_ctx, fresh)
        if entry:
            entry['deleted'] = True
        if ctx.save:
            ctx.save()
    return run


def delete_leftovers(ctx, doc: dict[str, Any], state) -> None:
    """Delete the check's mixed-phase stacks the mixed phase left."""
    left = [e for e in doc.get(MIXED_STACKS, []) if not e.get('deleted')]
    for entry in left:
        try:
            ctx.stacks.delete(entry['id'])
        except exceptions.UpgradeTestError as exc:
            raise exceptions.CheckFailed(
                f'the mixed phase\'s stack {entry["name"]} ({entry["id"]}) '
                f'could not be deleted: {exc}')
        entry['deleted'] = True
        state.save(doc)


# -- the phase tests' own stacks ---------------------------------------------
def _leftovers_path(state_dir: str) -> Path:
    return Path(os.path.expanduser(state_dir)) / LEFTOVERS_FILE


def remember(state_dir: str, stack_id: str, name: str) -> None:
    """Record a phase test's stack before waiting for it (destroy's)."""
    path = _leftovers_path(state_dir)
    doc = _read(path)
    doc[stack_id] = name
    _write(path, doc)


def forget(state_dir: str, stack_id: str) -> None:
    path = _leftovers_path(state_dir)
    doc = _read(path)
    if doc.pop(stack_id, None) is not None:
        _write(path, doc)


def leftovers(state_dir: str) -> dict[str, str]:
    """id -> name of the phase tests' stacks not yet deleted."""
    return _read(_leftovers_path(state_dir))


def _read(path: Path) -> dict[str, str]:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise exceptions.StateError(f'{path} is corrupt ({exc})')
    if not isinstance(doc, dict):
        raise exceptions.StateError(f'{path} is not a mapping')
    return doc


def _write(path: Path, doc: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix('.tmp')
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        json.dump(doc, f)
    os.replace(tmp, path)
