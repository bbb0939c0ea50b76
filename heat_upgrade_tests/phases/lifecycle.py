"""What each phase does with a check: the framework's side of the contract.

A check has six hooks (``checks/base.py``); everything around them is
here, once, for every check: the order of the hooks in each phase, the
stack's status, the comparison of its outputs with those pre-upgrade
recorded, the update of the mixed phase and the new stack's whole life
there, the delete (and a known refusal's repair).

Which status the stack may show depends on what happened to it, not on
the check alone (``statuses``): after the upgrade, an operation the plan
interrupted may show FAILED (the new engine marks what the old one left
IN_PROGRESS), and a stack updated while mixed shows UPDATE_COMPLETE.
"""

from heat_upgrade_tests.checks import _gone
from heat_upgrade_tests.checks import base
from heat_upgrade_tests import exceptions

# The failure every drill of an output comparison expects
# (tests/functional/drills).
OUTPUTS_AFTER_UPGRADE = 'outputs after the upgrade'


def statuses(check: base.ResourceCheck, upgraded: bool = False,
             updated_while_mixed: bool = False) -> tuple[str, ...]:
    """The statuses the check's stack may show.

    ``upgraded``: the new Heat shows it (post-upgrade); an operation
    pre-upgrade left IN_PROGRESS may then be FAILED. ``updated_while_mixed``:
    the mixed phase updated it (``mixed_update``).
    """
    found = tuple(check.expected_status)
    if upgraded:
        found += tuple(s.replace('_IN_PROGRESS', '_FAILED') for s in found
                       if s.endswith('_IN_PROGRESS'))
    if updated_while_mixed and 'CREATE_COMPLETE' in found:
        found += ('UPDATE_COMPLETE',)
    return found


def _in_progress(allowed: tuple[str, ...]) -> bool:
    # A stack caught mid-operation has no settled outputs to compare.
    return any(s.endswith('_IN_PROGRESS') for s in allowed)


def _same_stack(check: base.ResourceCheck, ctx: base.CheckContext,
                record: base.CheckRecord, allowed: tuple[str, ...],
                what: str) -> None:
    """The status, the check's ``verify``, then the recorded outputs."""
    check.verify_stack(ctx, record, allowed)
    check.verify(ctx, record)
    if not _in_progress(allowed):
        check.assert_equal(record.outputs,
                           ctx.stacks.outputs(record.stack.id), what)


# -- the phases ----------------------------------------------------------
def pre_upgrade(check: base.ResourceCheck, ctx: base.CheckContext,
                record: base.CheckRecord) -> None:
    """``create`` (saved at once), the expected status, then ``verify``."""
    check.create(ctx, record)
    if ctx.save:
        ctx.save()
    check.verify_stack(ctx, record, statuses(check))
    check.verify(ctx, record)


def verify_unchanged(check: base.ResourceCheck, ctx: base.CheckContext,
                     record: base.CheckRecord,
                     allowed: tuple[str, ...]) -> None:
    """The verify phase: the stack as pre-upgrade left it, read-only.

    Through Heat (status, ``verify``, outputs) and through the other
    services (``verify_outside_heat``, where the check has it).
    """
    _same_stack(check, ctx, record, allowed, 'outputs')
    try:
        check.verify_outside_heat(ctx, record)
    except exceptions.CheckSkipped:
        pass  # it makes nothing outside Heat


def during_upgrade(check: base.ResourceCheck, ctx: base.CheckContext,
                   record: base.CheckRecord) -> None:
    """Heat down: what the stack made, through the other services."""
    check.verify_outside_heat(ctx, record)


def no_api(check: base.ResourceCheck, ctx: base.CheckContext,
           record: base.CheckRecord) -> None:
    """Every API down: the data plane."""
    check.verify_data_plane(ctx, record)


def post_upgrade(check: base.ResourceCheck, ctx: base.CheckContext,
                 record: base.CheckRecord,
                 allowed: tuple[str, ...]) -> None:
    """The new Heat shows the same stack; then ``update`` (unless NoUpdate)."""
    _same_stack(check, ctx, record, allowed, OUTPUTS_AFTER_UPGRADE)
    if not isinstance(check.update, base.NoUpdate):
        check.update(ctx, record)


def destroy(check: base.ResourceCheck, ctx: base.CheckContext,
            record: base.CheckRecord) -> None:
    """Delete the stack; then what it made is gone from every service.

    What the stack made outside Heat is listed before the delete and
    looked up in its own services after it (``_gone``), then the check's
    ``verify_gone`` proves what the table cannot see. A refusal the check
    declares with its repair (``KnownFailure``, whatever the series) is
    repaired and the delete retried, so nothing is left behind; the
    refusal is still raised, with what was done.
    """
    try:
        made = _gone.made(ctx.stacks, record.stack.id)
        unlisted = None
    except exceptions.UpgradeTestError as exc:
        # Still delete: the stack must go whatever Heat could not say.
        made, unlisted = [], exc
    refused = None
    try:
        ctx.stacks.delete(record.stack.id)
    except exceptions.UpgradeTestError as exc:
        known = next((k for k in check.known_failures
                      if k.repair and k.refusal in str(exc)), None)
        if known is None:
            raise
        refused = (exc, known.repair(check, ctx, record))
        ctx.stacks.delete(record.stack.id)
    left = _gone.left_behind(ctx.conn, ctx.admin_conn, made)
    if left:
        check.fail(f'still in their services after stack '
                   f'{record.stack.name} was deleted: {"; ".join(left)}')
    check.verify_gone(ctx, record)
    if refused:
        check.fail(f'Heat refused to delete stack {record.stack.name} '
                   f'({refused[0]}); it was deleted after a repair: '
                   f'{refused[1]}')
    if unlisted is not None:
        check.fail(f'Heat could not list what stack {record.stack.name} '
                   f'made before its delete ({unlisted}): the stack is '
                   f'deleted, but nothing proves its resources gone')


# -- the mixed phase -----------------------------------------------------
def mixed_update(check: base.ResourceCheck, ctx: base.CheckContext,
                 record: base.CheckRecord,
                 allowed: tuple[str, ...]) -> bool:
    """The pre-upgrade stack updated while mixed; outputs unchanged.

    An update with the create's template, environment and parameters:
    every resource is checked again by whichever engine the traversal
    reaches, and the outputs stay what pre-upgrade recorded. Done for a
    stack left CREATE_COMPLETE by a plain create (``base.plain_create``);
    a stack in another state (interrupted, failed, suspended) or with
    more than its template (a signal, tags) is left as it is. Whether it
    was updated, for the later phases to accept UPDATE_COMPLETE.
    """
    if tuple(check.expected_status) != ('CREATE_COMPLETE',) or (
            not base.plain_create(type(check))):
        return False
    check.verify_stack(ctx, record, allowed)
    # The create's template, environment and parameters, unchanged.
    check.assert_equal(record.outputs, check.update_stack(ctx, record),
                       'outputs after an update while mixed')
    return True


def whole_life(check: base.ResourceCheck, ctx: base.CheckContext,
               record: base.CheckRecord) -> None:
    """A new stack of the check, its whole life while mixed.

    Created and verified as in pre-upgrade, updated with its effect
    observed as in post-upgrade, deleted with what it made gone as in
    destroy.
    """
    pre_upgrade(check, ctx, record)
    post_upgrade(check, ctx, record, statuses(check, upgraded=True))
    destroy(check, ctx, record)
