"""Keeps a process's spatial index in step with the store without ever making a request wait
for a full build (pure: no Flask, no SQL; the store is reached through `IndexSource`).

- The store logs the id of every station whose indexed fields change (position, status, hours,
  facilities, adcode), numbered by a sequence. A request reads the newest number (one indexed
  lookup) and patches the snapshot with the few rows that changed since, so a worker answers
  its own writes at once and every other worker's on its next request.
- A full build runs on a background thread: at start, when the overlay of patches grows past
  `overlay_max`, or when the store no longer holds the changes since our snapshot (a bulk
  import). Until it is swapped in, requests are answered from the store's own spatial index
  (`StoreLocator`), which is slower but never stale.
"""

import logging
import math
import threading
from collections.abc import Callable
from typing import Protocol

from stations.core.locator import SLACK, Builder, Hit, IndexBatch, IndexRow, InView, Locator

log = logging.getLogger(__name__)


class IndexSource(Protocol):
    """What the index needs from a store."""

    def index_seq(self) -> int: ...

    def index_snapshot(self, consume: Callable[[IndexBatch], None]) -> int:
        """Hand every station to consume in batches of columns, in one consistent read;
        return the change number the batches are as of."""
        ...

    def index_changes(self, since: int, limit: int) -> tuple[int, list[IndexRow], list[int]] | None:
        """(newest change number, rows of the stations changed since `since`, ids of those
        gone), or None when more than limit changed or the log no longer reaches back."""
        ...

    def index_rows_in_box(
        self, min_lat: float, min_lon: float, max_lat: float, max_lon: float
    ) -> list[IndexRow]: ...

    def close(self) -> None: ...


def build(source: IndexSource) -> Locator:
    """A full snapshot of the store's stations."""
    builder = Builder()
    seq = source.index_snapshot(builder.add_batch)
    return builder.locator(seq)


# -- answering from the store's own spatial index -------------------------------------------------

_MIN_RADIUS_M = 6_335_000.0  # smallest meridional radius of curvature of WGS-84, metres
_WHOLE_EARTH_M = 20_100_000.0


def _box_around(lat: float, lon: float, half_m: float) -> tuple[float, float, float, float]:
    """A lat/lon box that contains every point within half_m metres of (lat, lon)."""
    d_lat = math.degrees(half_m / _MIN_RADIUS_M)
    if half_m >= _WHOLE_EARTH_M or d_lat >= 90:
        return -90.0, -180.0, 90.0, 180.0
    top = min(89.999, abs(lat) + d_lat)
    d_lon = d_lat / math.cos(math.radians(top))
    if abs(lat) + d_lat >= 90 or lon - d_lon < -180 or lon + d_lon > 180:
        # over a pole or across the antimeridian: every longitude (boxes do not wrap)
        return max(-90.0, lat - d_lat), -180.0, min(90.0, lat + d_lat), 180.0
    return max(-90.0, lat - d_lat), lon - d_lon, min(90.0, lat + d_lat), lon + d_lon


class StoreLocator:
    """The Locator's questions answered through the store's spatial queries: boxes that grow
    until they hold k stations that pass the filters and the whole circle of the k-th distance,
    then the same exact ranking over what they hold."""

    def __init__(self, rows_in_box: Callable[[float, float, float, float], list[IndexRow]]):
        self.rows_in_box = rows_in_box

    def nearest(self, lat: float, lon: float, k: int = 5, *, radius_m=None, **filters) -> list[Hit]:
        half_m = 2_000.0
        while True:
            local = Locator.from_rows(self.rows_in_box(*_box_around(lat, lon, half_m)))
            hits = local.nearest(lat, lon, k, **filters)
            if len(hits) >= k:
                reach = hits[-1].distance_m * (1 + SLACK)
                if reach <= half_m:
                    break
                half_m = reach  # one more box: it holds the whole circle
            elif half_m >= _WHOLE_EARTH_M:
                break
            else:
                half_m *= 8
        return local.nearest(lat, lon, k, radius_m=radius_m, **filters)

    def in_box(self, min_lat, min_lon, max_lat, max_lon, **filters) -> InView:
        local = Locator.from_rows(self.rows_in_box(min_lat, min_lon, max_lat, max_lon))
        return local.in_box(min_lat, min_lon, max_lat, max_lon, **filters)


