"""Flask glue for the store: one store per request, opened on first use and kept by the server
thread for the next one; the request's clock and where maps open."""

import threading
from collections.abc import Callable
from datetime import datetime

from flask import Flask, current_app, g

from stations.core.hours import TZ
from stations.store import Store, open_store

_thread = threading.local()  # one connection per server thread, reused


def _thread_store(slot: str, url: str) -> Store:
    """The store this server thread keeps open on url, opened on first use.

    Each server thread keeps its connection from one request to the next: opening a SQLite
    connection and setting its pragmas costs more than answering a nearest query (a PostGIS
    store borrows from its process's pool only while a request runs)."""
    key = (url, current_app.config.get("DATABASE_BUSY_TIMEOUT_MS"))
    store = getattr(_thread, slot, None)
    if store is None or getattr(_thread, slot + "_key") != key:
        if store is not None:
            setattr(_thread, slot, None)  # closed: never handed out again, even if opening fails
            store.close()
        store = open_store(*key, pool_size=current_app.config.get("DATABASE_POOL_SIZE"))
        setattr(_thread, slot, store)
        setattr(_thread, slot + "_key", key)
    return store


def get_store() -> Store:
    """This request's store on the primary database (every write, and staff's reads).

    The server never creates or migrates the database: `flask --app app init-db` does (`make
    run` runs it first). A missing database file is StoreMissing (a 503 saying the service is
    unavailable), never a new empty registry in its place."""
    if "store" not in g:
        g.store = _thread_store("store", current_app.config["DATABASE_URL"])
    return g.store


def get_read_store() -> Store:
    """The store for the public's reads: DATABASE_READ_URL (a streaming replica) when set,
    else the primary. A replica may lag a moment behind; staff pages and every write use
    get_store(), so staff always see what they just saved."""
    url = current_app.config.get("DATABASE_READ_URL")
    if not url:
        return get_store()
    if "read_store" not in g:
        g.read_store = _thread_store("read_store", url)  # a replica's schema comes from its primary
    return g.read_store


FALLBACK_CENTRE = (34.7466, 113.6253)  # Zhengzhou, for an empty registry


def map_centre() -> tuple[float, float]:
    """Where a map opens: MAP_CENTER, else the city with the most stations, else Zhengzhou."""
    return current_app.config.get("MAP_CENTER") or get_read_store().centre() or FALLBACK_CENTRE


def _china_now() -> datetime:
    return datetime.now(TZ)


def clock() -> Callable[[], datetime]:
    """The app's clock, for work that outlives the request (a background job): the current
    time in China, or what tests pin with the CLOCK setting."""
    return current_app.config.get("CLOCK") or _china_now


def now() -> datetime:
    """The current time in China; tests pin it with the CLOCK setting."""
    return clock()()


def store_opener() -> Callable[[], Store]:
    """Opens a store of its own on the primary database, for work outside the request (a
    background job's thread), with the settings this request's store has."""
    url = current_app.config["DATABASE_URL"]
    busy = current_app.config.get("DATABASE_BUSY_TIMEOUT_MS")
    pool = current_app.config.get("DATABASE_POOL_SIZE")
    return lambda: open_store(url, busy, pool_size=pool)


def release_store(exc=None) -> None:
    """End of a request: whatever it left open is rolled back; the connection stays."""
    for name in ("store", "read_store"):
        store = g.pop(name, None)
        if store is not None:
            store.reset()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(release_store)
