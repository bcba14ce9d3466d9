"""A coverage report as files staff open elsewhere: GeoPackage (QGIS/GDAL), GeoJSON, XLSX.

Every file carries the same layers: circles (covered area per district), gaps, suggested sites
and demand, plus the district table; spreadsheets get one sheet per table.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from stations.core import datum, regions
from stations.core.coverage_report import NONE, SEARCHES, Report
from stations.core.writers import sheets_xlsx

FORMATS = (".gpkg", ".geojson", ".xlsx")

# key -> (English, Chinese)
DISTRICT_COLUMNS = {
    "adcode": ("adcode", "行政区划代码"),
    "name": ("district", "区县"),
    "area_km2": ("area (km²)", "面积（平方公里）"),
    "covered_km2": ("covered (km²)", "覆盖面积（平方公里）"),
    "covered_share": ("area covered", "面积覆盖率"),
    "stations": ("open stations", "开放站点数"),
    "density": ("stations per km²", "每平方公里站点数"),
    "demand": ("demand", "需求总量"),
    "demand_covered": ("demand covered", "已覆盖需求"),
    "demand_share": ("demand covered (share)", "需求覆盖率"),
    "redundant_pairs": ("pairs too close", "过近站点对"),
}
SUGGESTION_COLUMNS = {
    "rank": ("rank", "序号"),
    "lat": ("lat", "纬度"),
    "lon": ("lon", "经度"),
    "adds": ("demand it adds", "新增覆盖需求"),
    "adcode": ("adcode", "行政区划代码"),
    "district": ("district", "区县"),
    "label": ("candidate", "候选点"),
}
GAP_COLUMNS = {
    "adcode": ("adcode", "行政区划代码"),
    "district": ("district", "区县"),
    "area_km2": ("area (km²)", "面积（平方公里）"),
    "lat": ("lat (inside)", "纬度（缺口内一点）"),
    "lon": ("lon (inside)", "经度（缺口内一点）"),
}
PAIR_COLUMNS = {
    "a_name": ("station", "站点"),
    "b_name": ("too close to", "距离过近的站点"),
    "distance_m": ("distance (m)", "距离（米）"),
    "adcode": ("adcode", "行政区划代码"),
}


def _heads(columns: dict, lang: str) -> list[str]:
    return [zh if lang == "zh" else en for en, zh in columns.values()]


def district_rows(report: Report) -> list[dict[str, Any]]:
    """The district table, then the region's total row."""
    rows = []
    for d in [*report.coverage.districts, report.coverage.total]:
        share = d.demand_share
        rows.append(
            {
                "adcode": d.adcode,
                "name": d.name,
                "area_km2": round(d.area_km2, 3),
                "covered_km2": round(d.covered_km2, 3),
                "covered_share": round(d.covered_share, 4),
                "stations": d.stations,
                "density": round(d.density, 4),
                "demand": round(d.demand, 2),
                "demand_covered": round(d.demand_covered, 2),
                "demand_share": round(share, 4) if share is not None else None,
                "redundant_pairs": d.redundant_pairs,
            }
        )
    return rows


def _names(report: Report) -> dict[str, str]:
    return {d.adcode: d.name for d in report.coverage.districts}


def suggestion_rows(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "rank": s.rank,
            "lat": round(s.lat, 6),
            "lon": round(s.lon, 6),
            "adds": round(s.adds, 2),
            "adcode": s.adcode,
            "district": s.district,
            "label": s.label,
        }
        for s in report.suggestions
    ]


def gap_rows(report: Report) -> list[dict[str, Any]]:
    names = _names(report)
    rows = []
    for gap in report.coverage.gaps:
        inside = gap.geometry.representative_point()
        rows.append(
            {
                "adcode": gap.adcode,
                "district": names.get(gap.adcode, ""),
                "area_km2": round(gap.area_km2, 3),
                "lat": round(inside.y, 6),  # y is latitude
                "lon": round(inside.x, 6),
            }
        )
    return rows


def pair_rows(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "a_name": p.a_name,
            "b_name": p.b_name,
            "distance_m": round(p.distance_m),
            "adcode": p.adcode,
        }
        for p in report.coverage.redundant
    ]


