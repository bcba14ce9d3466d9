"""Where to build next: the maximal covering location problem over uncovered demand (pure).

MCLP (Church and ReVelle, 1974): of the candidate sites, choose n that together bring the most
demand weight within the service radius, the existing stations kept as they are. Covered weight
is submodular, so picking greedily the site that adds the most gets within 1 - 1/e (63 %) of the
optimum (Nemhauser, Wolsey and Fisher, 1978) and usually far closer; a 1-swap pass then trades
a pick for an unpicked site while that covers more. Distances are geodesic.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

from stations.core import gauss_kruger as gk
from stations.core import geo, regions
from stations.core.coverage import Coverage
from stations.core.demand import DemandPoint

GRID_SHARE = 0.5  # default grid spacing, of the radius: about 12 nodes within reach of a point
MIN_GRID_SHARE = 0.1  # nodes grow as (radius / spacing)² per demand point; sites gain nothing
SWAP_PASSES = 20  # each accepted swap covers strictly more; this only bounds the worst case


@dataclass(frozen=True)
class Candidate:
    lat: float  # WGS-84
    lon: float
    label: str = ""


@dataclass(frozen=True)
class Suggestion:
    rank: int  # 1 = first to build
    lat: float
    lon: float
    adds: float  # demand weight it covers that nothing covered before (nor an earlier pick)
    adcode: str
    district: str
    label: str = ""  # the candidate's own name, when it came from a file


def grid_candidates(coverage: Coverage, spacing_m: float | None = None) -> list[Candidate]:
    """Grid points inside the region within reach of uncovered demand.

    The grid is square in the Gauss-Krüger zone of the region's centre, spacing_m apart
    (default half the radius); only nodes near uncovered demand are made, so a province with
    little demand stays a small problem."""
    radius = coverage.query.radius_m
    spacing = spacing_m or radius * GRID_SHARE
    if not radius * MIN_GRID_SHARE <= spacing:
        raise ValueError(f"grid spacing must be at least {radius * MIN_GRID_SHARE:g} m")
    points = _uncovered(coverage)
    if not points:
        return []
    outline = regions.outline(coverage.query.region)
    epsg = gk.zone(outline.centroid.x)
    lons, lats = [p.lon for p in points], [p.lat for p in points]
    x, y = gk.to_metres(epsg, lons, lats)
    # One zone for the whole region: far from its meridian (a wide province) the grid
    # stretches distances by up to a few per cent, so reach is judged generously here;
    # suggest() measures the geodesic.
    reach = radius * float(gk.scale(epsg, lons, lats).max()) * 1.001
    nodes = _nodes_near(x, y, reach, spacing)
    node_x, node_y = nodes[:, 0] * spacing, nodes[:, 1] * spacing
    gap, _ = cKDTree(np.column_stack((x, y))).query(
        np.column_stack((node_x, node_y)), distance_upper_bound=reach
    )
    near = np.isfinite(gap)
    node_lons, node_lats = gk.to_degrees(epsg, node_x[near], node_y[near])
    inside = shapely.contains_xy(outline, node_lons, node_lats)
    return [
        Candidate(float(lat), float(lon))
        for lat, lon in zip(node_lats[inside], node_lons[inside], strict=True)
    ]


def _nodes_near(x, y, radius: float, spacing: float) -> np.ndarray:
    """(column, row) of every grid node in the squares of side 2 radius about the points,
    sorted; made a chunk of points at a time to bound the memory."""
    span = math.ceil(radius / spacing)
    offsets = np.arange(-span, span + 2)
    dx, dy = (a.ravel() for a in np.meshgrid(offsets, offsets))
    col = np.floor(np.asarray(x) / spacing).astype(np.int64)
    row = np.floor(np.asarray(y) / spacing).astype(np.int64)
    chunk = max(1, 2_000_000 // len(dx))
    found = [
        np.unique(
            np.column_stack(
                (
                    (col[k : k + chunk, None] + dx).ravel(),
                    (row[k : k + chunk, None] + dy).ravel(),
                )
            ),
            axis=0,
        )
        for k in range(0, len(col), chunk)
    ]
    return np.unique(np.concatenate(found), axis=0)


def suggest(
    coverage: Coverage,
    n: int,
    candidates: Sequence[Candidate] | None = None,
    *,
    swap: bool = True,
) -> list[Suggestion]:
    """The n sites (from candidates, default the grid) that cover the most uncovered demand
    within the query's radius, existing stations kept. Greedy, then 1-swaps unless swap is
    False; fewer than n when no further site adds anything. Ties go to the earlier candidate."""
    points = _uncovered(coverage)
    if n < 1 or not points:
        return []
    sites = list(candidates) if candidates is not None else grid_candidates(coverage)
    if not sites:
        return []
    weights = np.array([p.weight for p in points], dtype=float)
    reach = _reach(sites, points, coverage.query.radius_m)
    tie = 1e-12 * float(weights.sum())  # sums in another order differ in the last bits
    chosen = _greedy(reach, weights, n, tie)
    if swap:
        chosen = _swapped(reach, weights, chosen, tie)
    picks = _in_pick_order(reach, weights, chosen, tie)
    lats = [sites[j].lat for j, _ in picks]
    lons = [sites[j].lon for j, _ in picks]
    found = []
    for rank, ((j, adds), code) in enumerate(
        zip(picks, regions.locate_many(lats, lons), strict=True), 1
    ):
        where = regions.region(code) if code else None
        found.append(
            Suggestion(
                rank=rank,
                lat=sites[j].lat,
                lon=sites[j].lon,
                adds=adds,
                adcode=code or "",
                district=where.district if where else "",
                label=sites[j].label,
            )
        )
    return found


def _uncovered(coverage: Coverage) -> list[DemandPoint]:
    return [row.point for row in coverage.demand if not row.covered and row.point.weight > 0]


def _reach(sites: Sequence[Candidate], points: Sequence[DemandPoint], radius: float) -> csr_matrix:
    """Sites x points, 1 where the point lies within radius of the site."""
    i, j = geo.pairs_within(
        [s.lat for s in sites],
        [s.lon for s in sites],
        [p.lat for p in points],
        [p.lon for p in points],
        radius,
    )
    return csr_matrix((np.ones(len(i)), (i, j)), shape=(len(sites), len(points)))


def _best(gains: np.ndarray, tie: float) -> int | None:
    """The first site whose gain is the largest (within tie), None when nothing gains."""
    top = float(gains.max())
    return int(np.flatnonzero(gains >= top - tie)[0]) if top > tie else None


def _greedy(reach: csr_matrix, weights: np.ndarray, n: int, tie: float) -> list[int]:
    left = weights.copy()  # weight nothing picked covers yet
    chosen: list[int] = []
    for _ in range(min(n, reach.shape[0])):
        best = _best(reach @ left, tie)
        if best is None:
            break
        chosen.append(best)
        left[reach.indices[reach.indptr[best] : reach.indptr[best + 1]]] = 0.0
    return chosen


def _swapped(reach: csr_matrix, weights: np.ndarray, chosen: list[int], tie: float) -> list[int]:
    """chosen, improved by exchanging one pick for an unpicked site while that covers more."""
    chosen = list(chosen)
    count = np.asarray(reach[chosen].sum(axis=0)).ravel() if chosen else np.zeros(reach.shape[1])
    for _ in range(SWAP_PASSES):
        improved = False
        for position, site in enumerate(chosen):
            own = reach.indices[reach.indptr[site] : reach.indptr[site + 1]]
            without = count.copy()
            without[own] -= 1
            loss = float(weights[own][without[own] == 0].sum())
            gains = reach @ np.where(without == 0, weights, 0.0)
            gains[chosen] = -np.inf
            best = int(np.argmax(gains))  # the first of the largest
            if gains[best] > loss + tie:
                added = reach.indices[reach.indptr[best] : reach.indptr[best + 1]]
                count = without
                count[added] += 1
                chosen[position] = best
                improved = True
        if not improved:
            break
    return chosen


def _in_pick_order(
    reach: csr_matrix, weights: np.ndarray, chosen: list[int], tie: float
) -> list[tuple[int, float]]:
    """(site, weight it adds) for the chosen sites in greedy order among themselves; sites that
    add nothing are dropped."""
    rest = sorted(chosen)
    left = weights.copy()
    picks = []
    while rest:
        sub = reach[rest]
        best = _best(sub @ left, tie)
        if best is None:
            break
        site = rest.pop(best)
        own = reach.indices[reach.indptr[site] : reach.indptr[site + 1]]
        picks.append((site, float(left[own].sum())))
        left[own] = 0.0
    return picks
