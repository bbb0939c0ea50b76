"""What each phase does with one check, and the cross-phase bookkeeping.

The generated phase tests call ``run_check_phase``; this module owns the
rules (skips carried from pre-upgrade, state required before later phases,
admin required in every phase by a check that needs it, a destroy phase
that cleans up after any earlier failure) so that checks only say what to
create and what to look at.
"""

import copy
import functools
from typing import Any

from heat_upgrade_tests.checks import base
from heat_upgrade_tests import clients
from heat_upgrade_tests import copies
from heat_upgrade_tests import engines
from heat_upgrade_tests import exceptions
from heat_upgrade_tests.phases import lifecycle
from heat_upgrade_tests.phases import mixed
from heat_upgrade_tests import state as state_mod

# The phases, named once in the ground (state.py).
PRE_UPGRADE, VERIFY, DURING_UPGRADE, NO_API, MIXED, POST_UPGRADE, DESTROY = (
    state_mod.PHASES)
PHASES = state_mod.PHASES

PASSED = 'passed'
FAILED = 'failed'
SKIPPED = 'skipped'
# A declared known failure that happened: reported, not failed.
KNOWN_FAILURE = 'known-failure'
KNOWN_FINDING = 'KNOWN FINDING'


def validate_phase(func):
    """Decorator: refuse a phase name that is not one of ``PHASES``."""
    @functools.wraps(func)
    def wrapper(*args, phase: str, **kwargs):
        if phase not in PHASES:
            raise exceptions.ConfigError(
                f'unknown phase {phase!r}; phases: {", ".join(PHASES)}')
        return func(*args, phase=phase, **kwargs)
    return wrapper


class Session:
    """Connections of one process, opened once and shared by its tests."""

    def __init__(self, conf):
        self.conf = conf
        self._conn = None
        self._admin = None
        self._admin_error: str | None = None

    @property
    def conn(self):
        if self._conn is None:
            self._conn = clients.connect(self.conf)
        return self._conn

    @property
    def admin_conn(self):
        """The admin connection, or None when no admin entry is usable."""
        if self._admin is None and self._admin_error is None:
            try:
                self._admin = clients.connect(self.conf, admin=True)
            except exceptions.ConfigError as exc:
                self._admin_error = str(exc)
        return self._admin

    def context(self, check: base.ResourceCheck, run_id: str,
                save=None, offline: bool = False) -> base.CheckContext:
        """What ``check`` may use; ``offline``: no connection at all.

        The no-api phase is offline: grenade stops every service, Keystone
        included, before it, so authenticating would fail there; a check
        probes the data plane only.
        """
        if offline:
            return base.CheckContext(conf=self.conf, conn=None,
                                     admin_conn=None, stacks=None,
                                     run_id=run_id, save=save)
        admin = self.admin_conn
        conn = admin if check.needs_admin and admin is not None else (
            self.conn)
        timeouts = self.conf.timeouts
        return base.CheckContext(
            conf=self.conf, conn=conn, admin_conn=admin,
            stacks=clients.StackOps(
                conn, timeouts.stack_timeout, timeouts.poll_interval,
                no_progress=timeouts.no_progress_timeout,
                engines=self.engine_watch(conn, f'check {check.name}')),
            run_id=run_id, save=save)

    def engine_watch(self, conn, where: str):
        """What a wait calls when it sees no progress (``StackOps``)."""
        def watch(stuck):
            try:
                return engines.require_engine(
                    conn, self.admin_conn,
                    self.conf.integrity.database_connection,
                    self.conf.timeouts.engine_probe_timeout, where=where,
                    stacks=stuck)
            except engines.EngineNotServing as exc:
                # The phase's other tests stop at once with the same line.
                engines.mark_not_serving(self.conf.phases.state_dir,
                                         str(exc))
                raise
        return watch


