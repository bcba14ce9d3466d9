"""The first sheet of an .xlsx workbook, read as a stream with every part bounded.

openpyxl, even read-only, loads every shared string into memory first and trusts the sheet's
declared dimension; a 40 MB file with 16 million shared strings took 3 GB and three minutes, and a
sheet declaring two rows but holding 250,001 was read as two. This reader opens the zip itself,
checks its members' sizes before unpacking anything, and parses each part with a bounded
iterparse (defusedxml: no DTD, no entities) that counts as it goes:

- the zip: at most MAX_MEMBERS members, each part under its own size cap, no member unpacking
  more than MAX_RATIO:1, the whole under MAX_UNPACKED_BYTES (declared sizes are checked first,
  then the bytes actually unpacked are counted, so a lying header gains nothing);
- shared strings: at most MAX_SHARED_STRINGS strings and MAX_SHARED_CHARS characters kept (a
  string longer than a cell may be is kept as its length only);
- the sheet: its rows are counted (a fast scan before parsing, then each row while parsing),
  never its declared dimension; columns beyond Excel's XFD are refused;
- time: every part is read against one deadline (READ_SECONDS).

A problem with the whole file raises FileRejected naming it (never a path on this machine); a
problem with one cell (a shared-string index out of range, a number that is not one, a date
beyond the calendar) is reported with its row and column and the rest is read.
"""

import posixpath
import re
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError, iterparse

MAX_MEMBERS = 1000
MAX_UNPACKED_BYTES = 300 * 1024 * 1024  # the whole workbook, unpacked
MAX_SHEET_BYTES = 250 * 1024 * 1024  # the sheet read, unpacked (streamed: time, not memory)
MAX_STRINGS_BYTES = 100 * 1024 * 1024  # sharedStrings.xml, unpacked
MAX_SMALL_PART_BYTES = 16 * 1024 * 1024  # workbook.xml, its relationships, styles.xml
MAX_RATIO = 200  # a member unpacking more than this per byte stored is a bomb
MAX_SHARED_STRINGS = 1_000_000  # five distinct strings a row at the 200,000-row limit
MAX_SHARED_CHARS = 32 * 1024 * 1024
MAX_COLUMNS = 16_384  # Excel's last column, XFD
MAX_ROW_NUMBER = 1_048_576  # Excel's last row
MAX_STYLES = 65_000
READ_SECONDS = 60.0

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_WINDOWS_EPOCH = datetime(1899, 12, 30)
_MAC_EPOCH = datetime(1904, 1, 1)
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_SI_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d{1,7})$")


class FileRejected(ValueError):
    """The workbook as a whole cannot be read."""


@dataclass(frozen=True)
class TooLong:
    """A string longer than the caller's cell limit: only its length is kept."""

    length: int


@dataclass
class SheetRow:
    number: int  # the spreadsheet's row number (1 is the first row)
    cells: dict[
        int, object
    ]  # column index (0 is A) -> value: str, int, float, bool, datetime, TooLong
    problems: list[tuple[int, str]] = field(default_factory=list)  # (column index, message)


def column_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _tags(name: str) -> frozenset[str]:
    """The element's tag in the transitional and strict namespaces (and none)."""
    return frozenset({f"{{{_MAIN}}}{name}", f"{{{_STRICT_MAIN}}}{name}", name})


_SI, _C, _ROW, _SHEET_DATA = _tags("si"), _tags("c"), _tags("row"), _tags("sheetData")


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise FileRejected(
                f"reading the workbook took more than {self.seconds:.0f} s; refused "
                "(split it or save it as CSV)"
            )


class _Bounded:
    """A zip member's stream that counts what it unpacks and stops at a cap or the deadline."""

    def __init__(self, stream: IO[bytes], part: str, limit: int, deadline: _Deadline):
        self.stream, self.part, self.limit, self.deadline = stream, part, limit, deadline
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        try:
            data = self.stream.read(1024 * 1024 if n is None or n < 0 else min(n, 1024 * 1024))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
            raise FileRejected(
                f"the .xlsx file is damaged ({self.part} cannot be unpacked)"
            ) from None
        self.count += len(data)
        if self.count > self.limit:
            raise FileRejected(
                f"{self.part} unpacks to more than {self.limit // 2**20} MB; refused"
            )
        self.deadline.check()
        return data


