"""The new release's ``db_sync`` timed on a copy of Heat's database.

How long the migration takes as the database fills is asked once per
scale, on one mini-cloud: after each scale's pre-upgrade the live
database (as the old Heat left it) is copied, table by table, into a
database of its own, the new release's ``heat-manage db_sync`` migrates
the copy, and the copy is dropped. The live database is never migrated,
so the old Heat goes on serving the next scale. On a pair without
migrations (2026.1 -> 2026.2) this times a no-op; the benchmarks use a
pair with migrations (2025.2 -> 2026.1) by default.
"""

import os
from pathlib import Path
import secrets
import time

from heat_upgrade_tests import heatdb
from heat_upgrade_tests import processes

COPY = 'heat_bench_copy'
COPY_USER = 'heat_bench'


def copy_database(db, source: str = 'heat', target: str = COPY) -> str:
    """Copy ``source`` into a fresh ``target``; its SQLAlchemy URL.

    ``db``: the mini-cloud's MariaDB, which makes the database and its
    user; the tables are copied as ``heatdb.copy_tables`` does.
    """
    db.execute(f'DROP DATABASE IF EXISTS `{target}`')
    url = db.create_database(target, COPY_USER, secrets.token_hex(16))
    conn = db.connect()
    try:
        with conn.cursor() as cursor:
            heatdb.copy_tables(cursor, source, target)
    finally:
        conn.close()
    return url


def timed_db_sync(cloud, release, work: Path, timeout: float = 600
                  ) -> dict:
    """Copy Heat's database, migrate the copy with ``release``; the figures.

    Returns the rows of the copy before the migration (in all and per
    table), the seconds ``heat-manage db_sync`` took, and where its output
    went. The copy and the file holding its URL are removed afterwards.
    """
    rows = heatdb.row_counts(cloud.db)
    url = copy_database(cloud.db)
    conf = work / 'db-sync-copy.conf'
    log = work / f'db-sync-copy-{release.version}.log'
    fd = os.open(conf, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(f'[database]\nconnection = {heatdb.conf_value(url)}\n')
    argv = [str(release.bin('heat-manage'))]
    for path in [*cloud.heat.config_files(release), conf]:
        argv += ['--config-file', str(path)]
    try:
        start = time.monotonic()
        processes.run(argv + ['db_sync'], log,
                      f'{release.label} heat-manage db_sync of the copy',
                      timeout=timeout)
        seconds = time.monotonic() - start
    finally:
        conf.unlink(missing_ok=True)
        cloud.db.execute(f'DROP DATABASE IF EXISTS `{COPY}`')
    return {'rows': sum(rows.values()), 'rows_by_table': rows,
            'seconds': seconds, 'release': release.version,
            'log': str(log)}
