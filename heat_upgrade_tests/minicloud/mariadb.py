"""A private MariaDB server for Keystone and Heat.

Heat cannot run on SQLite (a nested stack update fails with ``database is
locked``), so the mini-cloud runs a MariaDB of its own: its own data
directory, socket and port, started with ``--no-defaults`` so that no
``/etc/mysql`` file can change it, and never the system service.
"""

import os
from pathlib import Path
import re
import shutil
import time
from typing import Any
import urllib.parse

import fixtures
import pymysql

from heat_upgrade_tests import exceptions
from heat_upgrade_tests.installs import packages
from heat_upgrade_tests.minicloud import service
from heat_upgrade_tests import processes

# A Unix socket path longer than this (108 bytes with the final NUL on
# Linux) is cut and the server cannot listen on it.
_MAX_SOCKET_PATH = 107
# mariadbd sets its own umask from these (its default leaves its files
# readable by their group): the tables hold password hashes and the
# services' data, the run's user's alone.
PRIVATE_FILES = {'UMASK': '0600', 'UMASK_DIR': '0700'}
_NAME = re.compile(r'^[A-Za-z0-9_]{1,64}$')


class MariaDB(fixtures.Fixture):
    """A MariaDB server under ``base_dir``, stopped on cleanup.

    The data directory is created on first use and kept, so a later
    fixture on the same ``base_dir`` finds the databases again (a restart
    in the middle of an upgrade). SIGTERM, sent by the ManagedProcess
    cleanup, is a clean shutdown for mariadbd.
    """

    def __init__(self, base_dir: Path, port: int, log_dir: Path,
                 host: str = '127.0.0.1', start_timeout: float = 60):
        super().__init__()
        self.base_dir = Path(base_dir)
        self.port = port
        self.host = host
        self.start_timeout = start_timeout
        self.data_dir = self.base_dir / 'data'
        self.tmp_dir = self.base_dir / 'tmp'
        self.socket = self.base_dir / 'mariadb.sock'
        self.pid_file = self.base_dir / 'mariadb.pid'
        self.log_file = Path(log_dir) / 'mariadb.log'
        self.process: processes.ManagedProcess | None = None

    def _setUp(self) -> None:
        if len(str(self.socket)) > _MAX_SOCKET_PATH:
            raise exceptions.MiniCloudError(
                f'the MariaDB socket path {self.socket} is longer than '
                f'{_MAX_SOCKET_PATH} characters; choose a shorter '
                f'[minicloud] work_dir')
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(exist_ok=True)
        if not (self.data_dir / 'mysql').is_dir():
            self._install_db()
        self.process = processes.use(self, processes.ManagedProcess(
            'mariadb', self._server_argv(), self.log_file, env=PRIVATE_FILES,
            cwd=self.base_dir, stop_timeout=60))
        self.process.wait_ready(
            self._accepts_root, self.start_timeout,
            f'MariaDB to accept connections on {self.socket}')

    def restart(self) -> float:
        """Stop the server and start it again on its data; the seconds.

        For the drills that restart the database under a running phase:
        the services must reconnect.
        """
        start = time.monotonic()
        if self.process is not None:
            self.process.stop()
        self.process = processes.use(self, processes.ManagedProcess(
            'mariadb', self._server_argv(), self.log_file, env=PRIVATE_FILES,
            cwd=self.base_dir, stop_timeout=60))
        self.process.wait_ready(
            self._accepts_root, self.start_timeout,
            f'MariaDB to accept connections again on {self.socket}')
        return time.monotonic() - start

    def _install_db(self) -> None:
        # A half-made data directory (an install that was interrupted)
        # would make the server fail obscurely: start it again from empty.
        shutil.rmtree(self.data_dir, ignore_errors=True)
        processes.run(
            [packages.MARIADB_INSTALL_DB, '--no-defaults',
             f'--datadir={self.data_dir}', '--user=root',
             '--auth-root-authentication-method=normal', '--skip-test-db',
             # Grants by address, as the server resolves no names.
             '--skip-name-resolve'],
            self.log_file, f'creating the MariaDB data in {self.data_dir}',
            env=PRIVATE_FILES, timeout=self.start_timeout)

    def _server_argv(self) -> list[str]:
        return [
            packages.MARIADBD,
            # Must come first: no /etc/mysql file may change this server.
            '--no-defaults',
            f'--datadir={self.data_dir}',
            f'--socket={self.socket}',
            f'--port={self.port}',
            f'--bind-address={self.host}',
            '--user=root',
            f'--pid-file={self.pid_file}',
            f'--log-error={self.log_file}',
            f'--tmpdir={self.tmp_dir}',
            # What devstack sets for OpenStack services; without it the
            # compiled-in default is latin1.
            '--character-set-server=utf8',
            '--collation-server=utf8_general_ci',
            # Grants are by IP address; no DNS lookup delays a connection.
            '--skip-name-resolve',
            # Keystone's and Heat's connection pools (several workers
            # each) exceed the default of 151 in a long run.
            '--max-connections=500',
            # Small: the test databases are tiny and the machine is shared.
            '--innodb-buffer-pool-size=64M',
            '--innodb-log-file-size=32M',
            '--performance-schema=OFF',
        ]

    def connect(self, database: str | None = None,
                timeout: float = 10) -> pymysql.connections.Connection:
        """A root connection through the socket, in autocommit mode."""
        return pymysql.connect(
            unix_socket=str(self.socket), user='root', password='',
            database=database, charset='utf8mb4', autocommit=True,
            connect_timeout=timeout)

    def _accepts_root(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            self.connect(timeout=2).close()
        except pymysql.err.MySQLError:
            return False
        return True

    def execute(self, sql: str, database: str | None = None,
                args: Any = None) -> list[tuple]:
        """Run one SQL statement as root; return the rows it gives.

        For setting up and for fault drills (a column dropped behind
        Heat's back). ``args`` are passed to PyMySQL for quoting, as in
        ``cursor.execute``.
        """
        conn = self.connect(database)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, args)
                return list(cursor.fetchall())
        finally:
            conn.close()

    def create_database(self, name: str, user: str, password: str) -> str:
        """Create database ``name`` and its owner; return its SQLAlchemy URL.

        Idempotent: an existing database is kept and an existing user gets
        the new password. The user may connect over TCP, as the services
        do, and through the socket (``localhost``), for debugging.
        """
        for what, value in (('database', name), ('user', user)):
            if not _NAME.match(value):
                raise exceptions.MiniCloudError(
                    f'invalid MariaDB {what} name {value!r}: use letters, '
                    f'digits and underscores')
        conn = self.connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute(
                    f'CREATE DATABASE IF NOT EXISTS `{name}` '
                    f'CHARACTER SET utf8 COLLATE utf8_general_ci')
                for host in self._client_hosts():
                    cursor.execute('CREATE USER IF NOT EXISTS %s@%s',
                                   (user, host))
                    cursor.execute('ALTER USER %s@%s IDENTIFIED BY %s',
                                   (user, host, password))
                    cursor.execute(
                        f'GRANT ALL PRIVILEGES ON `{name}`.* TO %s@%s',
                        (user, host))
        finally:
            conn.close()
        quote = urllib.parse.quote
        host = f'[{self.host}]' if ':' in self.host else self.host
        return (f'mysql+pymysql://{quote(user, safe="")}:'
                f'{quote(password, safe="")}@{host}:{self.port}/'
                f'{name}?charset=utf8')

    def _client_hosts(self) -> list[str]:
        # Grants match the client's address (no name resolution): the
        # services connect over TCP from the listen address; 'localhost'
        # is the socket.
        return list(dict.fromkeys([self.host, '127.0.0.1', 'localhost']))

    def dump(self, database: str, path: Path, log_file: Path) -> None:
        """Write ``database`` (schema and rows) to ``path``: mariadb-dump.

        Written aside and moved into place, so that a reader (another run
        sharing the cache) never finds half a dump.
        """
        _check_name(database)
        path = Path(path)
        partial = path.with_name(f'.{path.name}.{os.getpid()}.partial')
        try:
            processes.run(
                [packages.MARIADB_DUMP, '--no-defaults',
                 f'--socket={self.socket}', '--user=root',
                 '--single-transaction', '--routines', '--triggers',
                 '--skip-comments', f'--result-file={partial}', database],
                log_file, f'mariadb-dump {database}', timeout=120)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    def load(self, database: str, path: Path, log_file: Path) -> None:
        """Run the SQL of ``path`` (a ``dump``) in ``database``."""
        _check_name(database)
        processes.run(
            [packages.MARIADB_CLIENT, '--no-defaults',
             f'--socket={self.socket}', '--user=root', database,
             '--execute', f'source {Path(path).absolute()}'],
            log_file, f'loading {path.name} into {database}', timeout=120)

    def drop_column(self, database: str, table: str, column: str) -> None:
        """Drop ``table.column`` in ``database``: a schema fault drill."""
        for value in (database, table, column):
            _check_name(value)
        self.execute(f'ALTER TABLE `{table}` DROP COLUMN `{column}`',
                     database=database)


def _check_name(value: str) -> None:
    if not _NAME.match(value):
        raise exceptions.MiniCloudError(f'invalid MariaDB name {value!r}')


class MariaDBService(service.Service):
    """The run's MariaDB, from the machine's binaries, for the whole run."""

    name = 'mariadb'
    title = 'MariaDB'
    port_options = ('mysql_port',)
    versioned = False

    def start(self, release=None, process=None, instance=None,
              bus=None) -> str:
        cloud = self.cloud
        self.server = processes.use(cloud, MariaDB(
            cloud.run_dir / 'mariadb', cloud.opts.mysql_port, cloud.log_dir,
            host=cloud.host, start_timeout=cloud.opts.service_timeout))
        return f'mariadb on {self.server.socket}'

    def stop(self, release=None, process=None, instance=None) -> str:
        raise exceptions.MiniCloudError(
            'MariaDB runs for the whole run (restart it instead)')
