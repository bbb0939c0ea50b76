"""Rows the checks' stacks own, recorded before the upgrade, found after.

At the end of pre-upgrade, every row behind the checks' stacks (the stacks
and their nested stacks, resources, templates, software configs,
snapshots, events) is read from Heat's database and written to a snapshot
beside the checks' state: its id, and for each kept row but events a
digest of each column no migration should rewrite (``CONTENT_COLUMNS``).
After the upgrade, before any check touches a stack, each row must still
be there with the same content: a migration that drops a row, or rewrites
one where it should not, shows up here first, naming the table, the row,
the column and the check that owns it. Events are compared by id only.
The content of a stack that was IN_PROGRESS when the snapshot was taken
(its engine was still writing it) is not compared; its rows must still
be there.

Events are the one kind of row Heat deletes on its own: when a stack has
more than ``max_events_per_stack`` events, the oldest
``event_purge_batch_size`` go. Missing events are accepted only when that
purge explains them: the stack reached the limit and only its oldest
events are gone.

The database is read through ``heatdb`` (PyMySQL), so recording needs no
release's environment; Heat's databases in devstack and in the
mini-cloud are MySQL/MariaDB.
"""

import collections
import configparser
import datetime
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from heat_upgrade_tests import heatdb
from heat_upgrade_tests.integrity import environments
from heat_upgrade_tests.integrity import report
from heat_upgrade_tests import state as state_mod

SNAPSHOT_FILE = 'integrity-snapshot.json'
# 2: each row's content digests and the stacks' status were added.
SCHEMA_VERSION = 2
# Heat's defaults (heat/common/config.py) when no heat.conf says better.
MAX_EVENTS_PER_STACK = 1000
EVENT_PURGE_BATCH_SIZE = 200
TABLES = ('stack', 'resource', 'raw_template', 'software_config',
          'snapshot')
# Per table, the columns of a kept row that no migration should rewrite:
# what the user or the engine wrote once (names, links, the physical id,
# metadata, templates, configs, snapshot data), not what the engine
# rewrites as it works (status, timestamps, locks, traversals) nor what a
# migration may legitimately fill in (a new column). JSON is compared
# decoded, so a column's type or encoding may change, never its content.
CONTENT_COLUMNS = {
    'stack': ('name', 'owner_id', 'tenant', 'username', 'disable_rollback',
              'parent_resource_name', 'nested_depth'),
    'resource': ('name', 'stack_id', 'nova_instance', 'rsrc_metadata'),
    'raw_template': ('template',),
    'software_config': ('name', 'group', 'config'),
    'snapshot': ('name', 'status', 'data'),
}


def _select(cursor, sql: str, ids) -> list[tuple]:
    ids = sorted(set(ids), key=str)
    if not ids:
        return []
    marks = ', '.join(['%s'] * len(ids))
    cursor.execute(sql.format(ids=marks), ids)
    return list(cursor.fetchall())


def _normal(value: Any) -> Any:
    """A column's value as compared: bytes decoded, JSON text parsed."""
    if isinstance(value, (bytes, bytearray)):
        value = value.decode('utf-8', 'replace')
    if isinstance(value, str) and value[:1] in ('{', '['):
        try:
            return json.loads(value)
        except ValueError:
            pass
    return value


