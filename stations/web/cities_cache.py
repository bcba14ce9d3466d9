"""The city picker's extents, kept per process until the registry moves: a national registry
takes a quarter of a second to group, and every rider without a location asks for them."""

import threading
from collections import OrderedDict

from flask import current_app

from stations.core.counts import CityExtent

MAX_ENTRIES = 64  # one per partner region asked for, and the whole country

_lock = threading.Lock()
_entries: "OrderedDict[tuple, list[CityExtent]]" = OrderedDict()


def city_extents(store, region: str = "") -> list[CityExtent]:
    """store.city_extents(region), reused while the store's revision stands still (it moves
    with every change of a station's position, status or adcode: all the extents depend on)."""
    database = current_app.config.get("DATABASE_READ_URL") or current_app.config["DATABASE_URL"]
    key = (database, region, store.revision())
    with _lock:
        found = _entries.get(key)
        if found is not None:
            _entries.move_to_end(key)
            return found
    built = store.city_extents(region)
    with _lock:
        _entries[key] = built
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return built
