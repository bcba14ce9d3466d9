"""Staff lists and exports (pure): paging, the due list's sorting and filters, and the tables
the district and audit exports write, labelled in the reader's language.

Every key in an export goes through its vocabulary (`labels`); dates stay real dates (a
`datetime.date`, which XLSX writes as a date cell and CSV as YYYY-MM-DD) because a
spreadsheet sorts and filters by them.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from stations.core import labels
from stations.core.compliance import DistrictFigures, Figures, StationFigures, percent
from stations.core.standards import Profile
from stations.core.vocab import Term, Vocabulary

PER_PAGE = 50
# How the stations list may be sorted (the store maps each to its ORDER BY).
STATION_SORTS = ("name", "code", "district", "verified", "status")
# How the due list may be sorted; last_audit first: never audited, then the oldest audit.
DUE_SORTS = ("last_audit", "district", "reports", "name")


@dataclass(frozen=True)
class Page:
    """Page `number` of `pages` (1-based; at least one page, even when empty)."""

    number: int
    pages: int
    total: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page


def page_of(total: int, requested: int, per_page: int = PER_PAGE) -> Page:
    """The page to show: a page past the end is the last page, below 1 the first."""
    pages = max(1, -(-total // per_page))
    return Page(min(max(1, requested), pages), pages, total, per_page)


# -- the due list ------------------------------------------------------------------------------


def _due_key(sort: str):
    """The primary sort key (ties go by station code, whatever the direction)."""
    if sort == "last_audit":  # never audited first, then the oldest visit
        return lambda f: (f.last_audit is not None, f.last_audit.visited_on if f.last_audit else "")
    if sort == "district":
        return lambda f: (f.station.adcode, f.station.name)
    if sort == "reports":
        return lambda f: f.open_reports
    if sort == "name":
        return lambda f: f.station.name
    raise ValueError(f"unknown sort {sort!r}")


def due_list(
    figures: Figures, *, adcode: str = "", sort: str = "last_audit", descending: bool = False
) -> list[StationFigures]:
    """The stations due for audit (exactly those the districts' "due" counts), in one district
    if adcode is given, sorted by one of DUE_SORTS."""
    key = _due_key(sort)
    rows = sorted(
        (f for f in figures.due if not adcode or f.station.adcode == adcode),
        key=lambda f: f.station.code,
    )
    return sorted(rows, key=key, reverse=descending)  # stable: ties keep the code order


# -- exports -----------------------------------------------------------------------------------

DISTRICT_COLUMNS = Vocabulary(
    "district_column",
    (
        Term("adcode", "行政区划代码", "Division code"),
        Term("district", "区县", "District"),
        Term("stations", "站点数", "Stations"),
        Term("audited_share", "周期内已核查比例 (%)", "Audited this cycle (%)"),
        Term("compliance", "达标率 (%)", "Compliance (%)"),
        Term("due", "待核查", "Due for audit"),
        Term("open_reports", "未处理反馈", "Open reports"),
        Term("overdue_reports", "超期反馈", "Overdue reports"),
        Term("expired", "物品过期站点", "Stations with expired items"),
    ),
)
TOTAL = Term("total", "合计", "Total")


def district_headers(lang: str = "zh") -> list[str]:
    return [DISTRICT_COLUMNS.label(k, lang) for k in DISTRICT_COLUMNS.keys()]


def district_cells(row: DistrictFigures) -> list[Any]:
    """One district's figures in DISTRICT_COLUMNS order; shares as whole percentages, '' when
    there is nothing to divide by."""
    share, compliance = percent(row.audited_share), percent(row.compliance)
    return [
        row.adcode,
        row.district,
        row.stations,
        "" if share is None else share,
        "" if compliance is None else compliance,
        row.due,
        row.open_reports,
        row.overdue_reports,
        row.expired,
    ]


def district_table(figures: Figures, lang: str = "zh") -> tuple[list[str], list[list[Any]]]:
    """The district export: a row per district, then the total."""
    rows = [district_cells(r) for r in figures.districts]
    total = district_cells(figures.total)
    total[0], total[1] = "", TOTAL.label(lang)
    return district_headers(lang), rows + [total]


AUDIT_COLUMNS = Vocabulary(
    "audit_column",
    (
        Term("code", "站点编号", "Station code"),
        Term("name", "站点名称", "Station name"),
        Term("district", "区县", "District"),
        Term("profile", "标准", "Standard"),
        Term("visited_on", "核查日期", "Visit date"),
        Term("visit_kind", "方式", "Visit kind"),
        Term("auditor", "核查员", "Auditor"),
        Term("score", "得分 (%)", "Score (%)"),
        Term("passed", "结论", "Outcome"),
        Term("item", "项目", "Item"),
        Term("result", "结果", "Result"),
        Term("note", "说明", "Note"),
        Term("valid_until", "有效期至", "Valid until"),
    ),
)
OUTCOMES = Vocabulary(
    "audit_outcome", (Term("passed", "达标", "Passed"), Term("failed", "未达标", "Not passed"))
)


def _date(value: str | None) -> date | str:
    if not value:
        return ""
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return value


def audit_table(
    rows: Iterable[Mapping[str, Any]], profiles: Mapping[str, Profile], lang: str = "zh"
) -> tuple[list[str], list[list[Any]]]:
    """The audit export: one row per audit item (as `AuditStore.audit_rows` gives them)."""
    out = []
    for r in rows:
        profile = profiles.get(r["profile"])
        items = {i.key: (i.zh if lang == "zh" else i.en) for i in profile.items} if profile else {}
        out.append(
            [
                r["code"],
                r["name"],
                r["district"],
                (profile.zh if lang == "zh" else profile.en) if profile else r["profile"],
                _date(r["visited_on"]),
                labels.label("visit_kind", r["visit_kind"], lang),
                r["auditor"],
                percent(r["score"]),
                OUTCOMES.label("passed" if r["passed"] else "failed", lang),
                items.get(r["item"], r["item"]),
                labels.label("result", r["result"], lang),
                r["note"],
                _date(r["valid_until"]),
            ]
        )
    return [AUDIT_COLUMNS.label(k, lang) for k in AUDIT_COLUMNS.keys()], out
