"""Rows as the core's records, for every store: a row is a mapping of column names to values,
whichever database it came from, so both stores hand back identical records."""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from stations.core import demand
from stations.core.accounts import ApiKey, User
from stations.core.audits import Audit, AuditItem
from stations.core.counts import CityExtent
from stations.core.demand import DemandLayer, SearchCell
from stations.core.editing import Change
from stations.core.geo import BBox
from stations.core.import_jobs import ImportJob

Row = Mapping[str, Any]


def user(row: Row) -> User:
    return User(row["id"], row["name"], row["role"], row["region"], row["disabled_at"])


def _fields(value: Any) -> dict[str, Any] | None:
    """History's before/after: JSON text (SQLite) or already decoded (PostgreSQL's json)."""
    return json.loads(value) if isinstance(value, str) else value


def change_values(
    station_id: int,
    user: User | None,
    at: str,
    action: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> list[Any]:
    """A history row's values, in station_changes' column order after its id: the changed
    fields as JSON text, which PostgreSQL's json column keeps verbatim (its keys in order)."""

    def text(fields: Mapping[str, Any] | None) -> str | None:
        return json.dumps(fields, ensure_ascii=False) if fields is not None else None

    actor = user.name if user else "command line"
    return [station_id, user.id if user else None, actor, at, action, text(before), text(after)]


def change(row: Row) -> Change:
    return Change(
        id=row["id"],
        station_id=row["station_id"],
        user_id=row["user_id"],
        actor=row["actor"],
        at=row["at"],
        action=row["action"],
        before=_fields(row["before"]) if row["before"] else None,
        after=_fields(row["after"]) if row["after"] else None,
    )


def audit(row: Row) -> Audit:
    return Audit(
        id=row["id"],
        station_id=row["station_id"],
        user_id=row["user_id"],
        auditor=row["auditor"],
        profile=row["profile"],
        visited_on=row["visited_on"],
        visit_kind=row["visit_kind"],
        score=row["score"],
        passed=bool(row["passed"]),  # SQLite keeps 0/1
        created_at=row["created_at"],
    )


def audit_item(row: Row) -> AuditItem:
    return AuditItem(row["item"], row["result"], row["note"], row["valid_until"], row["photo"])


def api_key(row: Row) -> ApiKey:
    return ApiKey(row["id"], row["partner"], row["region"], row["created_at"], row["revoked_at"])


def job_update(mark: str, job_id: int, now: str, fields: dict[str, Any]) -> tuple[str, list]:
    """The UPDATE (with `mark` as its placeholder) and its values that set an import job's
    heartbeat to now and each of the fields (phase, done, total, message, result) not None;
    the others are set once, when the job starts."""
    sets = {k: v for k, v in fields.items() if v is not None}
    columns = "".join(f", {k} = {mark}" for k in sets)
    sql = f"update import_jobs set heartbeat_at = {mark}{columns} where id = {mark}"
    return sql, [now, *sets.values(), job_id]


def import_job(row: Row) -> ImportJob:
    return ImportJob(
        id=row["id"],
        owner_id=row["owner_id"],
        region=row["region"],
        file_name=row["file_name"],
        apply=bool(row["apply"]),
        phase=row["phase"],
        done=row["done"],
        total=row["total"],
        started_at=row["started_at"],
        heartbeat_at=row["heartbeat_at"],
        message=row["message"],
        result=json.loads(row["result"] or "{}"),
    )


def search_cells(rows: Iterable[Row], box: BBox) -> list[SearchCell]:
    """Summed search-log rows as cells, those whose centre lies in the box (rows come by a
    row range; the box's longitudes are checked here, per row's own cell width)."""
    cells = (
        SearchCell(r["cell_row"], r["cell_col"], int(r["searches"]), int(r["unmet"])) for r in rows
    )
    return [c for c in cells if demand.centre_in(box, c.row, c.col)]


def demand_layer(row: Row) -> DemandLayer:
    return DemandLayer(
        row["name"],
        row["kind"],
        int(row["points"]),
        float(row["total_weight"]),
        row["imported_at"],
        bool(row["fictitious"]),
    )


# The search log's cells in a range of rows since a day, with enough searches: the same SQL for
# both stores but for the placeholder.
SEARCH_CELLS_SQL = """
    select cell_row, cell_col, sum(searches) as searches, sum(unmet) as unmet
    from search_cells
    where cell_row between {p} and {p} and day >= {p}
    group by cell_row, cell_col
    having sum(searches) >= {p}
    order by cell_row, cell_col
"""
LAYERS_SQL = """
    select name, kind, points, total_weight, imported_at, fictitious
    from demand_layers order by name
"""


# The city picker's extents, in both stores: one row per (4-digit prefix, city name).
CITY_EXTENTS_SQL = """
    select substr(adcode, 1, 4) as adcode, province, city, count(*) as stations,
           avg(lat) as lat, avg(lon) as lon, min(lat) as south, min(lon) as west,
           max(lat) as north, max(lon) as east
    from stations where {published} and adcode like {region}
    group by substr(adcode, 1, 4), province, city order by 1, city
"""


def city_extent(row: Row) -> CityExtent:
    return CityExtent(
        adcode=row["adcode"],
        province=row["province"],
        city=row["city"],
        stations=int(row["stations"]),
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        south=float(row["south"]),
        west=float(row["west"]),
        north=float(row["north"]),
        east=float(row["east"]),
    )


def like_contains(text: str) -> str:
    """A LIKE pattern matching text anywhere, its wildcards taken literally (ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# The staff report queue's orders, in both stores: newest, oldest, and the longest waiting
# open reports first (the overdue ones), then the handled ones, newest first.
REPORT_ORDERS = {
    "newest": "c.created_at desc, c.id desc",
    "oldest": "c.created_at, c.id",
    "overdue": (
        "case when c.status in ('new', 'acknowledged') then 0 else 1 end,"
        " case when c.status in ('new', 'acknowledged') then coalesce(c.status_at, c.created_at) end,"
        " c.created_at desc, c.id"
    ),
}


# A check-in, in both stores: a repeat of (client, submission) inserts nothing.
CHECKIN_INSERT = """
    insert into checkins (station_id, kind, facility, client_hash, created_at, status,
                          address_hash, submission, pending)
    values ({marks}) on conflict (client_hash, submission) do nothing
"""


def checkin_values(
    station_id: int,
    kind: str,
    facility: str | None,
    client_hash: str,
    now: str,
    verified: bool,
    address_hash: str,
    submission: str | None,
    pending: bool,
) -> list[Any]:
    """CHECKIN_INSERT's values: a positive check-in is resolved as it is made."""
    status = "resolved" if verified else "new"
    return [station_id, kind, facility, client_hash, now, status, address_hash, submission, pending]


def report_where(
    mark: str,
    like_op: str,
    region: str,
    statuses,
    kinds=(),
    adcode: str = "",
    q: str = "",
    stale_before: str | None = None,
) -> tuple[str, list]:
    """The report queue's WHERE condition (checkins c joined to stations s) and its parameters
    in a store's placeholder (mark) and case-insensitive LIKE: the region's problem reports in
    these statuses, of these kinds and district if given, the station's name or code containing
    q, and with stale_before only open ones not moved on since then."""

    def marks(n: int) -> str:
        return ", ".join([mark] * n)

    where = [f"s.adcode like {mark}", "c.kind != 'ok'", f"c.status in ({marks(len(statuses))})"]
    params: list = [region + "%", *statuses]
    if kinds:
        where.append(f"c.kind in ({marks(len(kinds))})")
        params.extend(kinds)
    if adcode:
        where.append(f"s.adcode = {mark}")
        params.append(adcode)
    if q:
        where.append(
            f"(s.name {like_op} {mark} escape '\\' or s.code {like_op} {mark} escape '\\')"
        )
        params += [like_contains(q)] * 2
    if stale_before is not None:
        where.append(
            f"c.status in ('new', 'acknowledged') and coalesce(c.status_at, c.created_at) <= {mark}"
        )
        params.append(stale_before)
    return " and ".join(where), params
