"""Reading demand files (CSV, XLSX, GeoJSON) into demand points, all rows or none.

Columns may be Chinese or English: 纬度/lat, 经度/lon (lng), 权重/weight (also 人数, 数量,
population, orders), 名称/label (optional), 坐标系/crs (optional, per row; the file-level crs
fills the rest). Every bad row is named with its column, as station imports do, and any bad row
(or a problem with the whole file) refuses the whole file: one DemandRejected listing them all.
Files are read with the station readers' limits and their hostile-input guards.
"""

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stations.core import datum, readers, regions
from stations.core.demand import LAYER_KINDS, DemandPoint
from stations.core.importer import RowError
from stations.core.model import check_range
from stations.core.text import ascii_digits, clean, control_character, match_key
from stations.core.vocab import DATUMS

LABEL_MAX = 100

# field -> every header that names it (compared by text.match_key: case, width, spacing)
COLUMNS: dict[str, tuple[str, ...]] = {
    "lat": ("lat", "纬度", "latitude"),
    "lon": ("lon", "经度", "lng", "long", "longitude"),
    "weight": (
        "weight",
        "权重",
        "人数",
        "数量",
        "需求",
        "订单",
        "订单数",
        "订单量",
        "population",
        "orders",
        "count",
    ),
    "label": ("label", "名称", "name", "标签", "地点"),
    "crs": ("crs", "坐标系", "datum", "坐标类型"),
}
_LOOKUP = {match_key(h): f for f, headers in COLUMNS.items() for h in headers}


class DemandRejected(ValueError):
    """Nothing in the file was taken: `problems` lists every bad row's problems, one line
    each, or the whole file's one problem (bad_rows 0)."""

    def __init__(self, problems: list[str], bad_rows: int = 0):
        self.problems, self.bad_rows = problems, bad_rows
        super().__init__("\n".join(problems))


@dataclass
class _Row:
    where: str  # "row 7" / "feature 3"
    values: dict[str, object]  # field -> raw value
    headers: dict[str, str]  # field -> header as written


def read_demand(
    path: str | Path, crs: str | None = None, *, kind: str = "demand"
) -> list[DemandPoint]:
    """The points of a demand file in WGS-84, each with its district's adcode, in file order.

    crs: the datum of coordinates on rows without a crs of their own (default wgs84).
    kind "candidates": the weight column is optional (a missing weight counts 1).
    """
    if kind not in LAYER_KINDS:
        raise ValueError(f"kind is one of {', '.join(LAYER_KINDS)}, not {kind!r}")
    default_crs = crs or "wgs84"
    if default_crs not in DATUMS.keys():
        raise DemandRejected([f"unknown crs {crs!r}; use one of {', '.join(DATUMS.keys())}"])
    try:
        rows, headers = _read(Path(path))
    except readers.FileRejected as exc:
        raise DemandRejected([str(exc)]) from None
    if kind == "demand" and "weight" not in headers:
        raise DemandRejected(
            ["no weight column; name one 权重/weight (or 人数, 数量, population, orders)"]
        )
    if not rows:
        raise DemandRejected(["the file has no points"])
    errors: list[RowError] = []
    parsed = [_parse(row, kind, default_crs, errors) for row in rows]
    points = _place(rows, parsed, errors)
    if errors:
        raise DemandRejected([str(e) for e in errors], len({e.where for e in errors}))
    return points


# -- reading the table ------------------------------------------------------------------------


