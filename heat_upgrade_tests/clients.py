"""Connections to the cloud under test, and bounded stack operations.

Everything talks to the cloud through openstacksdk, configured from
``clouds.yaml``. Every wait is bounded and its error says what it waited
for and what it saw last.
"""

from collections.abc import Callable
import dataclasses
import os
from pathlib import Path
import time
from typing import Any
from urllib import parse

import keystoneauth1.exceptions as ks_exc
import openstack
import openstack.config
import openstack.exceptions as sdk_exc
import requests

from heat_upgrade_tests import exceptions
from heat_upgrade_tests import processes

COMPLETE = 'COMPLETE'
FAILED = 'FAILED'


def connect(conf, admin: bool = False) -> openstack.connection.Connection:
    """Open a connection for the member (or admin) clouds.yaml entry.

    Authentication happens here, so an unreachable cloud, a missing
    clouds.yaml entry or bad credentials give one clear error at once.
    """
    name = conf.cloud.admin_cloud if admin else (
        os.environ.get('OS_CLOUD') or conf.cloud.cloud)
    if conf.cloud.clouds_file:
        os.environ['OS_CLIENT_CONFIG_FILE'] = os.path.expanduser(
            conf.cloud.clouds_file)
    try:
        cloud = openstack.config.OpenStackConfig().get_one(
            cloud=name, api_timeout=conf.timeouts.api_timeout)
    except sdk_exc.ConfigException as exc:
        raise exceptions.ConfigError(
            f'clouds.yaml has no usable entry {name!r}: {_first_line(exc)}')
    conn = openstack.connection.Connection(config=cloud)
    try:
        try:
            _authorize(conn)
        except sdk_exc.SDKException as exc:
            # openstacksdk wraps keystoneauth's error; judge the cause.
            cause = _keystoneauth_cause(exc)
            if cause is None:
                raise
            raise cause
    except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
            ks_exc.DiscoveryFailure) as exc:
        raise exceptions.CloudUnreachable(
            f'cannot reach the identity service of cloud {name!r} at '
            f'{cloud.auth.get("auth_url")}: {_first_line(exc)}')
    except ks_exc.Unauthorized:
        raise exceptions.CredentialsRefused(
            f'the credentials of clouds.yaml entry {name!r} were refused '
            f'by the identity service')
    except (ks_exc.ClientException, sdk_exc.SDKException) as exc:
        raise exceptions.CloudUnreachable(
            f'cannot authenticate to cloud {name!r}: {_first_line(exc)}')
    return conn


# A Keystone that drops a connection (its database just restarted) is
# asked again, a bounded number of times; one that refuses is not.
AUTH_ATTEMPTS = 3
AUTH_RETRY_DELAY = 2.0


def _authorize(conn) -> None:
    for attempt in range(1, AUTH_ATTEMPTS + 1):
        try:
            conn.authorize()
            return
        except (sdk_exc.SDKException, ks_exc.ConnectFailure) as exc:
            cause = exc if isinstance(exc, ks_exc.ConnectFailure) else (
                _keystoneauth_cause(exc))
            dropped = isinstance(cause, ks_exc.ConnectFailure) and (
                'closed connection' in str(cause) or
                'reset by peer' in str(cause))
            if not dropped or attempt == AUTH_ATTEMPTS:
                raise
        time.sleep(AUTH_RETRY_DELAY)


def _keystoneauth_cause(exc: BaseException) -> BaseException | None:
    seen = exc.__cause__ or exc.__context__
    while seen is not None:
        if isinstance(seen, ks_exc.ClientException):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _http_detail(exc: sdk_exc.HttpException) -> str:
    """Heat's own explanation of a refused request, when it gave one."""
    return f'HTTP {exc.status_code}: {exc.details or exc.message}'


def _database_away(exc: sdk_exc.HttpException) -> bool:
    """Whether Heat's 500 says its engine could not reach its database.

    Heat's error body names the engine's exception type:
    ``{"error": {"type": "DBConnectionError", ...}}``.
    """
    if exc.status_code != 500 or exc.response is None:
        return False
    try:
        body = exc.response.json()
    except ValueError:
        return False
    error = body.get('error') if isinstance(body, dict) else None
    return isinstance(error, dict) and error.get('type') == \
        'DBConnectionError'


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def has_service(conn, service_type: str) -> bool:
    """Whether the service catalog lists ``service_type``."""
    try:
        return bool(conn.endpoint_for(service_type))
    except (ks_exc.EndpointNotFound, ks_exc.CatalogException):
        return False


