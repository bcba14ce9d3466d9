"""Moving up: copy a SQLite registry into an empty PostgreSQL/PostGIS database.

Every table the registry keeps is copied with its ids, in one PostgreSQL transaction: a failure
(or a kill) half-way leaves the target as it was. Rows are streamed from SQLite in batches and
written with COPY (binary), so memory stays flat at a million stations. Afterwards each identity
sequence is moved past the copied ids, the row counts are compared table by table inside the
same transaction, and only if every one matches is it committed.

Column types differ between the stores and are converted by the target column's type:
JSON text -> text[] (facilities) and json (history before/after), 0/1 -> boolean (audits
passed). audit_items' order is SQLite's rowid there and an identity id here: rowid -> id.

Not copied: login_attempts (recent sign-in failures, kept only for rate limiting: ephemeral),
import_jobs (staff imports' progress, whose uploads are files on this server only),
index_changes (filled afresh by the target's triggers as stations arrive) and SQLite's own
bookkeeping (the R*Tree, the migrations table). Audit photos are files under the instance
folder's evidence/; only their names are rows, so that folder must be copied or shared.
"""

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import sqlite_utils
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Json

from stations.store.errors import StoreError
from stations.store.postgis.migrate import migrate
from stations.store.sqlite.migrations import migrations

# Parents before children, so every foreign key finds its row. (table, the column a row is
# named by in messages and ordered by.)
TABLES: tuple[tuple[str, str], ...] = (
    ("users", "id"),
    ("stations", "id"),
    ("station_changes", "id"),
    ("checkins", "id"),
    ("staff_sessions", "id"),
    ("api_tokens", "id"),
    ("audits", "id"),
    ("audit_items", "id"),
    ("region_profiles", "region"),
    ("api_keys", "id"),
    ("search_cells", "day"),
    ("demand_layers", "id"),
    ("demand_points", "id"),
)
# Target columns filled from something else than the SQLite column of the same name.
SOURCE_EXPRESSIONS = {("audit_items", "id"): "rowid"}
# SQLite tables left behind on purpose, and why (the command says so).
SKIPPED = {
    "login_attempts": "recent sign-in failures, kept only for rate limiting",
    "index_changes": "the spatial index's change log; the target's triggers fill its own",
    "import_jobs": "staff imports' progress; their uploads are files on this server only",
}
_SQLITE_OWN = ("sqlite_", "_sqlite_migrations", "stations_rtree")
# The row every freshly migrated target has: not a sign of earlier use.
_DEFAULT_PROFILE = ("", "liuyou_a")


BATCH = 5000
CONNECT_TIMEOUT_S = 10

# PostgreSQL type oids that need a conversion from SQLite's representation.
_BOOL, _JSON, _TEXT_ARRAY = 16, 114, 1009


class CopyRefused(StoreError):
    """The copy did not happen or was rolled back: nothing was written to the target."""


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int


class CountMismatch(CopyRefused):
    """Some table's count differs after the copy; the transaction was rolled back."""

    def __init__(self, counts: list[TableCount]):
        self.counts = counts
        wrong = ", ".join(
            f"{c.table} {c.source} in SQLite, {c.target} in PostgreSQL"
            for c in counts
            if c.source != c.target
        )
        super().__init__(f"counts differ after the copy ({wrong}); nothing was kept")


@dataclass
class CopyReport:
    counts: list[TableCount]
    skipped: dict[str, int] = field(default_factory=dict)  # table: rows left behind
    photos: int = 0  # audit items naming an evidence file


Progress = Callable[[str, int], Callable[[int], None]]