@validate_phase
def run_check_phase(session: Session, check_cls: type[base.ResourceCheck],
                    *, phase: str, copy: int = 1) -> None:
    """Run one phase of one check; raise CheckSkipped or a failure.

    ``copy`` (``[phases] stacks_per_check``): which of the check's stacks,
    each with a state document of its own (``copies``); copy 1 is the
    check's own.

    Grenade's contract: pre-upgrade creates and verifies; during-upgrade
    and no-api look; post-upgrade verifies (the same status and outputs,
    then the update whose effect is observed) and never deletes; destroy
    deletes whatever stack is left and proves its physical resources
    gone. destroy is idempotent, skips a check with nothing left, and
    runs whatever the phases before it did, so nothing leaks.
    """
    check = check_cls()
    state = state_mod.CheckState(session.conf.phases.state_dir,
                                 copies.state_name(check.name, copy))
    if phase == PRE_UPGRADE:
        _pre_upgrade(session, check, state)
        return
    if phase == DESTROY and not state.exists():
        raise exceptions.CheckSkipped(
            f'no state for {check.name}: nothing to destroy')
    doc = state.load(phase)
    if doc.get('skipped'):
        raise exceptions.CheckSkipped(
            f'{doc["skipped"]} (skipped since pre-upgrade)')
    # Updated while mixed, the stack is UPDATE_COMPLETE from then on.
    updated = bool(doc.get(mixed.MIXED_UPDATED))
    if phase == VERIFY:
        _verify(session, check, state, doc,
                lifecycle.statuses(check, updated_while_mixed=updated))
        return
    record = _record(check, state, doc)
    ctx = session.context(check, doc['run_id'],
                          save=_saver(state, doc, record),
                          offline=phase == NO_API)
    if phase == DESTROY:
        mixed.delete_leftovers(ctx, doc, state)
        _destroy(check, ctx, doc, state, record,
                 check.known_failure(DESTROY, session.conf))
        return
    _require_sound_stack(check, doc, record, phase)
    # No API answers in no-api: credentials of any kind are beside the
    # point there, and the check says itself whether it has a probe.
    missing_admin = None if phase == NO_API else check.admin_missing(ctx)
    if missing_admin:
        raise exceptions.CheckSkipped(missing_admin)
    after_upgrade = lifecycle.statuses(check, upgraded=True,
                                       updated_while_mixed=updated)
    step = {DURING_UPGRADE: functools.partial(lifecycle.during_upgrade,
                                              check),
            NO_API: functools.partial(lifecycle.no_api, check),
            MIXED: mixed.step(check, ctx, doc),
            POST_UPGRADE: functools.partial(lifecycle.post_upgrade, check,
                                            allowed=after_upgrade)}[phase]
    _recorded(doc, state, phase, step, ctx, record,
              check.known_failure(phase, session.conf))


def _require_sound_stack(check: base.ResourceCheck, doc: dict[str, Any],
                         record: base.CheckRecord, phase: str) -> None:
    """Refuse to look at a stack pre-upgrade did not leave sound."""
    pre = doc['phases'].get(PRE_UPGRADE)
    if pre == KNOWN_FAILURE:
        raise exceptions.CheckSkipped(
            f'{KNOWN_FINDING} in pre-upgrade: {check.name} made no sound '
            f'stack to verify in {phase}')
    if pre != PASSED:
        raise exceptions.CheckFailed(
            f'check {check.name}: pre-upgrade did not pass ({pre}); '
            f'there is nothing sound to verify in {phase}')
    if record.destroyed:
        raise exceptions.CheckFailed(
            f'check {check.name}: its stack was already destroyed; run '
            f'pre-upgrade again to make a new one')


def _record(check: base.ResourceCheck, state: state_mod.CheckState,
            doc: dict[str, Any]) -> base.CheckRecord:
    """The check's typed record from its state document."""
    try:
        return check.record_type.from_json(doc.get('record') or {})
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise exceptions.StateError(
            f'state file {state.path} is corrupt ({exc}); rerun the '
            f'pre-upgrade phase')


def _saver(state: state_mod.CheckState, doc: dict[str, Any],
           record: base.CheckRecord):
    """A function writing the record into the document, then the file."""
    def save() -> None:
        doc['record'] = record.to_json()
        state.save(doc)
    return save


def _verify(session: Session, check: base.ResourceCheck,
            state: state_mod.CheckState, doc: dict[str, Any],
            allowed: tuple[str, ...]) -> None:
    """The verify phase of one check: looks, never writes.

    The stack through Heat and what it made through the other services
    (``lifecycle.verify_unchanged``). Nothing is saved: the check works on
    its own copy of the record, without ``save``.
    """
    record = _record(check, state, copy.deepcopy(doc))
    _require_sound_stack(check, doc, record, VERIFY)
    ctx = session.context(check, doc['run_id'], save=None)
    missing_admin = check.admin_missing(ctx)
    if missing_admin:
        raise exceptions.CheckSkipped(missing_admin)
    known = check.known_failure(VERIFY, session.conf)
    try:
        lifecycle.verify_unchanged(check, ctx, record, allowed)
    except exceptions.CheckSkipped:
        raise
    except Exception as exc:
        if known is None:
            raise
        raise exceptions.CheckSkipped(
            f'{KNOWN_FINDING} ({known.reason}): {exc}') from exc