def digest(value: Any) -> str:
    """A short, exact fingerprint of a column's (normalised) value."""
    text = json.dumps(_normal(value), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_content(cursor, table: str, ids) -> dict[str, dict[str, str]]:
    """``{row id: {column: digest}}`` of ``CONTENT_COLUMNS[table]``."""
    columns = CONTENT_COLUMNS[table]
    quoted = ', '.join(f'`{c}`' for c in columns)
    found = {}
    for row in _select(cursor, f'SELECT id, {quoted} FROM {table} WHERE id '
                               f'IN ({{ids}})', ids):
        found[str(row[0])] = {
            c: digest(v) for c, v in zip(columns, row[1:])}
    return found


def stack_roots(state_dir: Path) -> dict[str, str]:
    """``{stack id: check name}`` of the live stacks in the checks' state."""
    roots = {}
    state_dir = Path(os.path.expanduser(str(state_dir)))
    for path in sorted(state_dir.glob('*.json')):
        if path.name == SNAPSHOT_FILE or path.name.startswith('.'):
            continue
        doc = state_mod.CheckState(state_dir, path.stem).load('integrity')
        stack = (doc.get('record') or {}).get('stack')
        if doc.get('skipped') or not stack or \
                doc['record'].get('destroyed'):
            continue
        roots[stack['id']] = path.stem
    return roots


def read_rows(cursor, roots: dict[str, str]) -> dict[str, Any]:
    """Every row behind the stacks ``roots``, and who owns it."""
    stacks: dict[str, dict] = {}
    frontier = {sid: (check, sid) for sid, check in roots.items()}
    by_id = True
    while frontier:
        column = 'id' if by_id else 'owner_id'
        rows = _select(cursor, 'SELECT id, name, owner_id, raw_template_id, '
                               'prev_raw_template_id, deleted_at, status '
                               f'FROM stack WHERE {column} IN ({{ids}})',
                       frontier)
        found = {}
        for sid, name, owner, tmpl, prev, deleted, status in rows:
            check, root = frontier.get(sid) or frontier[owner]
            if sid in stacks:
                continue
            stacks[sid] = {'check': check, 'root': root, 'name': name,
                           'templates': [t for t in (tmpl, prev) if t],
                           'deleted': deleted is not None,
                           'in_progress': status == 'IN_PROGRESS'}
            found[sid] = (check, root)
        frontier, by_id = found, False
    owner = {sid: info['check'] for sid, info in stacks.items()}
    rows_of = {table: {} for table in TABLES}
    for sid, info in stacks.items():
        rows_of['stack'][sid] = sid
        for tmpl in info['templates']:
            rows_of['raw_template'][str(tmpl)] = sid
    physical = {}
    for rid, sid, phys, tmpl in _select(
            cursor, 'SELECT id, stack_id, nova_instance, current_template_id '
                    'FROM resource WHERE stack_id IN ({ids})', stacks):
        rows_of['resource'][str(rid)] = sid
        if tmpl:
            rows_of['raw_template'].setdefault(str(tmpl), sid)
        if phys:
            physical[phys] = sid
    for (cid,) in _select(cursor, 'SELECT id FROM software_config '
                                  'WHERE id IN ({ids})', physical):
        rows_of['software_config'][cid] = physical[cid]
    # Stack snapshots: the table the 2026.1 migrations changed.
    for snap, sid in _select(cursor, 'SELECT id, stack_id FROM snapshot '
                                     'WHERE stack_id IN ({ids})', stacks):
        rows_of['snapshot'][snap] = sid
    events = collections.defaultdict(list)
    for eid, sid in _select(cursor, 'SELECT id, stack_id FROM event '
                                    'WHERE stack_id IN ({ids})', stacks):
        events[sid].append(eid)
    content = {table: read_content(cursor, table, rows_of[table])
               for table in CONTENT_COLUMNS}
    return {'stacks': stacks, 'owner': owner, 'rows': rows_of,
            'content': content,
            'events': {sid: sorted(ids) for sid, ids in events.items()}}


def record(url: str, state_dir: Path) -> dict[str, Any]:
    """Write the snapshot of the checks' rows; return it."""
    roots = stack_roots(state_dir)
    with heatdb.cursor(url) as cursor:
        found = read_rows(cursor, roots)
    snapshot = {
        'schema_version': SCHEMA_VERSION,
        'taken_at': datetime.datetime.now(datetime.timezone.utc).isoformat(),
        'database': heatdb.describe_url(url),
        'roots': roots,
        **found,
    }
    path = Path(os.path.expanduser(str(state_dir))) / SNAPSHOT_FILE
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f'.{path.name}.tmp')
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        json.dump(snapshot, f, indent=1, sort_keys=True, default=str)
    os.replace(tmp, path)
    return snapshot


