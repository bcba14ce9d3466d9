"""One connection pool per database URL per process, opened lazily, closed by close_pools()."""

import atexit
import threading

import psycopg
from psycopg_pool import ConnectionPool

MAX_SIZE = 10  # per process: a gunicorn worker's threads share it

_pools: dict[str, ConnectionPool] = {}
_lock = threading.Lock()


def _configure(conn: psycopg.Connection) -> None:
    # Plain reads run one statement each; transaction() sends BEGIN itself.
    conn.autocommit = True


def pool_for(url: str, max_size: int = MAX_SIZE) -> ConnectionPool:
    """This process's pool for url (max_size counts only when it is first opened)."""
    pool = _pools.get(url)
    if pool is None:
        with _lock:
            pool = _pools.get(url)
            if pool is None:
                pool = ConnectionPool(
                    url,
                    min_size=1,
                    max_size=max_size,
                    configure=_configure,
                    open=False,
                    name=f"yizhan-{len(_pools) + 1}",
                )
                pool.open(wait=False)  # a down database shows as StoreBusy on use, not here
                _pools[url] = pool
    return pool


def close_pools(url: str | None = None) -> None:
    """Close the pool of url (every pool: None); stores still holding a connection of it
    fail on their next use."""
    with _lock:
        urls = [url] if url is not None else list(_pools)
        closing = [_pools.pop(u) for u in urls if u in _pools]
    for pool in closing:
        pool.close()


atexit.register(close_pools)
