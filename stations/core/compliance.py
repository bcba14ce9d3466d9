"""Compliance figures for staff (core: takes a store, no Flask): one definition of each figure,
used by the dashboard, the due list and the district export alike.

Which stations each figure counts:

- stations, audited share, compliance, due, expired items: published stations only (open or
  temporarily closed, `published.is_published`). A planned station cannot be audited yet and a
  closed one no longer needs it; counting them made the dashboard's "due" column disagree with
  the due list.
- open reports, overdue reports: every open problem report (new or acknowledged) on any
  station of the district, as the report queue lists them: a report on a station closed since
  still waits for an answer.

Per station (published), against `moment` and the audit interval:

- audited: its latest audit was visited less than `interval` ago;
- compliant: audited, and that latest audit passed;
- due: `audits.is_due` (never audited, audited `interval` or longer ago, or with
  `audits.DUE_AFTER_REPORTS` or more open reports);
- expired: an item of its latest audit is past its use-by date (`valid_until` before today).

Per district: the counts of those; audited share = audited / stations; compliance = compliant
/ audited (None when nothing was audited: no audit is not 0 %).
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from stations.core import audits
from stations.core.audits import Audit
from stations.core.checkins import Report
from stations.core.model import Station, stored_id
from stations.core.published import is_published

if TYPE_CHECKING:
    from stations.store.protocols import Store

OPEN = ("new", "acknowledged")


@dataclass(frozen=True)
class StationFigures:
    """One published station's part in the figures."""

    station: Station
    last_audit: Audit | None
    open_reports: int
    audited: bool
    compliant: bool
    due: bool
    expired: bool


@dataclass
class DistrictFigures:
    """The figures of one district (or of the whole region, for the total row)."""

    adcode: str
    district: str
    stations: int = 0
    audited: int = 0
    compliant: int = 0
    due: int = 0
    open_reports: int = 0
    overdue_reports: int = 0
    expired: int = 0

    @property
    def audited_share(self) -> float | None:
        """Audited within the interval / stations; None without stations."""
        return self.audited / self.stations if self.stations else None

    @property
    def compliance(self) -> float | None:
        """Passed / audited within the interval; None when none was audited."""
        return self.compliant / self.audited if self.audited else None

    def add(self, other: "DistrictFigures") -> None:
        for name in (
            "stations",
            "audited",
            "compliant",
            "due",
            "open_reports",
            "overdue_reports",
            "expired",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class Figures:
    """The region's figures: per published station, per district and in total."""

    stations: list[StationFigures]
    districts: list[DistrictFigures]
    total: DistrictFigures
    today: date

    @property
    def due(self) -> list[StationFigures]:
        """The due list: exactly the stations the districts' "due" counts."""
        return [s for s in self.stations if s.due]


def percent(share: float | None) -> int | None:
    """A share as a whole percentage (half up), as the dashboard and the exports show it."""
    if share is None:
        return None
    return int(share * 100 + 0.5)


def district_name(s: Station) -> str:
    """'西宁市城中区' (the city only where the district is not itself the city's name)."""
    return f"{s.city}{s.district}" if s.city != s.district else s.district


def open_report_counts(reports: Iterable[Report]) -> Counter[int]:
    """Open problem reports per station id."""
    return Counter(r.station_id for r in reports)


def figures(store: "Store", region: str, moment: datetime, interval: timedelta) -> Figures:
    """Every figure of a region at a moment (see the module's docstring for the definitions)."""
    today = moment.date()
    everything = store.stations_in_region(region, limit=10_000_000)
    counted = {stored_id(s): s for s in everything if is_published(s)}
    latest = store.latest_audits(counted.keys())
    reports = store.reports(region, OPEN)
    expired = store.expired_items(counted.keys(), today.isoformat())
    open_by_station = open_report_counts(reports)

    per_station = []
    for station_id, s in counted.items():
        audit = latest.get(station_id)
        audited = audit is not None and date.fromisoformat(audit.visited_on) + interval > today
        per_station.append(
            StationFigures(
                station=s,
                last_audit=audit,
                open_reports=open_by_station[station_id],
                audited=audited,
                compliant=audited and audit is not None and audit.passed,
                due=audits.is_due(
                    audit.visited_on if audit else None,
                    open_by_station[station_id],
                    today,
                    interval,
                ),
                expired=station_id in expired,
            )
        )

    names = {s.adcode: district_name(s) for s in everything}
    rows: dict[str, DistrictFigures] = {}

    def row(adcode: str, name: str) -> DistrictFigures:
        return rows.setdefault(adcode, DistrictFigures(adcode, name))

    for f in per_station:
        r = row(f.station.adcode, names[f.station.adcode])
        r.stations += 1
        r.audited += f.audited
        r.compliant += f.compliant
        r.due += f.due
        r.expired += f.expired
    for report in reports:
        r = row(report.adcode, names.get(report.adcode, report.district))
        r.open_reports += 1
        r.overdue_reports += audits.overdue(report, moment)

    districts = sorted(rows.values(), key=lambda r: r.adcode)
    total = DistrictFigures(region, "")
    for r in districts:
        total.add(r)
    return Figures(per_station, districts, total, today)
