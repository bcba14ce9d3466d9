"""Exporting stations: CSV (Excel-friendly), XLSX, GeoJSON (RFC 7946) and GeoPackage.

Spreadsheet cells that a spreadsheet would run as a formula (= + - @ …) are neutralised: an
apostrophe in CSV (which our reader strips again, so exports re-import unchanged) and a
text-typed, quote-prefixed cell in XLSX.
"""

import csv
import json
from collections.abc import Iterable
from pathlib import Path

from stations.core.columns import EXPORT_ORDER, STAFF_ONLY, header
from stations.core.model import Station
from stations.core.text import FORMULA_STARTS, neutralise_formula
from stations.core.vocab import DATUMS, ENTRY_METHODS, FACILITIES, HOST_TYPES, STATUSES

FORMATS = (".csv", ".xlsx", ".geojson", ".gpkg")
_TERMS = {
    "host_type": HOST_TYPES,
    "entry_method": ENTRY_METHODS,
    "status": STATUSES,
    "coord_source": DATUMS,
}
_NUMBERS = ("lat", "lon", "source_lat", "source_lon", "version")
LICENCE = "Open Database License (ODbL) 1.0"


def _fields(public: bool) -> list[str]:
    return [f for f in EXPORT_ORDER if not (public and f in STAFF_ONLY)]


def cells(station: Station, fields: list[str], lang: str = "en") -> list:
    """One station as spreadsheet values, in fields order (numbers stay numbers)."""
    data = station.as_dict()
    data["crs"] = "wgs84"
    out = []
    for f in fields:
        value = data.get(f)
        if f == "facilities":
            value = ("、" if lang == "zh" else ";").join(
                FACILITIES.label(k, "zh") if lang == "zh" else k for k in value or ()
            )
        elif f in _TERMS and lang == "zh" and value:
            value = _TERMS[f].label(value, "zh")
        elif value is None:
            value = ""
        out.append(value)
    return out


def write(
    path: str | Path, stations: Iterable[Station], *, lang: str = "en", public: bool = False
) -> int:
    """Write stations to path in the format its extension names; returns the count."""
    path = Path(path)
    suffix = path.suffix.lower()
    writer = {
        ".csv": write_csv,
        ".xlsx": write_xlsx,
        ".geojson": write_geojson,
        ".gpkg": write_gpkg,
    }.get(suffix)
    if writer is None:
        raise ValueError(
            f"unknown export format {suffix or '(none)'}; use one of {', '.join(FORMATS)}"
        )
    return writer(path, stations, lang=lang, public=public)


def _csv_cell(value):
    if isinstance(value, float):
        return repr(value)
    return neutralise_formula(value) if isinstance(value, str) else value


def table_csv(f, headers: list[str], rows: Iterable[list]) -> int:
    """Write a table as CSV to an open text file (newline=""); formula-safe. Returns rows."""
    out = csv.writer(f)
    out.writerow(headers)
    count = 0
    for row in rows:
        out.writerow([_csv_cell(v) for v in row])
        count += 1
    return count


def table_xlsx(target, headers: list[str], rows: Iterable[list], sheet: str = "Sheet1") -> int:
    """Write a table as XLSX to a path or binary file; text is never a live formula."""
    return sheets_xlsx(target, [(sheet, headers, rows)])[0]


def sheets_xlsx(target, sheets: Iterable[tuple[str, list[str], Iterable[list]]]) -> list[int]:
    """Write several tables, one sheet each, as XLSX; the row count of each."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    counts = []
    for sheet, headers, rows in sheets:
        ws = wb.create_sheet(sheet)
        ws.append(headers)
        count = 0
        for values in rows:
            row = []
            for value in values:
                cell = WriteOnlyCell(ws, value=value)
                if isinstance(value, str) and value.startswith(FORMULA_STARTS):
                    cell.data_type = "s"  # openpyxl would otherwise write a live formula
                    cell.quotePrefix = True  # and Excel keeps it text even when edited
                row.append(cell)
            ws.append(row)
            count += 1
        counts.append(count)
    wb.save(target)
    return counts


def write_csv(path: Path, stations: Iterable[Station], *, lang="en", public=False) -> int:
    fields = _fields(public)
    # utf-8-sig: Excel opens a BOM-marked CSV as UTF-8 instead of the system code page
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        return table_csv(
            f, [header(x, lang) for x in fields], (cells(s, fields, lang) for s in stations)
        )


def write_xlsx(path: Path, stations: Iterable[Station], *, lang="en", public=False) -> int:
    fields = _fields(public)
    rows = (cells(s, fields, lang) for s in stations)
    return table_xlsx(
        path, [header(x, lang) for x in fields], rows, "stations" if lang == "en" else "驿站"
    )


def feature(station: Station, *, public: bool = True, lang: str = "en") -> dict:
    """A station as an RFC 7946 Feature: geometry [lon, lat] in WGS-84."""
    props = {}
    for f in _fields(public):
        if f in ("lat", "lon", "crs"):
            continue
        value = getattr(station, f)
        props[f] = list(value) if f == "facilities" else value
    return {
        "type": "Feature",
        "id": station.code,
        "geometry": {"type": "Point", "coordinates": [station.lon, station.lat]},  # x is longitude
        "properties": props,
    }


def write_geojson(path: Path, stations: Iterable[Station], *, lang="en", public=False) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as f:
        head = {"type": "FeatureCollection", "license": LICENCE}
        f.write(json.dumps(head)[:-1] + ', "features": [\n')  # streamed: one feature a line
        for s in stations:
            if count:
                f.write(",\n")
            f.write(json.dumps(feature(s, public=public), ensure_ascii=False, allow_nan=False))
            count += 1
        f.write("\n]}\n")
    return count


def write_gpkg(path: Path, stations: Iterable[Station], *, lang="en", public=False) -> int:
    import geopandas as gpd

    fields = [f for f in _fields(public) if f not in ("lat", "lon", "crs")]
    records, lons, lats = [], [], []
    for s in stations:
        records.append(dict(zip(fields, cells(s, fields, lang), strict=True)))
        lons.append(s.lon)
        lats.append(s.lat)
    geometry = gpd.points_from_xy(lons, lats)  # x is longitude
    frame = gpd.GeoDataFrame(records, columns=fields, geometry=geometry, crs="EPSG:4326")
    path.unlink(missing_ok=True)  # GDAL would add a second layer to an existing file
    frame.to_file(path, driver="GPKG", layer="stations", engine="pyogrio")
    return len(records)
