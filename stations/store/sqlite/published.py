"""SQL for what the public sees: published stations only (see stations.core.published).

A mixin of SQLiteStore (it relies on self.db, self._rows and self._query). Every public page,
the API, the embed and the public exports read stations through these methods, or through
public_page and region_summary, which use the same condition: a planned or closed station
cannot reach the public through a query that forgot the rule.
"""

import sqlite3
from collections.abc import Iterable, Iterator

from stations.core.counts import CityCount, CityExtent, RegistrySummary
from stations.core.model import Station, stored_id
from stations.core.published import PUBLIC_STATUSES
from stations.store import records
from stations.store.sqlite.base import Connected
from stations.store.sqlite.rows import row_station


def published_condition(alias: str = "") -> str:
    """SQL that is true for a published station row (alias: the stations table's alias)."""
    column = f"{alias}.status" if alias else "status"
    # Our own constants, never input: inlined so the condition composes into any query.
    statuses = ", ".join(f"'{status}'" for status in PUBLIC_STATUSES)
    return f"{column} in ({statuses})"


PUBLISHED = published_condition()


def summary_where(conn: sqlite3.Connection, condition: str) -> RegistrySummary:
    """Total, by status, by city and newest change of the stations matching an SQL condition
    (our own constants, never input)."""
    by_status = dict(
        conn.execute(
            f"select status, count(*) from stations where {condition}"
            " group by status order by status"
        ).fetchall()
    )
    by_city = [
        CityCount(province=p, city=c, stations=n, open=o)
        for p, c, n, o in conn.execute(
            f"""select province, city, count(*), sum(status = 'open') from stations
                where {condition} group by province, city
                order by count(*) desc, province, city"""
        ).fetchall()
    ]
    newest = conn.execute(f"select max(updated_at) from stations where {condition}").fetchone()[0]
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_city": by_city,
        "updated_at": newest,
    }


class PublishedQueries(Connected):
    def published(self, station_id: int) -> Station | None:
        if not 0 < station_id < 2**63:  # no such row can exist; SQLite would overflow
            return None
        found = self._query(f"select * from stations where id = ? and {PUBLISHED}", [station_id])
        return found[0] if found else None

    def published_by_code(self, code: str) -> Station | None:
        found = self._query(f"select * from stations where code = ? and {PUBLISHED}", [code])
        return found[0] if found else None

    def published_by_ids(self, ids: Iterable[int]) -> dict[int, Station]:
        """The published ones among these stations, by id (others are simply absent)."""
        wanted = [int(i) for i in ids]
        out: dict[int, Station] = {}
        for start in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            sql = (
                f"select * from stations where id in ({','.join('?' * len(chunk))}) and {PUBLISHED}"
                " order by id"
            )
            out.update((stored_id(s), s) for s in self._query(sql, chunk))
        return out

    def published_list(self, offset: int, limit: int, region: str = "") -> list[Station]:
        """A page of the public list (in a region: an adcode prefix), by province, city,
        district and code."""
        sql = f"""
            select * from stations where {PUBLISHED} and adcode like ?
            order by province, city, district, code limit ? offset ?
        """
        return self._query(sql, [region + "%", limit, offset])

    def city_extents(self, region: str = "") -> list[CityExtent]:
        sql = records.CITY_EXTENTS_SQL.format(published=PUBLISHED, region="?")
        return [records.city_extent(r) for r in self._rows(sql, [region + "%"])]

    def search_published(self, text: str, limit: int, region: str = "") -> list[Station]:
        # LIKE ignores ASCII case in SQLite; a station named with the text first, then by code.
        sql = f"""
            select * from stations where {PUBLISHED} and adcode like :r and (
                name like :p escape '\\' or address like :p escape '\\'
                or city like :p escape '\\' or district like :p escape '\\')
            order by instr(lower(name), lower(:t)) = 1 desc, code limit :n
        """
        found = {"p": records.like_contains(text), "t": text, "n": limit, "r": region + "%"}
        return self._query(sql, found)

    def iter_published(self, region: str = "") -> Iterator[Station]:
        """Every published station (in a region: an adcode prefix), by code, streamed."""
        sql = f"select * from stations where {PUBLISHED} and adcode like ? order by code"
        for row in self._rows(sql, [region + "%"]):
            yield row_station(row)

    def published_summary(self) -> RegistrySummary:
        """summary() of the published stations: total, by status, by city, newest change."""
        return summary_where(self.db.conn, PUBLISHED)

    def published_extent(self, prefix: str) -> tuple[float, float, float, float, int] | None:
        """(south, west, north, east, count) of a region's published stations, or None."""
        sql = f"""
            select min(lat), min(lon), max(lat), max(lon), count(*) from stations
            where {PUBLISHED} and adcode like ?
        """
        south, west, north, east, count = self.db.conn.execute(sql, [prefix + "%"]).fetchone()
        return (south, west, north, east, count) if count else None
