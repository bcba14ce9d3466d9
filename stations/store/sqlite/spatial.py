"""The SQLite store's where-questions, answered by the in-process spatial index.

One `LiveIndex` per database file is shared by every store opened on it in this process: it
follows the store's change log (`index.IndexQueries`) and builds in the background, so a query
never waits for a build. A PostGIS store answers the same questions with its own spatial index.
"""

import ctypes
import ctypes.util
import gc
import os
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from stations.core.geo import BBox
from stations.core.live_index import LiveIndex, StoreLocator
from stations.core.locator import Cluster, Hit, InView, Locator, clusters
from stations.store.sqlite.index import IndexQueries

_indexes: dict[str, LiveIndex] = {}
_lock = threading.Lock()


def _release_memory() -> None:
    """After a build: a million stations passed through as short-lived batches, and glibc keeps
    the freed heap unless asked; handing it back keeps a worker's resident memory to the index."""
    gc.collect()
    libc = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(libc), "malloc_trim", None) if libc else None
    if trim is not None:  # glibc only
        trim(0)


class SpatialQueries(IndexQueries):
    path: str

    def opener(self) -> Callable[[], "SpatialQueries"]:
        """How to open another store on the same database (the builder thread needs a
        connection of its own), holding no reference to this one."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def live_index(self) -> LiveIndex:
        """This process's index of this database file."""
        key = os.path.abspath(self.path)
        index = _indexes.get(key)
        if index is None:
            with _lock:
                index = _indexes.get(key)
                if index is None:
                    index = _indexes[key] = LiveIndex(self.opener(), after_build=_release_memory)
        return index

    def _locator(self) -> Locator | StoreLocator:
        if self.db.conn.in_transaction:
            # Inside a write: what this connection sees is not committed, so it must not reach
            # the index every request of the process shares; ask the database directly.
            return StoreLocator(self.index_rows_in_box)
        return self.live_index().locator(self)

    def spatial_ready(self) -> bool:
        return isinstance(self._locator(), Locator)  # not the store's R*Tree meanwhile

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
        return self._locator().nearest(
            lat,
            lon,
            k,
            radius_m=radius_m,
            facilities=facilities,
            open_now=open_now,
            at=at,
            region=region,
        )

    def _in_view(self, box: BBox, **filters) -> InView:
        return self._locator().in_box(box.min_lat, box.min_lon, box.max_lat, box.max_lon, **filters)

    def visible_in_box(
        self,
        box: BBox,
        *,
        facilities: Sequence[str] = (),
        open_now: bool = False,
        at: datetime | None = None,
        region: str = "",
    ) -> list[int]:
        view = self._in_view(box, facilities=facilities, open_now=open_now, at=at, region=region)
        return view.ids.tolist()

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
        view = self._in_view(box, facilities=facilities, open_now=open_now, at=at, region=region)
        return clusters(view, box.min_lat, box.min_lon, box.max_lat, box.max_lon, cells)
