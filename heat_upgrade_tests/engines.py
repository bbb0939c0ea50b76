"""Is a heat-engine serving? Which engines are alive, which stacks are stuck?

heat-api alone answers ``GET /`` without any engine, so "Heat is up" says
nothing about the engines. This module asks three witnesses, each bounded:

* **the API, through a call only an engine can answer**: ``GET
  /build_info`` makes heat-api ask an engine for its revision over RPC;
  under a short client timeout of its own, an answer means an engine
  serves, and a timeout or a 5xx means none did in time;
* **Heat's service list** (admin, ``GET /services``): every engine Heat
  knows, each ``up`` or ``down`` by its heartbeat (Heat's own rule: a
  heartbeat within twice ``report_interval``). The API gets the list from
  an engine too, so it answers only while one is alive;
* **Heat's database** (only with ``[integrity] database_connection``):
  the same heartbeats from the ``service`` table, the stacks IN_PROGRESS
  and since when, and which engine holds each (``stack_lock`` for legacy
  stacks, the resources' ``engine_id`` for convergence ones). It answers
  when no engine does, which is when it is needed most.

``probe()`` asks them all and returns a ``Liveness``; ``require_engine()``
raises ``EngineNotServing`` (one line) when no engine serves. The phases
call it before they start (``phases.command.preflight``) and whenever a
wait sees no progress (``clients.StackOps.poll``); the rolling plans may
call it to learn which engines share the bus.
"""

import dataclasses
import datetime
import os
from pathlib import Path
import re
from typing import Any

import keystoneauth1.exceptions as ks_exc
import openstack.exceptions as sdk_exc

from heat_upgrade_tests import clients
from heat_upgrade_tests import exceptions

# Seconds the API may take to answer a call an engine must help with.
DEFAULT_TIMEOUT = 10.0
IN_PROGRESS = 'IN_PROGRESS'
# In the state directory while a phase runs: no engine served.
NOT_SERVING_MARKER = '.no-engine-serving'
_STACK_NAME = re.compile(r'^hut-(?P<check>[a-z0-9-]+?)-(?P<run>[0-9a-f]{8})'
                         r'(-|$)')


class EngineNotServing(exceptions.UpgradeTestError):
    """No heat-engine answers; the message says what was seen."""


@dataclasses.dataclass(frozen=True)
class Engine:
    """One heat-engine as Heat records it (service list or database)."""

    engine_id: str
    host: str
    status: str                 # 'up' or 'down', by Heat's heartbeat rule
    heartbeat_age: float | None  # seconds since its last heartbeat
    report_interval: float | None = None
    source: str = 'service list'

    def describe(self) -> str:
        age = ('no heartbeat' if self.heartbeat_age is None
               else f'last heartbeat {self.heartbeat_age:.0f}s ago')
        return f'engine {self.engine_id} on {self.host} ({self.status}, ' \
               f'{age})'


@dataclasses.dataclass(frozen=True)
class BusyStack:
    """A stack IN_PROGRESS: which, of which check, since when, held by."""

    id: str
    name: str
    action: str
    status: str
    since: str | None = None          # Heat's updated (or created) time
    age: float | None = None          # seconds since then
    engine_id: str | None = None      # the engine holding it, if recorded

    @property
    def check(self) -> str | None:
        """The check that made the stack, from its name (``hut-...``)."""
        match = _STACK_NAME.match(self.name)
        return match['check'].replace('-', '_') if match else None

    def describe(self) -> str:
        text = f'stack {self.name} ({self.id})'
        if self.check:
            text += f' of check {self.check}'
        text += f' {self.action}_{self.status}'
        if self.since:
            text += f' since {self.since}'
            if self.age is not None:
                text += f' ({self.age:.0f}s)'
        if self.engine_id:
            text += f', held by engine {self.engine_id}'
        return text


@dataclasses.dataclass
class Liveness:
    """What the witnesses said about the engines."""

    serving: bool
    answer: str
    engines: list[Engine] = dataclasses.field(default_factory=list)
    stacks: list[BusyStack] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def alive(self) -> list[Engine]:
        return [e for e in self.engines if e.status == 'up']

    @property
    def dead(self) -> list[Engine]:
        return [e for e in self.engines if e.status != 'up']

    def holders(self) -> list[str]:
        return sorted({s.engine_id for s in self.stacks if s.engine_id})

    def describe(self) -> str:
        """One line: whether an engine serves, which ones, what is stuck."""
        parts = [self.answer]
        if self.engines:
            parts.append('engines: ' + '; '.join(
                e.describe() for e in self.engines))
        if self.stacks:
            parts.append('left IN_PROGRESS: ' + '; '.join(
                s.describe() for s in self.stacks))
        parts.extend(self.notes)
        return '; '.join(parts)