def _pre_upgrade(session: Session, check: base.ResourceCheck,
                 state: state_mod.CheckState) -> None:
    if state.exists():
        old = state.load(PRE_UPGRADE)
        stack = (old.get('record') or {}).get('stack')
        if stack and not old['record'].get('destroyed'):
            raise exceptions.StateError(
                f'{state.path} still holds stack {stack["name"]} of an '
                f'earlier run: run the destroy phase first, or use another '
                f'state_dir')
    doc = state.new(check.idempotent_id)
    record = check.record_type()
    save = _saver(state, doc, record)
    ctx = session.context(check, doc['run_id'], save=save)
    reason = check.unsupported(ctx)
    if reason:
        doc['skipped'] = reason
        doc['phases'][PRE_UPGRADE] = SKIPPED
        save()
        raise exceptions.CheckSkipped(reason)
    _recorded(doc, state, PRE_UPGRADE,
              functools.partial(lifecycle.pre_upgrade, check), ctx, record,
              check.known_failure(PRE_UPGRADE, session.conf))


def _recorded(doc: dict[str, Any], state: state_mod.CheckState, phase: str,
              step, ctx, record: base.CheckRecord,
              known: base.KnownFailure | None = None) -> None:
    """Run ``step`` and record its outcome in the state, whatever it is.

    With ``known`` (a failure declared for this phase and upgrade), a
    failure becomes a known finding: recorded with its error and raised as
    a skip whose reason starts with ``KNOWN FINDING``, so the gate stays
    green and the finding stays visible; a pass is recorded as an
    unexpected pass, for the phase command to report.
    """
    doc['phases'][phase] = 'started'
    doc['record'] = record.to_json()
    state.save(doc)
    outcome = FAILED
    try:
        step(ctx, record)
        outcome = PASSED
        if known is not None:
            _note(doc, 'unexpected_successes', phase, known)
    except exceptions.CheckSkipped:
        outcome = SKIPPED
        raise
    except Exception as exc:
        if known is None:
            raise
        outcome = KNOWN_FAILURE
        _note(doc, 'known_findings', phase, known, error=str(exc))
        raise exceptions.CheckSkipped(
            f'{KNOWN_FINDING} ({known.reason}): {exc}') from exc
    finally:
        doc['phases'][phase] = outcome
        doc['record'] = record.to_json()
        state.save(doc)


def _note(doc: dict[str, Any], key: str, phase: str,
          known: base.KnownFailure, **extra) -> None:
    """Record a known finding or an unexpected pass in the state."""
    notes = doc.setdefault(key, {})
    notes[phase] = dict(reason=known.reason, from_series=known.from_series,
                        to_series=known.to_series, **extra)


def known_findings(conf, phase: str,
                   names: list[str] | None = None) -> list[str]:
    """Lines reporting the known findings and unexpected passes of a phase.

    Read from the state after the phase ran, for the phase command to
    print: a known finding must stay visible even though it is not a
    failure, and an unexpected pass means a declaration is out of date.
    """
    lines = []
    checks = names if names is not None else base.selected_checks(conf)
    for _check, _copy, name in copies.state_names(conf, checks):
        state = state_mod.CheckState(conf.phases.state_dir, name)
        if not state.exists():
            continue
        try:
            doc = state.load(phase)
        except exceptions.StateError:
            continue
        lines.extend(_notes(doc, name, phase))
    return lines


def _notes(doc: dict[str, Any], name: str, phase: str) -> list[str]:
    lines = []
    for key, label in (('known_findings', KNOWN_FINDING),
                       ('unexpected_successes', 'UNEXPECTED PASS')):
        note = doc.get(key, {}).get(phase)
        if note is None:
            continue
        where = f'from {note["from_series"]} to {note["to_series"]}'
        text = f'{label}: {name} in {phase} ({where}): {note["reason"]}'
        if note.get('error'):
            text += f'; observed: {note["error"]}'
        else:
            text += ('; the declared failure did not happen: narrow or '
                     'remove the declaration')
        lines.append(text)
    return lines


def _destroy(check: base.ResourceCheck, ctx, doc: dict[str, Any],
             state: state_mod.CheckState, record: base.CheckRecord,
             known: base.KnownFailure | None = None) -> None:
    """Delete the check's stack unless it is gone already (idempotent).

    Runs whatever the earlier phases did (a failed pre- or post-upgrade
    included): a stack that exists is deleted, and what it made outside
    Heat must be gone.
    """
    if record.destroyed or record.stack is None:
        raise exceptions.CheckSkipped(
            f'{check.name} has no stack left to destroy')
    missing_admin = check.admin_missing(ctx)
    if missing_admin:
        raise exceptions.CheckSkipped(
            f'{missing_admin}: its stack {record.stack.name} is left '
            f'behind; run the destroy phase again with admin credentials')

    def destroy(ctx, record):
        lifecycle.destroy(check, ctx, record)
        record.destroyed = True

    _recorded(doc, state, DESTROY, destroy, ctx, record, known)
