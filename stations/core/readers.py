"""Reading station files (CSV, XLSX, GeoJSON) into row-numbered records, refusing hostile input.

A reader never validates a station; it yields `Row`s (a record of field -> raw value, or the
structural problems of that row) and raises `FileRejected` for a problem with the whole file.
Row numbers are those a person sees: the spreadsheet row (the header is row 1) or the feature.
"""

import csv
import io
import json
import math
import re
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from stations.core import xlsx_stream
from stations.core.columns import DERIVED, field_for

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_CELL = 2000  # characters; the longest real field (address) is far shorter
MAX_ROWS = 200_000
# XLSX: the limits on its parts are in xlsx_stream.
MAX_UNPACKED_BYTES = xlsx_stream.MAX_UNPACKED_BYTES
MAX_RATIO = xlsx_stream.MAX_RATIO


class FileRejected(ValueError):
    """The file as a whole cannot be read; nothing in it was looked at further."""


@dataclass(slots=True)
class Problem:
    column: str | None  # the header as written in the file, or None for the whole row
    message: str


@dataclass(slots=True)
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
        raise FileRejected(f"cannot read {path.name}: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise FileRejected(
            f"{path.name} is {size / 2**20:.0f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB"
        )
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv(path.read_bytes(), max_rows=max_rows)
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return read_xlsx(path, max_rows=max_rows)
    if suffix in (".geojson", ".json"):
        with path.open("rb") as stream:
            return read_geojson(stream, max_rows=max_rows)
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


