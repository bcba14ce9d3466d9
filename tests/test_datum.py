import csv
from pathlib import Path

import pytest
from pyproj import Geod

from stations.core import datum, regions

from conftest import write_csv

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


# -- near Hong Kong and Macao, and at sea ------------------------------------------------------
# tests/data/datum_border.csv (see tests/data/README.md): GCJ-02/BD-09 from prcoords for 2,000
# seeded points on the mainland side within ~1.5 km of Hong Kong or Macao, the 罗湖区
# station, and GCJ-02 points at sea.
BORDER = Path(__file__).resolve().parent / "data" / "datum_border.csv"


def _border(prefix):
    with open(BORDER, encoding="utf-8") as f:
        return [row for row in csv.DictReader(f) if row["id"].startswith(prefix)]


def _worst(rows, crs):
    """The largest error, in metres, of to_wgs84 over rows given in crs, and how many exceed 1 m."""
    errors = [_metres(datum.to_wgs84(*_pt(row, crs), crs), _pt(row, "wgs84")) for row in rows]
    return max(errors), sum(e > 1 for e in errors)


def test_the_border_strip_comes_back_within_a_metre():
    strip = _border("STRIP-")
    assert len(strip) == 2000
    # Most of the strip's GCJ-02 forms lie in Hong Kong or Macao: the case the fix is about
    # (before it, 415 of these 2,000 came back 590-621 m off).
    across = sum(not regions.in_mainland(*_pt(row, "gcj02")) for row in strip)
    assert across > 300
    for crs in ("gcj02", "bd09"):
        worst, over = _worst(strip, crs)
        assert (over, worst < 0.01) == (0, True), f"{crs}: {over} over 1 m, worst {worst:.1f} m"


def test_the_border_strip_forward_matches_the_reference():
    for row in _border("STRIP-"):
        wgs = _pt(row, "wgs84")
        assert _metres(datum.from_wgs84(*wgs, "gcj02"), _pt(row, "gcj02")) < 0.01
        assert _metres(datum.from_wgs84(*wgs, "bd09"), _pt(row, "bd09")) < 0.01


def test_the_border_strip_lands_in_its_own_district_in_one_batch():
    strip = _border("STRIP-")
    back = datum.to_wgs84_many(
        [float(r["gcj02_lat"]) for r in strip], [float(r["gcj02_lon"]) for r in strip], "gcj02"
    )
    found = regions.locate_many([p[0] for p in back], [p[1] for p in back])
    assert found == [row["adcode"] for row in strip]


@pytest.mark.parametrize("row", _border("SEA-"), ids=lambda r: r["id"])
def test_gcj02_points_at_sea_are_unshifted(row):
    # Qiongzhou Strait, Yangtze estuary...: before, these came back unshifted, 460-520 m off.
    for crs in ("gcj02", "bd09"):
        assert _metres(datum.to_wgs84(*_pt(row, crs), crs), _pt(row, "wgs84")) < 1
    assert _metres(datum.from_wgs84(*_pt(row, "wgs84"), "gcj02"), _pt(row, "gcj02")) < 0.01


@pytest.mark.parametrize(
    "place, lat, lon",
    [
        ("Hong Kong, off Lamma", 22.2, 114.12),
        ("Macao, off Coloane", 22.1, 113.6),
        ("Taiwan Strait, off Penghu", 23.5, 119.8),
        ("off Kaohsiung", 22.6, 120.1),
        ("Gulf of Tonkin, Bach Long Vi", 20.13, 107.72),
        ("Yellow Sea, Baengnyeong", 37.97, 124.68),
        ("off Jeju", 33.2, 126.0),
        ("off Yonaguni", 24.45, 123.0),
    ],
)
def test_sea_nearer_hong_kong_macao_taiwan_or_abroad_is_not_shifted(place, lat, lon):
    assert datum.to_wgs84(lat, lon, "gcj02") == (lat, lon)
    assert datum.from_wgs84(lat, lon, "gcj02") == (lat, lon)


def test_the_coastal_waters_outline_keeps_off_the_neighbours():
    # Land just across a border within ~2 km counts as the district next to it (a boundary's
    # tolerance); beyond that no foreign coast lies in the outline.
    for lat, lon in [(20.86, 106.68), (39.8, 124.2), (34.07, 125.1), (20.45, 121.97)]:
        assert not datum.in_gcj02_area(lat, lon), (lat, lon)


