"""Flask glue for the store: one store per request, opened on first use, closed at teardown;
the spatial index shared by the process, following the store's writes (core.live_index)."""

import threading
from datetime import datetime

from flask import Flask, current_app, g

from stations.core.hours import TZ
from stations.core.live_index import LiveIndex, StoreLocator
from stations.core.locator import Locator
from stations.store import Store, open_store

_indexes: dict[str, LiveIndex] = {}
_lock = threading.Lock()


_migrated: set[str] = set()
_thread = threading.local()  # one connection per server thread, reused


def get_store() -> Store:
    """This request's store; the schema is brought up to date on the process's first use, so
    `flask run` on a new database works without `init-db`.

    Each server thread keeps its connection from one request to the next: opening a SQLite
    connection and setting its pragmas costs more than answering a nearest query."""
    if "store" not in g:
        url = current_app.config["DATABASE_URL"]
        key = (url, current_app.config.get("DATABASE_BUSY_TIMEOUT_MS"))
        store = getattr(_thread, "store", None)
        if store is None or _thread.key != key:
            if store is not None:
                store.close()
            store = _thread.store = open_store(*key)
            _thread.key = key
        g.store = store
        if url not in _migrated:
            store.migrate()
            _migrated.add(url)
    return g.store


def live_index() -> LiveIndex:
    """This process's spatial index for the configured database (built in the background)."""
    url = current_app.config["DATABASE_URL"]
    index = _indexes.get(url)
    if index is None:
        with _lock:
            index = _indexes.get(url)
            if index is None:
                busy = current_app.config.get("DATABASE_BUSY_TIMEOUT_MS")
                index = _indexes[url] = LiveIndex(lambda: open_store(url, busy))
    return index


def get_locator() -> Locator | StoreLocator:
    """The spatial index, at most a moment behind the latest write; never waits for a build."""
    return live_index().locator(get_store())


FALLBACK_CENTRE = (34.7466, 113.6253)  # Zhengzhou, for an empty registry


def map_centre() -> tuple[float, float]:
    """Where a map opens: MAP_CENTER, else the city with the most stations, else Zhengzhou."""
    return current_app.config.get("MAP_CENTER") or get_store().centre() or FALLBACK_CENTRE


def now() -> datetime:
    """The current time in China; tests pin it with the CLOCK setting."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock else datetime.now(TZ)


def release_store(exc=None) -> None:
    """End of a request: whatever it left open is rolled back; the connection stays."""
    store = g.pop("store", None)
    if store is not None:
        store.reset()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(release_store)
