"""Straight to the database of a DATABASE_URL, behind the store's back, for what only a test
does: look at raw rows, try a forbidden statement, hold a lock. SQLite or PostgreSQL alike."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class RawDB:
    def __init__(self, url: str):
        self.url = url
        self.postgres = url.startswith(("postgresql:", "postgres:"))

    def _connect(self, timeout: float = 5.0):
        if self.postgres:
            import psycopg

            return psycopg.connect(self.url)
        return sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=timeout)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def rows(self, sql: str, params: tuple | list = ()) -> list[tuple[Any, ...]]:
        conn = self._connect()
        try:
            return [tuple(r) for r in conn.execute(self._sql(sql), params).fetchall()]
        finally:
            conn.close()

    def value(self, sql: str, params: tuple | list = ()) -> Any:
        return self.rows(sql, params)[0][0]

    def execute(self, sql: str, params: tuple | list = ()) -> None:
        """Run one statement and commit it; whatever the database raises comes through."""
        conn = self._connect()
        try:
            conn.execute(self._sql(sql), params)
            conn.commit()
        finally:
            conn.close()

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table of ours: equal snapshots mean nothing changed."""
        if self.postgres:
            listing = """select tablename from pg_tables where schemaname = 'public'
                         and tablename != 'spatial_ref_sys' order by 1"""
        else:
            listing = """select name from sqlite_master where type = 'table'
                         and name not like 'sqlite_%' and name not like '%rtree%' order by 1"""
        tables = [t for (t,) in self.rows(listing)]
        return {t: sorted(self.rows(f"select * from {t}"), key=repr) for t in tables}

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """Hold what a station write must wait for, until the block ends: SQLite's one write
        lock, or PostgreSQL's lock on the stations table (reads still go through)."""
        conn = self._connect(timeout=0.1)
        try:
            if self.postgres:
                conn.execute("lock table stations in exclusive mode")
            else:
                conn.execute("begin immediate")
            yield
        finally:
            conn.rollback()
            conn.close()