@dataclass
class Workbook:
    zf: zipfile.ZipFile
    sheet: str  # the first sheet's part name
    strings_part: str | None
    styles_part: str | None
    epoch: datetime
    deadline: _Deadline
    max_cell: int
    strings: list = field(default_factory=list)
    date_styles: set[int] = field(default_factory=set)

    def _open(self, part: str, limit: int) -> _Bounded:
        try:
            info = self.zf.getinfo(part)
        except KeyError:
            raise FileRejected(f"the workbook is damaged: its part {part} is missing") from None
        if info.file_size > limit:
            raise FileRejected(
                f"{part} unpacks to {info.file_size / 2**20:.0f} MB; the limit is "
                f"{limit // 2**20} MB"
            )
        try:
            stream = self.zf.open(info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, OSError):
            raise FileRejected(f"the .xlsx file is damaged ({part} cannot be unpacked)") from None
        return _Bounded(stream, part, limit, self.deadline)

    def head(self, part: str, size: int) -> bytes:
        source = self._open(part, MAX_SHEET_BYTES)
        try:
            return source.read(size)
        finally:
            source.stream.close()

    def iterparse(self, part: str, limit: int, events=("end",)) -> Iterator[tuple[str, Any]]:
        """(event, element) of a part, parsed by expat with no DTD (so no entity can be
        declared); FileRejected for anything that is not well-formed XML."""
        _no_dtd(part, self.head(part, _PROLOG_BYTES))
        source = self._open(part, limit)
        try:
            yield from iterparse(source, events=events)
        except ParseError as exc:
            line, column = getattr(exc, "position", (0, 0))
            raise FileRejected(
                f"{part} is not well-formed XML (line {line}, column {column})"
            ) from None
        except RecursionError:
            raise FileRejected(f"{part} is nested too deeply") from None
        finally:
            source.stream.close()

    def count(self, part: str, limit: int, tag: re.Pattern) -> int:
        """How many elements a tag pattern finds in a part, by a scan of its bytes (no parsing:
        a tenth of the time), so a part with too many is refused before it is parsed."""
        source = self._open(part, limit)
        count, pending = 0, b""
        try:
            while chunk := source.read(1024 * 1024):
                data = pending + chunk
                last_end = 0
                for m in tag.finditer(data):
                    count += 1
                    last_end = m.end()
                pending = data[max(last_end, len(data) - 64) :]  # a tag cut by the chunking
        finally:
            source.stream.close()
        return count


_PROLOG_BYTES = 64 * 1024
_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.S)


def _no_dtd(part: str, head: bytes) -> None:
    """Refuse a part whose prolog declares a DTD (where entities, and their bombs, live) or is
    too long to check. Expat refuses a DOCTYPE after the root element by itself."""
    at = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while m := _PROLOG_ITEM.match(head, at):
        at = m.end()
    rest = head[at:]
    if rest.startswith(b"<!"):
        raise FileRejected(f"{part} declares XML entities or a DTD (an entity bomb?); refused")
    if len(rest) < 2 and len(head) >= _PROLOG_BYTES:
        raise FileRejected(
            f"{part} starts with more than {_PROLOG_BYTES // 1024} KB before its root"
        )


def _check_zip(zf: zipfile.ZipFile) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise FileRejected(
            f"the workbook holds {len(infos):,} files; a workbook has far fewer than {MAX_MEMBERS:,}"
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise FileRejected("the workbook is encrypted; save it without a password")
        total += info.file_size
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise FileRejected(
                f"{info.filename} unpacks {info.file_size // max(info.compress_size, 1)}:1 "
                "(a decompression bomb?); refused"
            )
    if total > MAX_UNPACKED_BYTES:
        raise FileRejected(
            f"the workbook unpacks to {total / 2**20:.0f} MB; the limit is "
            f"{MAX_UNPACKED_BYTES // 2**20} MB"
        )


def _relationships(wb: Workbook, part: str) -> dict[str, tuple[str, str | None]]:
    """Id -> (type, target) of a relationships part."""
    rels: dict[str, tuple[str, str | None]] = {}
    for _, el in wb.iterparse(part, MAX_SMALL_PART_BYTES):
        if _local(el.tag) == "Relationship":
            rid = el.get("Id")
            if rid:
                rels[rid] = (el.get("Type") or "", el.get("Target"))
            if len(rels) > 10_000:
                raise FileRejected(f"{part} has too many relationships")
    return rels


def _target(rid: str, rels: dict, what: str) -> str:
    kind_target = rels.get(rid)
    if kind_target is None:
        raise FileRejected(f"the workbook is damaged: the {what} relationship {rid} is missing")
    target = kind_target[1]
    if not target:
        raise FileRejected(f"the workbook is damaged: the {what} relationship {rid} has no Target")
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join("xl", target))


