"""Staff changes to stations: one path for the web form, the API and anything else.

Each change runs in one BEGIN IMMEDIATE transaction: read, check region scope, check the
version the editor saw (optimistic concurrency), validate, write, append to the history. A
plain read-then-write without this lost most updates under concurrency in a probe.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stations.core.accounts import User, require_write
from stations.core.model import FieldError, Invalid, Station, diff, validate

if TYPE_CHECKING:
    from stations.store.protocols import StationStore

# Fields a person may set. Anything else in a body (id, version, verified, is_admin, …) is refused.
EDITABLE = (
    "name",
    "address",
    "adcode",
    "host_type",
    "brand",
    "lat",
    "lon",
    "crs",
    "opening_hours",
    "facilities",
    "entry_method",
    "status",
    "closed_until",
    "manager_name",
    "manager_phone",
)
CREATE_ONLY = ("code",)


@dataclass(frozen=True)
class Change:
    """One entry of a station's history: who changed what, the old and the new values."""

    id: int
    station_id: int
    user_id: int | None  # None: the command line
    actor: str
    at: str
    action: str  # create | update | import | confirm
    before: dict[str, Any] | None  # the changed fields' old values (None when created)
    after: dict[str, Any] | None


class NotFound(LookupError):
    pass


class Conflict(Exception):
    """The station changed since the editor loaded it: who changed it and when."""

    def __init__(self, current: Station, last_change: Change | None):
        self.current = current
        self.last_change = last_change
        who = last_change.actor if last_change else "someone"
        when = last_change.at if last_change else current.updated_at
        super().__init__(
            f"changed by {who} at {when}; review the current version and apply your change again"
        )


def allowed(data: dict, creating: bool = False) -> dict:
    """data reduced to editable fields; Invalid if it holds any other."""
    fields = EDITABLE + (CREATE_ONLY if creating else ())
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise Invalid([FieldError(k, "cannot be set here", "not_editable") for k in unknown])
    return dict(data)


def _stamp(now: datetime) -> str:
    return now.isoformat(timespec="seconds")


def _record(station: Station) -> dict:
    record = station.content()
    record["crs"] = "wgs84"
    return record


def _stored(store: "StationStore", station_id: int) -> Station:
    found = store.get(station_id)
    if found is None:
        raise NotFound(f"no station {station_id}")
    return found


def create(store: "StationStore", user: User, data: dict, now: datetime) -> Station:
    data = allowed(data, creating=True)
    station = validate(data, now=now)
    require_write(user, station.adcode)
    with store.transaction():
        if store.get_by_code(station.code):
            raise Invalid(
                [
                    FieldError(
                        "code",
                        f"{station.code} is already used by another station",
                        "code_taken",
                        {"value": station.code},
                    )
                ]
            )
        station_id = store.insert_station(station, _stamp(now))
        store.add_change(station_id, user, _stamp(now), "create", None, station.content())
    return _stored(store, station_id)


def update(
    store: "StationStore",
    user: User,
    station_id: int,
    data: dict,
    expected_version: int,
    now: datetime,
) -> Station:
    """Apply changes to a station last seen at expected_version."""
    data = allowed(data)
    with store.transaction():
        current = store.get(station_id)
        if current is None:
            raise NotFound(f"no station {station_id}")
        require_write(user, current.adcode)
        if current.version != expected_version:
            raise Conflict(current, store.last_change(station_id))
        record = {**_record(current), **data}
        if "lat" in data or "lon" in data:
            record.setdefault("crs", "wgs84") if "crs" in data else record.update(crs="wgs84")
            if "adcode" not in data:
                record.pop("adcode")  # a moved station takes the district of its new place
        new = validate(record, now=now)
        require_write(user, new.adcode)  # no moving a station out of one's own region
        new = replace(new, id=current.id, created_at=current.created_at, version=current.version)
        before, after = diff(current, new)
        if not after:
            return current
        if not store.update_station(new, expected_version, _stamp(now)):
            raise Conflict(_stored(store, station_id), store.last_change(station_id))
        store.add_change(station_id, user, _stamp(now), "update", before, after)
    return _stored(store, station_id)


def confirm(store: "StationStore", user: User, station_id: int, now: datetime) -> Station:
    """Staff say the station's details are right as they stand: "last verified" becomes now
    (the version does not move: nothing in the record changed) and the history says who."""
    with store.transaction():
        current = store.get(station_id)
        if current is None:
            raise NotFound(f"no station {station_id}")
        require_write(user, current.adcode)
        stamp = _stamp(now)
        if store.set_verified(station_id, stamp):
            store.add_change(
                station_id,
                user,
                stamp,
                "confirm",
                {"verified_at": current.verified_at},
                {"verified_at": stamp},
            )
    return _stored(store, station_id)


def close(
    store: "StationStore", user: User, station_id: int, expected_version: int, now: datetime
) -> Station:
    return update(store, user, station_id, {"status": "closed"}, expected_version, now)
