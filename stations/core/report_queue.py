"""The staff report queue: what a page of it asks for (search, filters, order, page) and what
it finds (pure). One reading of "overdue" for the queue, its filter and its order:
audits.overdue (not moved on for 72 hours)."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from stations.core import audits, checkins, hours
from stations.core.vocab import REPORT_STATES

if TYPE_CHECKING:
    from stations.core.checkins import Report
    from stations.store.protocols import AuditStore

OPEN = ("new", "acknowledged")
HANDLED = ("resolved", "rejected")
STATES = ("open", "all", *REPORT_STATES.keys())  # 'open': new and acknowledged
SORTS = ("overdue", "newest", "oldest")
PAGE_SIZE = 20
MAX_QUERY = 50


class BadQuery(ValueError):
    """A queue address no form of ours makes: which parameter, and what it may be."""

    def __init__(self, field: str, allowed: str):
        self.field = field
        self.allowed = allowed
        super().__init__(f"{field}: {allowed}")


@dataclass(frozen=True)
class Query:
    q: str = ""
    kind: str = ""  # '' for every kind
    state: str = "open"
    district: str = ""  # an adcode, '' for every district
    overdue: bool = False
    sort: str = "overdue"
    page: int = 1

    def statuses(self) -> tuple[str, ...]:
        if self.state == "open":
            return OPEN
        if self.state == "all":
            return OPEN + HANDLED
        return (self.state,)

    def args(self, **changes) -> dict[str, str | int]:
        """The address parameters of this query (with changes), defaults left out."""
        chosen = replace(self, **changes)
        default = Query()
        return {
            k: (int(v) if isinstance(v, bool) else v)
            for k, v in vars(chosen).items()
            if v != getattr(default, k)
        }


def parse(args: Mapping[str, str]) -> Query:
    """The query a queue address asks for; BadQuery for a value none of our forms sends."""
    q = (args.get("q") or "").strip()[:MAX_QUERY]
    kind = args.get("kind") or ""
    if kind and kind not in checkins.KINDS.keys() or kind == "ok":
        raise BadQuery("kind", ", ".join(k for k in checkins.KINDS.keys() if k != "ok"))
    state = args.get("state") or "open"
    if state not in STATES:
        raise BadQuery("state", ", ".join(STATES))
    district = args.get("district") or ""
    if district and not (district.isascii() and district.isdigit() and len(district) == 6):
        raise BadQuery("district", "a six-digit area code")
    overdue = args.get("overdue") or ""
    if overdue not in ("", "0", "1"):
        raise BadQuery("overdue", "1 or 0")
    sort = args.get("sort") or "overdue"
    if sort not in SORTS:
        raise BadQuery("sort", ", ".join(SORTS))
    given = args.get("page") or "1"
    # ASCII digits, few enough for the database: page=18446744073709551616 overflowed SQLite
    if not (given.isascii() and given.isdigit() and len(given) <= 7) or int(given) < 1:
        raise BadQuery("page", "a whole number from 1")
    page = int(given)
    return Query(q, kind, state, district, overdue == "1", sort, page)


@dataclass(frozen=True)
class QueuePage:
    query: Query
    reports: list["Report"]
    total: int
    pages: int
    overdue: set[int] = field(default_factory=set)  # ids of the overdue reports shown

    @property
    def first(self) -> int:
        """The position of the page's first report (1-based), 0 on an empty page."""
        return (self.query.page - 1) * PAGE_SIZE + 1 if self.reports else 0

    @property
    def last(self) -> int:
        return self.first + len(self.reports) - 1 if self.reports else 0


def find(
    store: "AuditStore", region: str, query: Query, now: datetime, size: int = PAGE_SIZE
) -> QueuePage:
    """A page of the region's reports as the query asks; a page past the end is the last."""

    def fetch(page: int) -> tuple[list["Report"], int]:
        return store.find_reports(
            region,
            statuses=query.statuses(),
            kinds=(query.kind,) if query.kind else (),
            adcode=query.district,
            q=query.q,
            stale_before=(
                (now - audits.OVERDUE_AFTER).astimezone(hours.TZ).isoformat(timespec="seconds")
                if query.overdue
                else None
            ),
            order=query.sort,
            limit=size,
            offset=(page - 1) * size,
        )

    rows, total = fetch(query.page)
    pages = max(1, -(-total // size))
    if query.page > pages:
        query = replace(query, page=pages)
        rows, total = fetch(pages)
    return QueuePage(
        query=query,
        reports=rows,
        total=total,
        pages=pages,
        overdue={r.id for r in rows if audits.overdue(r, now)},
    )