def open_workbook(path: Path, *, max_cell: int, seconds: float = READ_SECONDS) -> Workbook:
    """The workbook's structure checked and its shared strings and date styles loaded."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise FileRejected("the .xlsx file is damaged (not a readable zip)") from None
    try:
        _check_zip(zf)
        names = set(zf.namelist())
        if "xl/workbook.xml" not in names:
            raise FileRejected("this zip is not an Excel workbook (no xl/workbook.xml)")
        wb = Workbook(zf, "", None, None, _WINDOWS_EPOCH, _Deadline(seconds), max_cell)
        first_sheet_rid, date1904 = None, False
        for _, el in wb.iterparse("xl/workbook.xml", MAX_SMALL_PART_BYTES):
            tag = _local(el.tag)
            if tag == "sheet" and first_sheet_rid is None:
                first_sheet_rid = el.get(f"{{{_REL}}}id") or el.get(
                    "{http://purl.oclc.org/ooxml/officeDocument/relationships}id"
                )
                if not first_sheet_rid:
                    raise FileRejected("the workbook is damaged: its first sheet has no r:id")
            elif tag == "workbookPr":
                date1904 = el.get("date1904") in ("1", "true")
        if first_sheet_rid is None:
            raise FileRejected("the workbook has no worksheet")
        wb.epoch = _MAC_EPOCH if date1904 else _WINDOWS_EPOCH
        rels_part = "xl/_rels/workbook.xml.rels"
        if rels_part not in names:
            raise FileRejected(f"the workbook is damaged: its part {rels_part} is missing")
        rels = _relationships(wb, rels_part)
        wb.sheet = _target(first_sheet_rid, rels, "first sheet's")
        if wb.sheet not in names:
            raise FileRejected(f"the workbook is damaged: its first sheet ({wb.sheet}) is missing")
        for kind, target in rels.values():
            if target and kind.endswith("/sharedStrings"):
                wb.strings_part = _target_of(target)
            elif target and kind.endswith("/styles"):
                wb.styles_part = _target_of(target)
        if wb.strings_part is None and "xl/sharedStrings.xml" in names:
            wb.strings_part = "xl/sharedStrings.xml"
        if wb.styles_part and wb.styles_part in names:
            _load_styles(wb)
        if wb.strings_part and wb.strings_part in names:
            _load_strings(wb)
        return wb
    except BaseException:
        zf.close()
        raise


def _target_of(target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join("xl", target))


def _load_styles(wb: Workbook) -> None:
    """Which cell styles show a number as a date (what openpyxl turns into a datetime)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    assert wb.styles_part is not None
    custom: dict[int, str] = {}
    formats: list[int] = []
    in_xfs = False
    for event, el in wb.iterparse(wb.styles_part, MAX_SMALL_PART_BYTES, ("start", "end")):
        tag = _local(el.tag)
        if tag == "cellXfs":
            in_xfs = event == "start"
        elif event == "end" and tag == "numFmt":
            try:
                custom[int(el.get("numFmtId", ""))] = el.get("formatCode") or ""
            except ValueError:
                raise FileRejected(f"{wb.styles_part}: a number format has a bad id") from None
        elif event == "end" and tag == "xf" and in_xfs:
            try:
                formats.append(int(el.get("numFmtId") or 0))
            except ValueError:
                raise FileRejected(
                    f"{wb.styles_part}: a cell style has a bad number format"
                ) from None
            if len(formats) > MAX_STYLES:
                raise FileRejected(f"{wb.styles_part} has more than {MAX_STYLES:,} cell styles")
    wb.date_styles = {
        i
        for i, fmt in enumerate(formats)
        if is_date_format(custom.get(fmt, BUILTIN_FORMATS.get(fmt)))
    }


def _text_of(si) -> str:
    """The text of a shared string or inline string: its <t>, or its runs' <t>s (not the
    phonetic guide)."""
    parts = []
    for child in si:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            for t in child:
                if _local(t.tag) == "t":
                    parts.append(t.text or "")
    return "".join(parts)


def _load_strings(wb: Workbook) -> None:
    assert wb.strings_part is not None
    found = wb.count(wb.strings_part, MAX_STRINGS_BYTES, _SI_TAG)
    if found > MAX_SHARED_STRINGS:
        raise FileRejected(
            f"the workbook has {found:,} shared strings; the limit is {MAX_SHARED_STRINGS:,} "
            "(split it or save it as CSV)"
        )
    strings: list = []
    chars, max_cell = 0, wb.max_cell
    root = None
    for event, el in wb.iterparse(wb.strings_part, MAX_STRINGS_BYTES, ("start", "end")):
        if root is None:
            root = el
            continue
        if event != "end" or el.tag not in _SI:
            continue
        text = _text_of(el)
        if len(text) > max_cell:
            strings.append(TooLong(len(text)))
        else:
            strings.append(text)
            chars += len(text)
        if len(strings) > MAX_SHARED_STRINGS:  # the scan above missed some: refuse all the same
            raise FileRejected(
                f"the workbook has more than {MAX_SHARED_STRINGS:,} shared strings; "
                "split it or save it as CSV"
            )
        if chars > MAX_SHARED_CHARS:
            raise FileRejected(
                f"the workbook's shared strings hold more than {MAX_SHARED_CHARS:,} characters; "
                "refused"
            )
        root.clear()
    wb.strings = strings


