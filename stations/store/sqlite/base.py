"""What the SQLite store's mixins (staff, spatial) rely on; SQLiteStore provides all of it."""

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import sqlite_utils

from stations.core.model import Station


class Connected(Protocol):
    path: str
    db: sqlite_utils.Database

    def _rows(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> Iterator[dict[str, Any]]: ...
    def _query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Station]: ...
    def transaction(self) -> AbstractContextManager[object]: ...
    def revision(self) -> int: ...


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The row id an insert made (sqlite3 types lastrowid as optional; an insert sets it)."""
    if cursor.lastrowid is None:
        raise RuntimeError("the statement inserted no row")
    return cursor.lastrowid