def load_snapshot(state_dir: Path) -> dict[str, Any]:
    path = Path(os.path.expanduser(str(state_dir))) / SNAPSHOT_FILE
    try:
        snapshot = json.loads(path.read_text())
    except FileNotFoundError:
        raise environments.IntegrityError(
            f'no row snapshot {path}: run the pre-upgrade phase with '
            f'[integrity] database_connection set (or `heat-upgrade-tests '
            f'integrity snapshot`) before the upgrade')
    except (OSError, ValueError) as exc:
        raise environments.IntegrityError(
            f'cannot read the row snapshot {path}: {exc}')
    if snapshot.get('schema_version') != SCHEMA_VERSION:
        raise environments.IntegrityError(
            f'row snapshot {path} has schema version '
            f'{snapshot.get("schema_version")!r}; this version reads '
            f'{SCHEMA_VERSION}')
    return snapshot


def purge_settings(conf_files: list[Path]) -> tuple[int, int]:
    """Heat's event purge settings from the deployed heat.conf files."""
    limit, batch = MAX_EVENTS_PER_STACK, EVENT_PURGE_BATCH_SIZE
    for path in conf_files:
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read(path)
            limit = parser.getint('DEFAULT', 'max_events_per_stack',
                                  fallback=limit)
            batch = parser.getint('DEFAULT', 'event_purge_batch_size',
                                  fallback=batch)
        except (configparser.Error, ValueError):
            continue
    return limit, batch


def purge_explains(recorded: list[int], present: list[int],
                   limit: int) -> bool:
    """Whether Heat's event purge explains the recorded events missing.

    The purge deletes the oldest events of a stack that went over
    ``limit``: so the stack must have reached it, and every event gone
    must be older than every recorded event left.
    """
    missing = set(recorded) - set(present)
    if not missing:
        return True
    if limit <= 0 or len(set(recorded) | set(present)) < limit:
        return False
    kept = set(recorded) & set(present)
    return not kept or max(missing) < min(kept)


def _who(snapshot: dict[str, Any], stack_id: str) -> str:
    info = snapshot['stacks'].get(stack_id, {})
    return f'stack {info.get("name", stack_id)} of check ' \
           f'{info.get("check", "?")}'


def _expected(snapshot: dict[str, Any],
              live_roots: set[str] | None) -> dict[str, Any]:
    """The snapshot without the stacks destroyed since, by the checks.

    The destroy phase removes a check's rows on purpose: a later check of
    the rows must not count them as lost.
    """
    if live_roots is None:
        return snapshot

    def kept(sid):
        return snapshot['stacks'].get(sid, {}).get('root') in live_roots

    return dict(snapshot,
                rows={table: {rid: sid for rid, sid in ids.items()
                              if kept(sid)}
                      for table, ids in snapshot['rows'].items()},
                content={table: {rid: cols for rid, cols in rows.items()
                                 if kept(snapshot['rows'][table].get(rid))}
                         for table, rows in snapshot['content'].items()},
                events={sid: ids for sid, ids in snapshot['events'].items()
                        if kept(sid)})


