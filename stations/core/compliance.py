"""Compliance figures for staff (core: takes a store, no Flask): districts and due audits."""

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from stations.core import audits
from stations.core.checkins import Report
from stations.core.model import Station, stored_id
from stations.core.published import is_published

if TYPE_CHECKING:
    from stations.store.protocols import Store

OPEN = ("new", "acknowledged")


def open_report_counts(reports: Iterable[Report]) -> Counter[int]:
    """Open problem reports per station id."""
    return Counter(r.station_id for r in reports)


def _by_id(stations: Iterable[Station]) -> dict[int, Station]:
    """Stored stations by id, in their order."""
    return {stored_id(s): s for s in stations}


def district_table(
    store: "Store", region: str, moment: datetime, interval: timedelta
) -> list[dict]:
    """Per district: stations, audited in the interval, compliant, due, open and overdue
    reports, stations with expired items."""
    today = moment.date()
    stations = _by_id(store.stations_in_region(region, limit=10_000_000))
    latest = store.latest_audits(stations.keys())
    reports = store.reports(region, OPEN)
    expired = store.expired_items(stations.keys(), today.isoformat())
    open_by_station = open_report_counts(reports)
    rows: dict[str, dict] = {}
    for station_id, s in stations.items():
        row = rows.setdefault(
            s.adcode,
            {
                "adcode": s.adcode,
                "district": f"{s.city}{s.district}" if s.city != s.district else s.district,
                "stations": 0,
                "audited": 0,
                "compliant": 0,
                "due": 0,
                "open_reports": 0,
                "overdue_reports": 0,
                "expired": 0,
            },
        )
        row["stations"] += 1
        audit = latest.get(station_id)
        recent = audit is not None and date.fromisoformat(audit.visited_on) + interval > today
        row["audited"] += recent
        row["compliant"] += recent and audit is not None and audit.passed
        row["due"] += audits.is_due(
            audit.visited_on if audit else None, open_by_station[station_id], today, interval
        )
        row["expired"] += station_id in expired
    for r in reports:
        district = rows.get(r.adcode)
        if district:
            district["open_reports"] += 1
            district["overdue_reports"] += audits.overdue(r, moment)
    out = sorted(rows.values(), key=lambda r: r["adcode"])
    for row in out:
        row["audited_share"] = row["audited"] / row["stations"] if row["stations"] else 0
        row["compliance"] = row["compliant"] / row["audited"] if row["audited"] else None
    return out


def due_stations(store: "Store", region: str, today: date, interval: timedelta) -> list[dict]:
    """Published stations due for audit: never audited, too long ago, or with many open reports."""
    stations = _by_id(store.stations_in_region(region, limit=10_000_000))
    latest = store.latest_audits(stations.keys())
    open_reports = open_report_counts(store.reports(region, OPEN))
    rows = []
    for station_id, s in stations.items():
        if not is_published(s):
            continue
        last = latest.get(station_id)
        reports = open_reports[station_id]
        if audits.is_due(last.visited_on if last else None, reports, today, interval):
            rows.append({"s": s, "last": last, "reports": reports})
    return rows
