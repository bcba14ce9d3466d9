"""Flask glue for the store: one store per request, opened on first use, closed at teardown;
the locator index shared by the process and rebuilt when the registry's revision moves."""

import threading
from datetime import datetime

from flask import Flask, current_app, g

from .hours import TZ
from .locator import Locator
from .store import Store, open_store

_locators: dict[str, tuple[int, Locator]] = {}
_lock = threading.Lock()


def get_store() -> Store:
    if "store" not in g:
        g.store = open_store(current_app.config["DATABASE_URL"])
    return g.store


def get_locator() -> Locator:
    """The spatial index for the configured database, in step with its latest write."""
    store, url = get_store(), current_app.config["DATABASE_URL"]
    revision = store.revision()
    cached = _locators.get(url)
    if cached and cached[0] == revision:
        return cached[1]
    with _lock:
        cached = _locators.get(url)
        if cached and cached[0] == revision:
            return cached[1]
        locator = Locator.from_rows(store.locator_rows())
        _locators[url] = (revision, locator)
        return locator


def now() -> datetime:
    """The current time in China; tests pin it with the CLOCK setting."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock else datetime.now(TZ)


def close_store(exc=None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_store)
