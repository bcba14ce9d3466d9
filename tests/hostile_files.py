"""Hostile import files, built at test time: each function writes one file into a directory and
returns its path. XLSX files are assembled part by part with zipfile (no openpyxl), so a part can
be missing, malformed or huge; the big ones are streamed into the zip, never held in memory.

`CORPUS` names every refused file with what its refusal must say; bench/hostile_imports.py builds
the same files at full size (scale=1) and measures time and peak memory.
"""

import json
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"

HEADER = ["code", "name", "lat", "lon"]
ROW = ["HOSTILE-1", "敌意测试驿站", "31.8206", "117.2272"]  # central Hefei

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# style 0: general; style 1: a date (numFmtId 14)
STYLES = (
    f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN}">'
    '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs>'
    "</styleSheet>"
)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cell(ref: str, value: str, kind: str = "inlineStr", style: int | None = None) -> str:
    s = f' s="{style}"' if style is not None else ""
    if kind == "inlineStr":
        return f'<c r="{ref}" t="inlineStr"{s}><is><t>{_esc(value)}</t></is></c>'
    t = f' t="{kind}"' if kind != "n" else ""
    return f'<c r="{ref}"{t}{s}><v>{_esc(value)}</v></c>'


def row_xml(number: int, values: Iterable[str], cells: str = "") -> str:
    inner = "".join(cell(f"{'ABCDEFGHIJ'[i]}{number}", v) for i, v in enumerate(values))
    return f'<row r="{number}">{inner}{cells}</row>'


def sheet_xml(rows: Iterable[str], dimension: str | None = None) -> Iterable[str]:
    yield f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
    if dimension:
        yield f'<dimension ref="{dimension}"/>'
    yield "<sheetData>"
    yield from rows
    yield "</sheetData></worksheet>"


def shared_strings(strings: Iterable[str], count: int) -> Iterable[str]:
    yield f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="{count}" uniqueCount="{count}">'
    for s in strings:
        yield f"<si><t>{s}</t></si>"
    yield "</sst>"


def write_xlsx(
    path: Path,
    sheet: Iterable[str] | None = None,
    *,
    parts: dict[str, Iterable[str] | str | None] | None = None,
) -> Path:
    """A workbook from its parts: the defaults, sheet (its XML in pieces) and parts that replace
    (None removes) or add members. Pieces are streamed into the zip in batches."""
    members: dict[str, Iterable[str] | str | None] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
        "xl/styles.xml": STYLES,
        "xl/sharedStrings.xml": "".join(shared_strings([], 0)),
        "xl/worksheets/sheet1.xml": sheet or sheet_xml([row_xml(1, HEADER), row_xml(2, ROW)]),
    }
    members.update(parts or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, content in members.items():
            if content is None:
                continue
            if isinstance(content, str):
                zf.writestr(name, content)
                continue
            with zf.open(name, "w", force_zip64=True) as out:
                batch: list[str] = []
                size = 0
                for piece in content:
                    batch.append(piece)
                    size += len(piece)
                    if size > 1 << 20:
                        out.write("".join(batch).encode())
                        batch, size = [], 0
                out.write("".join(batch).encode())
    return path


# -- the corpus -------------------------------------------------------------------------------


def legitimate(path: Path, rows: int = 10_000) -> Path:
    """A clean sheet of `rows` stations (the baseline the bench compares with)."""
    body = (
        row_xml(
            n + 2,
            [
                f"LEGIT-{n:06d}",
                f"合法驿站{n}",
                f"{31.80 + (n % 100) * 0.0005:.6f}",
                f"{117.20 + (n // 100 % 100) * 0.0005:.6f}",
            ],
        )
        for n in range(rows)
    )
    return write_xlsx(path, sheet_xml([row_xml(1, HEADER), *body]))


def shared_strings_bomb(path: Path, strings: int = 1_000_001) -> Path:
    """The sheet's one row, and `strings` shared strings nobody uses (the red team's: 16.4 M,
    39.6 MB packed, 295 MB unpacked)."""
    return write_xlsx(
        path,
        parts={
            "xl/sharedStrings.xml": shared_strings((f"{n:016d}" for n in range(strings)), strings)
        },
    )


def lying_dimension(path: Path, rows: int = 250_001) -> Path:
    """A sheet declaring A1:D2 but holding `rows` station rows."""
    body = (
        row_xml(n + 2, [f"LONG-{n:07d}", f"长表驿站{n}", "31.8206", "117.2272"])
        for n in range(rows)
    )
    return write_xlsx(path, sheet_xml([row_xml(1, HEADER), *body], dimension="A1:D2"))


def no_workbook_rels(path: Path) -> Path:
    return write_xlsx(path, parts={"xl/_rels/workbook.xml.rels": None})


def missing_sheet(path: Path) -> Path:
    return write_xlsx(path, parts={"xl/worksheets/sheet1.xml": None})


def relationship_without_target(path: Path) -> Path:
    return write_xlsx(
        path,
        parts={
            "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.replace(
                ' Target="worksheets/sheet1.xml"', ""
            )
        },
    )


def malformed_workbook(path: Path) -> Path:
    return write_xlsx(path, parts={"xl/workbook.xml": WORKBOOK[:-20] + "<sheets><"})


def shared_string_out_of_range(path: Path) -> Path:
    strings = "".join(shared_strings(HEADER, 4))
    header = "".join(cell(f"{c}1", str(i), "s") for i, c in enumerate("ABCD"))
    bad = cell("B2", "999999", "s")
    rows = [f'<row r="1">{header}</row>', f'<row r="2">{cell("A2", ROW[0])}{bad}</row>']
    return write_xlsx(path, sheet_xml(rows), parts={"xl/sharedStrings.xml": strings})


