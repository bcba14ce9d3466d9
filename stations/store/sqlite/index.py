"""What the in-memory spatial index reads from SQLite: every station in one consistent read,
the log of changes to the fields it uses, and stations in a box (through the R*Tree)."""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlite_utils

from stations.core.locator import IndexBatch, IndexRow
from stations.store.sqlite.published import published_condition

_COLUMNS = "s.id, s.lat, s.lon, s.facilities, s.status, s.opening_hours, s.adcode"
BATCH = 20_000  # rows per batch: the transient objects of a build stay small


class IndexQueries:
    db: sqlite_utils.Database

    @contextmanager
    def _read(self) -> Iterator[None]:
        """One read transaction: every statement inside sees the same moment (WAL snapshot)."""
        conn = self.db.conn
        if conn.in_transaction:  # already inside a caller's transaction: its view is ours
            yield
            return
        conn.execute("begin")
        try:
            yield
        finally:
            conn.execute("commit")

    def _index_rows(self, cursor) -> Iterator[list[IndexRow]]:
        parsed: dict[str, tuple[str, ...]] = {}  # few distinct facility lists: parse each once
        while batch := cursor.fetchmany(BATCH):
            rows = []
            for station_id, lat, lon, facilities, status, hours, adcode in batch:
                keys = parsed.get(facilities)
                if keys is None:
                    keys = parsed[facilities] = tuple(json.loads(facilities))
                rows.append(IndexRow(station_id, lat, lon, keys, status, hours, adcode))
            yield rows

    def index_seq(self) -> int:
        return self.db.conn.execute("select coalesce(max(seq), 0) from index_changes").fetchone()[0]

    def index_snapshot(self, consume: Callable[[IndexBatch], None]) -> int:
        parsed: dict[str, tuple[str, ...]] = {}  # few distinct facility lists: parse each once
        with self._read():
            seq = self.index_seq()
            cursor = self.db.conn.execute(f"select {_COLUMNS} from stations s")
            while batch := cursor.fetchmany(BATCH):
                ids, lats, lons, facilities, statuses, hours, adcodes = zip(*batch, strict=True)
                for text in set(facilities):
                    if text not in parsed:
                        parsed[text] = tuple(json.loads(text))
                keys = list(map(parsed.__getitem__, facilities))
                consume(IndexBatch(ids, lats, lons, keys, statuses, hours, adcodes))
        return seq

    def index_changes(self, since: int, limit: int) -> tuple[int, list[IndexRow], list[int]] | None:
        conn = self.db.conn
        with self._read():
            newest, oldest = conn.execute(
                "select coalesce(max(seq), 0), min(seq) from index_changes"
            ).fetchone()
            if newest == since:
                return newest, [], []
            if newest < since:  # the database went back (restored, or rolled back under us)
                return None
            if oldest is None or oldest > since + 1:
                return None  # pruned past our snapshot
            ids = [
                row[0]
                for row in conn.execute(
                    "select distinct station_id from index_changes where seq > ? limit ?",
                    [since, limit + 1],
                )
            ]
            if len(ids) > limit:
                return None
            rows: list[IndexRow] = []
            for start in range(0, len(ids), 500):  # under SQLite's bound-parameter limit
                chunk = ids[start : start + 500]
                sql = f"select {_COLUMNS} from stations s where s.id in ({','.join('?' * len(chunk))})"
                for batch in self._index_rows(conn.execute(sql, chunk)):
                    rows += batch
        present = {r.id for r in rows}
        return newest, rows, [i for i in ids if i not in present]

    def index_rows_in_box(
        self, min_lat: float, min_lon: float, max_lat: float, max_lon: float
    ) -> list[IndexRow]:
        # Only what workers may be offered: a box grown wide for a far-away rider stays small.
        sql = f"""
            select {_COLUMNS} from stations_rtree r join stations s on s.id = r.id
            where r.max_lon >= ? and r.min_lon <= ? and r.max_lat >= ? and r.min_lat <= ?
              and {published_condition("s")}
        """
        cursor = self.db.conn.execute(sql, [min_lon, max_lon, min_lat, max_lat])
        return [row for batch in self._index_rows(cursor) for row in batch]
