"""Builders for test files: generated station rows and hand-crafted (hostile) workbooks."""

import zipfile
from pathlib import Path

import openpyxl


def station_rows(n: int, prefix: str = "T") -> list[dict]:
    """n valid stations on a ~55 m grid in central Hefei, distinct names and codes."""
    return [
        {
            "code": f"{prefix}{i:06d}",
            "name": f"测试驿站{i}",
            "lat": f"{31.80 + (i % 100) * 0.0005:.6f}",
            "lon": f"{117.20 + (i // 100 % 100) * 0.0005:.6f}",
            "opening_hours": "Mo-Su 08:00-20:00",
            "facilities": "drinking_water;toilet",
            "manager_phone": "",
        }
        for i in range(n)
    ]


def write_xlsx(path: Path, header: list, rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def rewrite_zip(
    src: Path,
    dst: Path,
    replace: dict[str, bytes] | None = None,
    add: dict[str, bytes] | None = None,
) -> Path:
    """A copy of a zip with some members replaced or added."""
    replace, add = replace or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = replace.get(item.filename, zin.read(item.filename))
            zout.writestr(item.filename, data)
        for name, data in add.items():
            zout.writestr(name, data)
    return dst


def inside(adcode: str) -> tuple[float, float]:
    """(lat, lon) of a point well inside a district (its representative point)."""
    from stations.core import regions

    point = regions.district_geometry(adcode).representative_point()
    return point.y, point.x  # y is latitude


def moved(lat: float, lon: float, azimuth: float, metres: float) -> tuple[float, float]:
    """The point `metres` from (lat, lon) along an azimuth (degrees from north), geodesically."""
    from pyproj import Geod

    lon2, lat2, _ = Geod(ellps="WGS84").fwd(lon, lat, azimuth, metres)
    return lat2, lon2
