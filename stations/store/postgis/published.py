"""SQL for what the public sees: published stations only (see stations.core.published).

A mixin of PostGISStore, as stations.store.sqlite.published is of SQLiteStore: every public read
goes through the one condition built from PUBLIC_STATUSES.
"""

from collections.abc import Iterable, Iterator

from stations.core.counts import CityCount, CityExtent, RegistrySummary
from stations.core.model import Station, stored_id
from stations.core.published import PUBLIC_STATUSES
from stations.store import records
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

    def city_extents(self, region: str = "") -> list[CityExtent]:
        sql = records.CITY_EXTENTS_SQL.format(published=PUBLISHED, region="%(region)s")
        return [records.city_extent(r) for r in self._rows(sql, {"region": region + "%"})]

    def search_published(self, text: str, limit: int, region: str = "") -> list[Station]:
        sql = f"""
            select {SELECT} from stations where {PUBLISHED} and adcode like %(r)s and (
                name ilike %(p)s or address ilike %(p)s or city ilike %(p)s or district ilike %(p)s)
            order by strpos(lower(name), lower(%(t)s)) = 1 desc, code limit %(n)s
        """
        return self._query(
            sql, {"p": records.like_contains(text), "t": text, "n": limit, "r": region + "%"}
        )

    def published_summary(self) -> RegistrySummary:
        return summary_where(self, PUBLISHED)

    def published_extent(self, prefix: str) -> tuple[float, float, float, float, int] | None:
        """(south, west, north, east, count) of a region's published stations, or None."""
        sql = f"""
            select min(lat) as south, min(lon) as west, max(lat) as north, max(lon) as east,
                   count(*) as n
            from stations where {PUBLISHED} and adcode like %s
        """
        row = next(self._rows(sql, [prefix + "%"]))
        if not row["n"]:
            return None
        return (row["south"], row["west"], row["north"], row["east"], row["n"])
