"""The plain openstacksdk script the framework's phases are measured against.

For the framework-overhead figure, each phase is timed against a script
that does the same work on the same cloud with nothing of the framework:
no stestr, no phase command, no preflight, no state files, no engine
watch; one openstacksdk connection, threads at the phase's concurrency,
and the same poll interval and poller (``processes.wait_until``, which
sends no request of its own). What it does is derived, not written down:

* the stacks: per check and copy, the check's own template and
  environment files (``template_path``, ``environment_paths``) with the
  parameters the framework's pre-upgrade recorded in that copy's state;
* the update: the one ``update_stack`` call of the check's ``update``,
  captured as it asks it (template, environment, and the parameters
  merged into the create's as the framework merges them);
* the reads: what the framework's default hooks read through Heat (the
  stack's status, then its outputs), in the same places.

Only checks whose phases are the framework's default path can be
replayed so (``replayable``): a check with hooks of its own (a signal, a
snapshot, reads through another service) is left out of the figure and
named. The requests both sides made are counted on the server
(``requests_log``) and compared kind by kind, so a read or write one side
made and the other did not is shown, not assumed away.
"""

import ast
from concurrent import futures
import dataclasses
import inspect
import textwrap
import time
from typing import Any

from heat_upgrade_tests.checks import base
from heat_upgrade_tests import processes

# Hooks a replayable check leaves at their default: its own would make
# calls (through other services) the plain script does not.
DEFAULT_HOOKS = ('verify_outside_heat', 'verify_gone', 'verify_data_plane')


def replayable(check: type[base.ResourceCheck]) -> str | None:
    """Why the plain script cannot replay ``check``, or None.

    Its stack must be its template and parameters (``base.plain_create``);
    its ``verify`` must only compare values; its ``update`` must be one
    ``update_stack`` call and comparisons of what it returned (or
    ``NoUpdate``).
    """
    own = [hook for hook in DEFAULT_HOOKS
           if getattr(check, hook) is not getattr(base.ResourceCheck, hook)]
    if not base.plain_create(check):
        own.insert(0, 'create')
    if not isinstance(check.update, base.NoUpdate) and not _plain_update(
            check):
        own.append('update')
    if own:
        return f'hooks of its own: {", ".join(own)}'
    if _uses_context(check, 'verify'):
        return 'verify calls the cloud'
    if check.wants_admin():
        return 'needs admin credentials'
    if check.required_services:
        return f'needs {", ".join(check.required_services)}'
    if check.expected_status != ('CREATE_COMPLETE',):
        return f'leaves its stack {"/".join(check.expected_status)}'
    return None


def _function(check: type[base.ResourceCheck], hook: str) -> ast.AST:
    method = getattr(check, hook)
    return ast.parse(textwrap.dedent(inspect.getsource(method))).body[0]


def _plain_update(check: type[base.ResourceCheck]) -> bool:
    """Whether ``update`` is one ``update_stack`` call, then comparisons.

    The context may appear in that call's arguments, and elsewhere only
    as its run id (a value); anything else of it (its stacks, its
    connections, the context handed on) is a call to the cloud the plain
    script would not make.
    """
    function = _function(check, 'update')
    calls = [node for node in ast.walk(function)
             if isinstance(node, ast.Call) and
             isinstance(node.func, ast.Attribute) and
             node.func.attr == 'update_stack']
    if len(calls) != 1 or any(kw.arg == 'stacks'
                              for kw in calls[0].keywords):
        return False
    inside = {id(node) for node in ast.walk(calls[0])}
    values = {id(node.value) for node in ast.walk(function)
              if isinstance(node, ast.Attribute) and node.attr == 'run_id'}
    return not any(isinstance(node, ast.Name) and node.id == 'ctx' and
                   id(node) not in inside | values
                   for node in ast.walk(function))


def _uses_context(check: type[base.ResourceCheck], hook: str) -> bool:
    """Whether the check's own ``hook`` uses its context (calls the cloud).

    A hook that only compares ``record`` and ``outputs`` never names
    ``ctx`` in its body; one that does (an update of its own, a read
    through a client) makes calls the plain script would not. The request
    counts of each round check this from the other side.
    """
    if getattr(check, hook) is getattr(base.ResourceCheck, hook):
        return False
    function = _function(check, hook)
    return any(isinstance(node, ast.Name) and node.id == 'ctx'
               for statement in function.body
               for node in ast.walk(statement))


@dataclasses.dataclass
class PlainStack:
    """One stack of the plain script: what it was made from, and its id."""

    check: type[base.ResourceCheck]
    copy: int
    parameters: dict[str, Any]
    update: 'CapturedUpdate | None'
    id: str | None = None
    name: str | None = None
    outputs: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class CapturedUpdate:
    """The stack update a check's ``update`` asks for, as it asks it."""

    template: Any
    environment: list[Any]
    parameters: dict[str, Any]


class _Captured(Exception):
    pass


class _Recorder:
    """Stands for the context's stack operations while ``update`` runs.

    Its one update is captured, and ends the hook before it compares
    anything: the plain script makes that update itself.
    """

    def update(self, stack_id, template, environment, parameters):
        raise _Captured(CapturedUpdate(template, list(environment),
                                       dict(parameters)))


