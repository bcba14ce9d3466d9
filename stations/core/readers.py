"""Reading station files (CSV, XLSX, GeoJSON) into row-numbered records, refusing hostile input.

A reader never validates a station; it yields `Row`s (a record of field -> raw value, or the
structural problems of that row) and raises `FileRejected` for a problem with the whole file.
Row numbers are those a person sees: the spreadsheet row (the header is row 1) or the feature.
"""

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from stations.core.columns import DERIVED, field_for

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_CELL = 2000  # characters; the longest real field (address) is far shorter
MAX_ROWS = 200_000
# XLSX: refuse before parsing when the unpacked parts would be too big or too compressed.
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
MAX_RATIO = 200


class FileRejected(ValueError):
    """The file as a whole cannot be read; nothing in it was looked at further."""


@dataclass
class Problem:
    column: str | None  # the header as written in the file, or None for the whole row
    message: str


@dataclass
class Row:
    label: str  # "row 7" or "feature 3"
    record: dict = field(default_factory=dict)  # field -> raw value
    problems: list[Problem] = field(default_factory=list)
    headers: dict = field(default_factory=dict)  # field -> header as written


@dataclass
class Table:
    rows: list[Row]
    headers: dict[str, str]  # field -> header as written
    ignored: list[str]  # headers we do not know
    notes: list[str] = field(default_factory=list)


