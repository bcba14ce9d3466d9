"""Nearest stations and the stations in a map view, over an in-memory spatial index (pure: no
Flask, no SQL).

A KD-tree on unit vectors ranks by great-circle chord, which differs from the ellipsoidal
geodesic by up to ~0.6 %: enough to reorder stations tens of kilometres away. So the tree only
proposes: the k best candidates that pass the filters fix an upper bound D on the k-th geodesic
distance, every station within D / (1 - SLACK) on the sphere is then measured exactly, and the
exact geodesic decides the order.

A `Locator` is an immutable snapshot, so requests read it without locks. Writes do not rebuild
it: `patched()` returns a new snapshot that shares the big base (tree, grid, arrays), masks the
stations that changed and keeps their new versions in a small overlay searched by brute force.
`live_index.LiveIndex` decides when to patch and when to rebuild the base in the background.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree

from stations.core import geo, hours
from stations.core.published import PUBLIC_STATUSES
from stations.core.vocab import FACILITIES

SLACK = 0.01  # > the largest spherical-vs-ellipsoidal relative distance error (~0.56 %)
STATUS_CODES = {"open": 1, "temporarily_closed": 2, "planned": 3, "closed": 4}
COURIER_VISIBLE = tuple(STATUS_CODES[s] for s in PUBLIC_STATUSES)  # published only
_VISIBLE = np.isin(np.arange(max(STATUS_CODES.values()) + 1), COURIER_VISIBLE)  # code -> offered?
FACILITY_BITS = {key: 1 << i for i, key in enumerate(FACILITIES.keys())}
GRID_DEG = 0.1  # cell size of the box-query grid: a city view spans a few rows of cells
_GRID_COLS = int(round(360 / GRID_DEG))


class IndexRow(NamedTuple):
    """What the index keeps of a station, as the store hands it over (plain values)."""

    id: int
    lat: float
    lon: float
    facilities: tuple[str, ...]
    status: str
    opening_hours: str
    adcode: str


class IndexBatch(NamedTuple):
    """Many stations as columns: how a store hands a whole registry over without building an
    object per station (facilities: one shared tuple per distinct list)."""

    ids: Sequence[int]
    lats: Sequence[float]
    lons: Sequence[float]
    facilities: Sequence[tuple[str, ...]]
    statuses: Sequence[str]
    opening_hours: Sequence[str]
    adcodes: Sequence[str]


def facility_mask(keys: Iterable[str]) -> int:
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


@dataclass(frozen=True)
class InView:
    """Stations in a map view that pass the filters: ids with their positions."""

    ids: np.ndarray
    lats: np.ndarray
    lons: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Filters:
    need: int = 0  # facility bits that must all be present
    open_now: bool = False
    at: datetime | None = None
    region: str = ""  # adcode prefix (a partner key scoped to one region)


def _cells(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    rows = np.floor((lats + 90.0) / GRID_DEG).astype(np.int64)
    cols = np.floor((lons + 180.0) / GRID_DEG).astype(np.int64)
    return (rows * _GRID_COLS + np.minimum(cols, _GRID_COLS - 1)).astype(np.int32)  # < 2**23


def _adcode_number(adcode: str) -> int:
    return int(adcode) if adcode and adcode.isdigit() else 0


def _adcode_numbers(adcodes: Sequence[str]) -> np.ndarray:
    """Six-digit district codes as integers (0 where there is none), vectorised."""
    text = np.asarray(adcodes, dtype="U6").reshape(len(adcodes))
    digits = np.char.isdigit(text)
    out = np.zeros(len(text), dtype=np.int32)
    if digits.any():
        out[digits] = text[digits].astype(np.int32)
    return out


class _Part:
    """Columns of a set of stations. The base part also has a KD-tree and a grid (its rows
    sorted by grid cell) and a mask of live rows; the overlay part is small and is scanned."""

    def __init__(self, ids, lats, lons, masks, statuses, hour_codes, adcodes, *, indexed: bool):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.lats = np.asarray(lats, dtype=float)
        self.lons = np.asarray(lons, dtype=float)
        self.masks = np.asarray(masks, dtype=np.int32)
        self.statuses = np.asarray(statuses, dtype=np.int8)
        self.hour_codes = np.asarray(hour_codes, dtype=np.int32)
        self.adcodes = np.asarray(adcodes, dtype=np.int32)
        self.tree = None
        self.cells = None
        if indexed and len(self.ids):
            order = np.argsort(_cells(self.lats, self.lons), kind="stable")
            for name in ("ids", "lats", "lons", "masks", "statuses", "hour_codes", "adcodes"):
                setattr(self, name, getattr(self, name)[order])
            self.cells = _cells(self.lats, self.lons)
            self.tree = cKDTree(geo.unit_vectors(self.lats, self.lons), balanced_tree=False)
        # positions in id order, for finding ids fast (int32: a registry holds < 2**31 stations)
        self.by_id = np.argsort(self.ids, kind="stable").astype(np.int32)
        self._sorted_ids: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Positions of those of ids that are in this part."""
        if not len(self.ids) or not len(ids):
            return np.empty(0, dtype=np.int64)
        if self._sorted_ids is None:  # once per part (parts never change), on the first patch
            self._sorted_ids = self.ids[self.by_id]
        sorted_ids = self._sorted_ids
        at = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
        found = sorted_ids[at] == ids
        return self.by_id[at[found]]


