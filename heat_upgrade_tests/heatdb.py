"""Heat's database: the one way this project reaches it.

The integrity checks (the row snapshot and its check), the engine probe
(heartbeats, the stacks an engine holds), the plan runner (the stacks a
run leaves behind) and the db_sync benchmark (a copy of the database) all
read Heat's database. Reading a URL, keeping its password out of every
message, connecting, and the queries more than one of them needs live
here, once, so that they cannot drift apart; what each caller asks of
the rows stays with the caller.

Heat's databases in devstack and in the mini-cloud are MySQL/MariaDB,
read with PyMySQL, which this project already uses: reading needs no
release's environment. What must run with a release's own SQLAlchemy and
alembic (the schema against the models, a migration) is done by the
probe, ``integrity/helpers/heat_probe.py``, which runs inside that
release's python and cannot import this package.

A ground module: it imports only ``exceptions`` of this project.
"""

from collections.abc import Iterator
import contextlib
from typing import Any, Protocol
import urllib.parse

import pymysql

from heat_upgrade_tests import exceptions

# Seconds a connection may take: a database that does not answer is an
# error of its own, never a hang.
CONNECT_TIMEOUT = 10
# Every stack Heat has not deleted, nested ones too, as ``id, name``:
# Heat keeps the row of a deleted stack (``deleted_at`` set, or a
# DELETE_COMPLETE not yet purged), so counting rows alone would count it.
LIVE_STACKS_SQL = ("SELECT id, name FROM stack WHERE deleted_at IS NULL "
                   "AND NOT (action = 'DELETE' AND status = 'COMPLETE')")


class Server(Protocol):
    """A database server the project administers (the mini-cloud's MariaDB).

    Only what the shared queries use: one statement on one database, as
    ``minicloud.mariadb.MariaDB.execute`` runs it.
    """

    def execute(self, sql: str, database: str | None = None,
                args: Any = None) -> list[tuple]:
        ...


def parse_url(url: str) -> dict[str, Any]:
    """PyMySQL connection arguments from a SQLAlchemy URL.

    Heat is configured with a SQLAlchemy URL (``mysql+pymysql://...``);
    PyMySQL wants its parts, the user and password unquoted, and a Unix
    socket when the URL's query names one.
    """
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme.startswith('mysql'):
        raise exceptions.IntegrityError(
            f'the row check reads MySQL/MariaDB only (mysql+pymysql://...), '
            f'not {parts.scheme}://')
    query = dict(urllib.parse.parse_qsl(parts.query))
    args: dict[str, Any] = {
        'user': urllib.parse.unquote(parts.username or ''),
        'password': urllib.parse.unquote(parts.password or ''),
        'database': parts.path.lstrip('/') or None,
        'charset': query.get('charset', 'utf8'),
    }
    if 'unix_socket' in query:
        args['unix_socket'] = query['unix_socket']
    else:
        args['host'] = parts.hostname or 'localhost'
        args['port'] = parts.port or 3306
    if not args['database']:
        raise exceptions.IntegrityError('the database URL names no database')
    return args


def describe_url(url: str) -> str:
    """The URL without its password: what messages and reports show."""
    args = parse_url(url)
    where = args.get('unix_socket') or f'{args["host"]}:{args["port"]}'
    return f'{args["user"]}@{where}/{args["database"]}'


def conf_value(url: str) -> str:
    """The URL as a value of an oslo.config file (Heat's, heat-manage's).

    oslo.config reads ``$`` as the start of a substitution, and a
    generated password may hold one: it is doubled.
    """
    return url.replace('$', '$$')


def connect(url: str) -> pymysql.connections.Connection:
    """A PyMySQL connection to the database at ``url``.

    IntegrityError, one line naming the database (never its password),
    when it cannot be reached.
    """
    try:
        return pymysql.connect(connect_timeout=CONNECT_TIMEOUT,
                               **parse_url(url))
    except pymysql.err.MySQLError as exc:
        raise exceptions.IntegrityError(
            f'cannot connect to Heat\'s database {describe_url(url)}: {exc}')


@contextlib.contextmanager
def cursor(url: str) -> Iterator[pymysql.cursors.Cursor]:
    """A cursor on the database at ``url``; the connection closed after.

    A connection is opened for one piece of work and closed at once, so
    a long run holds none while Heat migrates or restarts its database.
    """
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def read(url: str, sql: str, args: tuple = ()) -> list[tuple]:
    """Rows of one read-only query on the database at ``url``.

    A query that fails is an UpgradeTestError of one line naming the
    database, for the callers that report Heat's database as one witness
    among others (the engine probe) rather than stop.
    """
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())
    except pymysql.err.MySQLError as exc:
        raise exceptions.UpgradeTestError(
            f"cannot read Heat's database {describe_url(url)}: {exc}")
    finally:
        conn.close()


def live_stacks(cur: pymysql.cursors.Cursor) -> dict[str, str]:
    """``{id: name}`` of every stack Heat has not deleted (``LIVE_STACKS``).

    Takes a cursor, so that the caller connects as it must (the plan
    runner as the mini-cloud's administrator, through its socket).
    """
    cur.execute(LIVE_STACKS_SQL)
    return dict(cur.fetchall())


def row_counts(db: Server, database: str = 'heat') -> dict[str, int]:
    """``{table: rows}`` of ``database`` on ``db``, every table of it.

    How full Heat's database is, for the figures that set a migration's
    time against the rows it migrates.
    """
    tables = [row[0] for row in db.execute('SHOW TABLES', database=database)]
    return {table: int(db.execute(f'SELECT COUNT(*) FROM `{table}`',
                                  database=database)[0][0])
            for table in tables}


def copy_tables(cur: pymysql.cursors.Cursor, source: str,
                target: str) -> None:
    """Copy every table of database ``source`` into database ``target``.

    Table by table, schema then rows, with foreign keys unchecked (the
    tables come in name order, not in the order their keys need). For a
    copy of Heat's database that a migration may change while the live
    one goes on serving; ``target`` must exist and be empty.
    """
    cur.execute('SET FOREIGN_KEY_CHECKS=0')
    cur.execute(f'SHOW TABLES FROM `{source}`')
    for (table,) in cur.fetchall():
        cur.execute(f'CREATE TABLE `{target}`.`{table}` LIKE '
                    f'`{source}`.`{table}`')
        cur.execute(f'INSERT INTO `{target}`.`{table}` SELECT * '
                    f'FROM `{source}`.`{table}`')
