"""The public API contract: every parameter, every error, and the response shape."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from pyproj import Geod

from stations.core import datum

from conftest import STORE_KINDS, write_csv

XINING = (36.6171, 101.7782)  # XN-0001 stands exactly here
GEOD = Geod(ellps="WGS84")


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    """The whole API contract holds on the SQLite and the PostGIS store."""
    return request.param


def strict_json(response):
    """Parse as browsers do: NaN and Infinity are not JSON."""

    def refuse(name):
        raise ValueError(f"{name} in body")

    return json.loads(response.get_data(as_text=True), parse_constant=refuse)


def nearest(api, query):
    response = api.get("/api/v1/stations/nearest?" + query)
    return response, strict_json(response)


def codes(body):
    return [f["properties"]["code"] for f in body["features"]]


def test_nearest_is_geojson_sorted_by_distance(api):
    response, body = nearest(api, "lat=36.60&lon=101.78")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert body["type"] == "FeatureCollection"
    assert codes(body) == ["XN-0001", "HF-0001", "QD-0001"]  # Hefei is nearer Xining than Qingdao
    dists = [f["properties"]["distance_m"] for f in body["features"]]
    assert dists == sorted(dists) and all(isinstance(d, int) for d in dists)


def test_distance_is_geodesic_and_bearing_is_north(api):
    _, body = nearest(api, "lat=36.60&lon=101.7782&k=1")
    props = body["features"][0]["properties"]
    exact = GEOD.inv(101.7782, 36.60, 101.7782, 36.6171)[2]
    assert abs(props["distance_m"] - exact) <= max(1, exact * 0.005)
    assert props["bearing_deg"] in (0, 360 - 0)


def test_feature_has_what_a_rider_needs_and_no_staff_data(api):
    response, body = nearest(api, "lat=36.6171&lon=101.7782&k=1")
    f = body["features"][0]
    assert f["geometry"] == {"type": "Point", "coordinates": [101.7782, 36.6171]}  # [lon, lat]
    props = f["properties"]
    for key in (
        "id",
        "code",
        "name",
        "address",
        "distance_m",
        "bearing_deg",
        "open_now",
        "opens_next",
        "facilities",
        "status",
        "verified_at",
        "url",
        "navigation",
        "warnings",
    ):
        assert key in props, key
    assert props["url"].endswith(f"/stations/{props['id']}")
    assert "13800138000" not in response.get_data(as_text=True)
    assert "manager_phone" not in props and "manager_name" not in props


def test_k_limits_the_count(api):
    assert len(nearest(api, "lat=36.6&lon=101.7&k=2")[1]["features"]) == 2
    assert len(nearest(api, "lat=36.6&lon=101.7&k=50")[1]["features"]) == 3


def test_radius_then_nearest_anyway(api):
    _, inside = nearest(api, "lat=36.6171&lon=101.7782&radius_m=1000")
    assert codes(inside) == ["XN-0001"] and inside["nearest_anyway"] is False
    _, beyond = nearest(
        api, "lat=34.75&lon=113.63&radius_m=1000&k=2"
    )  # Zhengzhou: none within 1 km
    assert beyond["nearest_anyway"] is True and "nearest anyway" in beyond["message"]
    assert len(beyond["features"]) == 2 and all(
        f["properties"]["beyond_radius"] for f in beyond["features"]
    )


def test_facilities_must_all_be_present(api):
    assert codes(nearest(api, "lat=36.6&lon=101.78&facilities=toilet")[1]) == ["XN-0001", "HF-0001"]
    assert codes(nearest(api, "lat=36.6&lon=101.78&facilities=toilet,microwave")[1]) == ["XN-0001"]
    assert codes(nearest(api, "lat=36.6&lon=101.78&facilities=卫生间,drinking_water")[1]) == [
        "XN-0001",
        "HF-0001",
    ]


def test_open_now_at_fixed_times(api, clock):
    # Friday 10:00: XN-0001 (Mo-Fr 08-18) and HF-0001 (24/7) open; QD-0001 (22-06) closed.
    _, body = nearest(api, "lat=36.6&lon=101.78&open_now=1")
    assert codes(body) == ["XN-0001", "HF-0001"]
    clock.set(2026, 11, 21, 23, 30)  # Saturday night: the night shift and 24/7
    assert codes(nearest(api, "lat=36.6&lon=101.78&open_now=1")[1]) == ["HF-0001", "QD-0001"]
    clock.set(2026, 10, 6, 10, 0)  # Golden Week Tuesday: XN-0001 has PH off
    assert codes(nearest(api, "lat=36.6&lon=101.78&open_now=1")[1]) == ["HF-0001"]


def test_closed_station_says_when_it_opens(api, clock):
    clock.set(2026, 11, 21, 10, 0)  # Saturday
    props = nearest(api, "lat=36.6171&lon=101.7782&k=1")[1]["features"][0]["properties"]
    assert props["open_now"] is False and props["opens_next"] == "2026-11-23T08:00+08:00"


def test_query_point_datum(api):
    g_lat, g_lon = datum.from_wgs84(*XINING, "gcj02")
    _, body = nearest(api, f"lat={g_lat}&lon={g_lon}&crs=gcj02&k=1")
    assert body["features"][0]["properties"]["distance_m"] == 0
    _, naive = nearest(api, f"lat={g_lat}&lon={g_lon}&k=1")  # the same numbers taken as WGS-84
    assert naive["features"][0]["properties"]["distance_m"] > 150
    b_lat, b_lon = datum.from_wgs84(*XINING, "bd09")
    assert (
        nearest(api, f"lat={b_lat}&lon={b_lon}&crs=bd09&k=1")[1]["features"][0]["properties"][
            "distance_m"
        ]
        == 0
    )


def test_navigation_links_carry_the_right_datum(api):
    props = nearest(api, "lat=36.6171&lon=101.7782&k=1")[1]["features"][0]["properties"]
    nav = props["navigation"]
    amap = parse_qs(urlsplit(nav["amap"]).query)
    assert amap["coordinate"] == ["wgs84"] and amap["position"] == ["101.7782,36.6171"]
    route = parse_qs(urlsplit(nav["amap_route"]).query)["to"][0].split(",")
    g_lat, g_lon = datum.from_wgs84(*XINING, "gcj02")
    assert (
        abs(float(route[0]) - g_lon) < 1e-6 and abs(float(route[1]) - g_lat) < 1e-6
    )  # no datum option: GCJ-02
    assert parse_qs(urlsplit(nav["baidu"]).query)["coord_type"] == ["wgs84"]
    tencent = parse_qs(urlsplit(nav["tencent"]).query)["tocoord"][0].split(",")
    assert abs(float(tencent[0]) - g_lat) < 1e-6 and abs(float(tencent[1]) - g_lon) < 1e-6
    assert nav["geo"].startswith("geo:36.6171,101.7782")


def test_one_station(api):
    response = api.get("/api/v1/stations/1")
    body = strict_json(response)
    assert body["type"] == "Feature" and body["id"] == 1
    missing = api.get("/api/v1/stations/999")
    assert missing.status_code == 404 and strict_json(missing)["error"]["code"] == "not_found"


def test_bbox_listing_is_paged(api):
    seen, cursor = [], None
    while True:
        response = api.get(
            "/api/v1/stations?bbox=100,30,121,37&limit=2" + (f"&cursor={cursor}" if cursor else "")
        )
        body = strict_json(response)
        seen += codes(body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == ["HF-0001", "QD-0001", "XN-0001"]
    assert codes(strict_json(api.get("/api/v1/stations?bbox=101,36,102,37"))) == ["XN-0001"]


def test_map_view_gives_markers_then_clusters(api, cli, tmp_path):
    body = strict_json(api.get("/api/v1/map?bbox=101,36,102,37"))
    assert body["clusters"] == [] and [m[3] for m in body["markers"]] == ["城中区长江路工会驿站"]
    from helpers import station_rows

    cli("import", write_csv(tmp_path / "many.csv", station_rows(400)))
    crowded = strict_json(api.get("/api/v1/map?bbox=117.1,31.7,117.3,31.9"))
    assert crowded["markers"] == [] and sum(c[2] for c in crowded["clusters"]) == 401


# -- bad input: 400 (never 500), one error shape, always valid JSON ---------------------------

BAD = [
    ("lat=nan&lon=101", "lat"),
    ("lat=inf&lon=101", "lat"),
    ("lat=1e999&lon=101", "lat"),
    ("lat=90.0000001&lon=101", "lat"),
    ("lat=116.4&lon=39.9", "lat"),
    ("lon=101", "lat"),
    ("lat=&lon=101", "lat"),
    ("lat=1&lat=2&lon=101", "lat"),
    ("lat=36&lon=abc", "lon"),
    ("lat=36&lon=181", "lon"),
    ("lat=36&lon=101&k=-3", "k"),
    ("lat=36&lon=101&k=0", "k"),
    ("lat=36&lon=101&k=1.5", "k"),
    ("lat=36&lon=101&k=abc", "k"),
    ("lat=36&lon=101&k=51", "k"),
    ("lat=36&lon=101&k=99999999999999999999", "k"),
    ("lat=36&lon=101&radius_m=50001", "radius_m"),
    ("lat=36&lon=101&radius_m=1e9", "radius_m"),
    ("lat=36&lon=101&radius_m=-5", "radius_m"),
    ("lat=36&lon=101&facilities=toilet,jacuzzi", "facilities"),
    ("lat=36&lon=101&open_now=maybe", "open_now"),
    ("lat=36&lon=101&crs=utm", "crs"),
]


@pytest.mark.parametrize("query, field", BAD, ids=[q for q, _ in BAD])
def test_bad_parameters_are_400_with_one_error_shape(api, query, field):
    response, body = nearest(api, query)
    assert response.status_code == 400 and response.mimetype == "application/json"
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["field"] == field and body["error"]["code"] == "invalid_parameter"


def test_swapped_coordinates_say_so(api):
    assert "look swapped" in nearest(api, "lat=116.4&lon=39.9")[1]["error"]["message"]


def test_fullwidth_digits_are_accepted(api):
    response, body = nearest(api, "lat=３６．６１７１&lon=１０１．７７８２&k=１")
    assert response.status_code == 200 and codes(body) == ["XN-0001"]


def test_a_100_kb_query_string_is_refused_cleanly(api):
    response = api.get("/api/v1/stations/nearest?lat=36&lon=101&x=" + "a" * 100_000)
    assert (
        response.status_code == 414 and strict_json(response)["error"]["code"] == "query_too_long"
    )


@pytest.mark.parametrize(
    "query", ["bbox=1,2,3", "bbox=a,b,c,d", "bbox=10,50,5,40", "bbox=nan,1,2,3"]
)
def test_bad_bbox(api, query):
    response = api.get("/api/v1/stations?" + query)
    assert response.status_code == 400 and strict_json(response)["error"]["field"] == "bbox"


def test_unknown_paths_and_methods_are_json_errors(api):
    assert strict_json(api.get("/api/v1/nothing"))["error"]["code"] == "not_found"
    response = api.post("/api/v1/stations/nearest?lat=36&lon=101")
    assert (
        response.status_code == 405
        and strict_json(response)["error"]["code"] == "method_not_allowed"
    )


def test_hostile_station_names_are_plain_json_strings(api, cli, tmp_path):
    names = [
        "${alert(1)}",
        "`);alert(1);//",
        "</script><script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
    ]
    rows = [[f"X{i}", n, "31.8206", str(117.30 + i * 0.001)] for i, n in enumerate(names)]
    cli("import", write_csv(tmp_path / "xss.csv", rows, header=["code", "name", "lat", "lon"]))
    body = strict_json(api.get("/api/v1/stations/nearest?lat=31.8206&lon=117.30&k=4"))
    assert sorted(f["properties"]["name"] for f in body["features"]) == sorted(names)


def test_an_id_beyond_64_bits_is_404_not_500(api):
    for path in (
        "/api/v1/stations/99999999999999999999",
        "/stations/99999999999999999999",
        "/stations/99999999999999999999/qr.svg",
    ):
        assert api.get(path).status_code == 404, path