def orchestration_url(conn) -> str:
    url = conn.endpoint_for('orchestration')
    if not url:
        raise exceptions.ConfigError(
            'the service catalog has no orchestration endpoint')
    return url


DOWN, UP, UNANSWERED = 'down', 'up', 'unanswered'


@dataclasses.dataclass(frozen=True)
class Answer:
    """What an API's endpoint did when asked: DOWN, UP or UNANSWERED."""

    state: str
    detail: str


def _refused(exc: BaseException) -> bool:
    """Whether a connection error is a refusal (nothing listens)."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        error = todo.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ConnectionRefusedError):
            return True
        todo += [error.__cause__, error.__context__,
                 getattr(error, 'reason', None),
                 *(a for a in getattr(error, 'args', ())
                   if isinstance(a, BaseException))]
    return False


def probe_api(url: str, timeout: float) -> Answer:
    """Ask ``url`` once; DOWN only when nothing serves it, proven.

    DOWN: the connection is refused or not accepted within ``timeout``,
    or a proxy answers 502/503/504 (devstack's Apache while the uwsgi
    application is stopped). A connection accepted and then left without
    an answer is UNANSWERED, not down: an API whose workers are all busy
    (waiting on an engine) still listens, and still serves once they are
    free. Anything that answers is UP.
    """
    try:
        response = requests.get(url, timeout=timeout,
                                headers={'Connection': 'close'})
    except requests.ConnectTimeout:
        return Answer(DOWN, f'no connection accepted at {url} within '
                            f'{timeout:g}s')
    except requests.ReadTimeout:
        return Answer(UNANSWERED, f'{url} accepted the connection but gave '
                                  f'no answer within {timeout:g}s')
    except requests.ConnectionError as exc:
        if _refused(exc):
            return Answer(DOWN, f'connection refused at {url}')
        return Answer(UNANSWERED, f'{url} accepted the connection but '
                                  f'answered nothing ({_first_line(exc)})')
    if response.status_code in (502, 503, 504):
        return Answer(DOWN, f'HTTP {response.status_code} from {url}: a '
                            f'proxy without the application behind it')
    return Answer(UP, f'HTTP {response.status_code} from {url}')


def probe_heat_api(conn, timeout: float) -> Answer:
    """``probe_api`` of Heat's API root (its versions)."""
    url = orchestration_url(conn)
    return probe_api(url.split('/v1')[0] + '/', timeout)


def verify_heat_down(conn, timeout: float) -> None:
    """Fail unless Heat's API is really down.

    The during-upgrade phase proves that stacks' resources live on without
    Heat; with Heat still answering, or listening without answering in
    time, it would prove nothing.
    """
    answer = probe_heat_api(conn, timeout)
    if answer.state == UP:
        raise exceptions.UpgradeTestError(
            f"Heat's API is up ({answer.detail}): the during-upgrade phase "
            f"must run while heat-api and heat-engine are stopped")
    if answer.state == UNANSWERED:
        raise exceptions.UpgradeTestError(
            f"Heat's API is up but not answering ({answer.detail}): a "
            f"listening heat-api is not a stopped one; the during-upgrade "
            f"phase must run while heat-api and heat-engine are stopped")


def verify_heat_up(conn, timeout: float) -> None:
    """Fail fast, with one line, when Heat's API does not answer."""
    answer = probe_heat_api(conn, timeout)
    if answer.state != UP:
        raise exceptions.CloudUnreachable(
            f"Heat's API at {orchestration_url(conn)} does not answer "
            f"({answer.detail}): start the upgraded Heat before this phase")


UNAVAILABLE_ATTEMPTS = 3
UNAVAILABLE_DELAY = 2.0