def _check_xlsx(path: Path, max_rows: int) -> None:
    """Refuse legacy and macro workbooks and entity declarations from the zip alone."""
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
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise FileRejected("the .xlsx file is damaged (not a readable zip)") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > xlsx_stream.MAX_MEMBERS:
            raise FileRejected(
                f"the workbook holds {len(infos):,} files; a workbook has far fewer than "
                f"{xlsx_stream.MAX_MEMBERS:,}"
            )
        names = {i.filename for i in infos}
        if (
            path.suffix.lower() == ".xlsm"
            or "xl/vbaProject.bin" in names
            or b"macroEnabled" in _head(zf, "[Content_Types].xml", 1024 * 1024)
        ):
            raise FileRejected("macro-enabled workbooks (.xlsm) are refused; save as a plain .xlsx")
        for name in names:
            if name.endswith((".xml", ".rels")):
                head = _head(zf, name, 4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise FileRejected(f"{name} declares XML entities (an entity bomb?); refused")


def _head(zf: zipfile.ZipFile, name: str, size: int) -> bytes:
    """The first bytes of a member (none if it is missing or cannot be unpacked)."""
    try:
        with zf.open(name) as part:
            return part.read(size)
    except (KeyError, zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, zlib.error):
        return b""


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return value  # str, or a datetime the model parses as a date


XlsxRow = tuple[str, dict[int, object], list[Problem]]  # (label, column -> value, problems)


def xlsx_rows(path: Path, *, max_rows: int = MAX_ROWS) -> tuple[list[str], Iterator[XlsxRow]]:
    """The first sheet's header (its first row that holds anything) and its other rows that
    hold anything, as (label, column index -> value, problems).

    The sheet is streamed (xlsx_stream) with its parts bounded; its rows are counted, never
    taken from its declared dimension, and more than max_rows refuses the file."""
    _check_xlsx(path, max_rows)
    try:
        wb = xlsx_stream.open_workbook(path, max_cell=MAX_CELL)
    except xlsx_stream.FileRejected as exc:
        raise FileRejected(str(exc)) from None
    try:
        head = wb.head(wb.sheet, 64 * 1024)
        declared = int(m.group(1)) if (m := _DIMENSION.search(head)) else None
        if declared is not None and declared - 1 > max_rows:
            raise FileRejected(
                f"the sheet has {declared:,} rows; the limit is {max_rows:,} stations per import"
            )
        held = xlsx_stream.count_rows(wb)
        if held - 1 > max_rows:
            said = f" (its dimension claims {max(declared - 1, 0):,})" if declared else ""
            raise FileRejected(
                f"the sheet holds {held - 1:,} rows below its header{said}; "
                f"the limit is {max_rows:,} stations per import"
            )
        stream = xlsx_stream.rows(wb)
        first = next(stream, None)
    except xlsx_stream.FileRejected as exc:
        wb.zf.close()
        raise FileRejected(str(exc)) from None
    except BaseException:
        wb.zf.close()
        raise
    if first is None:
        wb.zf.close()
        raise FileRejected("the first sheet is empty")
    width = max([*first.cells, *(c for c, _ in first.problems)]) + 1
    raw_headers = [str(_cell_text(first.cells.get(i))) for i in range(width)]
    for column, message in first.problems:
        wb.zf.close()
        raise FileRejected(
            f"row {first.number}, column {xlsx_stream.column_name(column)}: {message}"
        )
    if any(isinstance(v, xlsx_stream.TooLong) for v in first.cells.values()):
        wb.zf.close()
        raise FileRejected(
            f"row {first.number}: a header cell is longer than {MAX_CELL:,} characters"
        )

    def name(column: int) -> str:
        header = raw_headers[column].strip() if column < len(raw_headers) else ""
        return header or xlsx_stream.column_name(column)

    def body() -> Iterator[XlsxRow]:
        taken = 0
        try:
            for row in stream:
                problems = [Problem(name(c), m) for c, m in row.problems]
                for c, v in row.cells.items():
                    if isinstance(v, xlsx_stream.TooLong):
                        problems.append(
                            Problem(
                                name(c),
                                f"cell is {v.length:,} characters; cells are limited to {MAX_CELL:,}",
                            )
                        )
                if not problems and not any(str(v).strip() for v in row.cells.values()):
                    continue
                taken += 1
                if taken > max_rows:
                    raise FileRejected(f"more than {max_rows:,} rows; split the file")
                yield f"row {row.number}", row.cells, problems
        except xlsx_stream.FileRejected as exc:
            raise FileRejected(str(exc)) from None
        finally:
            wb.zf.close()

    return raw_headers, body()


def read_xlsx(path: Path, *, max_rows: int = MAX_ROWS) -> Table:
    raw_headers, body = xlsx_rows(path, max_rows=max_rows)
    try:
        headers, ignored, by_index = _map_headers(raw_headers)
    except FileRejected:
        body.close()  # type: ignore[attr-defined]
        raise
    rows: list[Row] = []
    for label, cells, problems in body:
        row = Row(label, headers=headers, problems=problems)
        if not problems:
            row.record = {f: _cell_text(cells.get(i)) for i, f in by_index.items()}
        rows.append(row)
    return Table(rows, headers, ignored)


# -- GeoJSON ----------------------------------------------------------------------------------
#
# Read as a stream (ijson, yajl's C parser when present): one feature is built at a time, so
# memory is bounded by a feature, not by the file. Limits, all counted while streaming:
MAX_JSON_DEPTH = 1000  # what json.loads followed before Python's recursion limit; GeoJSON needs ~5
MAX_DIGITS = 4000  # a digit run this long is no finite coordinate (and yajl's C parser would
#                    hand Python an integer beyond its 4,300-digit conversion limit)
MAX_FEATURE_VALUES = 10_000  # scalars in one feature (a Point station has a few dozen)
MAX_MEMBER_VALUES = 100_000  # scalars in a top-level member other than "features" (crs, bbox...)
GEOJSON_SECONDS = xlsx_stream.READ_SECONDS
_CHUNK = 64 * 1024


class _Object(dict):
    duplicates: tuple = ()


class TooLong(str):
    """A string over MAX_CELL, kept only as its length (never the text) while streaming."""

    length = 0


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


def _parse_int(text: str) -> int | float:
    """A JSON integer; one too long for a 64-bit integer becomes a float (infinite beyond
    a float's range), which the coordinate and field checks refuse by name."""
    return int(text) if len(text) <= 19 else float(text)


def finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_json(data: bytes):
    """A JSON document with repeated keys marked (_Object.duplicates); FileRejected for
    anything that is not RFC 8259 JSON, or nests deeper than Python can follow."""
    try:
        return json.loads(
            data.decode("utf-8-sig"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_bad_constant,
            parse_int=_parse_int,
        )
    except UnicodeDecodeError:
        raise FileRejected("GeoJSON must be UTF-8 (RFC 7946)") from None
    except json.JSONDecodeError as exc:
        raise FileRejected(
            f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    except RecursionError:
        raise FileRejected("the JSON is nested too deeply; GeoJSON needs a few levels") from None


_DIGIT_RUN = re.compile(rb"[0-9]+")
_CONSTANT = re.compile(r"(-?(?:NaN|Infinity))")


class _Guarded:
    """A binary stream for ijson: drops a UTF-8 byte-order mark and refuses a digit run
    longer than MAX_DIGITS (across chunk boundaries) before the parser sees it."""

    def __init__(self, stream: IO[bytes]):
        self.stream, self.first, self.run = stream, True, 0

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks for nothing to learn whether the stream gives bytes
            return b""
        chunk = self.stream.read(size if size > 0 else _CHUNK)
        if self.first:
            self.first = False
            if chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
        if not chunk:
            return chunk
        runs = list(_DIGIT_RUN.finditer(chunk))
        carried = self.run
        for m in runs:
            length = m.end() - m.start() + (carried if m.start() == 0 else 0)
            if length > MAX_DIGITS:
                raise FileRejected(
                    f"a number of more than {MAX_DIGITS:,} digits; coordinates must be finite numbers"
                )
        last = runs[-1] if runs else None
        if last is not None and last.end() == len(chunk):
            self.run = (last.end() - last.start()) + (carried if last.start() == 0 else 0)
        else:
            self.run = 0
        return chunk


def _number(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return value
        try:
            return float(value)
        except OverflowError:
            return math.inf
    return float(value)  # Decimal: infinite beyond a float's range, refused by name later


class _Stream:
    """ijson events with the nesting depth counted and the deadline checked."""

    def __init__(self, stream: IO[bytes]):
        import ijson  # type: ignore[import-untyped]

        # basic_parse: events without their path prefixes, which ijson.parse would build for
        # every event (a string as long as the nesting: 250 MB at a thousand levels)
        self.events = ijson.basic_parse(_Guarded(stream), buf_size=_CHUNK)
        self.depth, self.seen = 0, 0
        self.deadline = time.monotonic() + GEOJSON_SECONDS

    def __iter__(self):
        return self

    def __next__(self):
        event, value = next(self.events)
        self.seen += 1
        if self.seen % 4096 == 0 and time.monotonic() > self.deadline:
            raise FileRejected(
                f"reading the GeoJSON took more than {GEOJSON_SECONDS:.0f} s; refused (split it)"
            )
        if event in ("start_map", "start_array"):
            self.depth += 1
            if self.depth > MAX_JSON_DEPTH:
                raise FileRejected("the JSON is nested too deeply; GeoJSON needs a few levels")
        elif event in ("end_map", "end_array"):
            self.depth -= 1
        return event, value


class _TooBig(Exception):
    pass


def _build(events: _Stream, event: str, value, limit: int):
    """The value that starts with (event, value), read to its end. Objects are _Object (repeated
    keys marked), strings over MAX_CELL are TooLong; over `limit` scalars the rest of the value
    is read and dropped and _TooBig is raised."""
    count = 0
    stack: list = []
    keys: list = []
    item: Any
    while True:
        if event == "map_key":
            keys[-1] = value
        else:
            if event == "start_map":
                item = _Object()
            elif event == "start_array":
                item = []
            elif event in ("end_map", "end_array"):
                item = stack.pop()
                keys.pop()
                if isinstance(item, _Object):
                    item.duplicates = tuple(item.duplicates)
                if not stack:
                    return item
                event, value = next(events)
                continue
            else:
                count += 1
                if count > limit:
                    _skip(events, len(stack))
                    raise _TooBig
                if event == "string" and len(value) > MAX_CELL:
                    long = TooLong()
                    long.length = len(value)
                    item = long
                elif event == "number":
                    item = _number(value)
                else:
                    item = value
            if stack:
                parent = stack[-1]
                if isinstance(parent, list):
                    parent.append(item)
                else:
                    key = keys[-1]
                    if key in parent:
                        parent.duplicates = (*parent.duplicates, key)
                    parent[key] = item
            if event in ("start_map", "start_array"):
                stack.append(item)
                keys.append(None)
            elif not stack:
                return item
        event, value = next(events)


def _skip(events: _Stream, open_: int) -> None:
    """Read past the end of `open_` containers that are open."""
    while open_:
        event, _ = next(events)
        if event in ("start_map", "start_array"):
            open_ += 1
        elif event in ("end_map", "end_array"):
            open_ -= 1


def read_geojson(data: bytes | IO[bytes], *, max_rows: int = MAX_ROWS) -> Table:
    """Rows of a GeoJSON FeatureCollection (or a single Feature), read one feature at a time."""
    state = _FeatureState()
    each_feature(data, state.add, max_rows=max_rows)
    headers = state.headers
    for f in ("code", "name"):
        headers.setdefault(f, f)
    notes = [f"altitude ignored on {state.altitudes} feature(s)"] if state.altitudes else []
    return Table(state.rows, headers, sorted(state.ignored), notes)


# What each_feature hands over for a feature with more values than any station or point needs.
TOO_BIG = object()
TOO_BIG_MESSAGE = f"holds more than {MAX_FEATURE_VALUES:,} values; a station needs a few dozen"


def each_feature(
    data: bytes | IO[bytes],
    add: Callable[[int, Any], None],
    *,
    max_rows: int = MAX_ROWS,
    unit: str = "stations",
) -> None:
    """Stream a GeoJSON FeatureCollection (or a single Feature), calling add(n, feature) for
    each feature from 1, one at a time: the station and the demand readers both read through
    it, so memory is bounded by a feature, not the file. A feature is dicts and lists as
    json would give (strings over MAX_CELL as TooLong), or TOO_BIG; anything wrong with the
    file as a whole (not JSON, nested too deep, too many features, not WGS-84, too slow) is
    FileRejected."""
    stream: IO[bytes] = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    try:
        _each_feature(_Stream(stream), add, max_rows, unit)
    except FileRejected:
        raise
    except UnicodeDecodeError:
        raise FileRejected("GeoJSON must be UTF-8 (RFC 7946)") from None
    except Exception as exc:  # ijson.JSONError and its kin: the parser's own message
        import ijson

        if not isinstance(exc, (ijson.JSONError, ValueError)):
            raise
        text = str(exc)
        if "UTF8" in text or "utf-8" in text:
            raise FileRejected("GeoJSON must be UTF-8 (RFC 7946)") from None
        if m := _CONSTANT.search(text):
            _bad_constant(m.group(1))
        first = text.strip().splitlines()[0] if text.strip() else "incomplete"
        raise FileRejected(f"not valid JSON ({first})") from None


def _each_feature(
    events: _Stream, add: Callable[[int, Any], None], max_rows: int, unit: str
) -> None:
    not_geojson = "expected a GeoJSON FeatureCollection of Point features"
    event, _ = next(events, ("end", None))
    if event != "start_map":
        raise FileRejected(not_geojson)
    top = _Object()
    features_seen = False
    features_not_list = False
    while True:
        event, key = next(events)
        if event == "end_map":
            break
        if key in top or (key == "features" and features_seen):
            top.duplicates = (*top.duplicates, key)
        event, value = next(events)
        if key == "features" and event == "start_array":
            features_seen = True
            top["features"] = []
            n = 0
            while True:
                event, value = next(events)
                if event == "end_array":
                    break
                n += 1
                if n > max_rows:
                    raise FileRejected(
                        f"the file holds more than {max_rows:,} features; "
                        f"the limit is {max_rows:,} {unit} per import"
                    )
                try:
                    feature = _build(events, event, value, MAX_FEATURE_VALUES)
                except _TooBig:
                    feature = TOO_BIG
                add(n, feature)
            continue
        try:
            top[key] = _build(events, event, value, MAX_MEMBER_VALUES)
        except _TooBig:
            raise FileRejected(
                f"the top-level member {key!r} holds more than {MAX_MEMBER_VALUES:,} values"
            ) from None
        if key == "features":
            features_not_list = True
    if next(events, None) is not None:
        raise FileRejected("not valid JSON (text after the top-level object)")
    kind = top.get("type")
    if kind not in ("FeatureCollection", "Feature"):
        raise FileRejected(not_geojson)
    if top.duplicates:
        raise FileRejected(f"the top-level object repeats the key {top.duplicates[0]!r}")
    crs = top.get("crs")
    if crs and "CRS84" not in json.dumps(crs) and "4326" not in json.dumps(crs):
        raise FileRejected(
            "GeoJSON is WGS-84 (RFC 7946); this file names another crs. Use --crs for GCJ-02/BD-09 data"
        )
    if kind == "Feature":
        add(1, top)
    elif features_not_list or not features_seen:
        raise FileRejected("'features' must be a list")


class _FeatureState:
    def __init__(self):
        self.headers: dict[str, str] = {}
        self.ignored: set[str] = set()
        self.rows: list[Row] = []
        self.altitudes = 0

    def add(self, n: int, feature) -> None:
        from stations.core.regions import in_extent

        headers = self.headers
        row = Row(f"feature {n}")
        self.rows.append(row)
        if feature is TOO_BIG:
            row.problems.append(Problem(None, TOO_BIG_MESSAGE))
            return
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            row.problems.append(Problem(None, "is not a GeoJSON Feature"))
            return
        props = feature.get("properties") or {}
        geometry = feature.get("geometry")
        for obj in (feature, props, geometry):
            if isinstance(obj, _Object) and obj.duplicates:
                row.problems.append(
                    Problem(obj.duplicates[0], f"the key {obj.duplicates[0]!r} appears twice")
                )
        if not isinstance(props, dict):
            row.problems.append(Problem("properties", "must be an object"))
            return
        record = {}
        for key, value in props.items():
            f = field_for(key)
            if f is None:
                self.ignored.add(key)
                continue
            headers.setdefault(f, key)
            if f in DERIVED:
                continue
            if isinstance(value, TooLong):
                row.problems.append(
                    Problem(key, f"is {value.length:,} characters; the limit is {MAX_CELL:,}")
                )
                value = ""
            record[f] = value
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            kind = geometry.get("type") if isinstance(geometry, dict) else "missing"
            row.problems.append(Problem("geometry", f"is {kind}; a station must be a Point"))
            return
        coords = geometry.get("coordinates")
        if (
            not isinstance(coords, list)
            or len(coords) not in (2, 3)
            or not all(finite_number(c) for c in coords)
        ):
            row.problems.append(
                Problem(
                    "geometry",
                    "coordinates must be [lon, lat] finite numbers (optionally with altitude)",
                )
            )
            return
        if len(coords) == 3:
            self.altitudes += 1
        lon, lat = coords[0], coords[1]  # RFC 7946: x is longitude
        if not in_extent(lat, lon) and in_extent(lon, lat):
            row.problems.append(
                Problem(
                    "geometry",
                    f"coordinates [{coords[0]}, {coords[1]}] are in [lat, lon] order; GeoJSON wants [lon, lat]",
                )
            )
            return
        record["lon"], record["lat"] = lon, lat
        row.record = record
        row.headers = {**{f: f for f in record}, **headers}