def describe_demand(report: Report, lang: str = "zh") -> str:
    if report.demand == NONE:
        return "无需求数据" if lang == "zh" else "no demand data"
    if report.demand == SEARCHES:
        return "未满足的搜索（近 90 天）" if lang == "zh" else "unmet searches (last 90 days)"
    if report.demand_fictitious and lang != "zh":
        return report.demand + " (fictitious demo data)"
    if report.demand_fictitious and "虚构" not in report.demand:
        return report.demand + "（虚构演示数据）"
    return report.demand


def parameter_rows(report: Report, generated_at: str, lang: str = "zh") -> list[list]:
    q = report.coverage.query
    zh = lang == "zh"
    return [
        ["地区" if zh else "region", f"{report.region_name} ({q.region})"],
        ["服务半径（米）" if zh else "radius (m)", round(q.radius_m)],
        [
            "仅 24 小时站点" if zh else "24-hour stations only",
            "是" if zh and q.only_24h else "否" if zh else str(q.only_24h).lower(),
        ],
        ["设施" if zh else "facilities", ",".join(q.facilities)],
        ["过近间距（米）" if zh else "too close under (m)", round(q.spacing_m)],
        ["需求" if zh else "demand", describe_demand(report, lang)],
        [
            "候选点" if zh else "candidates",
            ("网格" if zh else "grid") if report.candidates == "grid" else report.candidates,
        ],
        ["目标覆盖率" if zh else "target share", report.target],
        [
            "计量方式" if zh else "measured in",
            "各区县所在 CGCS2000 3 度带高斯-克吕格投影"
            if zh
            else "each district's CGCS2000 3-degree Gauss-Krüger zone",
        ],
        ["生成时间" if zh else "generated at", generated_at],
    ]


def _rows(table: list[dict], columns: dict) -> list[list]:
    return [[("" if r[k] is None else r[k]) for k in columns] for r in table]


def write_xlsx(target, report: Report, generated_at: str, lang: str = "zh") -> None:
    """Districts, suggestions, gaps, pairs too close, and the parameters: one sheet each."""
    zh = lang == "zh"
    sheets = [
        (
            "区县覆盖" if zh else "districts",
            _heads(DISTRICT_COLUMNS, lang),
            _rows(district_rows(report), DISTRICT_COLUMNS),
        ),
        (
            "建议选址" if zh else "suggestions",
            _heads(SUGGESTION_COLUMNS, lang),
            _rows(suggestion_rows(report), SUGGESTION_COLUMNS),
        ),
        (
            "覆盖缺口" if zh else "gaps",
            _heads(GAP_COLUMNS, lang),
            _rows(gap_rows(report), GAP_COLUMNS),
        ),
        (
            "过近站点" if zh else "too close",
            _heads(PAIR_COLUMNS, lang),
            _rows(pair_rows(report), PAIR_COLUMNS),
        ),
        (
            "说明" if zh else "parameters",
            ["项目" if zh else "item", "值" if zh else "value"],
            parameter_rows(report, generated_at, lang),
        ),
    ]
    sheets_xlsx(target, sheets)


def _to_map(geom, crs: str):
    """A WGS-84 geometry in a base map's datum (GCJ-02 for Amap): every vertex shifted."""
    if crs == "wgs84":
        return geom

    def shift(coords):
        moved = [datum.from_wgs84(lat, lon, crs, mainland=True)[::-1] for lon, lat in coords]
        return np.array(moved, dtype=float).reshape(-1, 2)  # x is lon

    return shapely.transform(geom, shift)


