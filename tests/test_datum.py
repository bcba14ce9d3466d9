import csv
from pathlib import Path

import pytest
from pyproj import Geod

from stations.core import datum

# Reference points (four libraries agree within 0.011 m), kept in the repository: tests read
# nothing outside it.
VECTORS = Path(__file__).resolve().parent / "data" / "coord_vectors_dev.csv"
GEOD = Geod(ellps="WGS84")


def _rows():
    with open(VECTORS, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _metres(a, b):
    return GEOD.inv(a[1], a[0], b[1], b[0])[2]


def _pt(row, prefix):
    return float(row[f"{prefix}_lat"]), float(row[f"{prefix}_lon"])


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["id"])
def test_forward_matches_reference_vectors_within_a_centimetre(row):
    wgs = _pt(row, "wgs84")
    assert _metres(datum.gcj02_from_wgs84(*wgs), _pt(row, "gcj02")) < 0.01
    assert _metres(datum.bd09_from_wgs84(*wgs), _pt(row, "bd09")) < 0.01


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["id"])
def test_inverse_recovers_wgs84_within_a_centimetre(row):
    wgs = _pt(row, "wgs84")
    assert _metres(datum.wgs84_from_gcj02(*_pt(row, "gcj02")), wgs) < 0.01
    assert _metres(datum.wgs84_from_bd09(*_pt(row, "bd09")), wgs) < 0.01
    assert _metres(datum.to_wgs84(*_pt(row, "gcj02"), "gcj02"), wgs) < 0.01
    assert _metres(datum.to_wgs84(*_pt(row, "bd09"), "bd09"), wgs) < 0.01


def test_the_shift_is_as_large_as_the_service_circle():
    # Why datums matter: in Beijing GCJ-02 is ~600 m and BD-09 ~1.3 km off true position.
    wgs = (39.9054, 116.3976)
    assert 400 < _metres(datum.gcj02_from_wgs84(*wgs), wgs) < 700
    assert 900 < _metres(datum.bd09_from_wgs84(*wgs), wgs) < 1500


@pytest.mark.parametrize(
    "place, lat, lon",
    [
        ("Tokyo", 35.6812, 139.7671),
        ("Hong Kong", 22.2783, 114.1747),
        ("Taipei", 25.0330, 121.5654),
        ("Seoul", 37.5665, 126.9780),
        ("Hanoi", 21.0278, 105.8342),
    ],
)
def test_points_outside_the_mainland_are_not_shifted(place, lat, lon):
    # Hanoi and Seoul sit inside the crude boxes other libraries use; Hong Kong and Taipei are
    # in China but their maps are WGS-84.
    assert datum.to_wgs84(lat, lon, "gcj02") == (lat, lon)
    assert datum.from_wgs84(lat, lon, "gcj02") == (lat, lon)


def test_shenzhen_next_to_hong_kong_is_shifted():
    lat, lon = 22.5431, 114.0579  # Futian, a few km from the border
    assert _metres(datum.to_wgs84(lat, lon, "gcj02"), (lat, lon)) > 100


def test_from_wgs84_and_to_wgs84_are_inverse():
    for crs in ("gcj02", "bd09"):
        there = datum.from_wgs84(36.6171, 101.7782, crs)
        assert _metres(datum.to_wgs84(*there, crs), (36.6171, 101.7782)) < 0.001


def test_unknown_datum_is_an_error():
    with pytest.raises(ValueError, match="unknown datum"):
        datum.to_wgs84(30, 120, "utm")
