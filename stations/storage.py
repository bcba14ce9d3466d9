"""Flask glue for the store: one store per request, opened on first use, closed at teardown."""

from flask import Flask, current_app, g

from .store import Store, open_store


def get_store() -> Store:
    if "store" not in g:
        g.store = open_store(current_app.config["DATABASE_URL"])
    return g.store


def close_store(exc=None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_store)
