"""One-tap check-ins from workers: what they may say, who said it, and how often (pure).

No login and no raw IP: a client is a keyed hash of its address and browser, good enough to
rate-limit and to count distinct reporters, useless for finding a person.
"""

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from stations.core.vocab import FACILITIES, Term, Vocabulary

if TYPE_CHECKING:
    from stations.store.protocols import CheckinStore

KINDS = Vocabulary(
    "kind",
    (
        Term("ok", "我在这里休息了，一切正常", "I rested here, all fine"),
        Term("locked", "门锁着 / 没开", "Locked / not open"),
        Term("not_found", "找不到", "Could not find it"),
        Term("broken", "设施坏了", "Something is broken"),
        Term("expired_medicine", "药品过期", "Medicines expired"),
    ),
)
POSITIVE = ("ok",)
PER_STATION_WINDOW = timedelta(minutes=30)  # one check-in per client and station in this window
PER_CLIENT_LIMIT = (20, timedelta(hours=1))  # and at most this many anywhere
WARNING_WINDOW = timedelta(days=30)  # unresolved reports older than this no longer warn


@dataclass(frozen=True)
class Report:
    """A worker's problem report (a check-in other than 'ok') and where it was made."""

    id: int
    station_id: int
    kind: str
    facility: str | None
    created_at: str
    status: str  # new | acknowledged | resolved | rejected
    status_at: str | None
    handled_by: int | None  # the staff user who last moved it
    resolution: str | None
    station_code: str
    station_name: str
    adcode: str
    district: str


@dataclass(frozen=True)
class ReportCount:
    """Open reports of one kind (and facility) at a station: what workers are warned of."""

    kind: str
    facility: str  # '' unless kind is 'broken'
    count: int
    last_at: str


class CheckinRefused(ValueError):
    def __init__(self, message: str, retry_after: int | None = None, field: str | None = None):
        self.retry_after = retry_after
        self.field = field
        super().__init__(message)


def client_hash(secret: str, address: str, user_agent: str) -> str:
    key = hashlib.sha256(("checkin-client|" + secret).encode()).digest()
    return hmac.new(key, f"{address}|{user_agent}".encode(), hashlib.sha256).hexdigest()[:32]


def parse(kind: str, facility: str | None) -> tuple[str, str | None]:
    """The check-in kind and (for 'broken') the facility; CheckinRefused when unusable."""
    key = KINDS.parse(kind or "")
    if key is None:
        raise CheckinRefused(f"kind must be one of {', '.join(KINDS.keys())}", field="kind")
    if key != "broken":
        return key, None
    fac = FACILITIES.parse(facility or "") if facility else None
    if facility and fac is None:
        raise CheckinRefused(f"unknown facility {facility[:30]!r}", field="facility")
    return key, fac


def check_rate(store: "CheckinStore", client: str, station_id: int, now: datetime) -> None:
    """Refuse a check-in that comes too soon after the client's last ones."""
    if store.checkins_since(
        client, (now - PER_STATION_WINDOW).isoformat(timespec="seconds"), station_id
    ):
        raise CheckinRefused(
            "you reported on this station a moment ago; thank you",
            int(PER_STATION_WINDOW.total_seconds()),
        )
    limit, window = PER_CLIENT_LIMIT
    if store.checkins_since(client, (now - window).isoformat(timespec="seconds")) >= limit:
        raise CheckinRefused(
            "too many reports from this device; try again later", int(window.total_seconds())
        )


def record(
    store: "CheckinStore",
    client: str,
    station_id: int,
    kind: str,
    facility: str | None,
    now: datetime,
) -> int:
    """Check the client's rate and record the check-in in one write transaction: BEGIN
    IMMEDIATE serialises racing check-ins, so two taps at once cannot both pass the limit."""
    with store.transaction():
        check_rate(store, client, station_id, now)
        return store.insert_checkin(
            station_id, kind, facility, client, now.isoformat(timespec="seconds"), kind in POSITIVE
        )


def warnings_for(
    store: "CheckinStore", station_ids: Iterable[int], now: datetime
) -> dict[int, list[ReportCount]]:
    """Open problem reports per station, for workers to see before they go."""
    since = (now - WARNING_WINDOW).isoformat(timespec="seconds")
    return store.open_reports(station_ids, since)
