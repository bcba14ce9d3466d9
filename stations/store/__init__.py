"""The store: the only layer that speaks SQL.

`open_store(url)` picks the implementation from DATABASE_URL. Every store offers the same
methods (see `Store`), so the web, API and CLI never know which database is underneath; a
PostgreSQL/PostGIS store implements this protocol for national scale.
"""

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from stations.core.model import Station
from stations.store.errors import StoreBusy, StoreError, StoreFull, VersionConflict

__all__ = ["Store", "StoreBusy", "StoreError", "StoreFull", "VersionConflict", "open_store"]


class Store(Protocol):
    def migrate(self) -> None: ...
    def close(self) -> None: ...
    def count(self) -> int: ...
    def get(self, station_id: int) -> Station | None: ...
    def get_by_code(self, code: str) -> Station | None: ...
    def by_codes(self, codes: Iterable[str]) -> dict[str, Station]: ...
    def iter_stations(self) -> Iterator[Station]: ...
    def page(self, offset: int, limit: int) -> list[Station]: ...
    def in_box(
        self, min_lat: float, min_lon: float, max_lat: float, max_lon: float
    ) -> list[Station]: ...
    def save_many(
        self, new: list[Station], changed: list[Station], now: str, progress=None
    ) -> None: ...
    def summary(self) -> dict: ...
    def transaction(self) -> AbstractContextManager: ...


def open_store(url: str, busy_timeout_ms: int | None = None) -> Store:
    """A store for a DATABASE_URL: sqlite:///relative/path.db or sqlite:////absolute/path.db.

    busy_timeout_ms: how long a write waits for another writer before StoreBusy.
    """
    if url.startswith("sqlite:///"):
        from stations.store.sqlite.store import BUSY_TIMEOUT_MS, SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:///"), busy_timeout_ms or BUSY_TIMEOUT_MS)
    if url.startswith(("postgresql:", "postgres:", "postgis:")):
        raise StoreError("the PostgreSQL/PostGIS store is not built yet; use sqlite:///path.db")
    raise StoreError(f"DATABASE_URL must look like sqlite:///instance/yizhan.db, not {url!r}")
