"""Compliance figures for staff (core: takes a store, no Flask): districts and due audits."""

from collections import Counter
from datetime import date, datetime, timedelta

from stations.core import audits
from stations.core.published import is_published

OPEN = ("new", "acknowledged")


def open_report_counts(reports: list[dict]) -> Counter:
    """Open problem reports per station id."""
    return Counter(r["station_id"] for r in reports)


def district_table(store, region: str, moment: datetime, interval: timedelta) -> list[dict]:
    """Per district: stations, audited in the interval, compliant, due, open and overdue
    reports, stations with expired items."""
    today = moment.date()
    stations = store.stations_in_region(region, limit=10_000_000)
    ids = [s.id for s in stations]
    latest = store.latest_audits(ids)
    reports = store.reports(region, OPEN)
    expired = store.expired_items(ids, today.isoformat())
    open_by_station = open_report_counts(reports)
    rows: dict[str, dict] = {}
    for s in stations:
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
        audit = latest.get(s.id)
        recent = audit and date.fromisoformat(audit["visited_on"]) + interval > today
        row["audited"] += bool(recent)
        row["compliant"] += bool(recent and audit["passed"])
        row["due"] += audits.is_due(
            audit["visited_on"] if audit else None, open_by_station[s.id], today, interval
        )
        row["expired"] += s.id in expired
    for r in reports:
        row = rows.get(r["adcode"])
        if row:
            row["open_reports"] += 1
            row["overdue_reports"] += audits.overdue(r, moment)
    out = sorted(rows.values(), key=lambda r: r["adcode"])
    for row in out:
        row["audited_share"] = row["audited"] / row["stations"] if row["stations"] else 0
        row["compliance"] = row["compliant"] / row["audited"] if row["audited"] else None
    return out


def due_stations(store, region: str, today: date, interval: timedelta) -> list[dict]:
    """Published stations due for audit: never audited, too long ago, or with many open reports."""
    stations = store.stations_in_region(region, limit=10_000_000)
    latest = store.latest_audits([s.id for s in stations])
    open_reports = open_report_counts(store.reports(region, OPEN))
    rows = []
    for s in stations:
        if not is_published(s):
            continue
        last = latest.get(s.id)
        if audits.is_due(last["visited_on"] if last else None, open_reports[s.id], today, interval):
            rows.append({"s": s, "last": last, "reports": open_reports[s.id]})
    return rows
