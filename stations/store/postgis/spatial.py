"""The PostGIS store's where-questions: the database's own spatial indexes, no in-process one.

nearest: KNN candidates on the sphere (GiST on geog), ranked by the exact geodesic in the core
(knn.KnnLocator). Boxes: the planar GiST index proposes, exact lat/lon ranges decide, as the
in-process index does. Opening hours are Python (core.hours), so open_now goes through a
Locator over the box's rows; everything else is filtered in SQL. Answers match the SQLite
store's warm index value for value, in its order (grid cell, then id).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from stations.core.geo import BBox
from stations.core.knn import KnnLocator
from stations.core.locator import (
    _GRID_COLS,
    GRID_DEG,
    Cluster,
    Hit,
    IndexRow,
    Locator,
    clusters,
    facility_mask,
)
from stations.store.postgis.base import Connected
from stations.store.postgis.published import published_condition

_INDEX_COLUMNS = "s.id, s.lat, s.lon, s.facilities, s.status, s.opening_hours, s.adcode"
_POINT = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"
# The in-process index's grid cell (locator._cells), in the same float8 arithmetic.
_CELL = (
    f"floor((s.lat + 90.0) / {GRID_DEG!r})::bigint * {_GRID_COLS}"
    f" + least(floor((s.lon + 180.0) / {GRID_DEG!r})::bigint, {_GRID_COLS - 1})"
)


def box_condition(alias: str = "s") -> str:
    """Inside a lat/lon box, edges included (named parameters min_lat … max_lon)."""
    return (
        f"ST_SetSRID(ST_MakePoint({alias}.lon, {alias}.lat), 4326)"
        " && ST_MakeEnvelope(%(min_lon)s, %(min_lat)s, %(max_lon)s, %(max_lat)s, 4326)"
        f" and {alias}.lat between %(min_lat)s and %(max_lat)s"
        f" and {alias}.lon between %(min_lon)s and %(max_lon)s"
    )


def box_params(box: BBox) -> dict[str, float]:
    return {
        "min_lat": box.min_lat,
        "min_lon": box.min_lon,
        "max_lat": box.max_lat,
        "max_lon": box.max_lon,
    }


def _filters(facilities: Sequence[str], region: str) -> tuple[list[str], dict[str, Any]]:
    """Published, in the region, offering every facility: SQL conditions and parameters."""
    facility_mask(facilities)  # unknown keys fail as they do in the in-process index
    where = [published_condition("s")]
    params: dict[str, Any] = {}
    if region:
        where.append("s.adcode like %(region)s")
        params["region"] = region + "%"
    if facilities:
        where.append("s.facilities @> %(facilities)s::text[]")
        params["facilities"] = list(facilities)
    return where, params


def _index_row(row: dict[str, Any]) -> IndexRow:
    return IndexRow(
        row["id"],
        row["lat"],
        row["lon"],
        tuple(row["facilities"]),
        row["status"],
        row["opening_hours"],
        row["adcode"],
    )


class SpatialQueries(Connected):
    def spatial_ready(self) -> bool:
        return True  # the database's indexes are always there

    def _candidates(
        self, lat: float, lon: float, n: int, facilities: Sequence[str], region: str
    ) -> list[tuple[IndexRow, float]]:
        where, params = _filters(facilities, region)
        sql = f"""
            select {_INDEX_COLUMNS}, s.geog <-> {_POINT} as sphere_m
            from stations s where {" and ".join(where)}
            order by s.geog <-> {_POINT} limit %(n)s
        """
        rows = self._rows(sql, {**params, "lat": lat, "lon": lon, "n": n})
        return [(_index_row(r), r["sphere_m"]) for r in rows]

    def nearest(
        self,
        lat: float,
        lon: float,
        k: int = 5,
        *,
        radius_m: float | None = None,
        facilities: Sequence[str] = (),
        open_now: bool = False,
        at: datetime | None = None,
        region: str = "",
    ) -> list[Hit]:
        return KnnLocator(self._candidates).nearest(
            lat,
            lon,
            k,
            radius_m=radius_m,
            facilities=facilities,
            open_now=open_now,
            at=at,
            region=region,
        )

    def _box_rows(self, box: BBox, facilities: Sequence[str], region: str) -> list[IndexRow]:
        where, params = _filters(facilities, region)
        sql = f"""
            select {_INDEX_COLUMNS} from stations s
            where {box_condition()} and {" and ".join(where)} order by s.id
        """
        return [_index_row(r) for r in self._rows(sql, {**params, **box_params(box)})]

    def _open_in_box(self, box: BBox, facilities, at, region):
        """The box's stations open at `at`, as the in-process index's view (Locator.in_box)."""
        local = Locator.from_rows(self._box_rows(box, facilities, region))
        return local.in_box(
            box.min_lat,
            box.min_lon,
            box.max_lat,
            box.max_lon,
            facilities=facilities,
            open_now=True,
            at=at,
            region=region,
        )

    def visible_in_box(
        self,
        box: BBox,
        *,
        facilities: Sequence[str] = (),
        open_now: bool = False,
        at: datetime | None = None,
        region: str = "",
    ) -> list[int]:
        if open_now:
            return self._open_in_box(box, facilities, at, region).ids.tolist()
        where, params = _filters(facilities, region)
        sql = f"""
            select s.id from stations s where {box_condition()} and {" and ".join(where)}
            order by {_CELL}, s.id
        """
        return [r["id"] for r in self._rows(sql, {**params, **box_params(box)})]

    def clusters(
        self,
        box: BBox,
        *,
        facilities: Sequence[str] = (),
        open_now: bool = False,
        at: datetime | None = None,
        region: str = "",
        cells: int = 12,
    ) -> list[Cluster]:
        corners = (box.min_lat, box.min_lon, box.max_lat, box.max_lon)
        if open_now:
            view = self._open_in_box(box, facilities, at, region)
            return clusters(view, *corners, cells)
        # core.locator.clusters in SQL: the same cells and keys, and the same sums (float8
        # added in the index's order, grid cell then id), so the same centres to the bit.
        size = max(box.max_lat - box.min_lat, box.max_lon - box.min_lon) / cells or 1e-9
        key = (
            f"floor((s.lat - %(min_lat)s) / %(size)s)::bigint * {cells * 4 + 1}"
            " + floor((s.lon - %(min_lon)s) / %(size)s)::bigint"
        )
        where, params = _filters(facilities, region)
        sql = f"""
            select count(*) as n, sum(s.lat order by {_CELL}, s.id) as lat_sum,
                   sum(s.lon order by {_CELL}, s.id) as lon_sum
            from stations s where {box_condition()} and {" and ".join(where)}
            group by {key} order by {key}
        """
        rows = self._rows(sql, {**params, **box_params(box), "size": size})
        return [Cluster(r["lat_sum"] / r["n"], r["lon_sum"] / r["n"], r["n"]) for r in rows]

    def count_in_box(self, box: BBox) -> int:
        sql = f"select count(*) from stations s where {box_condition()}"
        return self._value(sql, box_params(box))