def _luohu():
    (row,) = _border("LUOHU")
    return row


def test_a_gcj02_import_row_next_to_hong_kong_is_accepted_in_its_district(cli, tmp_path, store):
    row = _luohu()
    g_lat, g_lon = row["gcj02_lat"], row["gcj02_lon"]
    assert regions.locate(float(g_lat), float(g_lon)).province == "香港特别行政区"  # the trap
    path = write_csv(
        tmp_path / "amap.csv",
        [["SZ-LH", "罗湖区口岸驿站", g_lat, g_lon, "gcj02"]],
        header=["code", "name", "lat", "lon", "crs"],
    )
    result = cli("import", path)
    assert result.exit_code == 0, result.output
    assert "香港" not in result.output
    s = store.get_by_code("SZ-LH")
    assert (s.adcode, s.district, s.coord_source) == ("440303", "罗湖区", "gcj02")
    assert _metres((s.lat, s.lon), _pt(row, "wgs84")) < 0.05


def test_a_gcj02_demand_point_next_to_hong_kong_is_placed_in_its_district(tmp_path):
    from stations.core.demand_files import read_demand

    row = _luohu()
    rows = [[row["gcj02_lat"], row["gcj02_lon"], "3", "罗湖口岸"]]
    header = ["lat", "lon", "weight", "label"]
    (point,) = read_demand(write_csv(tmp_path / "riders.csv", rows, header=header), crs="gcj02")
    assert point.adcode == "440303"
    assert _metres((point.lat, point.lon), _pt(row, "wgs84")) < 0.05


# A second 罗湖区 station, 640 m from the first: nearer than it to the GCJ-02 point read as if
# it were WGS-84 (the point in Hong Kong the old code searched from).
LUOHU_B = ("22.5359", "114.1076")


def test_nearest_in_gcj02_from_the_border_strip_answers_the_station_there(cli, tmp_path, app):
    row = _luohu()
    stations = [
        ["SZ-LH", "罗湖区口岸驿站", row["wgs84_lat"], row["wgs84_lon"]],
        ["SZ-LB", "罗湖区东门驿站", *LUOHU_B],
    ]
    path = write_csv(tmp_path / "sz.csv", stations, header=["code", "name", "lat", "lon"])
    assert cli("import", path).exit_code == 0
    api = app.test_client()
    query = f"lat={row['gcj02_lat']}&lon={row['gcj02_lon']}&k=2"
    body = api.get(f"/api/v1/stations/nearest?{query}&crs=gcj02").get_json()
    got = [(f["properties"]["code"], f["properties"]["distance_m"]) for f in body["features"]]
    assert got == [("SZ-LH", 0), ("SZ-LB", 640)]
    assert _metres((body["query"]["lat"], body["query"]["lon"]), _pt(row, "wgs84")) < 0.05
    # The same numbers taken as WGS-84 are the point in Hong Kong: the other station first.
    naive = api.get(f"/api/v1/stations/nearest?{query}").get_json()
    assert [f["properties"]["code"] for f in naive["features"]] == ["SZ-LB", "SZ-LH"]


@pytest.mark.parametrize(
    "lat, lon",
    [(-90, -100.14), (90, 0), (-89.9999, 179.9999), (89.99, 105), (0, 0), (-33.87, 151.21)],
)
@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_points_far_from_china_are_taken_as_given_and_never_fail(lat, lon, crs):
    # A pole once sent the inversion off to infinity: "math domain error", a 500 on nearest.
    assert datum.to_wgs84(lat, lon, crs) == pytest.approx((lat, lon), abs=0.02)
    if crs == "gcj02":
        assert datum.to_wgs84(lat, lon, crs) == (lat, lon)


def test_nearest_asked_from_the_south_pole_in_gcj02_is_an_answer_not_an_error(app):
    got = app.test_client().get(
        "/api/v1/stations/nearest?lat=-90&lon=-100.14&crs=gcj02&radius_m=5267"
    )
    assert got.status_code == 200, got.get_json()
    assert got.get_json()["query"]["lat"] == -90