def check(url: str, snapshot: dict[str, Any],
          conf_files: list[Path] = (),
          live_roots: set[str] | None = None) -> report.Finding:
    """Every recorded row still present and unchanged, or which are not.

    Present: by id, in every table. Unchanged: the ``CONTENT_COLUMNS`` of
    every kept row but events, compared by digest, except for the stacks
    that were IN_PROGRESS at the snapshot (and their nested stacks).
    ``live_roots``: the stacks the checks' state still holds (None: all of
    the snapshot's); the rows of the others were destroyed on purpose.
    """
    destroyed = sorted(set(snapshot.get('roots', {})) - live_roots) \
        if live_roots is not None else []
    snapshot = _expected(snapshot, live_roots)
    busy = {info['root'] for info in snapshot['stacks'].values()
            if info.get('in_progress')}

    def compared(table: str, rid: str) -> bool:
        sid = snapshot['rows'][table].get(rid)
        return snapshot['stacks'].get(sid, {}).get('root') not in busy
    with heatdb.cursor(url) as cursor:
        present = {}
        for table in TABLES:
            ids = snapshot['rows'].get(table, {})
            present[table] = {str(r[0]) for r in _select(
                cursor, f'SELECT id FROM {table} WHERE id IN ({{ids}})',
                ids)}
        deleted = {r[0] for r in _select(
            cursor, 'SELECT id FROM stack WHERE id IN ({ids}) AND '
                    'deleted_at IS NOT NULL', snapshot['rows']['stack'])}
        events = collections.defaultdict(list)
        for eid, sid in _select(cursor, 'SELECT id, stack_id FROM event '
                                        'WHERE stack_id IN ({ids})',
                                snapshot['events']):
            events[sid].append(eid)
        content = {}
        for table in CONTENT_COLUMNS:
            content[table] = read_content(
                cursor, table, [rid for rid in snapshot['content'][table]
                                if compared(table, rid)])
    limit, _ = purge_settings(list(conf_files))
    problems, notes = [], []
    counts = {}
    for table in TABLES:
        recorded = snapshot['rows'].get(table, {})
        counts[table] = len(recorded)
        for rid, sid in sorted(recorded.items()):
            if rid not in present[table]:
                problems.append(f'{table} {rid} ({_who(snapshot, sid)}) is '
                                f'gone')
    for sid in sorted(deleted):
        if not snapshot['stacks'].get(sid, {}).get('deleted'):
            problems.append(f'stack {sid} ({_who(snapshot, sid)}) was '
                            f'live and is now marked deleted')
    rewritten = []
    for table, recorded in snapshot['content'].items():
        for rid, columns in sorted(recorded.items()):
            now = content[table].get(rid)
            if now is None:
                continue  # gone, or not compared: said above or below
            for column, before in columns.items():
                if now.get(column) != before:
                    sid = snapshot['rows'][table][rid]
                    rewritten.append(
                        f'{table} {rid} ({_who(snapshot, sid)}): column '
                        f'{column} was rewritten (no migration should '
                        f'change it)')
    counts['event'] = sum(len(v) for v in snapshot['events'].values())
    for sid, recorded in sorted(snapshot['events'].items()):
        gone = sorted(set(recorded) - set(events.get(sid, [])))
        if not gone:
            continue
        if purge_explains(recorded, events.get(sid, []), limit):
            notes.append(f'{report.plural(len(gone), "event")} of '
                         f'{_who(snapshot, sid)} purged by Heat '
                         f'(max_events_per_stack={limit})')
        else:
            problems.append(f'{report.plural(len(gone), "event")} of '
                            f'{_who(snapshot, sid)} gone, which Heat\'s '
                            f'event purge does not explain: ids '
                            f'{", ".join(map(str, gone[:10]))}')
    what = ', '.join(f'{n} {t}' for t, n in counts.items())
    roots = len(snapshot.get('roots', {})) - len(destroyed)
    if destroyed:
        notes.append(f'not checked: the rows of '
                     f'{report.plural(len(destroyed), "stack")} the checks '
                     f'destroyed since ({", ".join(destroyed)})')
    if busy:
        notes.append(f'content not compared (present only): the rows of '
                     f'{report.plural(len(busy), "stack")} IN_PROGRESS when '
                     f'the snapshot was taken ({", ".join(sorted(busy))})')
    notes.append('content compared: ' + '; '.join(
        f'{t} ({", ".join(c)})' for t, c in CONTENT_COLUMNS.items())
        + '; events by id only')
    data = {'counts': counts, 'problems': problems + rewritten,
            'taken_at': snapshot.get('taken_at')}
    if problems or rewritten:
        said = []
        if problems:
            said.append(f'{report.plural(len(problems), "row")} recorded '
                        f'before the upgrade missing')
        if rewritten:
            said.append(f'{report.plural(len(rewritten), "column")} of '
                        f'rows recorded before the upgrade rewritten')
        return report.Finding(
            'rows', report.FAILED, f'{"; ".join(said)} (of {what})',
            problems + rewritten + notes, data)
    if not roots:
        why = ('every stack it recorded was destroyed by its check since'
               if destroyed else 'pre-upgrade recorded no live stack of '
                                 'any check')
        return report.Finding('rows', report.WARNING,
                              f'no row left to check: {why}', notes, data)
    return report.Finding(
        'rows', report.PASSED,
        f'every row of the {roots} checks\' stacks recorded before the '
        f'upgrade is present, its content unchanged: {what}', notes, data)
