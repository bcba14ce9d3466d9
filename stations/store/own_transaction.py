"""The writes that run in a transaction of their own: the same for every store, which only
supplies transaction() and the insert it wraps (the insert_* methods run in the caller's)."""

from contextlib import AbstractContextManager
from typing import Protocol


class _Inserts(Protocol):
    def transaction(self) -> AbstractContextManager[object]: ...
    def insert_user(
        self, name: str, password_hash: str, role: str, region: str, now: str
    ) -> int: ...
    def insert_checkin(
        self,
        station_id: int,
        kind: str,
        facility: str | None,
        client_hash: str,
        now: str,
        verified: bool,
        *,
        address_hash: str = "",
        submission: str | None = None,
        pending: bool = False,
    ) -> int | None: ...


class OwnTransactions:
    def create_user(
        self: _Inserts, name: str, password_hash: str, role: str, region: str, now: str
    ) -> int:
        with self.transaction():
            return self.insert_user(name, password_hash, role, region, now)

    def add_checkin(
        self: _Inserts,
        station_id: int,
        kind: str,
        facility: str | None,
        client_hash: str,
        now: str,
        verified: bool,
        *,
        address_hash: str = "",
        submission: str | None = None,
        pending: bool = False,
    ) -> int | None:
        """Record a check-in in its own transaction (see insert_checkin)."""
        with self.transaction():
            return self.insert_checkin(
                station_id,
                kind,
                facility,
                client_hash,
                now,
                verified,
                address_hash=address_hash,
                submission=submission,
                pending=pending,
            )
