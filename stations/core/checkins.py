"""One-tap check-ins from workers: what they may say, who said it, how often, and when a report
warns others (pure).

No login and no raw IP. A rider is told apart by a random anonymous device id their browser
keeps in a first-party cookie; the store sees only a keyed hash of it (and, for a looser limit
shared by everyone behind one carrier address, a keyed hash of that address): good enough to
rate-limit and to count distinct reporters, useless for finding a person.

Rules, all here:
- A form carries a one-time submission token; the same token from the same device again is
  the same report (a double tap on a slow network), recorded once.
- Per device: one check-in per station per 30 minutes, 20 an hour. Per address: 60 an hour.
- Corroboration: a problem report made while the station is closed by its own opening hours
  waits (staff see it) until a second device reports the same kind (and facility) there within
  24 hours; then both warn workers. Reports made in opening hours (or where the hours are
  unknown) warn at once, as does any report a second device confirms.
"""

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from stations.core import hours
from stations.core.model import Station, stored_id
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
PER_STATION_WINDOW = timedelta(minutes=30)  # one check-in per device and station in this window
PER_DEVICE_LIMIT = (20, timedelta(hours=1))  # and at most this many anywhere
# Everyone behind one address together. A carrier's NAT puts many phones behind one address,
# so this is three devices' worth: a rider hub's Wi-Fi with dozens of riders each reporting a
# station or two an hour stays under it; a script minting device ids is held to one a minute.
PER_ADDRESS_LIMIT = (60, timedelta(hours=1))
CORROBORATION_WINDOW = timedelta(hours=24)  # a second device within this confirms
WARNING_WINDOW = timedelta(days=30)  # unresolved reports older than this no longer warn

DEVICE_ID_BYTES = 16  # 128 random bits
_DEVICE_ID = re.compile(r"[0-9a-f]{32}")
_SUBMISSION = re.compile(r"[A-Za-z0-9_-]{16,64}")


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
    handler: str = ""  # the name of the staff user who last moved it ('' while nobody has)


@dataclass(frozen=True)
class ReportCount:
    """Open reports of one kind (and facility) at a station: what workers are warned of."""

    kind: str
    facility: str  # '' unless kind is 'broken'
    count: int
    last_at: str


@dataclass(frozen=True)
class Client:
    """Who checks in, as the store may keep it: keyed hashes only."""

    device: str  # of the anonymous device id (or, without one, of address and browser)
    address: str  # of the network address (an IPv6 address's /64)


@dataclass(frozen=True)
class Recorded:
    """What became of a check-in that was not refused."""

    id: int | None  # None for a repeat
    repeat: bool  # the same submission again from the same device: nothing more written
    pending: bool  # waits for a second device before it warns anyone


class CheckinRefused(ValueError):
    def __init__(
        self,
        message: str,
        retry_after: int | None = None,
        field: str | None = None,
        reason: str | None = None,
    ):
        self.retry_after = retry_after
        self.field = field
        self.reason = reason  # for a rate limit: 'station' | 'device' | 'address'
        super().__init__(message)


# -- who ----------------------------------------------------------------------------------------


def _keyed(secret: str, purpose: str, text: str) -> str:
    key = hashlib.sha256(f"{purpose}|{secret}".encode()).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def client_hash(secret: str, address: str, user_agent: str) -> str:
    """The keyed hash of an address and a browser: a client without a device id."""
    return _keyed(secret, "checkin-client", f"{address}|{user_agent}")


def new_device_id() -> str:
    return secrets.token_hex(DEVICE_ID_BYTES)


def valid_device_id(text: str | None) -> bool:
    return bool(text) and _DEVICE_ID.fullmatch(text or "") is not None


