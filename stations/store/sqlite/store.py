"""The SQLite store (embedded default). Every SQL statement in the project lives here."""

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Self
from urllib.parse import quote

import sqlite_utils

from stations.core.accounts import User
from stations.core.checkins import ReportCount
from stations.core.counts import RegionSummary, RegistrySummary
from stations.core.geo import BBox
from stations.core.model import Station, diff, stored_id
from stations.store import records
from stations.store.errors import (
    StoreBusy,
    StoreError,
    StoreFull,
    StoreMissing,
    StoreReadOnly,
    VersionConflict,
)
from stations.store.own_transaction import OwnTransactions
from stations.store.protocols import Store
from stations.store.sqlite.base import inserted_id
from stations.store.sqlite.jobs import JobQueries
from stations.store.sqlite.migrations import migrations
from stations.store.sqlite.planning import PlanningQueries
from stations.store.sqlite.published import (
    PUBLISHED,
    PublishedQueries,
    published_condition,
    summary_where,
)
from stations.store.sqlite.rows import INSERT_COLUMNS, facilities_from, row_station, station_row
from stations.store.sqlite.spatial import SpatialQueries
from stations.store.sqlite.staff import StaffQueries

BUSY_TIMEOUT_MS = 5000

# A box is a lat/lon rectangle, edges included: the R*Tree proposes (its 32-bit floats round
# outward, so it also finds points just outside), the stored doubles decide.
_EXACT_BOX = (
    "r.max_lon >= ? and r.min_lon <= ? and r.max_lat >= ? and r.min_lat <= ?"
    " and s.lon between ? and ? and s.lat between ? and ?"
)


def _box_params(box: BBox) -> list[float]:
    corners = [box.min_lon, box.max_lon, box.min_lat, box.max_lat]
    return corners + corners


READ_ONLY = "the database is read-only at the moment (its file or disk); nothing was written"
MISSING = (
    "the database file is missing; restore it from a backup or create it with"
    " `flask --app app init-db`"
)


