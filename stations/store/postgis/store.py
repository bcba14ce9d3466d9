"""The PostgreSQL/PostGIS store: lifecycle, connection, transactions, station reads and writes.

A store borrows a connection from its URL's pool (pool.py) on first use and gives it back at
reset() (every request's teardown) and close(). Outside transaction() each statement commits
on its own (autocommit); transaction() is one explicit BEGIN … COMMIT on that connection.
"""

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Self

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg_pool import PoolTimeout

from stations.core.accounts import User
from stations.core.checkins import ReportCount
from stations.core.counts import RegionSummary, RegistrySummary
from stations.core.geo import BBox
from stations.core.model import Station, diff, stored_id
from stations.store import records
from stations.store.errors import StoreError, VersionConflict
from stations.store.own_transaction import OwnTransactions
from stations.store.postgis import migrate as migrations
from stations.store.postgis.base import Params, translated
from stations.store.postgis.jobs import JobQueries
from stations.store.postgis.planning import PlanningQueries
from stations.store.postgis.pool import MAX_SIZE, pool_for, unreachable
from stations.store.postgis.published import (
    CHUNK,
    PUBLISHED,
    STREAM,
    PublishedQueries,
    published_condition,
    summary_where,
    valid_id,
)
from stations.store.postgis.rows import INSERT_COLUMNS, SELECT, row_station, select, station_row
from stations.store.postgis.spatial import SpatialQueries, box_condition, box_params
from stations.store.postgis.staff import StaffQueries
from stations.store.protocols import Store

BUSY_TIMEOUT_MS = 5000


