"""Coverage reports, kept a few minutes per process: the staff page, its exports and the API
ask for the same report again and again, and one costs up to seconds for a province."""

import threading
import time
from collections import OrderedDict
from datetime import date

from flask import current_app

from stations.core import coverage_report
from stations.core.coverage import CoverageQuery
from stations.core.coverage_report import Options, Report

MAX_ENTRIES = 16
TTL_SECONDS = 300  # the search log moves without touching the registry's revision

_lock = threading.Lock()
_entries: "OrderedDict[tuple, tuple[float, Report]]" = OrderedDict()


def report(store, query: CoverageQuery, options: Options, *, today: date, target: float) -> Report:
    """coverage_report.build(), reused while the stations and demand layers are unchanged."""
    layers = tuple((x.name, x.imported_at, x.points) for x in store.demand_layers())
    key = (query, options, target, today, store.revision(), layers)
    moment = time.monotonic()
    with _lock:
        found = _entries.get(key)
        if found and moment - found[0] < TTL_SECONDS:
            _entries.move_to_end(key)
            return found[1]
    built = coverage_report.build(
        store,
        query,
        today=today,
        demand=options.demand,
        candidates=options.candidates,
        suggest=options.suggest,
        target=target,
    )
    with _lock:
        _entries[key] = (moment, built)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return built


def target() -> float:
    """COVERAGE_TARGET, checked at start-up (app.py)."""
    return float(current_app.config["COVERAGE_TARGET"])


def clear() -> None:
    with _lock:
        _entries.clear()
