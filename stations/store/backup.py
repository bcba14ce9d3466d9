"""Backup and restore of the registry while servers run: `flask --app app backup FILE` and
`restore FILE`. The store layer picks the method from DATABASE_URL.

SQLite: SQLite's online backup API copies one consistent snapshot (a WAL read transaction:
writers are never blocked, so it runs in one step — a copy in steps would restart each time a
writer commits) to a temporary file beside FILE, checks it (`PRAGMA integrity_check`) and
renames it into place. A restore checks FILE (a Yizhan database that passes integrity_check),
then copies it with the same API into the live database in one write transaction: running
servers read the restored registry from their next request, with no window in which the file
is missing or half-written. Their in-memory spatial index is rebuilt at restart, which the
command asks for.

PostGIS: pg_dump in its custom format, and pg_restore --clean --single-transaction (all or
nothing), both found on PATH or in Debian's /usr/lib/postgresql/N/bin.
"""

import glob
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from urllib.parse import quote

from stations.store.errors import StoreError, StoreMissing
from stations.store.sqlite.store import MISSING

# The tables a Yizhan database has whatever its age; the counts the drill compares.
REQUIRED = ("stations", "_sqlite_migrations")
_NOT_COUNTED = ("sqlite_", "stations_rtree", "_sqlite_migrations")


class BackupRefused(StoreError):
    """A backup or restore that was not done; the message says why, nothing was changed."""


@dataclass
class BackupReport:
    path: str
    counts: dict[str, int] = field(default_factory=dict)
    integrity: str = ""
    seconds: float = 0.0
    size: int = 0


def backup(url: str, target: str, force: bool = False) -> BackupReport:
    """A consistent copy of the database at url in the file target."""
    if os.path.exists(target) and not force:
        raise BackupRefused(f"{target} exists; choose another name or use --force to replace it")
    started = time.monotonic()
    if url.startswith("sqlite:///"):
        report = _sqlite_backup(url.removeprefix("sqlite:///"), target)
    elif url.startswith(("postgresql://", "postgres://")):
        report = _pg_backup(url, target)
    else:
        raise BackupRefused("DATABASE_URL names no database this command can back up")
    report.seconds = time.monotonic() - started
    report.size = os.path.getsize(target)
    return report


def restore(url: str, source: str) -> BackupReport:
    """Replace the database at url by the backup in the file source, all or nothing."""
    if not os.path.isfile(source):
        raise BackupRefused(f"{source}: no such file")
    started = time.monotonic()
    if url.startswith("sqlite:///"):
        report = _sqlite_restore(url.removeprefix("sqlite:///"), source)
    elif url.startswith(("postgresql://", "postgres://")):
        report = _pg_restore(url, source)
    else:
        raise BackupRefused("DATABASE_URL names no database this command can restore")
    report.seconds = time.monotonic() - started
    return report


def counts_of(url_or_path: str) -> dict[str, int]:
    """Rows per table of a database (a DATABASE_URL, or a SQLite backup file's path)."""
    if url_or_path.startswith(("postgresql://", "postgres://")):
        return _pg_counts(url_or_path)
    path = url_or_path.removeprefix("sqlite:///")
    with closing(_connect(path, "ro")) as conn:
        return _sqlite_counts(conn)


# -- SQLite -----------------------------------------------------------------------------------


def _connect(path: str, mode: str) -> sqlite3.Connection:
    """A connection that never creates the file (mode ro or rw)."""
    uri = f"file:{quote(os.path.abspath(path))}?mode={mode}"
    try:
        return sqlite3.connect(uri, uri=True, timeout=30)
    except sqlite3.OperationalError as exc:
        if not os.path.exists(path):
            raise StoreMissing(MISSING) from exc
        raise BackupRefused(f"cannot open {path}: {exc}") from exc


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        name
        for (name,) in conn.execute("select name from sqlite_master where type = 'table'")
        if not name.startswith(_NOT_COUNTED)
    ]
    return {
        name: conn.execute(f'select count(*) from "{name}"').fetchone()[0] for name in sorted(names)
    }


def _integrity(conn: sqlite3.Connection) -> str:
    rows = [row[0] for row in conn.execute("pragma integrity_check")]
    return "ok" if rows == ["ok"] else "; ".join(rows[:5])