def _read(path: Path) -> tuple[list[_Row], set[str]]:
    """The file's rows and which fields its columns give; FileRejected for the whole file."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise readers.FileRejected(f"cannot read {path.name}: {exc.strerror}") from None
    if size > readers.MAX_FILE_BYTES:
        raise readers.FileRejected(
            f"{path.name} is {size / 2**20:.0f} MB; the limit is {readers.MAX_FILE_BYTES // 2**20} MB"
        )
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return _geojson(path)
    if suffix in (".csv", ".txt", ".tsv"):
        header, body = _csv(path.read_bytes())
    elif suffix in (".xlsx", ".xlsm", ".xls"):
        header, body = _xlsx(path)
    else:
        raise readers.FileRejected(
            f"{path.name}: unknown file type {suffix or '(none)'}; use .csv, .xlsx or .geojson"
        )
    by_index = _columns(header)
    names = {f: str(header[i]).strip() for i, f in by_index.items()}
    rows: list[_Row] = []
    for where, values, problem in body:
        if len(rows) >= readers.MAX_ROWS:
            raise readers.FileRejected(f"more than {readers.MAX_ROWS:,} rows; split the file")
        if problem:
            rows.append(_Row(where, {"": problem}, names))
            continue
        record = {f: values[i] if i < len(values) else "" for i, f in by_index.items()}
        rows.append(_Row(where, record, names))
    return rows, set(names)


def _columns(header: list[str]) -> dict[int, str]:
    """Column index -> field, for the columns we know; FileRejected without lat and lon."""
    found: dict[str, str] = {}
    by_index: dict[int, str] = {}
    for i, raw in enumerate(header):
        name = str(raw).strip()
        f = _LOOKUP.get(match_key(name)) if name else None
        if f is None:
            continue
        if f in found:
            raise readers.FileRejected(
                f"columns {found[f]!r} and {name!r} both give the {f}; keep one"
            )
        found[f], by_index[i] = name, f
    for needed, example in (("lat", "纬度/lat"), ("lon", "经度/lon")):
        if needed not in found:
            raise readers.FileRejected(
                f"no {needed} column; the header row must name it ({example})"
            )
    return by_index


_Body = Iterator[tuple[str, list, str | None]]  # (where, cells, a problem with the row)


def _csv(data: bytes) -> tuple[list[str], _Body]:
    text = readers._decode(data)  # UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030
    if "\x00" in text:
        raise readers.FileRejected("the file contains NUL bytes (binary data, not a CSV)")
    delimiter = readers._delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise readers.FileRejected("the file is empty") from None
    except csv.Error as exc:
        raise readers.FileRejected(f"row 1: the header row cannot be read ({exc})") from None

    def body() -> _Body:
        line = reader.line_num
        while True:
            start = line + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error:
                yield f"row {start}", [], "a quoted field is never closed; the rest is unread"
                return
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            problem = None
            if len(values) != len(header):
                problem = f"has {len(values)} cells but the header has {len(header)}"
            yield f"row {start}", values, problem

    return header, body()


def _xlsx(path: Path) -> tuple[list[str], _Body]:
    # streamed with every part bounded; rows counted, never the declared dimension trusted
    header, body = readers.xlsx_rows(path, max_rows=readers.MAX_ROWS)

    def rows() -> _Body:
        for where, cells, problems in body:
            width = max(cells, default=-1) + 1
            values = [readers._cell_text(cells.get(i)) for i in range(width)]
            problem = "; ".join(
                f"column {p.column}: {p.message}" if p.column else p.message for p in problems
            )
            yield where, values, problem or None

    return header, rows()


def _geojson(path: Path) -> tuple[list[_Row], set[str]]:
    # Streamed one feature at a time by the station reader's walk, with its refusals: a
    # repeated key, NaN, Infinity, deep nesting, too many features, another crs.
    rows: list[_Row] = []
    fields: set[str] = set()

    def add(n: int, feature) -> None:
        row = _Row(f"feature {n}", {}, {"lat": "geometry", "lon": "geometry"})
        rows.append(row)
        if feature is readers.TOO_BIG:
            row.values[""] = readers.TOO_BIG_MESSAGE
            return
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            row.values[""] = "is not a GeoJSON Feature"
            return
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            row.values[""] = "its properties must be an object"
            return
        for key, value in props.items():
            f = _LOOKUP.get(match_key(str(key)))
            if f in ("weight", "label", "crs") and f not in row.values:
                if isinstance(value, readers.TooLong):
                    row.values[""] = (
                        f"{key} is {value.length:,} characters; the limit is {readers.MAX_CELL:,}"
                    )
                    return
                row.values[f], row.headers[f] = value, key
                fields.add(f)
        geometry = feature.get("geometry")
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            kind = geometry.get("type") if isinstance(geometry, dict) else "missing"
            row.values[""] = f"its geometry is {kind}; a demand point must be a Point"
        elif (
            not isinstance(coords, list)
            or len(coords) not in (2, 3)
            or not all(readers.finite_number(c) for c in coords)
        ):
            row.values[""] = (
                "coordinates must be [lon, lat] finite numbers (optionally with altitude)"
            )
        else:
            row.values["lon"], row.values["lat"] = coords[0], coords[1]  # x is longitude

    with path.open("rb") as stream:
        readers.each_feature(stream, add, max_rows=readers.MAX_ROWS, unit="points")
    return rows, fields | {"lat", "lon"}


# -- checking each row ------------------------------------------------------------------------


@dataclass
class _Parsed:
    lat: float
    lon: float
    crs: str
    weight: float
    label: str


def _number(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = ascii_digits(str(value if value is not None else ""))
        if not text:
            raise ValueError("is required")
        try:
            number = float(text.replace(",", ""))  # 1,200 people
        except ValueError:
            raise ValueError(f"must be a decimal number, not {text[:20]!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, not {number}")
    return number


def _parse(row: _Row, kind: str, default_crs: str, errors: list[RowError]) -> _Parsed | None:
    """The row's values checked (range included, not yet the boundary); None after an error."""
    if "" in row.values:
        errors.append(RowError(row.where, None, str(row.values[""])))
        return None
    before = len(errors)

    def bad(f: str, message: str) -> None:
        errors.append(RowError(row.where, row.headers.get(f, f), message))

    numbers: dict[str, float] = {}
    for f in ("lat", "lon"):
        try:
            numbers[f] = _number(row.values.get(f))
        except ValueError as exc:
            bad(f, str(exc))
    weight = 1.0
    raw_weight = row.values.get("weight")
    if kind == "demand" or (raw_weight is not None and str(raw_weight).strip()):
        try:
            weight = _number(raw_weight)
            if weight <= 0:
                bad("weight", f"must be more than 0, not {weight:g}")
        except ValueError as exc:
            bad("weight", str(exc))
    crs = default_crs
    raw_crs = clean(str(row.values.get("crs") or ""))
    if raw_crs:
        found = DATUMS.parse(raw_crs)
        if found is None:
            bad("crs", f"{raw_crs[:30]!r} is not one of {DATUMS.choices()}")
        else:
            crs = found
    label = clean(str(row.values.get("label") or ""))
    if control_character(label):
        bad("label", f"contains the control character {control_character(label)}")
    elif len(label) > LABEL_MAX:
        bad("label", f"is {len(label):,} characters long; the limit is {LABEL_MAX}")
    if len(numbers) == 2:
        try:
            check_range(numbers["lat"], numbers["lon"])
        except ValueError as exc:
            bad(getattr(exc, "field", "lat"), str(exc))
    if len(errors) > before:
        return None
    return _Parsed(numbers["lat"], numbers["lon"], crs, weight, label)


