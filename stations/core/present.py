"""What the public sees of a station: an allow-list of fields plus live state (pure).

Staff-only fields (manager name and phone) are never copied here, whatever the Station holds.
"""

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from functools import lru_cache
from typing import Any

from stations.core import hours, navigation
from stations.core.audits import Audit, AuditItem
from stations.core.checkins import ReportCount
from stations.core.model import Station

PUBLIC_FIELDS = (
    "code",
    "name",
    "address",
    "adcode",
    "province",
    "city",
    "district",
    "host_type",
    "brand",
    "opening_hours",
    "entry_method",
    "status",
    "closed_until",
    "verified_at",
    "updated_at",
)


@lru_cache(maxsize=8192)
def _navigation(lat: float, lon: float, name: str, address: str, adcode: str) -> dict[str, str]:
    # Pure in its arguments, and building five URLs costs more than ranking the stations.
    return navigation.links(lat, lon, name, address, adcode)


def live_state(station: Station, now: datetime) -> dict:
    """open_now (True/False/None when unknown), and when that next changes."""
    if station.status != "open":
        reopens = None
        if station.status == "temporarily_closed" and station.closed_until:
            reopens = f"{station.closed_until}T00:00:00+08:00"
        return {"open_now": False, "opens_next": reopens, "closes_at": None}
    position = (station.lat, station.lon)
    state = hours.state(station.opening_hours, now, position)
    change = hours.next_change(station.opening_hours, now, position) if state != "unknown" else None
    change_text = change.isoformat(timespec="minutes") if change else None
    return {
        "open_now": {"open": True, "closed": False}.get(state),
        "opens_next": change_text if state == "closed" else None,
        "closes_at": change_text if state == "open" else None,
    }


def properties(
    station: Station, *, now: datetime, url: str, warnings: Iterable[dict] = ()
) -> dict[str, Any]:
    props: dict[str, Any] = {"id": station.id}
    props.update({f: getattr(station, f) for f in PUBLIC_FIELDS})
    props["facilities"] = list(station.facilities)
    props["hours_text"] = {
        "zh": hours.describe(station.opening_hours, "zh"),
        "en": hours.describe(station.opening_hours, "en"),
    }
    props.update(live_state(station, now))
    props["url"] = url
    props["navigation"] = dict(
        _navigation(station.lat, station.lon, station.name, station.address, station.adcode)
    )
    props["warnings"] = list(warnings)
    return props


def audit_badge(audit: Audit | None) -> dict | None:
    """What workers see of the latest audit: the standard, the verdict and the date."""
    if not audit:
        return None
    from stations.core.standards import profiles

    profile = profiles().get(audit.profile)
    return {
        "profile": audit.profile,
        "profile_zh": profile.zh if profile else audit.profile,
        "profile_en": profile.en if profile else audit.profile,
        "passed": audit.passed,
        "visited_on": audit.visited_on,
    }


def expired_warnings(items: Iterable[AuditItem]) -> list[dict]:
    """Audit items past their use-by date (medicines), as warnings for workers."""
    return [{"kind": "expired", "item": i.item, "valid_until": i.valid_until} for i in items]


def report_warnings(counts: Iterable[ReportCount]) -> list[dict]:
    """Open problem reports (kind, facility, count, last_at), as warnings for workers."""
    return [asdict(c) for c in counts]


def median_hours(pairs: list[tuple[str, str]]) -> float | None:
    """Median hours from report to resolution, or None without resolved reports."""
    from datetime import datetime
    from statistics import median

    spans = [
        (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 3600
        for a, b in pairs
        if b
    ]
    return round(median(spans), 1) if spans else None


def feature(station: Station, props: dict) -> dict:
    return {
        "type": "Feature",
        "id": station.id,
        "geometry": {"type": "Point", "coordinates": [station.lon, station.lat]},  # x is longitude
        "properties": props,
    }
