"""SQL for what the public sees: published stations only (see stations.core.published).

A mixin of PostGISStore, as stations.store.sqlite.published is of SQLiteStore: every public read
goes through the one condition built from PUBLIC_STATUSES.
"""

from collections.abc import Iterable, Iterator

from stations.core.counts import CityCount, CityStations, RegistrySummary
from stations.core.model import Station, stored_id
from stations.core.published import PUBLIC_STATUSES
from stations.store.postgis.base import Connected
from stations.store.postgis.rows import SELECT

CHUNK = 500  # ids per query, as the SQLite store asks: dicts come back in the same order
STREAM = 5_000  # rows per round trip when streaming a whole table


def published_condition(alias: str = "") -> str:
    """SQL that is true for a published station row (alias: the stations table's alias)."""
    column = f"{alias}.status" if alias else "status"
    # Our own constants, never input: inlined so the condition composes into any query.
    statuses = ", ".join(f"'{status}'" for status in PUBLIC_STATUSES)
    return f"{column} in ({statuses})"


PUBLISHED = published_condition()


def valid_id(station_id: int) -> bool:
    return 0 < station_id < 2**63  # no row can have another; bigint would overflow


def summary_where(store: Connected, condition: str) -> RegistrySummary:
    """Total, by status, by city and newest change of the stations matching an SQL condition
    (our own constants, never input)."""
    by_status = {
        r["status"]: r["n"]
        for r in store._rows(
            f"select status, count(*) as n from stations where {condition}"
            " group by status order by status"
        )
    }
    by_city = [
        CityCount(province=r["province"], city=r["city"], stations=r["n"], open=r["open"])
        for r in store._rows(
            f"""select province, city, count(*) as n,
                       count(*) filter (where status = 'open') as open
                from stations where {condition}
                group by province, city order by count(*) desc, province, city"""
        )
    ]
    newest = store._value(f"select max(updated_at) from stations where {condition}")
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "by_city": by_city,
        "updated_at": newest,
    }


class PublishedQueries(Connected):
    def published(self, station_id: int) -> Station | None:
        if not valid_id(station_id):
            return None
        found = self._query(
            f"select {SELECT} from stations where id = %s and {PUBLISHED}", [station_id]
        )
        return found[0] if found else None

    def published_by_code(self, code: str) -> Station | None:
        sql = f"select {SELECT} from stations where code = %s and {PUBLISHED}"
        found = self._query(sql, [code])
        return found[0] if found else None

    def published_by_ids(self, ids: Iterable[int]) -> dict[int, Station]:
        wanted = [int(i) for i in ids if valid_id(int(i))]
        out: dict[int, Station] = {}
        for start in range(0, len(wanted), CHUNK):
            sql = f"select {SELECT} from stations where id = any(%s::bigint[]) and {PUBLISHED} order by id"
            out.update((stored_id(s), s) for s in self._query(sql, [wanted[start : start + CHUNK]]))
        return out

    def published_list(self, offset: int, limit: int, region: str = "") -> list[Station]:
        sql = f"""
            select {SELECT} from stations where {PUBLISHED} and adcode like %s
            order by province, city, district, code limit %s offset %s
        """
        return self._query(sql, [region + "%", limit, offset])

    def published_city_counts(self) -> list[CityStations]:
        rows = self._rows(
            f"""select left(adcode, 4) as prefix, min(province) as province,
                       min(city) as city, count(*) as n
                from stations where {PUBLISHED}
                group by prefix order by count(*) desc, prefix"""
        )
        return [
            CityStations(
                adcode=r["prefix"], province=r["province"], city=r["city"], stations=r["n"]
            )
            for r in rows
        ]

    def iter_published(self, region: str = "") -> Iterator[Station]:
        """Every published station (in a region), by code, a few thousand per round trip:
        the caller may query the store between stations."""
        after = ""
        sql = f"""
            select {SELECT} from stations where {PUBLISHED} and adcode like %s and code > %s
            order by code limit {STREAM}
        """
        while batch := self._query(sql, [region + "%", after]):
            yield from batch
            after = batch[-1].code

    def published_summary(self) -> RegistrySummary:
        return summary_where(self, PUBLISHED)