# -- the live snapshot ----------------------------------------------------------------------------


class LiveIndex:
    """One per process and database. `locator(source)` is called by every request with that
    request's store; it never waits for a build, and it never answers from a snapshot older
    than the newest committed write the request's store can see."""

    BUILD_ATTEMPTS = 3  # a build that is outrun by writes again is retried this often

    def __init__(
        self,
        open_source: Callable[[], IndexSource],
        *,
        overlay_max: int = 5_000,
        after_build: Callable[[], None] = lambda: None,
    ):
        self.open_source = open_source  # a store of its own for the builder thread
        self.overlay_max = overlay_max
        self.after_build = after_build  # e.g. hand the build's freed memory back to the system
        self._snapshot: Locator | None = None
        self._stale = False  # the snapshot cannot be patched up to date: answer from the store
        self._lock = threading.Lock()  # one patcher at a time; a patch takes ~0.1 ms
        self._build_lock = threading.Lock()  # one builder thread at a time
        self._builder: threading.Thread | None = None
        self.builds = 0  # full builds finished (the tests read it)

    def locator(self, source: IndexSource) -> Locator | StoreLocator:
        snapshot = self._snapshot
        if snapshot is None or self._stale:
            self.start_build()
            return StoreLocator(source.index_rows_in_box)
        if source.index_seq() == snapshot.seq:  # the common case: nothing moved, no lock
            return snapshot
        with self._lock:  # another thread may be patching the same change: wait for it
            current = self._snapshot
            if current is None or self._stale:
                return StoreLocator(source.index_rows_in_box)
            patched = self._patched(current, source)
            if patched is None:  # too many changes, or the log no longer reaches back
                self._stale = True
                self.start_build()
                return StoreLocator(source.index_rows_in_box)
            self._snapshot = patched
        if patched.overlay_size > self.overlay_max:
            self.start_build()  # keep answering from the patched snapshot meanwhile
        return patched

    def _patched(self, snapshot: Locator, source: IndexSource) -> Locator | None:
        """snapshot brought up to the store's newest change, or None if it cannot be."""
        changes = source.index_changes(snapshot.seq, self.overlay_max)
        if changes is None:
            return None
        seq, rows, removed = changes
        return snapshot.patched(rows, removed, seq) if seq != snapshot.seq else snapshot

    def start_build(self) -> None:
        """Build a fresh snapshot on a background thread, unless one is being built."""
        with self._build_lock:
            if self._builder is not None and self._builder.is_alive():
                return
            self._builder = threading.Thread(target=self._build, name="index-build", daemon=True)
            self._builder.start()

    def _build(self) -> None:
        try:
            source = self.open_source()
        except Exception:
            log.exception("the spatial index could not open the store")
            return
        try:
            for _ in range(self.BUILD_ATTEMPTS):
                fresh = build(source)
                with self._lock:
                    # Catch up with what changed while building, then publish both at once:
                    # a request must never see the fresh snapshot without those writes.
                    caught_up = self._patched(fresh, source)
                    if caught_up is not None:
                        self._snapshot, self._stale = caught_up, False
                        self.builds += 1
                del fresh, caught_up
                self.after_build()
                if self._snapshot is not None and not self._stale:
                    break
        except Exception:
            log.exception("building the spatial index failed; answering from the store")
        finally:
            source.close()

    def wait_for_build(self, timeout: float) -> bool:
        """Block until the background build (if any) ends; for the CLI, tests and benchmarks."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)
        return self._snapshot is not None and not self._stale
