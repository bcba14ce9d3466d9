"""The staff station list's filters and orders, for every store: both speak the same SQL here
(text collates as bytes in both), so both page the same stations in the same order."""

from stations.core.staff_tables import STATION_SORTS
from stations.core.vocab import STATUSES

MAX_PAGE = 500  # stations per page at most


def like(q: str) -> str:
    """A LIKE pattern matching q anywhere, its own % and _ taken literally (escape '\\')."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def order_by(sort: str, descending: bool) -> str:
    """ORDER BY for one of STATION_SORTS; ties by code, so pages never overlap. Never-verified
    stations count as the oldest: first going up, last going down."""
    if sort not in STATION_SORTS:
        raise ValueError(f"unknown sort {sort!r}; use one of {', '.join(STATION_SORTS)}")
    way = " desc" if descending else ""
    if sort == "verified":
        nulls = "(verified_at is null)" if descending else "(verified_at is not null)"
        return f"{nulls}, verified_at{way}, code"
    if sort == "status":
        cases = " ".join(f"when '{k}' then {n}" for n, k in enumerate(STATUSES.keys()))
        return f"case status {cases} end{way}, code"
    column = {"name": "name", "code": "code", "district": "adcode"}[sort]
    return f"{column}{way}" + ("" if column == "code" else ", code")


def check_page(offset: int, limit: int) -> None:
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"offset must be 0 or more and limit 1 to {MAX_PAGE}")


_SEARCHED = ("name", "code", "address", "city", "district")


def page_where(q: str, status: str, adcode: str, region: str, mark: str, like_op: str):
    """The WHERE clause of a station page and its parameters, in a store's placeholder (mark:
    '?' or '%s') and case-insensitive LIKE (SQLite's LIKE, PostgreSQL's ILIKE on "C" text):
    the region, an optional status and district, q anywhere in the searched columns."""
    found = " or ".join(f"{c} {like_op} {mark} escape '\\'" for c in _SEARCHED)
    where = (
        f"where adcode like {mark} and ({mark} = '' or status = {mark})"
        f" and ({mark} = '' or adcode = {mark}) and ({mark} = '' or {found})"
    )
    params = [region + "%", status, status, adcode, adcode, q, *[like(q)] * len(_SEARCHED)]
    return where, params
