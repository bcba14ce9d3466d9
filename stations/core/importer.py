"""Importing a station file: validate every row, then write all of it or none of it.

The import is planned first (read, validate, compare with the database) and applied in one
transaction only if no row is bad, so a bad file, a crash or a kill changes nothing. Rows are
upserted by `code`: columns present in the file replace the stored values, absent columns keep
them.
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from difflib import SequenceMatcher
from math import cos, radians
from pathlib import Path
from typing import TYPE_CHECKING

from pyproj import Geod

from stations.core import hours, readers
from stations.core.accounts import AccessDenied, User, require_write
from stations.core.geo import BBox
from stations.core.model import Invalid, Station, stored_id, validate
from stations.core.text import match_key

if TYPE_CHECKING:
    from stations.store.protocols import StationStore

NEAR_METRES = 10.0
TILE = 0.01  # degrees: the file-vs-database duplicate check asks the store once per tile
# The near-duplicate check is a courtesy, so it is bounded like everything a file can drive:
# a file of 200,000 rows on one spot would otherwise compare every pair (2 x 10^10 name
# comparisons) and list millions of warnings nobody reads (600 MB for a sheet of 10,000
# spots holding 20 stations each).
MAX_DUPLICATE_WARNINGS = 100
MAX_PAIRS_COMPARED = 500_000
_GEOD = Geod(ellps="WGS84")


class ImportRejected(ValueError):
    """The whole file was refused before any row was looked at."""


@dataclass(frozen=True)
class RowError:
    where: str  # "row 7" / "feature 3"
    column: str | None
    message: str

    def __str__(self) -> str:
        return (
            f"{self.where}, column {self.column}: {self.message}"
            if self.column
            else f"{self.where}: {self.message}"
        )


@dataclass
class ImportPlan:
    new: list[Station] = field(default_factory=list)
    changed: list[Station] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    previous: dict[int, Station] = field(
        default_factory=dict
    )  # stored versions of changed stations

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return f"{len(self.new)} new, {len(self.changed)} updated, {self.unchanged} unchanged"


def _record_from(existing: Station) -> dict:
    """An existing station as input, so a file's columns can be laid over it."""
    record = existing.content()
    record["crs"] = "wgs84"
    return record


def plan_import(
    store: "StationStore",
    path: str | Path,
    *,
    crs: str | None = None,
    now: datetime | None = None,
    progress=None,
    scope: User | None = None,
    progress_min: int = 1000,
) -> ImportPlan:
    """Read and check a file against the store; writes nothing.

    progress, if given, is called as progress(label, total) and returns a callable that is
    told how many more rows are done. scope, a staff User, limits the rows to stations in
    their region (a row outside it is an error like any other). Progress is reported only
    for files of more than progress_min rows.
    """
    try:
        table = readers.read(path)
    except readers.FileRejected as exc:
        raise ImportRejected(str(exc)) from None
    plan = ImportPlan()
    if table.ignored:
        plan.warnings.append(f"columns ignored (not station fields): {', '.join(table.ignored)}")
    plan.warnings += table.notes
    tick = (
        progress("Checking", len(table.rows))
        if progress and len(table.rows) > progress_min
        else None
    )
    codes = [str(r.record.get("code", "")).strip() for r in table.rows if r.record]
    existing = store.by_codes({c for c in codes if c})
    seen: dict[str, str] = {}
    valid: list[tuple[str, Station]] = []
    default_crs = crs or "wgs84"
    if crs and "crs" in table.headers:
        plan.warnings.append(
            f"the file's {table.headers['crs']} column overrides --crs where it is filled in"
        )
    # Each row is let go once it is checked (popped from the reversed list), so that at
    # 200,000 rows the file's rows and their stations are never all held at once.
    rows = table.rows
    any_rows = bool(rows)
    rows.reverse()
    while rows:
        row = rows.pop()
        if tick:
            tick(1)
        for p in row.problems:
            plan.errors.append(RowError(row.label, p.column, p.message))
        if row.problems:
            continue
        raw = row.record
        code = str(raw.get("code", "")).strip()
        base = existing.get(code)
        record = {**_record_from(base), **raw} if base else dict(raw)
        if base and ("lat" in raw or "lon" in raw) and "crs" not in raw:
            record["crs"] = default_crs
        if base and not ({"lat", "lon"} <= raw.keys()) and ({"lat", "lon"} & raw.keys()):
            plan.errors.append(RowError(row.label, None, "give both lat and lon, or neither"))
            continue
        try:
            station = validate(record, default_crs=default_crs, now=now)
        except Invalid as exc:
            for e in exc.errors:
                plan.errors.append(
                    RowError(row.label, row.headers.get(e.field, e.field), e.message)
                )
            continue
        except (OverflowError, RecursionError, TypeError, ArithmeticError):
            # a value beyond what the calendar or a float can hold (year 1 at +14:00): the
            # row is refused by name, never the whole import with a traceback
            f = _out_of_range(raw)
            plan.errors.append(
                RowError(
                    row.label,
                    row.headers.get(f, f) if f else None,
                    "is out of range (a date beyond the calendar or a number beyond any real value)",
                )
            )
            continue
        if scope is not None:
            try:
                require_write(scope, station.adcode)
                if base is not None:
                    require_write(scope, base.adcode)
            except AccessDenied as exc:
                plan.errors.append(
                    RowError(row.label, row.headers.get("adcode", "adcode"), str(exc))
                )
                continue
        if station.code in seen:
            plan.errors.append(
                RowError(
                    row.label,
                    row.headers.get("code", "code"),
                    f"{station.code} already appears in {seen[station.code]}",
                )
            )
            continue
        seen[station.code] = row.label
        valid.append((row.label, station))
        if base is None:
            plan.new.append(station)
        elif station.content() != base.content():
            plan.previous[stored_id(base)] = base
            plan.changed.append(
                replace(station, id=base.id, created_at=base.created_at, version=base.version)
            )
        else:
            plan.unchanged += 1
    if not any_rows:
        plan.warnings.append("the file has a header but no stations")
    plan.warnings += near_duplicates(store, valid)
    return plan