def _place(
    rows: list[_Row], parsed: list[_Parsed | None], errors: list[RowError]
) -> list[DemandPoint]:
    """WGS-84 points in mainland China with their adcode; an error for each point that is not.

    As for stations: a GCJ-02/BD-09 point is un-shifted if its WGS-84 origin lies in the
    mainland or its waters (datum.to_wgs84), and the result is located."""
    good = [(row, p) for row, p in zip(rows, parsed, strict=True) if p is not None]
    final: list[tuple[float, float]] = [(p.lat, p.lon) for _, p in good]
    for crs in sorted({p.crs for _, p in good} - {"wgs84"}):
        which = [i for i, (_, p) in enumerate(good) if p.crs == crs]
        moved = datum.to_wgs84_many([final[i][0] for i in which], [final[i][1] for i in which], crs)
        for i, (lat, lon) in zip(which, moved, strict=True):
            final[i] = (round(lat, 7), round(lon, 7))
    here = regions.locate_many([lat for lat, _ in final], [lon for _, lon in final])
    points = []
    for (row, p), (lat, lon), code in zip(good, final, here, strict=True):
        column = row.headers.get("lat", "lat")
        if code is None:
            errors.append(RowError(row.where, column, f"({lat:g}, {lon:g}) lies outside China"))
        elif not regions.mainland_adcode(code):
            place = regions.region(code)
            name = place.province if place else code
            errors.append(
                RowError(
                    row.where, column, f"({lat:g}, {lon:g}) lies in {name}, outside mainland China"
                )
            )
        else:
            points.append(DemandPoint(lat, lon, p.weight, p.label, code))
    order = {row.where: i for i, row in enumerate(rows)}
    errors.sort(key=lambda e: order.get(e.where, 0))  # by row; stable within one
    return points
