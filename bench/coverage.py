"""Coverage speed: our union of service circles against a plain baseline, and analyse() whole.

Synthetic stations clustered around Anhui's sixteen city seats (10k and 100k by default), as a
province's registry would be. For each size, on the SAME circles (the open stations' 1 km
circles, drawn in the 117°E Gauss-Krüger zone):
  ours      circles.union: overlap graph from centre distances (cKDTree), union per component
  baseline  shapely.union_all per subset of the same disjoint split (found independently,
            by an STRtree of the centres, and not timed)
  naive     one shapely.union_all of every circle (10k only unless --naive)
then analyse() over the province: its area path (every zone, every district, the gaps, the
clipped circles; no demand, 10 m spacing so next to no redundant pairs), the full analyse()
with 10,000 demand points, and suggest() of 10 sites. Each figure is the best of 3 runs at
10k, of one at 100k.
Run: python bench/coverage.py [--sizes 10000,100000] [--naive]
"""

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stations.core import circles, coverage, planning, regions  # noqa: E402
from stations.core import gauss_kruger as gk  # noqa: E402
from stations.core.demand import DemandPoint  # noqa: E402

import synthetic  # noqa: E402

REGION = "34"  # Anhui
RADIUS_M = 1000.0


def seats(province: str) -> np.ndarray:
    """(lat, lon) of each city's first district: where the stations cluster."""
    first: dict[str, shapely.Point] = {}
    for district in regions.districts_of(province):
        first.setdefault(district.adcode[:4], regions.district_geometry(district.adcode).centroid)
    return np.array([(p.y, p.x) for p in first.values()])


def province_stations(n: int, seed: int):
    batches = synthetic.stations(n, seed=seed, centres=seats(REGION))
    return [dataclasses.replace(s, id=i + 1) for i, s in enumerate(s for b in batches for s in b)]


def timed(work, repeat: int = 1):
    """work()'s result and its best time of repeat runs (the machine may be shared)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return result, best


def baseline_split(xs, ys, radii) -> list[np.ndarray]:
    """The disjoint subsets, found independently of ours: centres within two outer radii, by
    an STRtree of points, then connected components. Given to the baseline free of charge."""
    points = shapely.points(xs, ys)
    a, b = shapely.STRtree(points).query(
        points, predicate="dwithin", distance=2 * float(np.max(radii)) * circles.EQUAL_AREA
    )
    n = len(points)
    labels = connected_components(coo_matrix((np.ones(len(a), bool), (a, b)), shape=(n, n)))[1]
    order = np.argsort(labels, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)


def baseline_union(polygons: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """A plain shapely.union_all of each subset."""
    return np.array([shapely.union_all(polygons[g]) for g in groups], dtype=object)


def run(n: int, naive: bool, seed: int) -> None:
    stations, made = timed(lambda: province_stations(n, seed))
    query = coverage.make_query(REGION, RADIUS_M)
    serving = [s for s in stations if coverage.serves(s, query)]
    print(
        f"N={n:,} stations around Anhui's city seats ({made:.1f} s to make), {len(serving):,} open"
    )

    epsg = gk.zone(117.0)
    lons = np.array([s.lon for s in serving])
    lats = np.array([s.lat for s in serving])
    x, y = gk.to_metres(epsg, lons, lats)
    radii = RADIUS_M * gk.scale(epsg, lons, lats)
    polygons = circles.circles(x, y, radii)
    repeat = 3 if n <= 10_000 else 1
    ours, t_ours = timed(lambda: circles.union(x, y, polygons, radii), repeat)
    groups, t_split = timed(lambda: baseline_split(x, y, radii))
    base, t_base = timed(lambda: baseline_union(polygons, groups), repeat)
    area = float(shapely.area(ours).sum())
    assert len(ours) == len(base), "not the same split"
    assert abs(area / float(shapely.area(base).sum()) - 1) < 1e-9, "not the same union"
    print(f"  union, ours      {t_ours:7.2f} s   ({len(ours):,} pieces, {area / 1e6:,.0f} km²)")
    print(
        f"  union, baseline  {t_base:7.2f} s   (its split took {t_split:.2f} s more, not counted)"
    )
    print(f"  ratio ours/baseline {t_ours / t_base:5.2f}x")
    if naive or n <= 10_000:
        one, t_naive = timed(lambda: shapely.union_all(polygons))
        assert abs(float(one.area) / area - 1) < 1e-9, "not the same union"
        print(f"  union, naive     {t_naive:7.2f} s   (ours is {t_naive / t_ours:.1f}x faster)")

    coverage.analyse([], query)  # the province's layout (zones, projected districts) is cached
    areas_only = coverage.make_query(REGION, RADIUS_M, spacing_m=coverage.MIN_SPACING_M)
    result, t_area = timed(lambda: coverage.analyse(stations, areas_only), repeat)
    print(
        f"  analyse, areas only   {t_area:6.2f} s  ({len(result.districts)} districts in "
        f"{len({gk.zone(regions.district_geometry(d.adcode).centroid.x) for d in result.districts})}"
        f" zones, {result.total.covered_share:.1%} covered, {len(result.gaps):,} gaps)"
    )
    rng = np.random.default_rng(seed + 1)
    centres = seats(REGION)
    pick = rng.integers(0, len(centres), 10_000)
    demand = [
        DemandPoint(float(lat), float(lon), float(w))
        for lat, lon, w in zip(
            centres[pick, 0] + rng.normal(0, 0.12, len(pick)),
            centres[pick, 1] + rng.normal(0, 0.15, len(pick)),
            rng.integers(1, 20, len(pick)),
            strict=True,
        )
    ]
    result, t_full = timed(lambda: coverage.analyse(stations, query, demand), repeat)
    share = result.total.demand_share or 0.0
    print(
        f"  analyse, full         {t_full:6.2f} s  (+ {len(result.redundant):,} redundant pairs, "
        f"{len(result.demand):,} demand points {share:.1%} covered)"
    )
    picks, t_plan = timed(lambda: planning.suggest(result, 10), repeat)
    added = sum(p.adds for p in picks) / result.total.demand if result.total.demand else 0.0
    print(f"  suggest 10 sites      {t_plan:6.2f} s  (they add {added:.1%} of the demand)")


def hefei(seed: int) -> None:
    """A city as the app sees it: Hefei, ~110 stations."""
    stations = [s for s in province_stations(7_000, seed) if s.adcode.startswith("3401")][:110]
    query = coverage.make_query("3401", RADIUS_M)
    coverage.analyse(stations, query)  # the region's layout is cached after the first call
    runs = [timed(lambda: coverage.analyse(stations, query))[1] for _ in range(20)]
    print(
        f"Hefei (3401), {len(stations)} stations: analyse {np.median(runs) * 1000:.0f} ms (median of 20)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated station counts")
    parser.add_argument("--naive", action="store_true", help="time the naive union at every size")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    hefei(args.seed)
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.naive, args.seed)
