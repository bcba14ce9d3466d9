"""Distances and bearings on the WGS-84 ellipsoid (pure)."""

from dataclasses import dataclass

import numpy as np
from pyproj import Geod

WGS84 = Geod(ellps="WGS84")
MEAN_RADIUS = 6_371_008.8  # metres, for the spherical pre-ranking in the locator


@dataclass(frozen=True)
class BBox:
    """A WGS-84 box, min <= max on both axes (it never crosses the antimeridian: China does not)."""

    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float


def distance_bearing(lat: float, lon: float, lats, lons) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic metres and initial bearing (degrees from north, 0-360) from one point to many."""
    lats = np.asarray(lats, dtype=float)
    lons = np.asarray(lons, dtype=float)
    az, _, dist = WGS84.inv(
        np.full_like(lons, lon), np.full_like(lats, lat), lons, lats
    )  # x is lon
    return np.asarray(dist), np.mod(np.asarray(az), 360.0)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return WGS84.inv(lon1, lat1, lon2, lat2)[2]


def unit_vectors(lats, lons) -> np.ndarray:
    """Points on the unit sphere (geodetic lat/lon taken as spherical), one row each."""
    lat = np.radians(np.asarray(lats, dtype=float))
    lon = np.radians(np.asarray(lons, dtype=float))
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def chord_for(metres: float) -> float:
    """Unit-sphere chord length for a great-circle distance in metres."""
    angle = min(metres / MEAN_RADIUS, np.pi)
    return 2.0 * np.sin(angle / 2.0)
