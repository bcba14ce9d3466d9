"""What the PostGIS store's mixins rely on (PostGISStore provides it), and how database errors
a user can act on become StoreErrors."""

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, NoReturn, Protocol

import psycopg
from psycopg import errors as pg
from psycopg_pool import PoolTimeout

from stations.core.model import Station
from stations.store.errors import StoreBusy, StoreError, StoreFull, StoreReadOnly

Params = Sequence[Any] | Mapping[str, Any]


class Connected(Protocol):
    url: str

    def _connection(self) -> psycopg.Connection: ...
    def _execute(self, sql: str, params: Params = ()) -> psycopg.Cursor: ...
    def _executemany(self, sql: str, params: Sequence[Params]) -> None: ...
    def _rows(self, sql: str, params: Params = ()) -> Iterator[dict[str, Any]]: ...
    def _query(self, sql: str, params: Params = ()) -> list[Station]: ...
    def _value(self, sql: str, params: Params = ()) -> Any: ...
    def transaction(self) -> AbstractContextManager[object]: ...


READ_ONLY = "the database is read-only at the moment; nothing was written"
BUSY = "the database is busy with another write; try again shortly"


def translated(exc: BaseException) -> NoReturn:
    """Raise exc as the StoreError a user can act on, or as it is."""
    if isinstance(exc, StoreError):
        raise exc
    # SQLSTATE class 53, insufficient resources: disk full, out of memory, too many connections
    # (53300, which is a wait, is StoreBusy below).
    if isinstance(exc, pg.DiskFull | pg.OutOfMemory | pg.InsufficientResources) or (
        isinstance(exc, psycopg.Error)
        and (exc.sqlstate or "").startswith("53")
        and exc.sqlstate != "53300"
    ):
        raise StoreFull(
            "the database is full (disk or size limit reached); nothing was written"
        ) from exc
    if isinstance(exc, pg.ReadOnlySqlTransaction):  # 25006: a hot standby, read-only server
        raise StoreReadOnly(READ_ONLY) from exc
    if isinstance(
        exc,
        pg.LockNotAvailable  # lock_timeout: another writer holds the rows
        | pg.QueryCanceled
        | pg.SerializationFailure
        | pg.DeadlockDetected
        | pg.TooManyConnections
        | pg.AdminShutdown
        | pg.CannotConnectNow
        | PoolTimeout,  # every connection of the pool in use, or the server unreachable
    ):
        raise StoreBusy(BUSY) from exc
    if type(exc) is psycopg.OperationalError:  # no SQLSTATE: the connection, refused or lost
        raise StoreBusy(f"the database cannot be reached ({exc}); try again shortly") from exc
    raise exc