def engine_serves(conn, timeout: float = DEFAULT_TIMEOUT) -> tuple[bool, str]:
    """Whether an engine answers, asked through heat-api; what was seen.

    ``GET /build_info`` needs an engine (heat-api asks one for its
    revision); the call gets ``timeout`` seconds of its own, shorter than
    Heat's ``rpc_response_timeout``, so a deaf engine is found by the
    client, not after the API's own RPC timeout.
    """
    try:
        response = conn.orchestration.get(
            '/build_info', raise_exc=False, timeout=timeout,
            connect_retries=0, status_code_retries=0)
    except ks_exc.ConnectTimeout as exc:
        # keystoneauth reports a read timeout so too: heat-api took the
        # request and waited for an engine.
        return False, (f'no heat-engine answered: GET /build_info got no '
                       f'answer within {timeout:.0f}s ({_first_line(exc)})')
    except ks_exc.ConnectFailure as exc:
        return False, f"Heat's API does not answer: {_first_line(exc)}"
    except (ks_exc.RequestTimeout, ks_exc.ClientException,
            sdk_exc.SDKException) as exc:
        return False, (f'no heat-engine answered: GET /build_info got no '
                       f'answer within {timeout:.0f}s ({_first_line(exc)})')
    if response.status_code == 200:
        try:
            revision = response.json().get('engine', {}).get('revision')
        except ValueError:
            revision = None
        return True, ('a heat-engine answers' +
                      (f' (revision {revision})' if revision else ''))
    if response.status_code in (401, 503):
        # heat-api validates the token before it asks an engine: an
        # identity service away answers so too, and no engine was asked.
        identity = _identity_answer(conn, timeout)
        if identity is not None and identity.state != clients.UP:
            return False, (
                f'the identity service does not answer ({identity.detail}):'
                f' heat-api cannot validate tokens (GET /build_info got '
                f'HTTP {response.status_code}), so no engine was asked')
    return False, (f'no heat-engine answered: GET /build_info got HTTP '
                   f'{response.status_code} from heat-api')


def _identity_answer(conn, timeout: float) -> 'clients.Answer | None':
    """What Keystone's endpoint does when asked (None: unknown URL)."""
    config = getattr(conn, 'config', None)
    url = (getattr(config, 'auth', None) or {}).get('auth_url')
    if not url:
        return None
    return clients.probe_api(url, timeout)


def service_list(admin_conn,
                 timeout: float = DEFAULT_TIMEOUT) -> list[Engine] | None:
    """Heat's service list (admin), or None when it does not answer."""
    if admin_conn is None:
        return None
    try:
        response = admin_conn.orchestration.get(
            '/services', raise_exc=False, timeout=timeout,
            connect_retries=0, status_code_retries=0)
    except (ks_exc.ClientException, sdk_exc.SDKException):
        return None
    if response.status_code != 200:
        return None
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    engines = []
    for svc in response.json().get('services', []):
        if svc.get('binary') != 'heat-engine' or svc.get('deleted_at'):
            continue
        last = _parse_time(svc.get('updated_at') or svc.get('created_at'))
        engines.append(Engine(
            engine_id=svc.get('engine_id') or svc.get('id'),
            host=svc.get('host') or svc.get('hostname') or '?',
            status=svc.get('status') or 'unknown',
            heartbeat_age=None if last is None else max(
                0.0, (now - last).total_seconds()),
            report_interval=svc.get('report_interval')))
    return engines


def _parse_time(value: Any) -> datetime.datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(value).rstrip('Z'))
    except ValueError:
        return None
    return parsed.replace(tzinfo=None)


def _query(url: str, sql: str, args: tuple = ()) -> list[tuple]:
    """Rows of one read-only query on Heat's database; errors one line.

    Imported here: PyMySQL is loaded only by a probe that asks the
    database, not by every phase that imports this module.
    """
    from heat_upgrade_tests import heatdb
    return heatdb.read(url, sql, args)


