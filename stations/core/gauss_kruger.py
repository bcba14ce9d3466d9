"""Metres on the ground: CGCS2000 3-degree Gauss-Krüger zones (pure).

China's surveying grid: one transverse Mercator zone per 3° of longitude, central meridians
75°E (EPSG:4534) to 135°E (EPSG:4554), no zone number in the easting. Within 1.5° of its
meridian a zone stretches distances by at most ~0.03 %, and `scale` says by exactly how much,
so a circle of r metres on the ground is drawn with radius r x scale. Longitude and latitude are
taken as CGCS2000 (EPSG:4490), which agrees with WGS-84 to well under a metre.
"""

import math
from functools import cache

import numpy as np
import shapely
from pyproj import CRS, Proj, Transformer

GEOGRAPHIC = "EPSG:4490"
FIRST_EPSG, FIRST_MERIDIAN, LAST_MERIDIAN = 4534, 75, 135


def zone(lon: float) -> int:
    """The EPSG code of the zone whose central meridian is nearest lon."""
    meridian = min(max(3 * math.floor(lon / 3 + 0.5), FIRST_MERIDIAN), LAST_MERIDIAN)
    return FIRST_EPSG + (meridian - FIRST_MERIDIAN) // 3


@cache
def _forward(epsg: int) -> Transformer:
    return Transformer.from_crs(GEOGRAPHIC, f"EPSG:{epsg}", always_xy=True)


@cache
def _inverse(epsg: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{epsg}", GEOGRAPHIC, always_xy=True)


@cache
def _proj(epsg: int) -> Proj:
    return Proj(CRS.from_epsg(epsg))


def to_metres(epsg: int, lons, lats) -> tuple[np.ndarray, np.ndarray]:
    x, y = _forward(epsg).transform(np.asarray(lons, float), np.asarray(lats, float))
    return np.asarray(x), np.asarray(y)


def to_degrees(epsg: int, xs, ys) -> tuple[np.ndarray, np.ndarray]:
    """(lons, lats) for grid coordinates."""
    lon, lat = _inverse(epsg).transform(np.asarray(xs, float), np.asarray(ys, float))
    return np.asarray(lon), np.asarray(lat)


def project(geometry, epsg: int):
    """A lon/lat geometry (or array of them) in the zone's metres."""
    return shapely.transform(geometry, lambda xy: np.column_stack(to_metres(epsg, *xy.T)))


def unproject(geometry, epsg: int):
    """A geometry (or array) in the zone's metres back in lon/lat."""
    return shapely.transform(geometry, lambda xy: np.column_stack(to_degrees(epsg, *xy.T)))


def scale(epsg: int, lons, lats) -> np.ndarray:
    """Grid metres per ground metre at each point (the same in every direction: the projection
    is conformal); areas scale by its square."""
    lons, lats = np.asarray(lons, float), np.asarray(lats, float)
    if not lons.size:  # get_factors refuses empty arrays
        return np.zeros(0)
    factors = _proj(epsg).get_factors(lons, lats)
    return np.asarray(factors.meridional_scale, dtype=float)
