"""Distances and bearings on the WGS-84 ellipsoid (pure)."""

from dataclasses import dataclass

import numpy as np
from pyproj import Geod
from scipy.spatial import cKDTree

WGS84 = Geod(ellps="WGS84")
MEAN_RADIUS = 6_371_008.8  # metres, for the spherical pre-ranking in the locator
# A chord on the sphere only proposes; the geodesic decides. As locator.SLACK: more than the
# largest spherical-vs-ellipsoidal relative distance error (~0.56 %).
SLACK = 0.01


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


def _distances(lats_a, lons_a, lats_b, lons_b) -> np.ndarray:
    return np.asarray(WGS84.inv(lons_b, lats_b, lons_a, lats_a)[2])


def close_pairs(lats, lons, metres: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, distance) for every pair of points i < j less than metres apart."""
    lats, lons = np.asarray(lats, dtype=float), np.asarray(lons, dtype=float)
    tree = cKDTree(unit_vectors(lats, lons))
    pairs = tree.query_pairs(chord_for(metres * (1 + SLACK)), output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    dist = _distances(lats[i], lons[i], lats[j], lons[j])
    keep = dist < metres
    return i[keep], j[keep], dist[keep]


def pairs_within(lats_a, lons_a, lats_b, lons_b, metres: float) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) for every point a[i] and point b[j] at most metres apart, sorted by i then j."""
    lats_a, lons_a = np.asarray(lats_a, dtype=float), np.asarray(lons_a, dtype=float)
    lats_b, lons_b = np.asarray(lats_b, dtype=float), np.asarray(lons_b, dtype=float)
    empty = np.zeros(0, dtype=np.intp)
    if not len(lats_a) or not len(lats_b):
        return empty, empty
    tree = cKDTree(unit_vectors(lats_b, lons_b))
    balls = tree.query_ball_point(unit_vectors(lats_a, lons_a), chord_for(metres * (1 + SLACK)))
    counts = np.fromiter((len(b) for b in balls), dtype=np.intp, count=len(balls))
    if not counts.sum():
        return empty, empty
    i = np.repeat(np.arange(len(balls)), counts)
    j = np.concatenate([np.sort(np.asarray(b, dtype=np.intp)) for b in balls if b])
    keep = _distances(lats_a[i], lons_a[i], lats_b[j], lons_b[j]) <= metres
    return i[keep], j[keep]


def any_within(lats_a, lons_a, lats_b, lons_b, metres: float) -> np.ndarray:
    """For each point a, whether some point b lies at most metres away."""
    lats_a, lons_a = np.asarray(lats_a, dtype=float), np.asarray(lons_a, dtype=float)
    found = np.zeros(len(lats_a), dtype=bool)
    if not len(lats_a) or not len(lats_b):
        return found
    lats_b, lons_b = np.asarray(lats_b, dtype=float), np.asarray(lons_b, dtype=float)
    # The nearest on the sphere settles most points; only those near the edge need every
    # candidate in the ball measured.
    chord, nearest = cKDTree(unit_vectors(lats_b, lons_b)).query(unit_vectors(lats_a, lons_a))
    found = _distances(lats_a, lons_a, lats_b[nearest], lons_b[nearest]) <= metres
    unsure = np.flatnonzero(~found & (chord <= chord_for(metres * (1 + SLACK))))
    i, _ = pairs_within(lats_a[unsure], lons_a[unsure], lats_b, lons_b, metres)
    found[unsure[np.unique(i)]] = True
    return found