def count_rows(wb: Workbook) -> int:
    """How many <row> elements the sheet holds, by a scan of its bytes (no parsing)."""
    return wb.count(wb.sheet, MAX_SHEET_BYTES, _ROW_TAG)


def _number(text: str):
    text = text.strip()
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,4})?", text):
        raise ValueError(f"{text[:20]!r} is not a number")
    if re.fullmatch(r"[+-]?\d{1,18}", text):
        return int(text)
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]!r} is not a finite number")
    return value


def _from_excel(value: float, epoch: datetime):
    """An Excel serial date as a datetime (or a time of day), as openpyxl gives it."""
    from openpyxl.utils.datetime import from_excel

    if not -1e7 < value < 3e6:  # beyond year 9999 either way
        raise OverflowError
    return from_excel(value, epoch)


def _cell_value(c, wb: Workbook):
    """The value of a <c> element; ValueError naming what is wrong with it."""
    kind = c.get("t") or "n"
    v = None
    inline = None
    for child in c:
        tag = _local(child.tag)
        if tag == "v":
            v = child.text
        elif tag == "is":
            inline = child
    if kind == "inlineStr":
        text = _text_of(inline) if inline is not None else ""
        return TooLong(len(text)) if len(text) > wb.max_cell else text
    if v is None:
        return None
    if kind == "s":
        try:
            index = int(v)
        except ValueError:
            raise ValueError(f"shared-string index {v[:20]!r} is not a number") from None
        if not 0 <= index < len(wb.strings):
            raise ValueError(
                f"refers to shared string {index:,} but the workbook has {len(wb.strings):,}"
            )
        return wb.strings[index]
    if kind in ("str", "e"):
        return TooLong(len(v)) if len(v) > wb.max_cell else v
    if kind == "b":
        if v.strip() not in ("0", "1"):
            raise ValueError(f"{v[:20]!r} is not a true/false value")
        return v.strip() == "1"
    if kind == "d":
        try:
            return datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{v[:30]!r} is not a date") from None
    if kind != "n":
        raise ValueError(f"has an unknown cell type {kind[:10]!r}")
    number = _number(v)
    try:
        style = int(c.get("s") or 0)
    except ValueError:
        style = 0
    if style in wb.date_styles:
        try:
            return _from_excel(number, wb.epoch)
        except (OverflowError, ValueError):
            raise ValueError(f"{v[:20]} is not a date Excel can show (beyond year 9999)") from None
    return number


def rows(wb: Workbook) -> Iterator[SheetRow]:
    """The sheet's rows that hold anything, in order, each with its cells and cell problems."""
    last_row = 0
    sheet_data = None
    current: SheetRow | None = None
    column = -1
    for event, el in wb.iterparse(wb.sheet, MAX_SHEET_BYTES, ("start", "end")):
        tag = el.tag
        if event == "start":
            if tag in _SHEET_DATA:
                sheet_data = el
            elif tag in _ROW:
                number = el.get("r")
                if number is None:
                    row_number = last_row + 1
                else:
                    try:
                        row_number = int(number)
                    except ValueError:
                        raise FileRejected(
                            f"{wb.sheet}: a row is numbered {number[:20]!r}"
                        ) from None
                if not last_row < row_number <= MAX_ROW_NUMBER:
                    raise FileRejected(
                        f"{wb.sheet}: row {row_number} comes after row {last_row}; "
                        "the sheet's rows are out of order or beyond Excel's last row"
                    )
                last_row = row_number
                current, column = SheetRow(row_number, {}), -1
            continue
        if tag in _C and current is not None:
            ref = el.get("r")
            if ref:
                m = _CELL_REF.match(ref)
                index = -1
                if m:
                    letters = m.group(1)
                    index = 0
                    for ch in letters:
                        index = index * 26 + ord(ch) - 64
                    index -= 1
                if m is None or index >= MAX_COLUMNS:
                    raise FileRejected(
                        f"{wb.sheet}: row {current.number} has a cell at {ref[:20]!r}, "
                        "beyond Excel's last column XFD"
                    )
                column = index
            else:
                column += 1
                if column >= MAX_COLUMNS:
                    raise FileRejected(
                        f"{wb.sheet}: row {current.number} has more than {MAX_COLUMNS:,} cells"
                    )
            try:
                value = _cell_value(el, wb)
            except ValueError as exc:
                current.problems.append((column, str(exc)))
            else:
                if value is not None and value != "":
                    current.cells[column] = value
            el.clear()
        elif tag in _ROW and current is not None:
            if current.cells or current.problems:
                yield current
            current = None
            if sheet_data is not None:
                sheet_data.clear()