def bad_number(path: Path) -> Path:
    rows = [
        row_xml(1, HEADER),
        f'<row r="2">{cell("A2", ROW[0])}{cell("B2", ROW[1])}{cell("C2", "31.8x", "n")}'
        f"{cell('D2', ROW[3])}</row>",
    ]
    return write_xlsx(path, sheet_xml(rows))


def bad_date(path: Path) -> Path:
    """A date-formatted number beyond year 9999 in the verified_at column, and a t="d" cell
    that is no date."""
    rows = [
        row_xml(1, [*HEADER, "verified_at", "closed_until"]),
        row_xml(
            2, ROW, cell("E2", "99999999999", "n", style=1) + cell("F2", "3000000000-01-01", "d")
        ),
    ]
    return write_xlsx(path, sheet_xml(rows))


def beyond_last_column(path: Path) -> Path:
    """A cell at column ZZZZZ: reading it as a position would pad a row with millions of cells."""
    return write_xlsx(path, sheet_xml([row_xml(1, HEADER), row_xml(2, ROW, cell("ZZZZZ2", "x"))]))


def _geojson(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def deep_geojson(path: Path, depth: int = 10_000) -> Path:
    deep = "[" * depth + "]" * depth
    return _geojson(
        path,
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        f'{{"code": "DEEP-1", "name": "深", "extra": {deep}}}, "geometry": null}}]}}',
    )


def huge_int_geojson(path: Path) -> Path:
    props = '{"code": "HUGE-1", "name": "大数驿站"}'
    coords = "[117.2272, 1" + "0" * 400 + "]"
    return _geojson(
        path,
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        f'{props}, "geometry": {{"type": "Point", "coordinates": {coords}}}}}]}}',
    )


def overflowing_date_geojson(path: Path) -> Path:
    feature = {
        "type": "Feature",
        "properties": {
            "code": "DATE-1",
            "name": "日期驿站",
            "verified_at": "0001-01-01T00:00:00+14:00",
        },
        "geometry": {"type": "Point", "coordinates": [117.2272, 31.8206]},
    }
    return _geojson(path, json.dumps({"type": "FeatureCollection", "features": [feature]}))


# name -> (builder(path), file name, a text the refusal must contain)
CORPUS: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "shared-strings-bomb": (shared_strings_bomb, "bomb.xlsx", "shared strings"),
    "lying-dimension": (lying_dimension, "long.xlsx", "250,001 rows below its header"),
    "no-workbook-rels": (no_workbook_rels, "norels.xlsx", "workbook.xml.rels is missing"),
    "missing-sheet": (missing_sheet, "nosheet.xlsx", "first sheet"),
    "relationship-without-target": (relationship_without_target, "notarget.xlsx", "no Target"),
    "malformed-workbook": (malformed_workbook, "badwb.xlsx", "xl/workbook.xml is not well-formed"),
    "shared-string-out-of-range": (
        shared_string_out_of_range,
        "sst.xlsx",
        "refers to shared string 999,999 but the workbook has 4",
    ),
    "bad-number": (bad_number, "num.xlsx", "'31.8x' is not a number"),
    "bad-date": (bad_date, "date.xlsx", "beyond year 9999"),
    "beyond-last-column": (beyond_last_column, "wide.xlsx", "beyond Excel's last column"),
    "deep-geojson": (deep_geojson, "deep.geojson", "nested too deeply"),
    "huge-int-geojson": (huge_int_geojson, "huge.geojson", "finite numbers"),
    "overflowing-date-geojson": (overflowing_date_geojson, "date.geojson", "verified_at"),
}


# -- GeoJSON read as a stream ------------------------------------------------------------------


class EndlessFeatures:
    """A binary stream of a FeatureCollection that never ends: `feature` (JSON bytes) repeated.
    A reader that loads the file whole never returns; one that streams refuses at its limit.
    `given` counts the bytes handed out."""

    def __init__(self, feature: bytes):
        self.head = b'{"type": "FeatureCollection", "features": ['
        self.feature, self.given, self.first = feature, 0, True

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        size = size if size > 0 else 65536
        out = bytearray(self.head)
        self.head = b""
        while len(out) < size:
            out += self.feature if self.first else b"," + self.feature
            self.first = False
        self.given += len(out)
        return bytes(out)


def point_feature(code: str = "S-1", **props) -> bytes:
    return json.dumps(
        {
            "type": "Feature",
            "properties": {"code": code, "name": "驿站", **props},
            "geometry": {"type": "Point", "coordinates": [117.2272, 31.8206]},
        }
    ).encode()


def huge_string_geojson(path: Path, chars: int = 30 * 2**20) -> Path:
    """One feature whose name is `chars` characters and its own two long."""
    feature = point_feature("LONG-1").replace(b'"name": "', b'"name": "' + b"x" * chars, 1)
    path.write_bytes(b'{"type": "FeatureCollection", "features": [' + feature + b"]}")
    return path


def long_digits_geojson(path: Path, digits: int = 9000) -> Path:
    """A coordinate of `digits` digits: beyond Python's integer conversion limit (4,300)."""
    feature = point_feature("DIGITS-1").replace(b"31.8206", b"1" * digits)
    path.write_bytes(b'{"type": "FeatureCollection", "features": [' + feature + b"]}")
    return path
