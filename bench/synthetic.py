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


def stations(n: int, seed: int = 7, prefix: str = "S", cities: int = 300, spread: float = 0.08):
    """Yield n Station objects in batches of up to 50,000."""
    rng = np.random.default_rng(seed)
    centres = city_centres(cities, rng)
    keys = FACILITIES.keys()
    for start in range(0, n, 50_000):
        size = min(50_000, n - start)
        pick = rng.integers(0, len(centres), size)
        lats = centres[pick, 0] + rng.normal(0, spread, size)
        lons = centres[pick, 1] + rng.normal(0, spread * 1.2, size)
        batch = []
        for i in range(size):
            facilities = tuple(k for k in keys if rng.random() < 0.45)
            status = "open" if rng.random() < 0.9 else "temporarily_closed"
            batch.append(
                Station(
                    code=f"{prefix}{start + i:07d}",
                    name=f"合成驿站{start + i}",
                    lat=round(float(lats[i]), 7),
                    lon=round(float(lons[i]), 7),
                    adcode="110101",
                    province="北京市",
                    city="北京市",
                    district="东城区",
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