@contextmanager
def _temporary_beside(target: str) -> Iterator[str]:
    """A temporary file name in target's directory (so the rename is atomic), removed unless
    the caller renamed it into place."""
    directory = os.path.dirname(os.path.abspath(target))
    temporary = os.path.join(directory, f".{os.path.basename(target)}.{os.getpid()}.partial")
    try:
        yield temporary
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(temporary + suffix):
                os.remove(temporary + suffix)


def _copy_into(source: sqlite3.Connection, target: str) -> BackupReport:
    """source's consistent snapshot in a new file target, checked, then renamed into place."""
    with _temporary_beside(target) as temporary:
        with closing(sqlite3.connect(temporary)) as copy:
            source.backup(copy)  # one step: one WAL snapshot, writers go on meanwhile
            copy.execute("pragma journal_mode = delete")  # one self-contained file
            integrity = _integrity(copy)
            if integrity != "ok":
                raise BackupRefused(f"the copy failed its integrity check: {integrity}")
            counts = _sqlite_counts(copy)
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)
    _sync_directory(target)
    return BackupReport(target, counts, integrity)


def _sync_directory(path: str) -> None:
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sqlite_backup(path: str, target: str) -> BackupReport:
    with closing(_connect(path, "ro")) as source:
        return _copy_into(source, target)


def _check_backup(source: sqlite3.Connection, name: str) -> None:
    try:
        tables = {row[0] for row in source.execute("select name from sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(
            f"{name} is not a SQLite database ({exc}); nothing was changed"
        ) from exc
    if not set(REQUIRED) <= tables:
        raise BackupRefused(f"{name} is not a Yizhan database; nothing was changed")
    integrity = _integrity(source)
    if integrity != "ok":
        raise BackupRefused(f"{name} failed its integrity check ({integrity}); nothing was changed")


def _sqlite_restore(path: str, source_path: str) -> BackupReport:
    with closing(_connect(source_path, "ro")) as source:
        _check_backup(source, source_path)
        if not os.path.exists(path):
            if os.path.exists(path + "-wal") or os.path.exists(path + "-shm"):
                raise BackupRefused(
                    "the database's -wal or -shm file is still there without the database;"
                    " stop the servers, then restore again"
                )
            return _copy_into(source, path)
        with closing(_connect(path, "rw")) as live:
            live.execute("pragma busy_timeout = 30000")
            # One step: one write transaction replaces every page; readers see the old
            # registry or the restored one, never a mixture.
            source.backup(live)
            integrity = _integrity(live)
            counts = _sqlite_counts(live)
    return BackupReport(path, counts, integrity)


# -- PostGIS ----------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    """name on PATH, else in the newest of Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if versions:
        return versions[-1]
    raise BackupRefused(f"{name} not found: install PostgreSQL's client tools (postgresql-client)")


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise BackupRefused(f"{os.path.basename(command[0])}: {message}; nothing was changed")


def _pg_backup(url: str, target: str) -> BackupReport:
    with _temporary_beside(target) as temporary:
        # --serializable-deferrable: one snapshot of the whole database, taken without
        # blocking writers and without risk of being cancelled for serialisation.
        _run([_pg_tool("pg_dump"), "--format=custom", "--serializable-deferrable",
              "--file", temporary, "--dbname", url])  # fmt: skip
        _run([_pg_tool("pg_restore"), "--list", temporary])  # the archive reads back whole
        os.replace(temporary, target)
    _sync_directory(target)
    return BackupReport(target, {}, "ok")


def _pg_restore(url: str, source: str) -> BackupReport:
    _run([_pg_tool("pg_restore"), "--list", source])
    _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--exit-on-error", "--dbname", url, source])  # fmt: skip
    return BackupReport(url, _pg_counts(url), "ok")


def _pg_counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        names = [
            name
            for (name,) in conn.execute(
                "select tablename from pg_tables where schemaname = 'public' order by tablename"
            )
            if name not in ("spatial_ref_sys", "schema_migrations")
        ]
        out = {}
        for name in names:
            row = conn.execute(f'select count(*) from "{name}"').fetchone()
            out[name] = row[0] if row else 0
        return out