def describe_target(url: str) -> str:
    """host:port/dbname of a PostgreSQL URL, without user or password, for messages."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(unreadable URL)"
    host = info.get("host") or info.get("hostaddr") or "localhost"
    port = info.get("port") or 5432
    return f"{host}:{port}/{info.get('dbname') or '(default database)'}"


def copy_registry(source_url: str, target_url: str, progress: Progress | None = None) -> CopyReport:
    """Copy the SQLite registry at source_url into the empty PostgreSQL database at target_url.

    progress, if given, is called as progress(table, rows) before each table and returns a
    callable told how many more rows are written. Raises CopyRefused (nothing written, the
    message says why: not empty, unreachable, a row PostgreSQL refuses …) or CountMismatch.
    """
    if not target_url.startswith(("postgresql://", "postgres://")):
        raise CopyRefused("--to must be a postgresql://user@host:port/dbname URL")
    try:
        conninfo_to_dict(target_url)
    except psycopg.ProgrammingError as exc:
        raise CopyRefused(f"--to is not a valid PostgreSQL URL: {_first_line(exc)}") from None
    where = describe_target(target_url)
    with _source(source_url) as source:
        try:
            conn = psycopg.connect(target_url, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.OperationalError as exc:
            raise CopyRefused(
                f"cannot connect to PostgreSQL at {where}: {_first_line(exc)}"
            ) from None
        with conn:
            try:
                _migrate_target(target_url)
            except psycopg.Error as exc:
                raise CopyRefused(
                    f"cannot prepare the schema in {where}: {_first_line(exc)}"
                ) from None
            return _copy(source, conn, where, progress)


def _migrate_target(url: str) -> None:
    """Bring the target's schema up to date with the PostGIS store's own migrations, so a
    copy lands in exactly the tables `init-db` would make."""
    with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True) as conn:
        migrate(conn)


# -- the source -------------------------------------------------------------------------------


@contextmanager
def _source(url: str) -> Iterator[sqlite3.Connection]:
    """The SQLite registry, read-only, inside one read transaction: every count and row comes
    from the same snapshot even if the app keeps writing meanwhile."""
    if not url.startswith("sqlite:///"):
        raise CopyRefused(
            "the source (DATABASE_URL) must be a SQLite registry, sqlite:///path.db; "
            "copy-db moves a SQLite registry up to PostgreSQL"
        )
    path = url.removeprefix("sqlite:///")
    if not Path(path).is_file():
        raise CopyRefused(f"no SQLite database at {path}")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        try:
            conn.execute("pragma query_only = on")
            conn.execute("begin")
            conn.execute("select count(*) from sqlite_master").fetchone()  # takes the snapshot
            pending = migrations.pending(sqlite_utils.Database(conn))
        except sqlite3.DatabaseError as exc:
            raise CopyRefused(f"{path} is not a usable SQLite database ({exc})") from None
        if pending:
            raise CopyRefused(
                f"{path} has an older schema (pending: {', '.join(m.name for m in pending)}); "
                "run `flask --app app init-db` on it first"
            )
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("rollback")
        conn.close()


def _source_tables(source: sqlite3.Connection) -> set[str]:
    rows = source.execute("select name from sqlite_master where type = 'table'").fetchall()
    return {name for (name,) in rows if not name.startswith(_SQLITE_OWN)}


def _source_columns(source: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in source.execute(f"pragma table_info({table})")]


def _count(source: sqlite3.Connection, table: str) -> int:
    return source.execute(f"select count(*) from {table}").fetchone()[0]


# -- the target -------------------------------------------------------------------------------


def _target_columns(conn: psycopg.Connection, table: str) -> list[tuple[str, int]]:
    """(name, type oid) of the columns a COPY can fill: generated ones left out."""
    rows = conn.execute(
        """select attname, atttypid from pg_attribute
           where attrelid = %s::regclass and attnum > 0 and not attisdropped and attgenerated = ''
           order by attnum""",
        [table],
    ).fetchall()
    return [(str(name), int(oid)) for name, oid in rows]


def _check_empty(conn: psycopg.Connection, where: str) -> None:
    found = []
    for table, _ in TABLES:
        if table == "region_profiles":
            n = conn.execute(
                "select count(*) from region_profiles where (region, profile) != (%s, %s)",
                _DEFAULT_PROFILE,
            ).fetchone()
        else:
            n = conn.execute(
                sql.SQL("select count(*) from {}").format(sql.Identifier(table))
            ).fetchone()
        if n and n[0]:
            found.append(f"{n[0]} {table}")
    if found:
        raise CopyRefused(
            f"{where} is not empty: {', '.join(found)}; copy-db fills only an empty database"
        )


def _copy(
    source: sqlite3.Connection, conn: psycopg.Connection, where: str, progress: Progress | None
) -> CopyReport:
    unknown = _source_tables(source) - {t for t, _ in TABLES} - set(SKIPPED)
    if unknown:
        raise CopyRefused(
            f"the SQLite database has tables copy-db does not know: {', '.join(sorted(unknown))}"
        )
    counts = {table: _count(source, table) for table, _ in TABLES}
    report = CopyReport(counts=[])
    report.skipped = {t: _count(source, t) for t in SKIPPED}
    report.photos = source.execute(
        "select count(*) from audit_items where photo is not null and photo != ''"
    ).fetchone()[0]
    with conn.transaction():
        _check_empty(conn, where)
        conn.execute("delete from region_profiles")  # the migration's default comes from SQLite
        for table, key in TABLES:
            tick = progress(table, counts[table]) if progress else None
            _copy_table(source, conn, table, key, tick)
        for table, _ in TABLES:
            _move_identities(conn, table)
        for table, _ in TABLES:
            query = sql.SQL("select count(*) from {}").format(sql.Identifier(table))
            found = conn.execute(query).fetchone()
            report.counts.append(TableCount(table, counts[table], found[0] if found else -1))
        if any(c.source != c.target for c in report.counts):
            raise CountMismatch(report.counts)
        for table, _ in TABLES:  # fresh statistics: the planner's first queries see the rows
            conn.execute(sql.SQL("analyze {}").format(sql.Identifier(table)))
    return report


def _copy_table(
    source: sqlite3.Connection,
    conn: psycopg.Connection,
    table: str,
    key: str,
    tick: Callable[[int], None] | None,
) -> None:
    target = _target_columns(conn, table)
    names = [name for name, _ in target]
    have = set(_source_columns(source, table))
    expressions = [SOURCE_EXPRESSIONS.get((table, name), name) for name in names]
    missing = [e for e in expressions if e != "rowid" and e not in have]
    extra = have - set(names)
    if missing or extra:
        raise CopyRefused(
            f"{table}: the two schemas differ (only in PostgreSQL: {', '.join(missing) or '-'}; "
            f"only in SQLite: {', '.join(sorted(extra)) or '-'})"
        )
    order = SOURCE_EXPRESSIONS.get((table, key), key)
    select = f"select {', '.join(expressions)} from {table} order by {order}"
    converters = [(i, _CONVERTERS[oid]) for i, (_, oid) in enumerate(target) if oid in _CONVERTERS]
    at_key = names.index(key)
    copy_sql = sql.SQL("copy {} ({}) from stdin (format binary)").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(n) for n in names)
    )
    cursor = conn.cursor()
    rows = source.execute(select)
    try:
        with cursor.copy(copy_sql) as copy:
            copy.set_types([oid for _, oid in target])
            while batch := rows.fetchmany(BATCH):
                for row in batch:
                    if converters:
                        values: list[Any] = list(row)
                        for i, convert in converters:
                            try:
                                values[i] = convert(values[i])
                            except (ValueError, TypeError) as exc:
                                raise CopyRefused(
                                    f"{table} row {key}={row[at_key]!r}, column {names[i]}: "
                                    f"{exc}; nothing was written"
                                ) from None
                        copy.write_row(values)
                    else:
                        copy.write_row(row)
                if tick:
                    tick(len(batch))
    except psycopg.Error as exc:
        raise CopyRefused(_refusal(source, table, key, order, exc)) from None


def _move_identities(conn: psycopg.Connection, table: str) -> None:
    """Each identity sequence of the table past its largest copied value, so new rows get
    fresh ids (an empty table keeps its sequence at the start)."""
    columns = conn.execute(
        """select attname from pg_attribute
           where attrelid = %s::regclass and attidentity != '' and not attisdropped""",
        [table],
    ).fetchall()
    for (column,) in columns:
        conn.execute(
            sql.SQL("select setval(pg_get_serial_sequence(%s, %s), max({})) from {}").format(
                sql.Identifier(column), sql.Identifier(table)
            ),
            [table, column],
        )


# -- conversions by target type ---------------------------------------------------------------


def _to_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if type(value) is int and value in (0, 1):
        return bool(value)
    raise ValueError(f"{value!r} is not 0 or 1")


def _to_json(value: Any) -> Json | None:
    """JSON text as a json value: its keys keep their order (jsonb would sort them)."""
    if value is None:
        return None
    try:
        return Json(json.loads(value))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None


def _to_text_array(value: Any) -> list[str]:
    try:
        items = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a JSON array ({exc.msg})") from None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValueError(f"{value!r} is not a JSON array of strings")
    return items


_CONVERTERS: dict[int, Callable[[Any], Any]] = {
    _BOOL: _to_bool,
    _JSON: _to_json,
    _TEXT_ARRAY: _to_text_array,
}


# -- messages ---------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _refusal(
    source: sqlite3.Connection, table: str, key: str, order: str, exc: psycopg.Error
) -> str:
    """What PostgreSQL refused, naming the table and the row (looked up in the source)."""
    diag = exc.diag
    reason = diag.message_primary or _first_line(exc)
    row = None
    line = re.search(r"\bline (\d+)", diag.context or "")
    if line:  # a COPY's line n is the n-th row sent, in the source's order
        found = source.execute(
            f"select {order} from {table} order by {order} limit 1 offset ?",
            [int(line.group(1)) - 1],
        ).fetchone()
        row = found[0] if found else None
    detail = diag.message_detail or ""
    foreign = re.match(r"Key \((\w+)\)=\((.*)\) is not present", detail)
    if foreign:  # checked at the end of the COPY: find a row holding the missing key
        reason = f"{foreign.group(1)} {foreign.group(2)} is not in {_parent(detail)}"
        found = source.execute(
            f"select {order} from {table} where {foreign.group(1)} = ? order by {order} limit 1",
            [foreign.group(2)],
        ).fetchone()
        row = found[0] if found else None
    named = f"{table} row {key}={row!r}" if row is not None else table
    return f"{named}: PostgreSQL refused it: {reason}; nothing was written"


def _parent(detail: str) -> str:
    found = re.search(r'in table "([^"]+)"', detail)
    return found.group(1) if found else "its parent table"