class _Progress:
    """What one wait has seen of its stack, to notice "no progress"."""

    def __init__(self, ops: 'StackOps', stack_id: str, start: float):
        self.ops = ops
        self.stack_id = stack_id
        self.last: Any = None
        self.key: tuple | None = None
        self.changed = start
        self.error: str | None = None
        self.event: str | None = None

    def _busy(self):
        from heat_upgrade_tests import engines
        stack = self.last
        if stack is None:
            return engines.BusyStack(id=self.stack_id, name=self.stack_id,
                                     action='?', status='?')
        action, _, status = (stack.status or '?_?').partition('_')
        return engines.BusyStack(
            id=self.stack_id, name=stack.name, action=action,
            status=status, since=stack.updated_at or stack.created_at)

    def describe(self, what: str) -> str:
        busy = self._busy()
        check = f' (check {busy.check})' if busy.check else ''
        text = f'stack {busy.name} ({self.stack_id}) {what}{check}'
        if self.last is not None:
            text += (f'; last status {self.last.status}: '
                     f'{self.last.status_reason}')
            if busy.since:
                text += f' (since {busy.since})'
        if self.error:
            text += f'; Heat did not show it: {self.error}'
        return text

    def _latest_event(self) -> str | None:
        stack = self.last
        try:
            response = self.ops.conn.orchestration.get(
                f'/stacks/{stack.name}/{self.stack_id}/events?sort_dir=desc'
                f'&sort_keys=created_at&limit=1', raise_exc=False)
            events = response.json().get('events') or [] if (
                response.status_code == 200) else []
        except (sdk_exc.SDKException, ks_exc.ClientException, ValueError):
            return None
        return events[0].get('id') if events else None

    def seen(self, stack) -> None:
        """One answer of Heat, judged for progress.

        Past ``no_progress`` without a change, a new event or an engine
        that serves lets the wait go on; otherwise it fails.
        """
        self.last = stack
        self.error = None
        key = (stack.status, stack.updated_at)
        now = time.monotonic()
        if key != self.key:
            self.key, self.changed = key, now
            return
        ops = self.ops
        if not ops.no_progress or now - self.changed < ops.no_progress:
            return
        event, self.event = self.event, self._latest_event()
        self.changed = now
        if event is not None and self.event != event:
            return  # a new event since the last look: progress
        self._ask_engines()  # raises when no engine serves

    def unanswered(self, exc: BaseException) -> None:
        self.error = _first_line(exc)
        self._ask_engines()

    def _ask_engines(self) -> None:
        if self.ops.engines is None:
            return
        busy = self._busy()
        self.ops.engines([busy] if busy.status == 'IN_PROGRESS' or (
            self.last is None) else [])