class PostGISStore(
    OwnTransactions, StaffQueries, PublishedQueries, SpatialQueries, PlanningQueries, JobQueries
):
    def __init__(self, url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS, max_size: int = MAX_SIZE):
        self.url = url
        self.busy_timeout_ms = busy_timeout_ms
        self._pool = pool_for(url, max_size)
        self._conn: psycopg.Connection | None = None
        self._tx: object | None = None  # the open transaction's token

    # -- connection ---------------------------------------------------------------------------

    def _connection(self) -> psycopg.Connection:
        if self._conn is None:
            # Wait for a free connection up to the busy timeout, in slices: if meanwhile the
            # pool finds the database unreachable, the request is told at once (503), not
            # after the whole timeout.
            deadline = time.monotonic() + self.busy_timeout_ms / 1000
            while self._conn is None:
                left = deadline - time.monotonic()
                try:
                    self._conn = self._pool.getconn(timeout=max(0.001, min(0.25, left)))
                except PoolTimeout as exc:
                    if left <= 0.25 or unreachable(self.url):
                        translated(exc)
        return self._conn

    def _execute(self, sql: str, params: Params = ()) -> psycopg.Cursor:
        try:
            # No parameters: pass None, so a literal % in the SQL is no placeholder.
            return self._connection().execute(sql, params or None)
        except psycopg.Error as exc:
            translated(exc)

    def _executemany(self, sql: str, params: Sequence[Params]) -> None:
        try:
            with self._connection().cursor() as cursor:
                cursor.executemany(sql, params)
        except psycopg.Error as exc:
            translated(exc)

    def _rows(self, sql: str, params: Params = ()) -> Iterator[dict[str, Any]]:
        try:
            cursor = self._connection().cursor(row_factory=dict_row)
            return iter(cursor.execute(sql, params or None).fetchall())
        except psycopg.Error as exc:
            translated(exc)

    def _query(self, sql: str, params: Params = ()) -> list[Station]:
        return [row_station(r) for r in self._rows(sql, params)]

    def _value(self, sql: str, params: Params = ()) -> Any:
        row = self._execute(sql, params).fetchone()
        return row[0] if row else None

    def _give_back(self) -> None:
        conn, self._conn, self._tx = self._conn, None, None
        if conn is None:
            return
        try:
            if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
                conn.execute("rollback")
        except psycopg.Error:
            pass  # a broken connection: the pool discards it
        self._pool.putconn(conn)

    # -- lifecycle ----------------------------------------------------------------------------

    def migrate(self, *, create: bool = True) -> None:
        try:
            migrations.migrate(self._connection())
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreError(f"cannot prepare the database: {exc}") from exc

    def close(self) -> None:
        self._give_back()

    def reset(self) -> None:
        """Roll back what a failed request left open and give the connection back."""
        self._give_back()

    def ping(self) -> int:
        try:
            return self.revision()
        except (psycopg.Error, StoreError) as exc:
            raise StoreError(f"cannot read the database: {exc}") from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Self]:
        """One write transaction: row locks are waited for up to busy_timeout_ms (then
        StoreBusy); rolled back whole on any error."""
        if self._tx is not None:
            raise StoreError("a transaction is already open on this store (not re-entrant)")
        token = self._tx = object()
        try:
            self._execute(f"begin; set local lock_timeout = {int(self.busy_timeout_ms)}")
        except BaseException:
            self._tx = None
            raise
        try:
            yield self
        except BaseException:
            # Only if still ours: reset() may have handed the connection to another store.
            if self._tx is token:
                self._tx = None
                self._rollback()
            raise
        if self._tx is not token:
            raise StoreError("the transaction was reset before it ended; nothing was written")
        self._tx = None
        try:
            self._execute("commit")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        conn = self._conn
        if conn is not None and conn.info.transaction_status != TransactionStatus.IDLE:
            try:
                conn.execute("rollback")
            except psycopg.Error:
                self._give_back()  # broken: the pool replaces it

    # -- reads --------------------------------------------------------------------------------

    def count(self) -> int:
        return self._value("select count(*) from stations")

    def demo_count(self) -> int:
        return self._value("select count(*) from stations where code like 'DEMO-%'")

    def revision(self) -> int:
        return self._value("select coalesce(max(seq), 0) from index_changes")

    def get(self, station_id: int) -> Station | None:
        if not valid_id(station_id):
            return None
        found = self._query(f"select {SELECT} from stations where id = %s", [station_id])
        return found[0] if found else None

    def get_by_code(self, code: str) -> Station | None:
        found = self._query(f"select {SELECT} from stations where code = %s", [code])
        return found[0] if found else None

    def by_codes(self, codes: Iterable[str]) -> dict[str, Station]:
        wanted = list(codes)
        out: dict[str, Station] = {}
        for start in range(0, len(wanted), CHUNK):  # the SQLite store's chunks: its order
            sql = f"select {SELECT} from stations where code = any(%s::text[]) order by code"
            out.update((s.code, s) for s in self._query(sql, [wanted[start : start + CHUNK]]))
        return out

    def by_ids(self, ids: Iterable[int]) -> dict[int, Station]:
        wanted = [int(i) for i in ids if valid_id(int(i))]
        out: dict[int, Station] = {}
        for start in range(0, len(wanted), CHUNK):
            sql = f"select {SELECT} from stations where id = any(%s::bigint[]) order by id"
            out.update((stored_id(s), s) for s in self._query(sql, [wanted[start : start + CHUNK]]))
        return out

    def iter_stations(self) -> Iterator[Station]:
        """Every station by code, a few thousand per round trip."""
        after = ""
        sql = f"select {SELECT} from stations where code > %s order by code limit {STREAM}"
        while batch := self._query(sql, [after]):
            yield from batch
            after = batch[-1].code

    def page(self, offset: int, limit: int) -> list[Station]:
        sql = f"""
            select {SELECT} from stations order by province, city, district, code
            limit %s offset %s
        """
        return self._query(sql, [limit, offset])

    def in_box(self, box: BBox) -> list[Station]:
        sql = f"select {SELECT} from stations s where {box_condition()} order by s.id"
        return self._query(sql, box_params(box))

    def centre(self) -> tuple[float, float] | None:
        # avg in id order: SQLite's table scan adds in that order, so the same float8 sums.
        sql = f"""
            select avg(lat order by id), avg(lon order by id) from stations
            where {PUBLISHED} and (province, city) = (
                select province, city from stations where {PUBLISHED} group by province, city
                order by count(*) desc, province, city limit 1)
        """
        row = self._execute(sql).fetchone()
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
        # A concurrent copy of the same submission waits here for the first to commit, then
        # inserts nothing: the unique index, not the read before it, makes the repeat one.
        checkin_id = self._value(
            records.CHECKIN_INSERT.format(marks=", ".join(["%s"] * 9)) + " returning id",
            records.checkin_values(
                station_id, kind, facility, client_hash, now, verified, address_hash, submission,
                pending,
            ),
        )  # fmt: skip
        if checkin_id is None:
            return None
        if verified:  # a worker's confirmation is no edit: the version stays
            self._execute("update stations set verified_at = %s where id = %s", [now, station_id])
        return checkin_id

    def submitted(self, client_hash: str, submission: str) -> bool:
        sql = "select 1 from checkins where client_hash = %s and submission = %s"
        return self._value(sql, [client_hash, submission]) is not None

    def checkins_since(self, client_hash: str, since: str, station_id: int | None = None) -> int:
        sql = "select count(*) from checkins where client_hash = %s and created_at >= %s"
        params: list[str | int] = [client_hash, since]
        if station_id is not None:
            sql += " and station_id = %s"
            params.append(station_id)
        return self._value(sql, params)

    def address_checkins_since(self, address_hash: str, since: str) -> int:
        sql = "select count(*) from checkins where address_hash = %s and created_at >= %s"
        return self._value(sql, [address_hash, since])

    def reports_by_others(
        self, station_id: int, kind: str, facility: str | None, client_hash: str, since: str
    ) -> list[tuple[int, bool]]:
        sql = """
            select id, pending from checkins
            where station_id = %s and kind = %s and coalesce(facility, '') = %s
              and client_hash != %s and created_at >= %s and status in ('new', 'acknowledged')
            order by created_at, id
        """
        rows = self._rows(sql, [station_id, kind, facility or "", client_hash, since])
        return [(row["id"], row["pending"]) for row in rows]

    def corroborate_reports(self, report_ids: Iterable[int]) -> None:
        ids = [int(i) for i in report_ids]
        if ids:
            self._execute("update checkins set pending = false where id = any(%s::bigint[])", [ids])

    def open_reports(self, station_ids: Iterable[int], since: str) -> dict[int, list[ReportCount]]:
        ids = [int(i) for i in station_ids]
        out: dict[int, list[ReportCount]] = {}
        for start in range(0, len(ids), CHUNK):
            sql = """
                select station_id, kind, coalesce(facility, '') as facility, count(*) as count,
                       max(created_at) as last_at
                from checkins
                where status in ('new', 'acknowledged') and kind != 'ok' and created_at >= %s
                  and not pending and station_id = any(%s::bigint[])
                group by station_id, kind, coalesce(facility, '')
                order by last_at desc, station_id, kind, facility
            """
            for row in self._rows(sql, [since, ids[start : start + CHUNK]]):
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
        where = [published_condition("s"), "s.id > %(after_id)s"]
        params: dict[str, Any] = {"after_id": after_id, "limit": limit}
        if box is not None:
            where.append(box_condition())
            params.update(box_params(box))
        if region:
            where.append("s.adcode like %(region)s")
            params["region"] = region + "%"
        if statuses:
            where.append("s.status = any(%(statuses)s::text[])")
            params["statuses"] = list(statuses)
        if facilities:
            where.append("s.facilities @> %(facilities)s::text[]")
            params["facilities"] = list(facilities)
        if updated_since:
            where.append("s.updated_at > %(updated_since)s")
            params["updated_since"] = updated_since
        sql = f"""
            select {select("s")} from stations s
            where {" and ".join(where)} order by s.id limit %(limit)s
        """
        return self._query(sql, params)

    def region_summary(self, region: str) -> RegionSummary:
        like = region + "%"
        sql = f"""
            select status, count(*) as n from stations where adcode like %s and {PUBLISHED}
            group by status order by status
        """
        by_status = {r["status"]: r["n"] for r in self._rows(sql, [like])}
        facilities: dict[str, int] = {}
        sql = "select facilities from stations where adcode like %s and status = 'open' order by id"
        for row in self._rows(sql, [like]):
            for key in row["facilities"]:
                facilities[key] = facilities.get(key, 0) + 1
        sql = f"""
            select max(updated_at) as newest, count(verified_at) as verified from stations
            where adcode like %s and {PUBLISHED}
        """
        (row,) = self._rows(sql, [like])
        return {
            "by_status": by_status,
            "facilities": facilities,
            "updated_at": row["newest"],
            "verified": row["verified"],
        }

    def summary(self) -> RegistrySummary:
        return summary_where(self, "true")

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
        """New stations by COPY, changed ones by version-guarded updates (pipelined), with
        their history, in one transaction: a failure leaves the database as it was."""
        with self.transaction():
            conn = self._connection()
            try:
                with conn.cursor() as cursor:
                    copy_sql = f"copy stations ({', '.join(INSERT_COLUMNS)}) from stdin"
                    stamps = {"created_at": now, "updated_at": now, "version": 1}
                    with cursor.copy(copy_sql) as copy:  # one COPY, progress every 1,000
                        for n, s in enumerate(new, 1):
                            row = station_row(s) | stamps  # not replace(): 20 % of the write
                            copy.write_row([row[c] for c in INSERT_COLUMNS])
                            if progress and (n % 1000 == 0 or n == len(new)):
                                progress(1000 if n % 1000 == 0 else n % 1000)
                    self._update_changed(cursor, changed, now, progress)
                    self._import_history(cursor, new, changed, now, actor, previous or {})
            except psycopg.Error as exc:
                translated(exc)

    def _update_changed(
        self,
        cursor: psycopg.Cursor,
        changed: list[Station],
        now: str,
        progress: Callable[[int], None] | None,
    ) -> None:
        if not changed:
            return
        names = [c for c in station_row(changed[0]) if c not in ("id", "created_at")]
        sets = ", ".join(f"{k} = %({k})s" for k in names)
        sql = f"update stations set {sets} where id = %(id)s and version = %(old)s returning id"
        for start in range(0, len(changed), 1000):
            batch = changed[start : start + 1000]
            params = []
            for s in batch:
                row = station_row(replace(s, updated_at=now, version=s.version + 1))
                params.append({**{k: row[k] for k in names}, "id": s.id, "old": s.version})
            cursor.executemany(sql, params, returning=True)
            for s in batch:  # one result per update, in order
                if cursor.fetchone() is None:
                    raise VersionConflict(
                        f"station {s.code} was changed by someone else during the import"
                    )
                if progress:
                    progress(1)
                cursor.nextset()

    def _import_history(
        self,
        cursor: psycopg.Cursor,
        new: list[Station],
        changed: list[Station],
        now: str,
        actor: User | None,
        previous: Mapping[int, Station],
    ) -> None:
        ids: dict[str, int] = {}
        for start in range(0, len(new), 10_000):
            codes = [s.code for s in new[start : start + 10_000]]
            cursor.execute("select code, id from stations where code = any(%s::text[])", [codes])
            ids.update(cursor.fetchall())
        copy_sql = (
            "copy station_changes (station_id, user_id, actor, at, action, before, after)"
            " from stdin"
        )
        with cursor.copy(copy_sql) as copy:
            for s in new:
                copy.write_row(
                    records.change_values(ids[s.code], actor, now, "import", None, s.content())
                )
            for s in changed:
                old = previous.get(stored_id(s))
                before, after = diff(old, s) if old else (None, s.content())
                copy.write_row(
                    records.change_values(stored_id(s), actor, now, "import", before, after)
                )


def _satisfies_store(store: PostGISStore) -> Store:
    """Never called: the type check fails here if PostGISStore lacks a method of `Store` or
    differs from its signature."""
    return store
