"""Flask glue for the store: one store per request, opened on first use and kept by the server
thread for the next one; the request's clock and where maps open."""

import threading
from datetime import datetime

from flask import Flask, current_app, g

from stations.core.hours import TZ
from stations.store import Store, open_store

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
                _thread.store = None  # closed: never handed out again, even if opening fails
                store.close()
            store = _thread.store = open_store(*key)
            _thread.key = key
        g.store = store
        if url not in _migrated:
            store.migrate()
            _migrated.add(url)
    return g.store


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
