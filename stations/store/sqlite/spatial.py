"""The SQLite store's where-questions, answered by the in-process index (core's Locator).

One index per database file is shared by every store open on it in this process, and rebuilt
when the registry's revision moves. A PostGIS store answers the same questions with its own
spatial index instead.
"""

import os
import threading
from collections.abc import Sequence
from datetime import datetime

from stations.core.geo import BBox
from stations.core.locator import Cluster, Hit, Locator
from stations.store.sqlite.base import Connected

_indexes: dict[str, tuple[int, Locator]] = {}
_lock = threading.Lock()


def shared_locator(store: Connected) -> Locator:
    """The index for the store's database file, in step with its latest write."""
    key, revision = os.path.abspath(store.path), store.revision()
    cached = _indexes.get(key)
    if cached and cached[0] == revision:
        return cached[1]
    with _lock:
        cached = _indexes.get(key)
        if cached and cached[0] == revision:
            return cached[1]
        locator = Locator.from_rows(store.locator_rows())
        _indexes[key] = (revision, locator)
        return locator


class SpatialQueries(Connected):
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
        return shared_locator(self).nearest(
            lat,
            lon,
            k,
            radius_m=radius_m,
            facilities=facilities,
            open_now=open_now,
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
        locator = shared_locator(self)
        idx = locator.in_box(
            box.min_lat,
            box.min_lon,
            box.max_lat,
            box.max_lon,
            facilities=facilities,
            open_now=open_now,
            at=at,
            region=region,
        )
        return [int(i) for i in locator.ids[idx]]

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
        locator = shared_locator(self)
        idx = locator.in_box(
            box.min_lat,
            box.min_lon,
            box.max_lat,
            box.max_lon,
            facilities=facilities,
            open_now=open_now,
            at=at,
            region=region,
        )
        return locator.clusters(idx, box.min_lat, box.min_lon, box.max_lat, box.max_lon, cells)
