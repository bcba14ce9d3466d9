"""The store: the only layer that speaks SQL.

`open_store(url)` picks the implementation from DATABASE_URL. Every store offers the same
methods (the protocols in `stations.store.protocols`, all of them in `Store`), so the web, API
and CLI never know which database is underneath; a PostgreSQL/PostGIS store implements these
protocols for national scale.
"""

from stations.store.errors import StoreBusy, StoreError, StoreFull, VersionConflict
from stations.store.protocols import Store

__all__ = ["Store", "StoreBusy", "StoreError", "StoreFull", "VersionConflict", "open_store"]


def open_store(
    url: str, busy_timeout_ms: int | None = None, *, pool_size: int | None = None
) -> Store:
    """A store for a DATABASE_URL: sqlite:///relative/path.db, sqlite:////absolute/path.db, or
    postgresql://user@host/db (also postgres://) for PostgreSQL with PostGIS.

    busy_timeout_ms: how long a write waits for another writer before StoreBusy.
    pool_size: PostgreSQL only, the most connections this process opens to that database.
    """
    if url.startswith("sqlite:///"):
        from stations.store.sqlite.store import BUSY_TIMEOUT_MS, SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:///"), busy_timeout_ms or BUSY_TIMEOUT_MS)
    if url.startswith(("postgresql://", "postgres://")):
        from stations.store.postgis.pool import MAX_SIZE
        from stations.store.postgis.store import BUSY_TIMEOUT_MS as PG_TIMEOUT_MS
        from stations.store.postgis.store import PostGISStore

        return PostGISStore(url, busy_timeout_ms or PG_TIMEOUT_MS, pool_size or MAX_SIZE)
    raise StoreError(
        "DATABASE_URL must look like sqlite:///instance/yizhan.db or postgresql://user@host/db,"
        f" not {url!r}"
    )