def _out_of_range(raw: dict) -> str | None:
    """The field of a record that no check can take (None if it cannot be told)."""
    from stations.core.model import parse_date, parse_timestamp

    for f, parse in (("verified_at", parse_timestamp), ("closed_until", parse_date)):
        if raw.get(f) not in (None, ""):
            try:
                parse(raw[f])
            except (OverflowError, ArithmeticError):
                return f
            except ValueError:
                pass
    for f, value in raw.items():
        if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
            return str(f)
    return None


def apply_plan(
    store: "StationStore",
    plan: ImportPlan,
    *,
    now: datetime | None = None,
    progress=None,
    user: User | None = None,
) -> None:
    """Write a clean plan in one transaction."""
    if plan.errors:
        raise ValueError("a plan with errors cannot be applied")
    stamp = (now or datetime.now(hours.TZ)).astimezone(hours.TZ).isoformat(timespec="seconds")
    total = len(plan.new) + len(plan.changed)
    tick = progress("Writing", total) if progress and total else None
    try:
        store.save_many(
            plan.new, plan.changed, stamp, progress=tick, actor=user, previous=plan.previous
        )
    finally:
        if tick is not None and hasattr(tick, "close"):
            tick.close()


# -- near duplicates --------------------------------------------------------------------------


def similar_names(a: str, b: str) -> bool:
    """True for names a person would take for the same station (after NFKC, case, spacing)."""
    ka, kb = match_key(a), match_key(b)
    if not ka or not kb:
        return False
    return ka == kb or ka in kb or kb in ka or SequenceMatcher(None, ka, kb).ratio() >= 0.8


def _metres(a: Station, b: Station) -> float:
    return _GEOD.inv(a.lon, a.lat, b.lon, b.lat)[2]


def _roughly_near(a: Station, b: Station) -> bool:
    """A cheap planar test that never misses a pair within 10 m (it allows 20 %)."""
    d_lat = (a.lat - b.lat) * 111_320
    d_lon = (a.lon - b.lon) * 111_320 * cos(radians(a.lat))
    return d_lat * d_lat + d_lon * d_lon <= (NEAR_METRES * 1.2) ** 2


def _duplicate(a: Station, b: Station) -> float | None:
    """The distance in metres if a and b look like one station, else None."""
    if not _roughly_near(a, b) or not similar_names(a.name, b.name):
        return None
    d = _metres(a, b)
    return d if d <= NEAR_METRES else None