def network(address: str) -> str:
    """The address a limit counts: IPv4 as it is, IPv6 by its /64 (one phone's privacy
    addresses change within its /64), anything unparsable as given."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def identify(secret: str, device_id: str | None, address: str, user_agent: str) -> Client:
    """The client of a check-in. With a valid device id, the device (its keyed hash; the id
    itself is never stored); without one, the keyed hash of address and browser, so a browser
    that drops cookies shares one budget with identical browsers behind its address rather
    than getting a fresh identity, and a fresh set of limits, on every tap."""
    net = network(address)
    if valid_device_id(device_id):
        device = _keyed(secret, "checkin-device", device_id or "")
    else:
        device = client_hash(secret, net, user_agent)
    return Client(device=device, address=_keyed(secret, "checkin-address", net))


def new_submission() -> str:
    """A one-time token for a check-in form (rendered with the page)."""
    return secrets.token_urlsafe(16)


# -- what ---------------------------------------------------------------------------------------


def parse(kind: str, facility: str | None) -> tuple[str, str | None]:
    """The check-in kind and (for 'broken') the facility; CheckinRefused when unusable. A
    'broken' report must name what is broken: "设施坏了" alone sends staff out not knowing what
    to bring."""
    key = KINDS.parse(kind or "")
    if key is None:
        raise CheckinRefused(f"kind must be one of {', '.join(KINDS.keys())}", field="kind")
    if key != "broken":
        return key, None
    if not facility:
        raise CheckinRefused("say which facility is broken", field="facility")
    fac = FACILITIES.parse(facility)
    if fac is None:
        raise CheckinRefused(f"unknown facility {facility[:30]!r}", field="facility")
    return key, fac


def parse_submission(text: str | None) -> str | None:
    """The form's submission token, or None without one (a page older than tokens);
    CheckinRefused when it is not one we could have made."""
    if not text:
        return None
    if not _SUBMISSION.fullmatch(text):
        raise CheckinRefused(
            "submission must be 16 to 64 letters, digits, '-' or '_'", field="submission"
        )
    return text


# -- how often ----------------------------------------------------------------------------------


def _since(now: datetime, window: timedelta) -> str:
    return (now - window).isoformat(timespec="seconds")


def check_rate(store: "CheckinStore", client: Client, station_id: int, now: datetime) -> None:
    """Refuse a check-in that comes too soon after the device's or the address's last ones."""
    if store.checkins_since(client.device, _since(now, PER_STATION_WINDOW), station_id):
        raise CheckinRefused(
            "you reported on this station a moment ago; thank you",
            int(PER_STATION_WINDOW.total_seconds()),
            reason="station",
        )
    limit, window = PER_DEVICE_LIMIT
    if store.checkins_since(client.device, _since(now, window)) >= limit:
        raise CheckinRefused(
            "too many reports from this device; try again later",
            int(window.total_seconds()),
            reason="device",
        )
    limit, window = PER_ADDRESS_LIMIT
    if store.address_checkins_since(client.address, _since(now, window)) >= limit:
        raise CheckinRefused(
            "too many reports from this network; try again later",
            int(window.total_seconds()),
            reason="address",
        )


# -- when a report warns ------------------------------------------------------------------------


def needs_corroboration(station: Station, kind: str, now: datetime) -> bool:
    """Whether a report, on its own, must wait for a second device: a problem reported while
    the station is closed by its own opening hours ("locked" at 3 a.m. at a day station is
    most likely the hours, not a problem)."""
    return (
        kind not in POSITIVE
        and station.status == "open"
        and hours.state(station.opening_hours, now, (station.lat, station.lon)) == "closed"
    )


def record(
    store: "CheckinStore",
    client: Client,
    station: Station,
    kind: str,
    facility: str | None,
    now: datetime,
    submission: str | None = None,
) -> Recorded:
    """Record a check-in, unless it repeats a submission, in one write transaction: BEGIN
    IMMEDIATE serialises racing check-ins, so two taps at once cannot both pass the limits
    (and where the database does not serialise them, the store's unique (device, submission)
    turns the second copy of one submission into a repeat)."""
    station_id = stored_id(station)
    repeat = Recorded(id=None, repeat=True, pending=False)
    with store.transaction():
        if submission and store.submitted(client.device, submission):
            return repeat  # before the limits: the repeat of a report is not a second report
        check_rate(store, client, station_id, now)
        others: list[tuple[int, bool]] = []
        if kind not in POSITIVE:
            others = store.reports_by_others(
                station_id, kind, facility, client.device, _since(now, CORROBORATION_WINDOW)
            )
        pending = needs_corroboration(station, kind, now) and not others
        checkin_id = store.insert_checkin(
            station_id,
            kind,
            facility,
            client.device,
            now.isoformat(timespec="seconds"),
            kind in POSITIVE,
            address_hash=client.address,
            submission=submission,
            pending=pending,
        )
        if checkin_id is None:
            return repeat
        waiting = [report_id for report_id, is_pending in others if is_pending]
        if waiting:  # this device confirms what others reported while the station was closed
            store.corroborate_reports(waiting)
        return Recorded(id=checkin_id, repeat=False, pending=pending)


def warnings_for(
    store: "CheckinStore", station_ids: Iterable[int], now: datetime
) -> dict[int, list[ReportCount]]:
    """Open problem reports per station that warn workers (not those awaiting a second device),
    for workers to see before they go."""
    since = (now - WARNING_WINDOW).isoformat(timespec="seconds")
    return store.open_reports(station_ids, since)
