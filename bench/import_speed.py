"""Import speed: rows/s for N generated stations, against a bare sqlite-utils insert baseline.

The baseline inserts the same rows as plain dicts with no reading, validation, datum or region
work, so the ratio shows what checking every row costs. Run: python bench/import_speed.py [N]
"""

import csv
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlite_utils  # noqa: E402

from stations.core import importer  # noqa: E402
from stations.store import open_store  # noqa: E402


def rows(n: int):
    """n stations spread over central Hefei, Zhengzhou and Qingdao, half given in GCJ-02."""
    centres = [(31.80, 117.20), (34.72, 113.60), (36.07, 120.35)]
    side = max(300, math.isqrt(n // 3) + 1)  # a grid of side x side spots ~20 m apart per city
    for i in range(n):
        lat0, lon0 = centres[i % 3]
        yield {
            "code": f"B{i:07d}",
            "name": f"基准驿站{i}",
            "lat": f"{lat0 + (i // 3 % side) * 0.0002:.6f}",
            "lon": f"{lon0 + (i // (3 * side) % side) * 0.0002:.6f}",
            "crs": "gcj02" if i % 2 else "wgs84",
            "opening_hours": ["24/7", "Mo-Fr 08:00-18:00; PH off", "Mo-Su 07:00-21:00"][i % 3],
            "facilities": "drinking_water;toilet;microwave",
            "status": "open",
        }


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        data = list(rows(n))
        with open(path, "w", encoding="utf-8", newline="") as f:
            out = csv.DictWriter(f, fieldnames=list(data[0]))
            out.writeheader()
            out.writerows(data)

        start = time.perf_counter()
        base = sqlite_utils.Database(Path(tmp) / "baseline.db")
        base["stations"].insert_all(data, batch_size=1000)
        base.close()
        baseline = time.perf_counter() - start

        store = open_store(f"sqlite:///{tmp}/bench.db")
        store.migrate()
        start = time.perf_counter()
        plan = importer.plan_import(store, path)
        checked = time.perf_counter() - start
        assert plan.ok, plan.errors[:3]
        importer.apply_plan(store, plan)
        total = time.perf_counter() - start
        count = store.count()
        store.close()

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows: {count:,} (CSV, half GCJ-02)")
    print(
        f"yizhan import: {total:.2f} s = {count / total:,.0f} rows/s (check {checked:.2f} s, write {total - checked:.2f} s)"
    )
    print(
        f"baseline (sqlite-utils insert_all, no checks): {baseline:.2f} s = {count / baseline:,.0f} rows/s"
    )
    print(f"ratio: {total / baseline:.1f}x the baseline's time")
    print(f"peak RSS: {peak:,.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