class _Enough(Exception):
    """The near-duplicate check has listed or compared as much as it will."""


class _Pairs:
    """The near-duplicate warnings found so far, within the bounds above."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.compared = 0
        self.more = ""

    def check(self, a: Station, b: Station) -> float | None:
        self.compared += 1
        if self.compared > MAX_PAIRS_COMPARED:
            self.more = (
                f"so many stations lie within {NEAR_METRES:.0f} m of each other that not every"
                f" pair was checked for duplicates ({MAX_PAIRS_COMPARED:,} pairs were)"
            )
            raise _Enough
        return _duplicate(a, b)

    def add(self, warning: str) -> None:
        if len(self.found) == MAX_DUPLICATE_WARNINGS:
            self.more = (
                f"more stations look like duplicates; only the first"
                f" {MAX_DUPLICATE_WARNINGS} pairs are listed"
            )
            raise _Enough
        self.found.append(warning)


def near_duplicates(store: "StationStore", labelled: list[tuple[str, Station]]) -> list[str]:
    """Warnings for pairs within 10 m with similar names: in the file, and file vs database;
    at most MAX_DUPLICATE_WARNINGS of them after MAX_PAIRS_COMPARED comparisons at most, then
    one line saying the list stops there."""
    pairs = _Pairs()
    try:
        _near_duplicates(store, labelled, pairs)
    except _Enough:
        return [*pairs.found, pairs.more]
    return pairs.found


def _near_duplicates(
    store: "StationStore", labelled: list[tuple[str, Station]], pairs: _Pairs
) -> None:
    cell = 0.0002  # ~20 m: neighbours within 10 m share a cell or touch one
    grid: dict[tuple[int, int], list[tuple[str, Station]]] = defaultdict(list)
    for label, s in labelled:
        grid[(int(s.lat // cell), int(s.lon // cell))].append((label, s))
    for label, s in labelled:
        i, j = int(s.lat // cell), int(s.lon // cell)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for other_label, o in grid.get((i + di, j + dj), ()):
                    if o.code > s.code and (d := pairs.check(s, o)) is not None:
                        pairs.add(
                            f"{label} ({s.code} {s.name}) and {other_label} ({o.code} {o.name}) are {d:.0f} m apart"
                            " with similar names: the same station twice?"
                        )
    # File vs database: one box query per ~1 km tile of the file (not one per row: 200,000
    # round trips to PostgreSQL were half an import), its stations put on the same grid.
    codes = {s.code for _, s in labelled}
    tiles: dict[tuple[int, int], list[tuple[str, Station]]] = defaultdict(list)
    for label, s in labelled:
        tiles[(int(s.lat // TILE), int(s.lon // TILE))].append((label, s))
    nearby: dict[int, list[Station]] = {}  # file row index -> stored stations on its 3x3 cells
    index = {id(s): n for n, (_, s) in enumerate(labelled)}
    for (ti, tj), members in tiles.items():
        top = max(abs(ti * TILE), abs((ti + 1) * TILE))
        d_lat = NEAR_METRES / 111_000
        d_lon = d_lat / max(cos(radians(min(top, 89.0))), 0.1)
        box = BBox(
            ti * TILE - d_lat, tj * TILE - d_lon, (ti + 1) * TILE + d_lat, (tj + 1) * TILE + d_lon
        )
        stored: dict[tuple[int, int], list[Station]] = defaultdict(list)
        for o in store.in_box(box):
            if o.code not in codes:
                stored[(int(o.lat // cell), int(o.lon // cell))].append(o)
        if not stored:
            continue
        for _, s in members:
            i, j = int(s.lat // cell), int(s.lon // cell)
            near = [
                o
                for di in (-1, 0, 1)
                for dj in (-1, 0, 1)
                for o in stored.get((i + di, j + dj), ())
            ]
            nearby[index[id(s)]] = sorted(near, key=lambda o: o.id or 0)
    for n, (label, s) in enumerate(labelled):
        for o in nearby.get(n, ()):
            if (d := pairs.check(s, o)) is not None:
                pairs.add(
                    f"{label} ({s.code} {s.name}) is {d:.0f} m from the stored station {o.code} {o.name}"
                    " with a similar name: the same station twice?"
                )