def db_engines(url: str) -> list[Engine]:
    """The engines of Heat's ``service`` table, by Heat's heartbeat rule."""
    found = _query(
        url, "SELECT engine_id, host, report_interval, "
             "TIMESTAMPDIFF(SECOND, COALESCE(updated_at, created_at), "
             "UTC_TIMESTAMP()) FROM service WHERE `binary` = "
             "'heat-engine' AND deleted_at IS NULL ORDER BY created_at")
    return [Engine(engine_id=engine_id, host=host,
                   status='up' if age is not None and age <= 2 * (
                       interval or 60) else 'down',
                   heartbeat_age=None if age is None else float(age),
                   report_interval=interval, source='database')
            for engine_id, host, interval, age in found]


def db_busy_stacks(url: str,
                   names: tuple[str, ...] = ()) -> list[BusyStack]:
    """Stacks IN_PROGRESS in Heat's database, with the engine holding each.

    ``names``: only the stacks whose name starts with one of them (the
    stacks a run made); empty means every stack.
    """
    found = _query(
        url, "SELECT s.id, s.name, s.action, s.status, "
             "COALESCE(s.updated_at, s.created_at), "
             "TIMESTAMPDIFF(SECOND, COALESCE(s.updated_at, s.created_at),"
             " UTC_TIMESTAMP()), l.engine_id, "
             "(SELECT MIN(r.engine_id) FROM resource r WHERE "
             "r.stack_id = s.id AND r.engine_id IS NOT NULL) "
             "FROM stack s LEFT JOIN stack_lock l ON l.stack_id = s.id "
             "WHERE s.deleted_at IS NULL AND s.status = %s "
             "ORDER BY s.updated_at", (IN_PROGRESS,))
    stacks = []
    for sid, name, action, status, since, age, lock, holder in found:
        if names and not name.startswith(names):
            continue
        stacks.append(BusyStack(
            id=sid, name=name, action=action, status=status,
            since=since.isoformat() if since else None,
            age=None if age is None else float(age),
            engine_id=lock or holder))
    return stacks


def probe(conn, admin_conn=None, database_url: str | None = None,
          timeout: float = DEFAULT_TIMEOUT,
          stacks: list[BusyStack] | None = None) -> Liveness:
    """Ask every witness at hand whether an engine serves.

    ``stacks``: stacks the caller knows are IN_PROGRESS (the one a wait
    watches); the database adds those it records, with their holders.
    """
    serving, answer = engine_serves(conn, timeout)
    liveness = Liveness(serving=serving, answer=answer,
                        stacks=list(stacks or []))
    listed = service_list(admin_conn, timeout) if serving else None
    if listed is not None:
        liveness.engines = listed
    if database_url:
        try:
            if listed is None:
                liveness.engines = db_engines(database_url)
            known = {s.id: s for s in liveness.stacks}
            for found in db_busy_stacks(database_url, ('hut-',)):
                known[found.id] = found  # the database knows the holder
            liveness.stacks = list(known.values())
        except exceptions.UpgradeTestError as exc:
            liveness.notes.append(f"Heat's database: {exc}")
    elif not serving:
        liveness.notes.append(
            "set [integrity] database_connection for Heat's heartbeats "
            "and the engines holding the stacks")
    return liveness


def require_engine(conn, admin_conn=None, database_url: str | None = None,
                   timeout: float = DEFAULT_TIMEOUT, where: str = '',
                   stacks: list[BusyStack] | None = None) -> Liveness:
    """The engines' liveness; EngineNotServing when none serves."""
    liveness = probe(conn, admin_conn, database_url, timeout, stacks)
    if not liveness.serving:
        prefix = f'{where}: ' if where else ''
        raise EngineNotServing(prefix + liveness.describe())
    return liveness


def _marker(state_dir: str) -> Path:
    return Path(os.path.expanduser(str(state_dir))) / NOT_SERVING_MARKER


def mark_not_serving(state_dir: str, message: str) -> None:
    """Tell the phase's other tests (other processes) no engine serves."""
    path = _marker(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(message.splitlines()[0] + '\n')


def not_serving(state_dir: str) -> str | None:
    """What the phase found when no engine served, or None."""
    try:
        return _marker(state_dir).read_text().strip() or None
    except OSError:
        return None


def clear_not_serving(state_dir: str) -> None:
    """At the start of a phase: what an earlier phase found is past."""
    try:
        _marker(state_dir).unlink()
    except FileNotFoundError:
        pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