def layers(report: Report, simplify_deg: float = 0.0, crs: str = "wgs84") -> dict[str, list[dict]]:
    """Each layer as GeoJSON features ([lon, lat], WGS-84 unless a base map's crs is given):
    circles, gaps, suggestions, demand, and the stations whose circles count."""

    def geometry(geom) -> dict:
        if simplify_deg:
            geom = shapely.simplify(geom, simplify_deg, preserve_topology=True)
        geom = _to_map(shapely.set_precision(geom, 1e-6), crs)
        return json.loads(shapely.to_geojson(geom))

    def point(lat: float, lon: float) -> dict:
        lat, lon = datum.from_wgs84(lat, lon, crs, mainland=True)
        return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}  # x is lon

    names = _names(report)
    cov = report.coverage
    circles = []
    for d in cov.districts:
        part = (
            shapely.intersection(cov.circles, regions.district_geometry(d.adcode))
            if not cov.circles.is_empty
            else None
        )
        if part is not None and not part.is_empty:
            circles.append(
                {
                    "type": "Feature",
                    "geometry": geometry(part),
                    "properties": {
                        "adcode": d.adcode,
                        "district": d.name,
                        "covered_km2": round(d.covered_km2, 3),
                    },
                }
            )
    gaps = [
        {
            "type": "Feature",
            "geometry": geometry(g.geometry),
            "properties": {
                "adcode": g.adcode,
                "district": names.get(g.adcode, ""),
                "area_km2": round(g.area_km2, 3),
            },
        }
        for g in cov.gaps
    ]
    suggestions = [
        {
            "type": "Feature",
            "geometry": point(s.lat, s.lon),
            "properties": {k: v for k, v in row.items() if k not in ("lat", "lon")},
        }
        for s, row in zip(report.suggestions, suggestion_rows(report), strict=True)
    ]
    demand = [
        {
            "type": "Feature",
            "geometry": point(c.point.lat, c.point.lon),
            "properties": {"weight": c.point.weight, "covered": c.covered, "label": c.point.label},
        }
        for c in cov.demand
    ]
    stations = [
        {
            "type": "Feature",
            "geometry": point(s.lat, s.lon),
            "properties": {"id": s.id, "code": s.code, "name": s.name, "adcode": s.adcode},
        }
        for s in cov.serving
    ]
    return {
        "circles": circles,
        "gaps": gaps,
        "suggestions": suggestions,
        "demand": demand,
        "stations": stations,
    }


def outlines(report: Report, simplify_deg: float = 0.0, crs: str = "wgs84") -> list[dict]:
    """The region's district boundaries as GeoJSON features."""
    return [
        {
            "type": "Feature",
            "geometry": json.loads(
                shapely.to_geojson(
                    _to_map(
                        shapely.simplify(regions.district_geometry(d.adcode), simplify_deg), crs
                    )
                )
            ),
            "properties": {"adcode": d.adcode, "name": d.name},
        }
        for d in report.coverage.districts
    ]


def centre(report: Report) -> tuple[float, float]:
    """(lat, lon) of the middle of the region's districts."""
    c = regions.outline(report.coverage.query.region).centroid
    return (c.y, c.x)  # y is latitude


def write_geojson(path: Path, report: Report) -> None:
    features = []
    for name, items in layers(report).items():
        for f in items:
            features.append({**f, "properties": {"layer": name, **f["properties"]}})
    body = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(body, ensure_ascii=False, allow_nan=False), encoding="utf-8")


GEOMETRY_TYPES = {
    "circles": "MultiPolygon",
    "gaps": "Polygon",
    "suggestions": "Point",
    "demand": "Point",
    "stations": "Point",
}


def write_gpkg(path: Path, report: Report, generated_at: str, lang: str = "zh") -> None:
    """One GeoPackage layer each (empty layers keep their columns), plus the district table."""
    import geopandas as gpd
    import pandas as pd

    path.unlink(missing_ok=True)  # GDAL would add layers to an existing file
    for name, items in layers(report).items():
        geoms = [shapely.geometry.shape(f["geometry"]) for f in items]
        if name == "circles":
            geoms = [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in geoms]
        frame = gpd.GeoDataFrame([f["properties"] for f in items], geometry=geoms, crs="EPSG:4326")
        frame.to_file(
            path, driver="GPKG", layer=name, engine="pyogrio", geometry_type=GEOMETRY_TYPES[name]
        )
    table = pd.DataFrame(district_rows(report))
    gpd.GeoDataFrame(
        table,
        geometry=[regions.district_geometry(a) if len(a) == 6 else None for a in table["adcode"]],
        crs="EPSG:4326",
    ).to_file(
        path, driver="GPKG", layer="districts", engine="pyogrio", geometry_type="MultiPolygon"
    )
