"""Nearest-station latency: the ranking core against a bare scipy cKDTree baseline.

For N = 10k, 100k and 1M synthetic stations in a temporary SQLite store, builds the locator
from the store, then times 1,000 queries (k=5; half next to a city, half anywhere) through
Locator.nearest (exact geodesic ranking, status filter) and through cKDTree.query alone on the
same unit vectors (chord ranking, no filters, no exact distances). Run: python bench/nearest.py
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stations.core import (
    geo,  # noqa: E402
    live_index,  # noqa: E402
)
from stations.store import open_store  # noqa: E402

import synthetic  # noqa: E402

QUERIES = 1000


def percentiles(samples):
    ms = np.array(samples) * 1000
    return np.percentile(ms, 50), np.percentile(ms, 99)


def run(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        store.migrate()
        start = time.perf_counter()
        synthetic.fill(store, n)
        filled = time.perf_counter() - start
        start = time.perf_counter()
        locator = live_index.build(store)
        built = time.perf_counter() - start
        # What a write costs the index now: one moved station patched in, not a rebuild.
        lat, lon = float(locator.lats[0]), float(locator.lons[0])
        row = store.index_rows_in_box(lat, lon, lat, lon)[0]
        patches = []
        for i in range(50):
            moved = row._replace(lat=row.lat + 0.001 * (i + 1))
            t = time.perf_counter()
            locator = locator.patched([moved], [], locator.seq + 1)
            patches.append(time.perf_counter() - t)
        store.close()
    rng = np.random.default_rng(1)
    points = []
    for q in range(QUERIES):
        if q % 2:
            points.append((rng.uniform(20, 45), rng.uniform(90, 125)))
        else:
            i = rng.integers(0, len(locator))
            points.append(
                (locator.lats[i] + rng.normal(0, 0.02), locator.lons[i] + rng.normal(0, 0.02))
            )
    ours = []
    for lat, lon in points:
        t = time.perf_counter()
        locator.nearest(lat, lon, 5)
        ours.append(time.perf_counter() - t)
    tree = cKDTree(geo.unit_vectors(locator.lats, locator.lons))
    vectors = geo.unit_vectors([p[0] for p in points], [p[1] for p in points])
    base = []
    for v in vectors:
        t = time.perf_counter()
        tree.query(v, 5)
        base.append(time.perf_counter() - t)
    o50, o99 = percentiles(ours)
    b50, b99 = percentiles(base)
    print(f"N={n:>9,}  store fill {filled:6.1f} s, index build {built:5.1f} s")
    p50, _ = percentiles(patches)
    print(
        f"  one write patched into the index p50 {p50:7.3f} ms ({built * 1000 / p50:,.0f}x faster than a build)"
    )
    print(f"  ranking core  p50 {o50:7.3f} ms  p99 {o99:7.3f} ms")
    print(f"  bare cKDTree  p50 {b50:7.3f} ms  p99 {b99:7.3f} ms")
    print(f"  ratio         p50 {o50 / b50:5.1f}x    p99 {o99 / b99:5.1f}x")


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
    for size in sizes:
        run(size)