def captured_update(check: type[base.ResourceCheck], conf, run_id: str,
                    record: base.CheckRecord) -> CapturedUpdate | None:
    """The update ``check.update`` asks for on ``record`` (None: NoUpdate)."""
    if isinstance(check.update, base.NoUpdate):
        return None
    ctx = base.CheckContext(conf=conf, conn=None, admin_conn=None,
                            stacks=_Recorder(), run_id=run_id)
    try:
        check().update(ctx, record)
    except _Captured as captured:
        return captured.args[0]
    raise ValueError(f'{check.name}: its update made no stack update')


def from_states(checks: dict[str, type[base.ResourceCheck]],
                docs: dict[tuple[str, int], dict], conf) -> list[PlainStack]:
    """The plain stacks, one per copy the framework's pre-upgrade made.

    ``docs``: the framework's state documents as its pre-upgrade left
    them, by ``(check name, copy)``; the update is the one the check's own
    ``update`` asks for on that record (``captured_update``).
    """
    stacks = []
    for (name, copy), doc in sorted(docs.items()):
        check = checks[name]
        if doc.get('skipped') or not doc.get('record', {}).get('stack'):
            continue
        record = check.record_type.from_json(doc['record'])
        update = captured_update(check, conf, doc['run_id'], record)
        stacks.append(PlainStack(check, copy, dict(record.parameters),
                                 update))
    return stacks


class PlainScript:
    """The phases' work with openstacksdk alone, ``concurrency`` at once."""

    def __init__(self, conn, concurrency: int, poll_interval: float,
                 timeout: float, tag: str):
        self.conn = conn
        self.concurrency = concurrency
        self.interval = poll_interval
        self.timeout = timeout
        self.tag = tag

    # -- the phases -------------------------------------------------------
    def run(self, phase: str, stacks: list[PlainStack]) -> float:
        """Do ``phase``'s work for every stack; its wall time in seconds."""
        work = {'pre-upgrade': self._pre_upgrade, 'verify': self._verify,
                'post-upgrade': self._post_upgrade,
                'destroy': self._destroy}[phase]
        start = time.monotonic()
        with futures.ThreadPoolExecutor(self.concurrency) as pool:
            for done in [pool.submit(work, s) for s in stacks]:
                done.result()
        return time.monotonic() - start

    def _pre_upgrade(self, stack: PlainStack) -> None:
        check = stack.check()
        stack.name = (f'plain-{check.name.replace("_", "-")}-{stack.copy}-'
                      f'{self.tag}')
        attrs = self._files(check.template_path(), check.environment_paths())
        made = self.conn.orchestration.create_stack(
            name=stack.name, is_rollback_disabled=True,
            timeout_mins=max(1, int(self.timeout // 60)),
            parameters=stack.parameters, **attrs)
        stack.id = made.id
        self._wait(stack, 'CREATE')
        stack.outputs = self._outputs(stack)
        self._status(stack)  # verify_stack

    def _verify(self, stack: PlainStack) -> None:
        self._status(stack)
        self._outputs(stack)

    def _post_upgrade(self, stack: PlainStack) -> None:
        self._status(stack)  # post-upgrade: status, outputs
        self._outputs(stack)
        if stack.update is None:
            return
        attrs = self._files(stack.update.template, stack.update.environment)
        before = self._status(stack)
        self.conn.orchestration.update_stack(
            before, timeout_mins=max(1, int(self.timeout // 60)),
            parameters=stack.update.parameters, **attrs)
        self._wait(stack, 'UPDATE', since=before.updated_at)
        stack.outputs = self._outputs(stack)

    def _destroy(self, stack: PlainStack) -> None:
        if stack.id is None:
            return  # its create was never asked for
        self.conn.orchestration.delete_stack(stack.id)
        self._wait(stack, 'DELETE', gone_ok=True)

    # -- calls ------------------------------------------------------------
    def _files(self, template, environment) -> dict[str, Any]:
        return self.conn.orchestration.read_env_and_templates(
            template_file=str(template),
            environment_files=[str(e) for e in environment])

    def _status(self, stack: PlainStack):
        return self.conn.orchestration.get_stack(stack.id,
                                                 resolve_outputs=False)

    def _outputs(self, stack: PlainStack) -> dict[str, Any]:
        shown = self.conn.orchestration.get_stack(stack.id)
        return {o['output_key']: o.get('output_value')
                for o in shown.outputs or []}

    def _wait(self, stack: PlainStack, action: str, since=None,
              gone_ok: bool = False) -> None:
        """Poll until ``action`` completes (bounded by ``timeout``).

        The loop is the framework's poller (``processes.wait_until``), so
        both sides look at the same times and the figure compares their
        requests, not two ways of sleeping; it raises Python's own
        TimeoutError, as a script with nothing of the framework would.
        """
        from openstack import exceptions as sdk_exc
        last: list[Any] = []

        def completed() -> bool:
            try:
                shown = self.conn.orchestration.get_stack(
                    stack.id, resolve_outputs=False)
            except sdk_exc.NotFoundException:
                if gone_ok:
                    return True
                raise
            last[:] = [shown]
            if since is None or shown.updated_at != since:
                if shown.status == f'{action}_COMPLETE':
                    return True
                if shown.status == f'{action}_FAILED':
                    raise RuntimeError(
                        f'plain stack {stack.name} is {shown.status}: '
                        f'{shown.status_reason}')
            return False
        processes.wait_until(
            completed, self.timeout,
            lambda: (f'plain stack {stack.name} to reach {action}_COMPLETE '
                     f'(last {last[0].status})'),
            interval=self.interval, error=TimeoutError)
