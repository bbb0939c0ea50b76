"""Heat REST calls the checks share, beyond create/update/delete.

Not a check (its name starts with ``_``). openstacksdk's orchestration
proxy covers stacks but not every action a check needs (signals, snapshots,
previews, resource metadata), so these go through the proxy's raw REST
methods; a refused call raises one line naming the request and Heat's
answer.
"""

from collections.abc import Callable
from typing import Any

from heat_upgrade_tests import exceptions
from heat_upgrade_tests import processes


def stack_url(record: Any) -> str:
    """The path of the check's stack, relative to the Heat endpoint.

    ``record`` is a check's ``CheckRecord``, or the JSON object of one as
    the state file holds it (the fault drills read it so).
    """
    if isinstance(record, dict):
        stack = record['stack']
        return f'/stacks/{stack["name"]}/{stack["id"]}'
    return f'/stacks/{record.stack.name}/{record.stack.id}'


def call(conn, method: str, url: str, body: Any = None,
         ok: tuple[int, ...] = (200, 201, 202, 204)) -> Any:
    """One Heat API request; the decoded JSON answer (or None)."""
    kwargs = {'raise_exc': False}
    if body is not None:
        kwargs['json'] = body
    response = conn.orchestration.request(url, method, **kwargs)
    if response.status_code not in ok:
        raise exceptions.UpgradeTestError(
            f'Heat answered {method} {url} with HTTP {response.status_code}: '
            f'{_explanation(response)}')
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _explanation(response) -> str:
    try:
        error = response.json().get('error', {})
        return (error.get('message') or response.text)[:500]
    except (ValueError, AttributeError):
        return response.text[:500]


def refusal(conn, method: str, url: str,
            body: Any = None) -> tuple[int, str]:
    """Status and Heat's message for a request expected to be refused."""
    kwargs = {'raise_exc': False}
    if body is not None:
        kwargs['json'] = body
    response = conn.orchestration.request(url, method, **kwargs)
    return response.status_code, _explanation(response)


def action(conn, record: Any, name: str) -> None:
    """Start a stack action: suspend, resume, check, cancel_update."""
    call(conn, 'POST', f'{stack_url(record)}/actions', {name: None})


def signal(conn, record: Any, resource: str,
           data: dict[str, Any] | None = None) -> None:
    """Signal one of the stack's resources, as its owner, through Heat."""
    call(conn, 'POST', f'{stack_url(record)}/resources/{resource}/signal',
         data or {})


def resource(conn, record: Any, name: str) -> dict[str, Any]:
    return call(conn, 'GET',
                f'{stack_url(record)}/resources/{name}')['resource']


def resource_metadata(conn, record: Any,
                      name: str) -> dict[str, Any]:
    return call(conn, 'GET', f'{stack_url(record)}/resources/{name}/'
                             f'metadata')['metadata']


def resources(conn, record: Any,
              nested_depth: int = 0) -> list[dict[str, Any]]:
    return call(conn, 'GET', f'{stack_url(record)}/resources?nested_depth='
                             f'{nested_depth}')['resources']


def events(conn, record: Any) -> list[dict[str, Any]]:
    """The stack's own events, oldest first."""
    return call(conn, 'GET', f'{stack_url(record)}/events?sort_dir=asc&'
                             f'sort_keys=created_at&limit=1000')['events']


def software_config(conn, config_id: str) -> dict[str, Any] | None:
    """A software config, or None when Heat no longer has it."""
    response = conn.orchestration.request(
        f'/software_configs/{config_id}', 'GET', raise_exc=False)
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise exceptions.UpgradeTestError(
            f'Heat answered GET /software_configs/{config_id} with HTTP '
            f'{response.status_code}: {_explanation(response)}')
    return response.json()['software_config']


def wait_resource(conn, record: Any, name: str, status: str,
                  timeout: float, interval: float) -> dict[str, Any]:
    """Wait until a resource of the stack reaches ``status``, bounded.

    Each look is one GET of the resource alone, not of its stack, so the
    wait is the shared poller's (``processes.wait_until``) rather than
    StackOps.poll's; a resource Heat does not show yet is not an error.
    """
    seen: dict[str, Any] = {}

    def reached() -> bool:
        response = conn.orchestration.request(
            f'{stack_url(record)}/resources/{name}', 'GET', raise_exc=False)
        found = seen['found'] = response.json()['resource'] if (
            response.status_code == 200) else None
        return bool(found and found['resource_status'] == status)

    def what() -> str:
        found = seen.get('found')
        return (f'resource {name} of stack {stack_url(record).split("/")[2]} '
                f'to be {status}; last seen '
                f'{found and found["resource_status"]}')
    processes.wait_until(reached, timeout, what, interval=interval)
    return seen['found']


def wait_status(ctx, record: Any, statuses: tuple[str, ...],
                timeout: float | None = None,
                passing: tuple[str, ...] = ()) -> Any:
    """Wait until the stack's status is one of ``statuses``, bounded.

    For actions whose status StackOps does not wait for (SUSPEND, RESUME,
    CHECK, SNAPSHOT, RESTORE, ROLLBACK). A FAILED status that is neither
    wanted nor in ``passing`` (e.g. UPDATE_FAILED on the way to a
    rollback) fails at once.
    """
    def done(stack) -> bool:
        if stack.status in statuses:
            return True
        if stack.status.endswith('_FAILED') and stack.status not in passing:
            raise exceptions.UpgradeTestError(
                f'stack {stack.name} is {stack.status}: '
                f'{stack.status_reason}; expected {" or ".join(statuses)}')
        return False
    return ctx.stacks.poll(record.stack.id, done,
                           f'to be {" or ".join(statuses)}', timeout)


def wait_until(ctx, record: Any, read: Callable[[], Any],
               ready: Callable[[Any], bool], what: str,
               timeout: float | None = None) -> Any:
    """Poll ``read()`` until ``ready(value)``; the value (bounded).

    For what Heat records asynchronously, such as a signal: the engine
    handles it after the API has answered, so reading right after
    signalling races it. Bounded by ``stack_timeout`` (StackOps.poll);
    TimeoutExpired says ``what`` was awaited and the last value seen.
    """
    seen: dict[str, Any] = {}

    def done(stack) -> bool:
        seen['value'] = read()
        return ready(seen['value'])
    try:
        ctx.stacks.poll(record.stack.id, done, what, timeout)
    except exceptions.TimeoutExpired as exc:
        raise exceptions.TimeoutExpired(
            f'{exc}; last seen {seen.get("value")!r}') from None
    return seen['value']


def template_body(conn, template, environment=(), parameters=None,
                  **extra) -> dict[str, Any]:
    """The JSON body of a create/update/preview from template files."""
    body = conn.orchestration.read_env_and_templates(
        template_file=str(template),
        environment_files=[str(e) for e in environment])
    body['parameters'] = dict(parameters or {})
    body.update(extra)
    return body