class StackOps:
    """Stack operations of one connection, each wait bounded."""

    def __init__(self, conn, timeout: float, interval: float,
                 no_progress: float | None = None,
                 engines: Callable[[list], Any] | None = None):
        """Stack operations, each wait bounded by ``timeout``.

        ``no_progress``: seconds a wait may see no change (status, time
        or a new event) before it asks ``engines(stuck)`` whether an engine
        still serves; ``engines`` raises (``engines.EngineNotServing``)
        when none does. Without them a wait is bounded by ``timeout`` only.
        """
        self.conn = conn
        self.timeout = timeout
        self.interval = interval
        self.no_progress = no_progress
        self.engines = engines

    def _attrs(self, template: Path, environment: list[Path] | None,
               parameters: dict[str, Any] | None) -> dict[str, Any]:
        attrs = self.conn.orchestration.read_env_and_templates(
            template_file=str(template),
            environment_files=[str(e) for e in environment or []])
        attrs['parameters'] = dict(parameters or {})
        return attrs

    def create(self, name: str, template: Path,
               environment: list[Path] | None = None,
               parameters: dict[str, Any] | None = None,
               tags: list[str] | None = None) -> str:
        """Start creating a stack; return its id without waiting."""
        attrs = self._attrs(template, environment, parameters)
        if tags:
            attrs['tags'] = ','.join(tags)  # the API takes a string
        try:
            stack = self._engine_answers(
                f'the create of stack {name}',
                self.conn.orchestration.create_stack,
                name=name, is_rollback_disabled=True,
                timeout_mins=max(1, int(self.timeout // 60)), **attrs)
        except sdk_exc.HttpException as exc:
            raise exceptions.UpgradeTestError(
                f'Heat refused to create stack {name}: {_http_detail(exc)}')
        return stack.id

    def update(self, stack_id: str, template: Path,
               environment: list[Path] | None = None,
               parameters: dict[str, Any] | None = None) -> Any:
        """Full update (PUT) of a stack, waited for until UPDATE_COMPLETE."""
        attrs = self._attrs(template, environment, parameters)
        before = self.get(stack_id)
        events = self.own_events(before, 'UPDATE')
        try:
            self._engine_answers(
                f'the update of stack {before.name}',
                self.conn.orchestration.update_stack,
                before, timeout_mins=max(1, int(self.timeout // 60)),
                **attrs)
        except sdk_exc.HttpException as exc:
            raise exceptions.UpgradeTestError(
                f'Heat refused to update stack {before.name}: '
                f'{_http_detail(exc)}')
        return self.wait_for(stack_id, 'UPDATE', since=before.updated_at,
                             events_before=events)

    def own_events(self, stack, action: str) -> dict[str, int] | None:
        """The stack's own ``action`` events, counted by status.

        ``{'UPDATE_COMPLETE': 2, 'UPDATE_IN_PROGRESS': 2}`` (the API
        joins an event's action and status); None if Heat does not tell.
        Heat keeps whole seconds: an update that begins in the second the
        previous operation ended in shows the same ``updated_time``, so
        only a new stack-level ``UPDATE_COMPLETE`` (or ``_FAILED``) event
        tells that it ended. Counted, not compared by order: events of one
        second have no order.
        """
        query = parse.urlencode({'resource_name': stack.name,
                                 'resource_action': action})
        try:
            response = self.conn.orchestration.get(
                f'/stacks/{stack.name}/{stack.id}/events?{query}',
                raise_exc=False)
            if response.status_code != 200:
                return None
            events = response.json().get('events') or []
        except (sdk_exc.SDKException, ks_exc.ClientException, ValueError):
            return None
        counts: dict[str, int] = {}
        for event in events:
            # The stack's own events carry its name; a Heat that ignored
            # the filters would list its resources' too.
            status = event.get('resource_status') or ''
            if (event.get('resource_name') == stack.name
                    and status.startswith(f'{action}_')):
                counts[status] = counts.get(status, 0) + 1
        return counts

    def _ended_since(self, stack, action: str, ends: tuple[str, ...],
                     events_before: dict[str, int] | None) -> bool:
        """Whether a stack-level event of ``ends`` came since the count."""
        if events_before is None:
            return False
        now = self.own_events(stack, action)
        return now is not None and any(
            now.get(status, 0) > events_before.get(status, 0)
            for status in ends)

    def _engine_answers(self, what: str, call, *args, **kwargs):
        """``call``, a request for an engine; one line if none answers it.

        heat-api holds a create or an update until an engine takes it (up
        to Heat's ``rpc_response_timeout``): a client timeout means none
        did (an engine killed, or deaf). The engines are asked, and
        ``engines`` raises naming them when none serves; otherwise the
        timeout is the error. Either way one line, not the client's chain
        of tracebacks.
        """
        refused = None
        try:
            return self._unavailable_again(call, *args, **kwargs)
        except ks_exc.ConnectionError as exc:
            unanswered = _first_line(exc)
        except sdk_exc.HttpException as exc:
            # heat-api also answers 500 when no engine took the request
            # within its RPC timeout (the engine killed as it was sent):
            # the engines are asked before it counts as a refusal.
            if exc.status_code != 500 or self.engines is None:
                raise
            refused = exc
        if self.engines is not None:
            self.engines([])
        if refused is not None:
            raise refused
        raise exceptions.UpgradeTestError(
            f'Heat did not answer {what}: {unanswered}')

    def _unavailable_again(self, call, *args, idempotent: bool = False,
                           **kwargs):
        """``call``, asked again while heat-api answers 503 (bounded).

        heat-api answers 503 "try again at a later time" when a service it
        needs is briefly away (Keystone, right after its database
        restarted): the request never reached an engine, so asking again
        is safe. An ``idempotent`` call (a delete) is also asked again
        after a 500 whose error is the engine's ``DBConnectionError``: its
        database was away (restarting), and a delete asked twice deletes
        once.
        """
        for attempt in range(1, UNAVAILABLE_ATTEMPTS + 1):
            try:
                return call(*args, **kwargs)
            except sdk_exc.HttpException as exc:
                again = exc.status_code == 503 or (
                    idempotent and _database_away(exc))
                if not again or attempt == UNAVAILABLE_ATTEMPTS:
                    raise
            time.sleep(UNAVAILABLE_DELAY)

    def _show(self, stack_id: str, resolve_outputs: bool = False
              ) -> tuple[Any, BaseException | None]:
        """The stack, or the error of a Heat that could not show it.

        Only with an engine watch: a 5xx or a client timeout is returned
        for the caller to ask the engines; anything else is raised.
        """
        try:
            return self.conn.orchestration.get_stack(
                stack_id, resolve_outputs=resolve_outputs), None
        except sdk_exc.NotFoundException:
            raise
        except (sdk_exc.SDKException, ks_exc.ClientException) as exc:
            status = getattr(exc, 'status_code', None)
            if self.engines is None or (status and status < 500):
                raise
            return None, exc

    def get(self, stack_id: str, resolve_outputs: bool = False):
        """The stack; its outputs only when asked for.

        Resolving outputs makes the engine evaluate every output at each
        poll, and an OS::Heat::Stack output calls Heat's own API from the
        engine: polls that resolve them can take every API worker and
        wait on each other.
        """
        stack, unanswered = self._show(stack_id, resolve_outputs)
        if unanswered is None:
            return stack
        # No engine serves: that one line (EngineNotServing), not the
        # client's chain of tracebacks. An engine serves: the call was
        # lost (a bus or database restarted under it); once more, then
        # Heat's error.
        self.engines([])
        stack, again = self._show(stack_id, resolve_outputs)
        if again is None:
            return stack
        raise again

    def outputs(self, stack_id: str) -> dict[str, Any]:
        stack = self.get(stack_id, resolve_outputs=True)
        return {o['output_key']: o.get('output_value')
                for o in stack.outputs or []}

    def poll(self, stack_id: str, done: Callable[[Any], bool], what: str,
             timeout: float | None = None) -> Any:
        """Poll the stack until ``done(stack)`` is true; the stacks' one wait.

        ``done`` raises to fail at once (a FAILED status); ``what`` says
        what was awaited, for the TimeoutExpired that names the stack, its
        check, the last status seen and since when, when the bound runs out
        (a stack stuck IN_PROGRESS). A stack Heat no longer knows raises
        NotFound. A wait that sees no progress for ``no_progress`` seconds
        (no change of status or time, no new event), or whose stack Heat
        cannot show, asks whether an engine serves: none does, and it
        fails at once, naming the stack, instead of running out its bound.
        The looking and sleeping are the shared poller's
        (``processes.wait_until``); what is seen is judged here.
        """
        watch = _Progress(self, stack_id, time.monotonic())
        shown: list[Any] = []

        def settled() -> bool:
            stack, unanswered = self._show(stack_id)
            if unanswered is not None:
                # Heat could not show the stack: an engine gone or deaf?
                # (Outside the except block: the one line, not the
                # client's chain of tracebacks.)
                watch.unanswered(unanswered)
            if stack is not None:
                if done(stack):
                    shown.append(stack)
                    return True
                watch.seen(stack)
            return False
        processes.wait_until(
            settled, self.timeout if timeout is None else timeout,
            lambda: watch.describe(what), interval=self.interval)
        return shown[0]

    def wait_for(self, stack_id: str, action: str,
                 since: str | None = None,
                 events_before: dict[str, int] | None = None) -> Any:
        """Wait until the stack's ``action`` completes; fail on FAILED.

        ``since`` is the stack's ``updated_time`` before an update was
        asked for: a status of the previous update does not count, unless
        a new stack-level event of ``action`` ended since
        ``events_before`` (``own_events`` then) was counted: the update
        began and ended in the second the previous one ended in.
        """
        ends = (f'{action}_{COMPLETE}', f'{action}_{FAILED}')

        def done(stack) -> bool:
            if stack.status not in ends:
                return False
            # Only a status that would end the wait asks Heat's events.
            if since is not None and stack.updated_at == since and not (
                    self._ended_since(stack, action, ends, events_before)):
                return False
            if stack.status == f'{action}_{FAILED}':
                raise exceptions.UpgradeTestError(
                    f'stack {stack.name} ({stack_id}) is {stack.status}: '
                    f'{stack.status_reason}')
            return stack.status == f'{action}_{COMPLETE}'
        return self.poll(stack_id, done, f'to reach {action}_COMPLETE')

    def resources(self, stack_id: str, nested_depth: int = 0
                  ) -> list[dict[str, Any]] | None:
        """The stack's resources, nested ones to ``nested_depth``.

        As Heat lists them; None when Heat no longer has the stack.
        """
        url = f'/stacks/{stack_id}/resources?nested_depth={nested_depth}'
        for attempt in range(1, UNAVAILABLE_ATTEMPTS + 1):
            # 503: heat-api could not reach what it needs (asked again,
            # bounded, as _unavailable_again does for the SDK's calls).
            response = self.conn.orchestration.request(url, 'GET',
                                                       raise_exc=False)
            if response.status_code != 503:
                break
            if attempt < UNAVAILABLE_ATTEMPTS:
                time.sleep(UNAVAILABLE_DELAY)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise exceptions.UpgradeTestError(
                f'Heat answered GET {url} with HTTP '
                f'{response.status_code}: {response.text[:200]}')
        return response.json().get('resources', [])

    def delete(self, stack_id: str) -> None:
        """Delete a stack and wait until Heat no longer shows it."""
        try:
            self._unavailable_again(self.conn.orchestration.delete_stack,
                                    stack_id, idempotent=True)
        except sdk_exc.NotFoundException:
            return

        def done(stack) -> bool:
            if stack.status == 'DELETE_FAILED':
                raise exceptions.UpgradeTestError(
                    f'stack {stack.name} ({stack_id}) is DELETE_FAILED: '
                    f'{stack.status_reason}')
            return stack.status == 'DELETE_COMPLETE'
        try:
            self.poll(stack_id, done, 'to be deleted')
        except sdk_exc.NotFoundException:
            return
