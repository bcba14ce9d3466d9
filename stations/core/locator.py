"""Nearest stations and map clusters over an in-memory spatial index (pure: no Flask, no SQL).

A KD-tree on unit vectors ranks by great-circle chord, which differs from the ellipsoidal
geodesic by up to ~0.6 %: enough to reorder stations tens of kilometres away. So the tree only
proposes: the k best candidates that pass the filters fix an upper bound D on the k-th geodesic
distance, every station within D / (1 - SLACK) on the sphere is then measured exactly, and the
exact geodesic decides the order.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy.spatial import cKDTree

from stations.core import geo, hours
from stations.core.published import PUBLIC_STATUSES
from stations.core.vocab import FACILITIES

SLACK = 0.01  # > the largest spherical-vs-ellipsoidal relative distance error (~0.56 %)
STATUS_CODES = {"open": 1, "temporarily_closed": 2, "planned": 3, "closed": 4}
COURIER_VISIBLE = tuple(STATUS_CODES[s] for s in PUBLIC_STATUSES)  # published only
FACILITY_BITS = {key: 1 << i for i, key in enumerate(FACILITIES.keys())}


def facility_mask(keys: Sequence[str]) -> int:
    mask = 0
    for key in keys:
        mask |= FACILITY_BITS[key]
    return mask


@dataclass(frozen=True)
class Hit:
    id: int
    distance_m: float
    bearing_deg: float
    beyond_radius: bool = False


@dataclass(frozen=True)
class Cluster:
    lat: float
    lon: float
    count: int


class Locator:
    def __init__(
        self, ids, lats, lons, masks, statuses, opening_hours: Sequence[str], adcodes=None
    ):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.lats = np.asarray(lats, dtype=float)
        self.lons = np.asarray(lons, dtype=float)
        self.masks = np.asarray(masks, dtype=np.int64)
        self.statuses = np.asarray(statuses, dtype=np.int8)
        self.hours = list(opening_hours)
        self.adcodes = np.asarray(
            list(adcodes) if adcodes is not None else [""] * len(self.ids), dtype="U6"
        )
        self.tree = cKDTree(geo.unit_vectors(self.lats, self.lons)) if len(self.ids) else None

    @classmethod
    def from_rows(cls, rows) -> "Locator":
        """From store.locator_rows(): (id, lat, lon, facilities JSON, status, hours, closed_until)."""
        import json

        ids, lats, lons, masks, statuses, hours_, adcodes = [], [], [], [], [], [], []
        for station_id, lat, lon, facilities, status, opening_hours, _closed_until, adcode in rows:
            adcodes.append(adcode)
            ids.append(station_id)
            lats.append(lat)
            lons.append(lon)
            masks.append(facility_mask(json.loads(facilities)))
            statuses.append(STATUS_CODES[status])
            hours_.append(opening_hours)
        return cls(ids, lats, lons, masks, statuses, hours_, adcodes)

    def __len__(self) -> int:
        return len(self.ids)

    # -- filters ------------------------------------------------------------------------------

    def _static_ok(
        self, idx: np.ndarray, need: int, open_now: bool, region: str = ""
    ) -> np.ndarray:
        """Filters that need no clock: visible status (open only, for open_now), facilities,
        and a region (adcode prefix) for partners' keys scoped to one."""
        status = self.statuses[idx]
        ok = (status == 1) if open_now else np.isin(status, COURIER_VISIBLE)
        if need:
            ok &= (self.masks[idx] & need) == need
        if region:
            ok &= np.char.startswith(self.adcodes[idx], region)
        return ok

    def _open_filter(self, at: datetime) -> Callable[[int], bool]:
        memo: dict[str, bool] = {}

        def is_open(i: int) -> bool:
            expr = self.hours[i]
            if expr not in memo:
                memo[expr] = hours.state(expr, at) == "open"
            return memo[expr]

        return is_open

    def _passing(
        self, idx: np.ndarray, need: int, open_now: bool, is_open, region: str = ""
    ) -> np.ndarray:
        idx = idx[self._static_ok(idx, need, open_now, region)]
        if open_now:
            idx = np.array([i for i in idx if is_open(int(i))], dtype=np.int64)
        return idx

    # -- nearest ------------------------------------------------------------------------------

    def nearest(
        self,
        lat: float,
        lon: float,
        k: int = 5,
        *,
        radius_m: float | None = None,
        facilities: Sequence[str] = (),
        open_now: bool = False,
        at: datetime | None = None,
        region: str = "",
    ) -> list[Hit]:
        """The k nearest stations that pass the filters, by exact geodesic distance.

        With radius_m, only stations inside it; if none is, the nearest anyway, each flagged
        beyond_radius.
        """
        if self.tree is None or k < 1:
            return []
        need = facility_mask(facilities)
        is_open = self._open_filter(at) if open_now else None
        point = geo.unit_vectors([lat], [lon])[0]
        n, total = min(len(self), max(4 * k, 16)), len(self)
        while True:  # widen until k candidates pass the filters (or every station was seen)
            _, idx = self.tree.query(point, n)
            idx = np.atleast_1d(idx)
            passing = self._passing(idx[idx < total], need, open_now, is_open, region)
            if len(passing) >= k or n >= total:
                break
            n = min(total, n * 4)
        if len(passing) == 0:
            return []
        dist, _ = geo.distance_bearing(lat, lon, self.lats[passing], self.lons[passing])
        bound = np.sort(dist)[min(k, len(dist)) - 1]
        # Everything that could beat the bound on the ellipsoid lies in this spherical ball.
        ball = np.array(
            self.tree.query_ball_point(point, geo.chord_for(bound / (1 - SLACK))), dtype=np.int64
        )
        ball = self._passing(np.union1d(ball, passing), need, open_now, is_open, region)
        dist, bearing = geo.distance_bearing(lat, lon, self.lats[ball], self.lons[ball])
        order = np.lexsort((self.ids[ball], dist))[:k]
        hits = [Hit(int(self.ids[ball[i]]), float(dist[i]), float(bearing[i])) for i in order]
        if radius_m is None:
            return hits
        inside = [h for h in hits if h.distance_m <= radius_m]
        if inside:
            return inside
        return [Hit(h.id, h.distance_m, h.bearing_deg, beyond_radius=True) for h in hits]

    # -- map view -----------------------------------------------------------------------------

    def in_box(
        self,
        min_lat,
        min_lon,
        max_lat,
        max_lon,
        *,
        facilities=(),
        open_now=False,
        at=None,
        region="",
    ) -> np.ndarray:
        """Indexes (into this locator) of visible stations in a box that pass the filters."""
        box = (
            (self.lats >= min_lat)
            & (self.lats <= max_lat)
            & (self.lons >= min_lon)
            & (self.lons <= max_lon)
        )
        idx = np.flatnonzero(box)
        is_open = self._open_filter(at) if open_now else None
        return self._passing(idx, facility_mask(facilities), open_now, is_open, region)

    def clusters(
        self, idx: np.ndarray, min_lat, min_lon, max_lat, max_lon, cells: int = 12
    ) -> list[Cluster]:
        """Stations grouped on a grid of about cells x cells over the box: count and centroid."""
        if len(idx) == 0:
            return []
        size = max(max_lat - min_lat, max_lon - min_lon) / cells or 1e-9
        rows = np.floor((self.lats[idx] - min_lat) / size).astype(np.int64)
        cols = np.floor((self.lons[idx] - min_lon) / size).astype(np.int64)
        keys = rows * (cells * 4 + 1) + cols
        uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        lat_sum = np.bincount(inverse, weights=self.lats[idx])
        lon_sum = np.bincount(inverse, weights=self.lons[idx])
        return [
            Cluster(float(lat_sum[i] / counts[i]), float(lon_sum[i] / counts[i]), int(counts[i]))
            for i in range(len(uniq))
        ]

    def station_id(self, index: int) -> int:
        return int(self.ids[index])
