"""Synthetic stations for benchmarks: clustered around cities, written straight to a store.

They skip validation (the import benchmark measures that); what matters here is a realistic
spatial spread: dense in cities, sparse between them.
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stations.core import regions  # noqa: E402
from stations.core.model import Station  # noqa: E402
from stations.core.vocab import FACILITIES  # noqa: E402

HOURS = ["24/7", "Mo-Fr 08:00-18:00; PH off", "Mo-Su 07:00-21:00", "Mo-Su 22:00-06:00"]
DEMO_CITIES = [(36.620, 101.775), (31.835, 117.255), (36.105, 120.420), (34.770, 113.660)]


def city_centres(count: int, rng) -> np.ndarray:
    """Random points in mainland China to stand for cities, plus the demo cities."""
    found = list(DEMO_CITIES)
    while len(found) < count:
        lat, lon = rng.uniform(20, 47), rng.uniform(86, 130)
        where = regions.locate(lat, lon)
        if where is not None and where.mainland:
            found.append((lat, lon))
    return np.array(found)


def _located(rng, centres, size: int, spread: float):
    """size points around the cities, each with the district it lies in: a point that falls in
    the sea or outside the mainland is drawn again, so every station passes validation when
    staff edit it (an edit re-checks the adcode against the position)."""
    lats, lons, codes = [], [], []
    while len(codes) < size:
        pick = rng.integers(0, len(centres), size)
        la = centres[pick, 0] + rng.normal(0, spread, size)
        lo = centres[pick, 1] + rng.normal(0, spread * 1.2, size)
        for lat, lon, code in zip(la, lo, regions.locate_many(la, lo), strict=True):
            if code is not None and regions.region(code).mainland:
                lats.append(lat)
                lons.append(lon)
                codes.append(code)
    return lats[:size], lons[:size], codes[:size]


def stations(
    n: int,
    seed: int = 7,
    prefix: str = "S",
    cities: int = 300,
    spread: float = 0.08,
    centres: np.ndarray | None = None,
):
    """Yield n Station objects in batches of up to 50,000, around centres ((lat, lon) rows;
    default: `cities` random ones)."""
    rng = np.random.default_rng(seed)
    if centres is None:
        centres = city_centres(cities, rng)
    keys = list(FACILITIES.keys())
    for start in range(0, n, 50_000):
        size = min(50_000, n - start)
        lats, lons, codes = _located(rng, centres, size, spread)
        # Drawn for the whole batch at once: a draw per station and key took most of the time.
        has = rng.random((size, len(keys))) < 0.45
        is_open = rng.random(size) < 0.9
        batch = []
        for i in range(size):
            facilities = tuple(k for k, on in zip(keys, has[i], strict=True) if on)
            status = "open" if is_open[i] else "temporarily_closed"
            where = regions.region(codes[i])
            batch.append(
                Station(
                    code=f"{prefix}{start + i:07d}",
                    name=f"合成驿站{start + i}",
                    lat=round(float(lats[i]), 7),
                    lon=round(float(lons[i]), 7),
                    adcode=where.adcode,
                    province=where.province,
                    city=where.city,
                    district=where.district,
                    opening_hours=HOURS[i % 4],
                    facilities=facilities,
                    status=status,
                    closed_until="2027-01-01" if status == "temporarily_closed" else None,
                )
            )
        yield batch


def fill(store, n: int, **kwargs) -> None:
    for batch in stations(n, **kwargs):
        store.save_many(batch, [], "2026-11-01T00:00:00+08:00")


def query_points(count: int, seed: int = 7, cities: int = 300, spread: float = 0.08):
    """Where riders ask from: mostly beside the cities stations() fills (same seed, same
    cities), a tenth anywhere in mainland China's bounding box. A list of (lat, lon)."""
    centres = city_centres(cities, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    points = []
    for _ in range(count):
        if rng.random() < 0.1:
            points.append((rng.uniform(20, 47), rng.uniform(86, 130)))
        else:
            lat, lon = centres[rng.integers(0, len(centres))]
            points.append((lat + rng.normal(0, spread), lon + rng.normal(0, spread * 1.2)))
    return points