@contextmanager
def _translated_errors():
    """sqlite3 errors a user can act on, as StoreErrors with a plain message."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise _translated(exc) from exc


def _translated(exc: sqlite3.Error) -> Exception:
    """The StoreError a sqlite3 error means to a user, or the error itself."""
    text = str(exc)
    if "full" in text:
        return StoreFull("the database is full (disk or size limit reached); nothing was written")
    if "readonly" in text or "read-only" in text:
        return StoreReadOnly(READ_ONLY)
    if "locked" in text or "busy" in text:
        return StoreBusy("the database is busy with another write; try again shortly")
    return exc


def _writable(path: str) -> bool:
    """Whether SQLite can write the file at path: the file itself and its directory (for the
    WAL's -wal and -shm files), on a filesystem mounted read-write."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return False
    except OSError:
        return False
    return os.access(path, os.W_OK) and os.access(directory, os.W_OK | os.X_OK)


def _file_id(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file at path, None when there is none: which file it is, so a
    store notices its file deleted or replaced under it."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def _readable(conn: sqlite3.Connection, path: str, timeout_ms: int) -> sqlite3.Connection:
    """conn (opened read-only) if it can read; else the file opened immutable. A WAL database
    whose -shm file is gone (its last writer closed cleanly) cannot be read read-only when the
    directory is not writable either; immutable=1 reads it without any lock or -shm, which is
    right for a file nothing can write (a read-only disk or file)."""
    try:
        conn.execute("select count(*) from sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn.close()
    uri = f"file:{quote(os.path.abspath(path))}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, timeout=timeout_ms / 1000)


class SQLiteStore(
    OwnTransactions, StaffQueries, PublishedQueries, SpatialQueries, PlanningQueries, JobQueries
):
    """A store on one SQLite file.

    It never creates the file on its own: opening a missing file leaves the store without a
    database, every use raising StoreMissing, until migrate() (what `init-db` runs) creates
    it. Before each statement outside a transaction the store checks (one stat) that the path
    still names the file it opened: deleted, it raises StoreMissing rather than answer from
    the deleted file or create a new empty one; replaced (a restore renamed a new file into
    place), it reopens the new file. A file or disk it cannot write is opened read-only: reads
    work, writes raise StoreReadOnly."""

    def __init__(self, path: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.read_only = False
        self._db: sqlite_utils.Database | None = None
        self._file: tuple[int, int] | None = None
        if _file_id(path) is not None:
            self._open(create=False)

    def _open(self, create: bool) -> None:
        path = self.path
        if create:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.read_only = not create and not _writable(path)
        mode = "rwc" if create else "ro" if self.read_only else "rw"
        uri = f"file:{quote(os.path.abspath(path))}?mode={mode}"
        try:
            conn = sqlite3.connect(
                uri, uri=True, timeout=self.busy_timeout_ms / 1000, check_same_thread=True
            )
        except sqlite3.OperationalError as exc:
            if _file_id(path) is None:
                raise StoreMissing(MISSING) from exc
            raise StoreError(f"cannot open the database: {exc}") from exc
        try:
            if self.read_only:
                conn = _readable(conn, path, self.busy_timeout_ms)
            else:
                with sqlite_utils.Database(conn).ensure_autocommit_on():
                    conn.execute("pragma journal_mode = wal")
                # NORMAL is safe with WAL: a crash loses no committed transaction.
                conn.execute("pragma synchronous = normal")
            conn.execute("pragma foreign_keys = on")
            conn.execute(f"pragma busy_timeout = {int(self.busy_timeout_ms)}")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"the file is not a usable SQLite database ({exc})") from exc
        self._file = _file_id(path)
        self._db = sqlite_utils.Database(conn)

    @property
    def db(self) -> sqlite_utils.Database:
        """The connection, after checking the path still names the file it is open on."""
        db = self._db
        if db is not None and db.conn.in_transaction:
            return db  # checked when the transaction began
        current = _file_id(self.path)
        if current is None:
            if db is not None:  # deleted under us: let go of it, never write into it again
                self._db = None
                db.close()
            raise StoreMissing(MISSING)
        if db is None or current != self._file:  # created since, or replaced (a restore)
            if db is not None:
                self._db = None
                db.close()
            self._open(create=False)
            assert self._db is not None
            return self._db
        return db

    @db.setter
    def db(self, value: sqlite_utils.Database) -> None:
        self._db = value

    # -- lifecycle ----------------------------------------------------------------------------

    def migrate(self, *, create: bool = True) -> None:
        """Create the database if it is missing (unless create is False: StoreMissing), then
        bring its schema up to date."""
        if self._db is None or _file_id(self.path) is None:
            if not create:
                raise StoreMissing(MISSING)
            self._open(create=True)
        try:
            with _translated_errors():
                migrations.apply(self.db)
        except sqlite3.Error as exc:  # e.g. a read-only file: one clear StoreError, not sqlite3's
            raise StoreError(f"cannot prepare the database {self.path}: {exc}") from exc

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    def opener(self) -> Callable[[], "SQLiteStore"]:
        path, timeout = self.path, self.busy_timeout_ms
        return lambda: SQLiteStore(path, timeout)

    def reset(self) -> None:
        """Roll back a transaction a failed caller left open, so the connection can be reused."""
        if self._db is not None and self._db.conn.in_transaction:
            self._db.conn.execute("rollback")

    def ping(self) -> int:
        """One cheap read proving the database answers (the newest change number: a seek on
        a primary key, fast at any size), or StoreError saying why it cannot be read."""
        try:
            return self.index_seq()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the database: {exc}") from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Self]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so a second writer waits at
        the start instead of failing half-way; rolled back whole on any error."""
        conn = self.db.conn
        with _translated_errors():
            if self.read_only:
                raise StoreReadOnly(READ_ONLY)
            conn.execute("begin immediate")
            try:
                yield self
            except BaseException:
                if conn.in_transaction:
                    conn.execute("rollback")
                raise
            conn.execute("commit")

    # -- reads --------------------------------------------------------------------------------

    def _rows(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> Iterator[dict[str, Any]]:
        # Straight to sqlite3: sqlite-utils' query() wraps each read in a savepoint, which
        # triples the cost of the many small lookups an import makes.
        cursor = self.db.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        for values in cursor:
            yield dict(zip(names, values, strict=True))

    def _query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Station]:
        return [row_station(r) for r in self._rows(sql, params)]

    def count(self) -> int:
        return self.db.execute("select count(*) from stations").fetchone()[0]

    def get(self, station_id: int) -> Station | None:
        if not 0 < station_id < 2**63:  # no such row can exist; SQLite would overflow
            return None
        found = self._query("select * from stations where id = ?", [station_id])
        return found[0] if found else None

    def get_by_code(self, code: str) -> Station | None:
        found = self._query("select * from stations where code = ?", [code])
        return found[0] if found else None

    def by_codes(self, codes: Iterable[str]) -> dict[str, Station]:
        wanted = list(codes)
        out: dict[str, Station] = {}
        for start in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            sql = (
                f"select * from stations where code in ({','.join('?' * len(chunk))}) order by code"
            )
            out.update((s.code, s) for s in self._query(sql, chunk))
        return out

    def iter_stations(self) -> Iterator[Station]:
        for row in self._rows("select * from stations order by code"):
            yield row_station(row)

    def page(self, offset: int, limit: int) -> list[Station]:
        sql = "select * from stations order by province, city, district, code limit ? offset ?"
        return self._query(sql, [limit, offset])

    def in_box(self, box: BBox) -> list[Station]:
        sql = f"""
            select s.* from stations_rtree r join stations s on s.id = r.id
            where {_EXACT_BOX} order by s.id
        """
        return self._query(sql, _box_params(box))

    def demo_count(self) -> int:
        """How many fictitious demo stations (codes DEMO-…) are loaded: the pages say so."""
        return self.db.conn.execute(
            "select count(*) from stations where code like 'DEMO-%'"
        ).fetchone()[0]

    def revision(self) -> int:
        """The newest change to what the spatial index uses (position, status, hours,
        facilities, adcode); check-ins and edits of other fields leave it alone."""
        return self.index_seq()

    def by_ids(self, ids: Iterable[int]) -> dict[int, Station]:
        wanted = [int(i) for i in ids]
        out: dict[int, Station] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            sql = f"select * from stations where id in ({','.join('?' * len(chunk))}) order by id"
            out.update((stored_id(s), s) for s in self._query(sql, chunk))
        return out

    def count_in_box(self, box: BBox) -> int:
        sql = f"select count(*) from stations_rtree r join stations s on s.id = r.id where {_EXACT_BOX}"
        return self.db.conn.execute(sql, _box_params(box)).fetchone()[0]

    def centre(self) -> tuple[float, float] | None:
        """Mean position of the city with the most published stations: where a public map
        opens by default (planned or closed stations must not draw it anywhere)."""
        sql = f"""
            select avg(lat), avg(lon) from stations
            where {PUBLISHED} and (province, city) = (
                select province, city from stations where {PUBLISHED} group by province, city
                order by count(*) desc, province, city limit 1)
        """
        row = self.db.conn.execute(sql).fetchone()
        return (row[0], row[1]) if row and row[0] is not None else None

    # -- check-ins ----------------------------------------------------------------------------

    def insert_checkin(
        self,
        station_id: int,
        kind: str,
        facility: str | None,
        client_hash: str,
        now: str,
        verified: bool,
        *,
        address_hash: str = "",
        submission: str | None = None,
        pending: bool = False,
    ) -> int | None:
        """Insert a check-in (the caller holds the transaction); a positive one also stamps the
        station's verified_at (without bumping its version: a worker's confirmation is not an
        edit staff could conflict with). None, and nothing written, when this client already
        sent this submission (the unique index decides)."""
        cursor = self.db.conn.execute(
            records.CHECKIN_INSERT.format(marks=", ".join("?" * 9)),
            records.checkin_values(
                station_id, kind, facility, client_hash, now, verified, address_hash, submission,
                pending,
            ),
        )  # fmt: skip
        if cursor.rowcount == 0:
            return None
        if verified:
            self.db.conn.execute(
                "update stations set verified_at = ? where id = ?", [now, station_id]
            )
        return inserted_id(cursor)

    def submitted(self, client_hash: str, submission: str) -> bool:
        sql = "select 1 from checkins where client_hash = ? and submission = ?"
        return self.db.conn.execute(sql, [client_hash, submission]).fetchone() is not None

    def checkins_since(self, client_hash: str, since: str, station_id: int | None = None) -> int:
        """How many check-ins a client made since a moment (at one station, or anywhere)."""
        sql = "select count(*) from checkins where client_hash = ? and created_at >= ?"
        params: list[str | int] = [client_hash, since]
        if station_id is not None:
            sql += " and station_id = ?"
            params.append(station_id)
        return self.db.conn.execute(sql, params).fetchone()[0]

    def address_checkins_since(self, address_hash: str, since: str) -> int:
        sql = "select count(*) from checkins where address_hash = ? and created_at >= ?"
        return self.db.conn.execute(sql, [address_hash, since]).fetchone()[0]

    def reports_by_others(
        self, station_id: int, kind: str, facility: str | None, client_hash: str, since: str
    ) -> list[tuple[int, bool]]:
        sql = """
            select id, pending from checkins
            where station_id = ? and kind = ? and coalesce(facility, '') = ?
              and client_hash != ? and created_at >= ? and status in ('new', 'acknowledged')
            order by created_at, id
        """
        rows = self.db.conn.execute(sql, [station_id, kind, facility or "", client_hash, since])
        return [(report_id, bool(pending)) for report_id, pending in rows]

    def corroborate_reports(self, report_ids: Iterable[int]) -> None:
        ids = [int(i) for i in report_ids]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            self.db.conn.execute(
                f"update checkins set pending = 0 where id in ({','.join('?' * len(chunk))})",
                chunk,
            )

    def open_reports(self, station_ids: Iterable[int], since: str) -> dict[int, list[ReportCount]]:
        """Unresolved negative check-ins per station since a moment, grouped by kind (those
        awaiting corroboration left out)."""
        ids = [int(i) for i in station_ids]
        out: dict[int, list[ReportCount]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"""
                select station_id, kind, coalesce(facility, '') as facility, count(*) as count,
                       max(created_at) as last_at
                from checkins
                where status in ('new', 'acknowledged') and kind != 'ok' and created_at >= ?
                  and pending = 0 and station_id in ({",".join("?" * len(chunk))})
                group by station_id, kind, facility
                order by last_at desc, station_id, kind, facility
            """
            for row in self._rows(sql, [since, *chunk]):
                out.setdefault(row.pop("station_id"), []).append(ReportCount(**row))
        return out

    def public_page(
        self,
        *,
        box: BBox | None = None,
        region: str = "",
        statuses: Sequence[str] = (),
        facilities: Sequence[str] = (),
        updated_since: str | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[Station]:
        """Published stations matching filters, by id after a cursor."""
        where = [published_condition("s"), "s.id > ?"]
        params: list[str | int | float] = [after_id]
        source = "stations s"
        if box is not None:
            source = "stations_rtree r join stations s on s.id = r.id"
            where.append(_EXACT_BOX)
            params += _box_params(box)
        if region:
            where.append("s.adcode like ?")
            params.append(region + "%")
        if statuses:
            where.append(f"s.status in ({','.join('?' * len(statuses))})")
            params += list(statuses)
        for key in facilities:  # keys are whole JSON strings in the array
            where.append("s.facilities like ?")
            params.append(f'%"{key}"%')
        if updated_since:
            where.append("s.updated_at > ?")
            params.append(updated_since)
        sql = f"select s.* from {source} where {' and '.join(where)} order by s.id limit ?"
        return self._query(sql, [*params, limit])

    def region_summary(self, region: str) -> RegionSummary:
        """Counts of a region's (adcode prefix) published stations: by status, by facility,
        freshness, newest change."""
        like = region + "%"
        sql = f"select status, count(*) from stations where adcode like ? and {PUBLISHED} group by status"
        by_status = dict(self.db.conn.execute(sql, [like]).fetchall())
        facilities: dict[str, int] = {}
        for (raw,) in self.db.conn.execute(
            "select facilities from stations where adcode like ? and status = 'open' order by id",
            [like],
        ):
            for key in facilities_from(raw):
                facilities[key] = facilities.get(key, 0) + 1
        sql = f"select max(updated_at), count(verified_at) from stations where adcode like ? and {PUBLISHED}"
        newest, verified = self.db.conn.execute(sql, [like]).fetchone()
        return {
            "by_status": by_status,
            "facilities": facilities,
            "updated_at": newest,
            "verified": verified,
        }

    def summary(self) -> RegistrySummary:
        """Counts for `stats` and staff: total, by status, by city, newest change."""
        return summary_where(self.db.conn, "1")

    # -- writes -------------------------------------------------------------------------------

    def save_many(
        self,
        new: list[Station],
        changed: list[Station],
        now: str,
        progress: Callable[[int], None] | None = None,
        actor: User | None = None,
        previous: Mapping[int, Station] | None = None,
    ) -> None:
        """Insert new stations and update changed ones (matched by id, guarded by version),
        with their history, all in one transaction: a failure or a kill leaves the database as
        it was. actor: the staff User importing (None: the command line); previous: the stored
        versions of the changed stations, by id, for the history."""
        columns = INSERT_COLUMNS
        insert = (
            f"insert into stations ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
        )
        with self.transaction():
            for start in range(0, len(new), 1000):
                batch = new[start : start + 1000]
                rows = []
                for s in batch:
                    row = station_row(replace(s, created_at=now, updated_at=now, version=1))
                    rows.append([row[c] for c in columns])
                self.db.conn.executemany(insert, rows)
                if progress:
                    progress(len(batch))
            for s in changed:
                row = station_row(replace(s, updated_at=now, version=s.version + 1))
                row.pop("created_at")
                station_id, old_version = row.pop("id"), s.version
                sets = ", ".join(f"{k} = :{k}" for k in row)
                cursor = self.db.execute(
                    f"update stations set {sets} where id = :id and version = :old_version",
                    {**row, "id": station_id, "old_version": old_version},
                )
                if cursor.rowcount != 1:
                    raise VersionConflict(
                        f"station {s.code} was changed by someone else during the import"
                    )
                if progress:
                    progress(1)
            self._import_history(new, changed, now, actor, previous or {})

    def _import_history(
        self,
        new: list[Station],
        changed: list[Station],
        now: str,
        actor: User | None,
        previous: Mapping[int, Station],
    ) -> None:
        ids: dict[str, int] = {}
        for start in range(0, len(new), 500):
            chunk = [s.code for s in new[start : start + 500]]
            sql = f"select code, id from stations where code in ({','.join('?' * len(chunk))})"
            ids.update(self.db.conn.execute(sql, chunk).fetchall())
        for s in new:
            self.add_change(ids[s.code], actor, now, "import", None, s.content())
        for s in changed:
            old = previous.get(stored_id(s))
            before, after = diff(old, s) if old else (None, s.content())
            self.add_change(stored_id(s), actor, now, "import", before, after)

    def set_max_pages(self, pages: int) -> None:
        """Cap the database size (this connection only); used to test full-disk handling."""
        self.db.execute(f"pragma max_page_count = {int(pages)}")


def _satisfies_store(store: SQLiteStore) -> Store:
    """Never called: the type check fails here if SQLiteStore lacks a method of `Store` or
    differs from its signature."""
    return store
