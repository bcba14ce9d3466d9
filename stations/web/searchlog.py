"""Flask glue for the search log: each process counts riders' nearest searches per grid cell
(core.demand.SearchLog, never a point) and writes the counts to the primary database now and
then: when the counts are SEARCH_LOG_FLUSH_SECONDS old (0: at every search), when they cover
demand.FLUSH_CELLS cells, and when the process exits.

Recording never fails a rider's request: counts that cannot be written are logged and dropped.
"""

import atexit
import logging
import threading
import time

from flask import current_app

from stations.core import demand
from stations.store import StoreError, open_store
from stations.web.context import get_store, now

log = logging.getLogger(__name__)

_lock = threading.Lock()
_logs: dict[str, demand.SearchLog] = {}  # DATABASE_URL -> its counts not yet written
_exit_flush = False  # whether this process has registered its flush at exit


def record(lat: float, lon: float, met: bool) -> None:
    """Count one answered search at a WGS-84 point, and write the counts if they are due."""
    global _exit_flush
    counts = None
    try:
        url = current_app.config["DATABASE_URL"]
        seconds = current_app.config["SEARCH_LOG_FLUSH_SECONDS"]
        day = now().date().isoformat()
        with _lock:
            buffer = _logs.get(url)
            if buffer is None:
                buffer = _logs[url] = demand.SearchLog(seconds)
            buffer.flush_seconds = seconds
            buffer.record(lat, lon, met, day)
            counts = buffer.take() if buffer.due(time.monotonic()) else None
            if not _exit_flush:
                # Registered in the process that serves (a gunicorn worker), never before the fork.
                atexit.register(flush_all)
                _exit_flush = True
        if counts:
            get_store().record_searches(counts)
    except StoreError as exc:
        log.warning("search log: %d cell(s) dropped, not written (%s)", len(counts or ()), exc)
    except Exception:
        log.exception("search log: a search could not be counted")


def flush_all() -> None:
    """Write every buffer's counts to its database (at process exit); failures are logged."""
    with _lock:
        pending = {url: buffer.take() for url, buffer in _logs.items() if len(buffer)}
    for url, counts in pending.items():
        try:
            with open_store(url) as store:
                store.record_searches(counts)
        except Exception as exc:  # at exit, nothing to retry and nobody to tell but the log
            log.warning("search log: %d cell(s) not written at exit (%s)", len(counts), exc)
