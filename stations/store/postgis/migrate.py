"""Apply migrations/NNNN_*.sql in order, each once, each in one transaction.

A small runner rather than alembic or yoyo: PostgreSQL runs DDL inside transactions, so a file
either applies whole or not at all, and pg_advisory_xact_lock makes app servers starting at
once take turns; that is all a migration tool would do here, in forty lines, without
SQLAlchemy or a second schema description. Up to date costs one indexed read.
"""

import re
from importlib import resources

import psycopg

LOCK_KEY = 0x59_49_5A_48  # 'YIZH': the advisory lock every app server migrating takes
_NAME = re.compile(r"^(\d{4})_[\w-]+\.sql$")


def migration_files() -> list[tuple[int, str]]:
    """(version, SQL text) of every migration shipped with the package, in order."""
    folder = resources.files("stations.store.postgis") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _applied(conn: psycopg.Connection) -> set[int]:
    exists = conn.execute("select to_regclass('schema_migrations') is not null").fetchone()
    if not exists or not exists[0]:
        return set()
    return {row[0] for row in conn.execute("select version from schema_migrations")}


def migrate(conn: psycopg.Connection) -> list[int]:
    """Bring the database up to date (conn in autocommit mode); the versions applied now."""
    files = migration_files()
    if {v for v, _ in files} <= _applied(conn):
        return []  # the common case, on every process's first request: no lock taken
    done = []
    for version, sql in files:
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(%s)", [LOCK_KEY])
            conn.execute(
                "create table if not exists schema_migrations"
                " (version integer primary key, applied_at timestamptz not null default now())"
            )
            if version in _applied(conn):  # another server applied it while we waited
                continue
            conn.execute(sql.encode())  # no parameters: the file may hold many statements
            conn.execute("insert into schema_migrations (version) values (%s)", [version])
            done.append(version)
    return done