class Locator:
    """An immutable snapshot of the spatial index at change number `seq` of the store."""

    base: _Part  # the bulk: KD-tree, grid, columns
    alive: np.ndarray  # base rows not replaced or removed since the base was built
    overlay: _Part  # stations changed since, scanned
    seq: int
    hour_table: list[str]  # hour expressions by code
    _hour_codes: dict[str, int]

    def __init__(
        self,
        ids,
        lats,
        lons,
        masks,
        statuses,
        opening_hours: Sequence[str],
        adcodes=None,
        *,
        seq: int = 0,
    ):
        builder = Builder()
        builder.add_columns(ids, lats, lons, masks, statuses, opening_hours, adcodes)
        builder.fill(self, seq)

    @classmethod
    def from_rows(cls, rows: Iterable[IndexRow], seq: int = 0) -> "Locator":
        builder = Builder()
        builder.add(list(rows))
        return builder.locator(seq)

    def _hour_code(self, expr: str) -> int:
        code = self._hour_codes.get(expr)
        if code is None:
            code = self._hour_codes[expr] = len(self.hour_table)
            self.hour_table.append(expr)
        return code

    # The base part's columns, as before the overlay existed (tests and benchmarks read them).
    @property
    def ids(self) -> np.ndarray:
        return self.base.ids

    @property
    def lats(self) -> np.ndarray:
        return self.base.lats

    @property
    def lons(self) -> np.ndarray:
        return self.base.lons

    @property
    def masks(self) -> np.ndarray:
        return self.base.masks

    @property
    def statuses(self) -> np.ndarray:
        return self.base.statuses

    @property
    def hours(self) -> list[str]:
        return [self.hour_table[c] for c in self.base.hour_codes]

    def __len__(self) -> int:
        return int(self.alive.sum()) + len(self.overlay)

    @property
    def overlay_size(self) -> int:
        return len(self.overlay) + int(len(self.alive) - self.alive.sum())

    # -- following writes -----------------------------------------------------------------------

    def patched(self, rows: Iterable[IndexRow], removed: Iterable[int], seq: int) -> "Locator":
        """A new snapshot with these stations replaced (rows) or gone (removed ids); this one
        is left as it is for the requests still reading it."""
        rows = list(rows)
        touched = np.array([r.id for r in rows] + list(removed), dtype=np.int64)
        new = object.__new__(Locator)
        new.hour_table = list(self.hour_table)
        new._hour_codes = dict(self._hour_codes)
        new.base = self.base
        new.alive = self.alive.copy()
        new.alive[self.base.positions(touched)] = False
        old = self.overlay
        keep = ~np.isin(old.ids, touched)
        masks = [facility_mask(r.facilities) for r in rows]
        new.overlay = _Part(
            np.concatenate([old.ids[keep], [r.id for r in rows]]),
            np.concatenate([old.lats[keep], [r.lat for r in rows]]),
            np.concatenate([old.lons[keep], [r.lon for r in rows]]),
            np.concatenate([old.masks[keep], masks]),
            np.concatenate([old.statuses[keep], [STATUS_CODES[r.status] for r in rows]]),
            np.concatenate([old.hour_codes[keep], [new._hour_code(r.opening_hours) for r in rows]]),
            np.concatenate([old.adcodes[keep], [_adcode_number(r.adcode) for r in rows]]),
            indexed=False,
        )
        new.seq = seq
        return new

    # -- filters ------------------------------------------------------------------------------

    def _passing(self, part: _Part, idx: np.ndarray, f: Filters, memo: dict) -> np.ndarray:
        """Those of idx (positions in part) that are live and pass the filters: status visible
        to workers (open only, for open_now), facilities, region, and open at f.at."""
        if part is self.base:
            idx = idx[self.alive[idx]]
        status = part.statuses[idx]
        ok = (status == 1) if f.open_now else _VISIBLE[status]
        if f.need:
            ok &= (part.masks[idx] & f.need) == f.need
        if f.region:
            scale = 10 ** (6 - len(f.region))
            ok &= part.adcodes[idx] // scale == int(f.region)
        idx = idx[ok]
        if f.open_now and len(idx):
            codes = part.hour_codes[idx]
            for code in np.unique(codes):
                if int(code) not in memo:
                    expr = self.hour_table[code]
                    # Hours with sunrise/sunset depend on the position: None, asked per station.
                    memo[int(code)] = (
                        None if hours.uses_sun(expr) else hours.state(expr, f.at) == "open"
                    )
            is_open = [memo[int(c)] for c in codes]
            if None in is_open:
                for j in (j for j, v in enumerate(is_open) if v is None):
                    code, expr = int(codes[j]), self.hour_table[codes[j]]
                    position = (float(part.lats[idx[j]]), float(part.lons[idx[j]]))
                    key = (code, hours.sun_cell(expr, position))
                    if key not in memo:
                        memo[key] = hours.state(expr, f.at, position) == "open"
                    is_open[j] = memo[key]
            idx = idx[np.array(is_open, dtype=bool)]
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
        if k < 1:
            return []
        f = Filters(facility_mask(facilities), open_now, at or datetime.now(hours.TZ), region)
        memo: dict[int | tuple, bool | None] = {}
        hits = self._nearest_in_base(lat, lon, k, f, memo) + self._nearest_in_overlay(
            lat, lon, k, f, memo
        )
        hits = sorted(hits, key=lambda h: (h.distance_m, h.id))[:k]
        if radius_m is None:
            return hits
        inside = [h for h in hits if h.distance_m <= radius_m]
        if inside:
            return inside
        return [Hit(h.id, h.distance_m, h.bearing_deg, beyond_radius=True) for h in hits]

    def _nearest_in_base(self, lat, lon, k, f: Filters, memo) -> list[Hit]:
        part = self.base
        if part.tree is None:
            return []
        point = geo.unit_vectors([lat], [lon])[0]
        n, total = min(len(part), max(4 * k, 16)), len(part)
        while True:  # widen until k candidates pass the filters (or every station was seen)
            _, idx = part.tree.query(point, n)
            idx = np.atleast_1d(idx)
            passing = self._passing(part, idx[idx < total], f, memo)
            if len(passing) >= k or n >= total:
                break
            n = min(total, n * 4)
        if len(passing) == 0:
            return []
        dist, _ = geo.distance_bearing(lat, lon, part.lats[passing], part.lons[passing])
        bound = np.sort(dist)[min(k, len(dist)) - 1]
        # Everything that could beat the bound on the ellipsoid lies in this spherical ball.
        ball = np.array(
            part.tree.query_ball_point(point, geo.chord_for(bound / (1 - SLACK))), dtype=np.int64
        )
        ball = self._passing(part, np.union1d(ball, passing), f, memo)
        return self._ranked(part, ball, lat, lon, k)

    def _nearest_in_overlay(self, lat, lon, k, f: Filters, memo) -> list[Hit]:
        part = self.overlay
        idx = self._passing(part, np.arange(len(part)), f, memo)
        return self._ranked(part, idx, lat, lon, k) if len(idx) else []

    @staticmethod
    def _ranked(part: _Part, idx: np.ndarray, lat, lon, k) -> list[Hit]:
        dist, bearing = geo.distance_bearing(lat, lon, part.lats[idx], part.lons[idx])
        order = np.lexsort((part.ids[idx], dist))[:k]
        return [Hit(int(part.ids[idx[i]]), float(dist[i]), float(bearing[i])) for i in order]

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
    ) -> InView:
        """Visible stations in a box that pass the filters, found through the grid."""
        f = Filters(facility_mask(facilities), open_now, at or datetime.now(hours.TZ), region)
        memo: dict[int | tuple, bool | None] = {}
        parts = []
        for part, idx in (
            (self.base, self._grid_candidates(min_lat, min_lon, max_lat, max_lon)),
            (self.overlay, np.arange(len(self.overlay))),
        ):
            lats, lons = part.lats[idx], part.lons[idx]
            inside = idx[
                (lats >= min_lat) & (lats <= max_lat) & (lons >= min_lon) & (lons <= max_lon)
            ]
            inside = self._passing(part, inside, f, memo)
            parts.append((part.ids[inside], part.lats[inside], part.lons[inside]))
        return InView(*(np.concatenate(column) for column in zip(*parts, strict=True)))

    def _grid_candidates(self, min_lat, min_lon, max_lat, max_lon) -> np.ndarray:
        """Positions in the base of the grid cells that the box touches (a superset)."""
        cells = self.base.cells
        if cells is None:
            return np.empty(0, dtype=np.int64)
        first = _cells(np.array([min_lat]), np.array([min_lon]))[0]
        last = _cells(np.array([max_lat]), np.array([max_lon]))[0]
        rows = np.arange(first // _GRID_COLS, last // _GRID_COLS + 1)
        starts = np.searchsorted(cells, rows * _GRID_COLS + first % _GRID_COLS, side="left")
        ends = np.searchsorted(cells, rows * _GRID_COLS + last % _GRID_COLS, side="right")
        lengths = ends - starts
        total = int(lengths.sum())
        if not total:
            return np.empty(0, dtype=np.int64)
        # the concatenated ranges starts[i]:ends[i], without a Python loop
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        return offsets + np.arange(total)


def clusters(view: InView, min_lat, min_lon, max_lat, max_lon, cells: int = 12) -> list[Cluster]:
    """Stations grouped on a grid of about cells x cells over the box: count and centroid."""
    if len(view) == 0:
        return []
    size = max(max_lat - min_lat, max_lon - min_lon) / cells or 1e-9
    rows = np.floor((view.lats - min_lat) / size).astype(np.int64)
    cols = np.floor((view.lons - min_lon) / size).astype(np.int64)
    keys = rows * (cells * 4 + 1) + cols
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    lat_sum = np.bincount(inverse, weights=view.lats)
    lon_sum = np.bincount(inverse, weights=view.lons)
    return [
        Cluster(float(lat_sum[i] / counts[i]), float(lon_sum[i] / counts[i]), int(counts[i]))
        for i in range(len(uniq))
    ]


class Builder:
    """Collects stations batch by batch into compact columns (hours and adcodes as integer
    codes, facilities as bit masks), so a million stations never sit in memory as objects."""

    def __init__(self):
        self.columns: list[tuple] = []
        self.hour_table: list[str] = []
        self.hour_codes: dict[str, int] = {}
        self._masks: dict[tuple[str, ...], int] = {}

    def _hour(self, expr: str) -> int:
        code = self.hour_codes.get(expr)
        if code is None:
            code = self.hour_codes[expr] = len(self.hour_table)
            self.hour_table.append(expr)
        return code

    def _mask(self, keys: tuple[str, ...]) -> int:
        mask = self._masks.get(keys)
        if mask is None:
            mask = self._masks[keys] = facility_mask(keys)
        return mask

    def add(self, rows: list[IndexRow]) -> None:
        """A few rows (a test, a box from the store)."""
        if rows:
            self.add_batch(IndexBatch(*zip(*rows, strict=True)))

    def add_batch(self, batch: IndexBatch) -> None:
        """One batch of columns from the store."""
        n = len(batch.ids)
        masks = self._masks
        for keys in set(batch.facilities):  # few distinct lists: one mask each
            if keys not in masks:
                masks[keys] = facility_mask(keys)
        hours_ = self.hour_codes
        for expr in set(batch.opening_hours):
            self._hour(expr)
        self.columns.append(
            (
                np.asarray(batch.ids, dtype=np.int64).reshape(n),
                np.asarray(batch.lats, dtype=float).reshape(n),
                np.asarray(batch.lons, dtype=float).reshape(n),
                np.fromiter(map(masks.__getitem__, batch.facilities), np.int32, n),
                np.fromiter(map(STATUS_CODES.__getitem__, batch.statuses), np.int8, n),
                np.fromiter(map(hours_.__getitem__, batch.opening_hours), np.int32, n),
                _adcode_numbers(batch.adcodes),
            )
        )

    def add_columns(self, ids, lats, lons, masks, status_codes, opening_hours, adcodes=None):
        """Columns already coded (the Locator constructor's arguments)."""
        n = len(ids)
        self.columns.append(
            (
                np.asarray(ids, dtype=np.int64).reshape(n),
                np.asarray(lats, dtype=float).reshape(n),
                np.asarray(lons, dtype=float).reshape(n),
                np.asarray(masks, dtype=np.int32).reshape(n),
                np.asarray(status_codes, dtype=np.int8).reshape(n),
                np.array([self._hour(h) for h in opening_hours], dtype=np.int32).reshape(n),
                _adcode_numbers([""] * n if adcodes is None else adcodes),
            )
        )

    def fill(self, locator: "Locator", seq: int) -> None:
        cols = (
            [np.concatenate(c) for c in zip(*self.columns, strict=True)]
            if self.columns
            else [np.empty(0)] * 7
        )
        self.columns = []
        locator.hour_table = self.hour_table
        locator._hour_codes = self.hour_codes
        locator.base = _Part(*cols, indexed=True)
        locator.alive = np.ones(len(locator.base), dtype=bool)
        locator.overlay = _Part([], [], [], [], [], [], [], indexed=False)
        locator.seq = seq

    def locator(self, seq: int) -> Locator:
        locator = object.__new__(Locator)
        self.fill(locator, seq)
        return locator