def read(path: str | Path, *, max_rows: int = MAX_ROWS) -> Table:
    """Rows of a station file, the format chosen by extension and checked against content."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileRejected(f"cannot read {path}: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise FileRejected(
            f"{path.name} is {size / 2**20:.0f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB"
        )
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv(path.read_bytes(), max_rows=max_rows)
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return read_xlsx(path, max_rows=max_rows)
    if suffix in (".geojson", ".json"):
        return read_geojson(path.read_bytes(), max_rows=max_rows)
    raise FileRejected(
        f"{path.name}: unknown file type {suffix or '(none)'}; use .csv, .xlsx or .geojson"
    )


def _map_headers(raw_headers: list[str]) -> tuple[dict[str, str], list[str], dict[int, str]]:
    """(field -> header, unknown headers, column index -> field); duplicates rejected."""
    headers: dict[str, str] = {}
    ignored: list[str] = []
    by_index: dict[int, str] = {}
    for i, raw in enumerate(raw_headers):
        name = str(raw if raw is not None else "").strip()
        if not name:
            continue
        f = field_for(name)
        if f is None:
            ignored.append(name)
            continue
        if f in headers:
            raise FileRejected(f"columns {headers[f]!r} and {name!r} both give the {f}; keep one")
        headers[f] = name
        if f not in DERIVED:
            by_index[i] = f
    for needed in ("code", "name"):
        if needed not in headers:
            raise FileRejected(
                f"no {needed} column; the header row must name it (e.g. {'编号/code' if needed == 'code' else '名称/name'})"
            )
    return headers, ignored, by_index


def _cell_problems(label, values, headers_by_index, raw_headers) -> list[Problem]:
    problems = []
    for i, value in enumerate(values):
        if isinstance(value, str) and len(value) > MAX_CELL:
            column = str(raw_headers[i]) if i < len(raw_headers) else f"#{i + 1}"
            problems.append(
                Problem(
                    column, f"cell is {len(value):,} characters; cells are limited to {MAX_CELL:,}"
                )
            )
    return problems


# -- CSV --------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")  # Excel's "Unicode text"; the codec eats the BOM
        except UnicodeDecodeError:
            raise FileRejected(
                "the file starts with a UTF-16 mark but is not valid UTF-16"
            ) from None
    # UTF-16 without a BOM: NULs pile up on one parity (the high byte of ASCII commas and
    # newlines); a text file with a stray NUL has a handful.
    odd, even = data[1::2].count(0), data[0::2].count(0)
    if max(odd, even) > len(data) / 20 and min(odd, even) < max(odd, even) / 4:
        raise FileRejected(
            "the file looks like UTF-16 without a byte-order mark; save it as UTF-8 CSV"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # what Excel in China saves ("CSV (逗号分隔)")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileRejected(
            f"line {line}: the file is neither UTF-8 nor GB18030 (GBK) text"
        ) from None


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_csv(data: bytes, *, max_rows: int = MAX_ROWS) -> Table:
    text = _decode(data)
    nul_lines = {text.count("\n", 0, m.start()) + 1 for m in re.finditer("\x00", text)}
    text = text.replace("\x00", "")
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n", 1)[0]), strict=True
    )
    csv.field_size_limit(4 * 1024 * 1024)
    try:
        raw_headers = next(reader)
    except StopIteration:
        raise FileRejected("the file is empty") from None
    except csv.Error as exc:
        raise FileRejected(f"row 1: the header row cannot be read ({exc})") from None
    headers, ignored, by_index = _map_headers(raw_headers)
    rows, line = [], reader.line_num
    while True:
        start = line + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            reason = (
                "a quoted field opened in this row is never closed"
                if "end of data" in str(exc) or "field larger" in str(exc)
                else str(exc)
            )
            rows.append(
                Row(
                    f"row {start}",
                    problems=[Problem(None, f"{reason}; the rest of the file could not be read")],
                )
            )
            break
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= max_rows:
            raise FileRejected(f"more than {max_rows:,} rows; split the file")
        row = Row(f"row {start}", headers=headers)
        if start in nul_lines or any(n in nul_lines for n in range(start, line + 1)):
            row.problems.append(Problem(None, "contains a NUL byte (binary data in a text file)"))
        if len(values) != len(raw_headers):
            row.problems.append(
                Problem(None, f"has {len(values)} cells but the header has {len(raw_headers)}")
            )
        row.problems += _cell_problems(row.label, values, by_index, raw_headers)
        if not row.problems:
            row.record = {f: values[i] for i, f in by_index.items()}
        rows.append(row)
    return Table(rows, headers, ignored)


# -- XLSX -------------------------------------------------------------------------------------

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="(?:[A-Z]+\d+:)?[A-Z]+(\d+)"')


def _first_sheet(zf: zipfile.ZipFile) -> str:
    import defusedxml.ElementTree as ET

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    rid_attr = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    workbook = ET.fromstring(zf.read("xl/workbook.xml"))
    sheet = workbook.find("m:sheets/m:sheet", ns)
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if sheet is not None and rel.get("Id") == sheet.get(rid_attr):
            target = rel.get("Target").lstrip("/")
            return target if target.startswith("xl/") else "xl/" + target
    raise FileRejected("the workbook has no worksheet")


def _check_xlsx(path: Path, max_rows: int) -> None:
    """Refuse legacy, macro, bomb and over-long workbooks from the zip's metadata alone."""
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            "this is a legacy Excel 97-2003 (.xls) workbook; save it as .xlsx or CSV"
        )
    if not magic.startswith(b"PK"):
        raise FileRejected("this is not an .xlsx workbook (not a zip file)")
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FileRejected("the .xlsx file is damaged (not a readable zip)") from None
    with zf:
        names = set(zf.namelist())
        content_types = zf.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
        if (
            path.suffix.lower() == ".xlsm"
            or "xl/vbaProject.bin" in names
            or b"macroEnabled" in content_types
        ):
            raise FileRejected("macro-enabled workbooks (.xlsm) are refused; save as a plain .xlsx")
        if "xl/workbook.xml" not in names:
            raise FileRejected("this zip is not an Excel workbook (no xl/workbook.xml)")
        total = 0
        for info in zf.infolist():
            total += info.file_size
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise FileRejected(
                    f"{info.filename} unpacks {info.file_size // max(info.compress_size, 1)}:1 "
                    "(a decompression bomb?); refused"
                )
        if total > MAX_UNPACKED_BYTES:
            raise FileRejected(
                f"the workbook unpacks to {total / 2**20:.0f} MB; the limit is {MAX_UNPACKED_BYTES // 2**20} MB"
            )
        for name in names:
            if name.endswith((".xml", ".rels")):
                with zf.open(name) as part:
                    head = part.read(4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise FileRejected(f"{name} declares XML entities (an entity bomb?); refused")
        sheet = _first_sheet(zf)
        with zf.open(sheet) as part:
            head = part.read(64 * 1024)
        if m := _DIMENSION.search(head):
            rows = int(m.group(1))
            if rows - 1 > max_rows:
                raise FileRejected(
                    f"the sheet has {rows:,} rows; the limit is {max_rows:,} stations per import"
                )


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return value  # str, or a datetime the model parses as a date


def read_xlsx(path: Path, *, max_rows: int = MAX_ROWS) -> Table:
    import openpyxl  # parses through defusedxml when it is installed

    _check_xlsx(path, max_rows)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise FileRejected(f"the workbook cannot be read: {exc}") from None
    try:
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        try:
            raw_headers = [str(v) if v is not None else "" for v in next(it)]
        except StopIteration:
            raise FileRejected("the first sheet is empty") from None
        headers, ignored, by_index = _map_headers(raw_headers)
        rows: list[Row] = []
        for number, values in enumerate(it, start=2):
            values = [_cell_text(v) for v in values]
            if not any(str(v).strip() for v in values):
                continue
            if len(rows) >= max_rows:
                raise FileRejected(f"more than {max_rows:,} rows; split the file")
            row = Row(f"row {number}", headers=headers)
            row.problems += _cell_problems(row.label, values, by_index, raw_headers)
            if not row.problems:
                row.record = {f: values[i] if i < len(values) else "" for i, f in by_index.items()}
            rows.append(row)
    finally:
        wb.close()
    return Table(rows, headers, ignored)


# -- GeoJSON ----------------------------------------------------------------------------------


class _Object(dict):
    duplicates: tuple = ()


def _no_duplicates(pairs):
    obj = _Object()
    dupes = []
    for key, value in pairs:
        if key in obj:
            dupes.append(key)
        obj[key] = value
    obj.duplicates = tuple(dupes)
    return obj


def _bad_constant(name):
    raise FileRejected(f"{name} is not valid JSON (RFC 8259); coordinates must be finite numbers")


def read_geojson(data: bytes, *, max_rows: int = MAX_ROWS) -> Table:
    try:
        doc = json.loads(
            data.decode("utf-8-sig"), object_pairs_hook=_no_duplicates, parse_constant=_bad_constant
        )
    except UnicodeDecodeError:
        raise FileRejected("GeoJSON must be UTF-8 (RFC 7946)") from None
    except json.JSONDecodeError as exc:
        raise FileRejected(
            f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        raise FileRejected("expected a GeoJSON FeatureCollection of Point features")
    if isinstance(doc, _Object) and doc.duplicates:
        raise FileRejected(f"the top-level object repeats the key {doc.duplicates[0]!r}")
    crs = doc.get("crs")
    if crs and "CRS84" not in json.dumps(crs) and "4326" not in json.dumps(crs):
        raise FileRejected(
            "GeoJSON is WGS-84 (RFC 7946); this file names another crs. Use --crs for GCJ-02/BD-09 data"
        )
    features = doc.get("features") if doc["type"] == "FeatureCollection" else [doc]
    if not isinstance(features, list):
        raise FileRejected("'features' must be a list")
    if len(features) > max_rows:
        raise FileRejected(f"{len(features):,} features; the limit is {max_rows:,} per import")
    headers: dict[str, str] = {}
    ignored: set[str] = set()
    rows, altitudes = [], 0
    for n, feature in enumerate(features, start=1):
        row = Row(f"feature {n}")
        rows.append(row)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            row.problems.append(Problem(None, "is not a GeoJSON Feature"))
            continue
        props = feature.get("properties") or {}
        geometry = feature.get("geometry")
        for obj in (feature, props, geometry):
            if isinstance(obj, _Object) and obj.duplicates:
                row.problems.append(
                    Problem(obj.duplicates[0], f"the key {obj.duplicates[0]!r} appears twice")
                )
        if not isinstance(props, dict):
            row.problems.append(Problem("properties", "must be an object"))
            continue
        record = {}
        for key, value in props.items():
            f = field_for(key)
            if f is None:
                ignored.add(key)
                continue
            headers.setdefault(f, key)
            if f in DERIVED:
                continue
            if isinstance(value, str) and len(value) > MAX_CELL:
                row.problems.append(
                    Problem(key, f"is {len(value):,} characters; the limit is {MAX_CELL:,}")
                )
            record[f] = value
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            kind = geometry.get("type") if isinstance(geometry, dict) else "missing"
            row.problems.append(Problem("geometry", f"is {kind}; a station must be a Point"))
            continue
        coords = geometry.get("coordinates")
        if (
            not isinstance(coords, list)
            or len(coords) not in (2, 3)
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords)
        ):
            row.problems.append(
                Problem("geometry", "coordinates must be [lon, lat] (optionally with altitude)")
            )
            continue
        if len(coords) == 3:
            altitudes += 1
        lon, lat = coords[0], coords[1]  # RFC 7946: x is longitude
        from stations.core.regions import in_extent

        if not in_extent(lat, lon) and in_extent(lon, lat):
            row.problems.append(
                Problem(
                    "geometry",
                    f"coordinates [{coords[0]}, {coords[1]}] are in [lat, lon] order; GeoJSON wants [lon, lat]",
                )
            )
            continue
        record["lon"], record["lat"] = lon, lat
        row.record = record
        row.headers = {**{f: f for f in record}, **headers}
    for f in ("code", "name"):
        headers.setdefault(f, f)
    notes = [f"altitude ignored on {altitudes} feature(s)"] if altitudes else []
    return Table(rows, headers, sorted(ignored), notes)
