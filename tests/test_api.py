"""The public API contract: every parameter, every error, and the response shape."""

import gzip
import json
import math
from urllib.parse import parse_qs, urlsplit

import pytest
from pyproj import Geod

from stations.core import datum

from conftest import STORE_KINDS, write_csv
from helpers import station_rows

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


def spherical_m(lat1, lon1, lat2, lon2, radius=6_371_008.8) -> float:
    """Great-circle distance on the mean-radius sphere: what a haversine would answer."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * radius * math.asin(math.sqrt(a))


def test_distance_is_geodesic_and_bearing_from_the_query_point(api):
    """Distances are geodesic on WGS-84 (Karney's algorithm in pyproj.Geod, as geographiclib)
    to the metre, rounded. The points are chosen so that a spherical distance misses by more
    than that: 3.8 m over the 1.9 km due north, 2.4 and 3.8 km to Hefei and Qingdao."""
    lat, lon = 36.60, 101.7782  # 1.9 km due south of XN-0001
    _, body = nearest(api, f"lat={lat}&lon={lon}&k=3")
    assert codes(body) == ["XN-0001", "HF-0001", "QD-0001"]
    tolerance = 1.0  # distance_m is a whole number of metres
    for feature in body["features"]:
        props = feature["properties"]
        s_lon, s_lat = feature["geometry"]["coordinates"]
        azimuth, _back, exact = GEOD.inv(lon, lat, s_lon, s_lat)
        assert abs(spherical_m(lat, lon, s_lat, s_lon) - exact) > 3 * tolerance  # they differ
        assert abs(props["distance_m"] - exact) <= tolerance, (props["code"], exact)
        turn = (props["bearing_deg"] - azimuth) % 360
        assert min(turn, 360 - turn) <= 1, (props["code"], azimuth)
    assert body["features"][0]["properties"]["bearing_deg"] == 0  # due north
    assert [f["properties"]["distance_m"] for f in body["features"]] == [1898, 1517023, 1668789]


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
    # 9.2 km north of the Xining station: none within 1 km, the nearest anyway within the cap.
    _, beyond = nearest(api, "lat=36.7000&lon=101.7782&radius_m=1000&k=2")
    assert beyond["nearest_anyway"] is True and "nearest anyway" in beyond["message"]
    assert codes(beyond) == ["XN-0001"] and beyond["reason"] is None
    assert beyond["features"][0]["properties"]["beyond_radius"] is True
    assert 9_000 < beyond["features"][0]["properties"]["distance_m"] < 9_400


def test_nearest_anyway_stops_at_the_cap_and_names_the_nearest_city(api):
    # Zhengzhou: the nearest station (Hefei) is ~460 km away: no station nearby, not a Go button.
    _, body = nearest(api, "lat=34.75&lon=113.63&radius_m=1000&k=2")
    assert body["features"] == [] and body["nearest_anyway"] is False
    assert body["reason"] == "none_nearby" and body["message"] == "no station within 50000 m"
    city = body["nearest_city"]
    assert (city["adcode"], city["name"], city["province"], city["stations"]) == (
        "3401",
        "合肥市",
        "安徽省",
        1,
    )
    assert 400_000 < city["distance_m"] < 500_000
    west, south, east, north = city["bbox"]
    assert south <= city["lat"] <= north and west <= city["lon"] <= east
    assert body["query"]["anyway_max_m"] == 50_000


def test_the_cap_is_configurable(api):
    api.application.config["NEAREST_ANYWAY_MAX_M"] = 600_000
    _, body = nearest(api, "lat=34.75&lon=113.63&radius_m=1000&k=1")
    assert codes(body) == ["HF-0001"] and body["nearest_anyway"] is True


def test_filters_that_match_nothing_nearby_are_told_apart_from_no_station(api):
    # A station 9 km away, but none with e-bike charging within the cap.
    _, body = nearest(api, "lat=36.7000&lon=101.7782&radius_m=1000&facilities=ebike_charging")
    assert body["features"] == [] and body["reason"] == "none_match"
    assert body["nearest_city"] is None and "matches these filters" in body["message"]


def test_sort_by_usefulness_puts_open_stations_first(api, clock):
    clock.set(2026, 11, 21, 23, 30)  # Saturday night: XN-0001 (Mo-Fr 08-18) is closed
    query = "lat=36.6171&lon=101.7782&radius_m=50000&k=5"
    # Within 50 km only XN-0001 is in reach; widen the reach to see the order of all three.
    api.application.config["NEAREST_ANYWAY_MAX_M"] = 2_000_000
    _, by_distance = nearest(api, "lat=36.6171&lon=101.7782&k=3")
    assert codes(by_distance) == ["XN-0001", "HF-0001", "QD-0001"]
    _, useful = nearest(api, "lat=36.6171&lon=101.7782&k=3&sort=useful")
    assert codes(useful) == ["HF-0001", "QD-0001", "XN-0001"]  # 24/7, the night shift, then closed
    assert useful["query"]["sort"] == "useful"
    closed = useful["features"][2]["properties"]
    assert closed["open_now"] is False and closed["opens_next"].startswith("2026-11-23T08:00")
    assert codes(nearest(api, query + "&sort=useful")[1]) == ["XN-0001"]
    response = api.get("/api/v1/stations/nearest?lat=36.6&lon=101.7&sort=best")
    assert response.status_code == 400 and response.json["error"]["field"] == "sort"


def test_cities_for_the_picker(api):
    body = strict_json(api.get("/api/v1/cities"))
    names = [(c["adcode"], c["name"], c["stations"]) for c in body["cities"]]
    assert names == [("3401", "合肥市", 1), ("3702", "青岛市", 1), ("6301", "西宁市", 1)]
    xining = body["cities"][2]
    assert (xining["lat"], xining["lon"]) == (36.6171, 101.7782)
    assert xining["bbox"] == [101.7782, 36.6171, 101.7782, 36.6171]


def test_cities_follow_the_registry(api, cli, tmp_path):
    before = strict_json(api.get("/api/v1/cities"))["cities"]
    cli("import", write_csv(tmp_path / "more.csv", station_rows(3)))  # three more in Hefei
    after = strict_json(api.get("/api/v1/cities"))["cities"]
    assert [c["stations"] for c in before] == [1, 1, 1]
    assert [(c["name"], c["stations"]) for c in after][0] == ("合肥市", 4)


def test_search_finds_cities_and_stations(api):
    body = strict_json(api.get("/api/v1/search?q=西宁"))
    assert [c["name"] for c in body["cities"]] == ["西宁市"]
    assert [s["name"] for s in body["stations"]] == ["城中区长江路工会驿站"]  # by its city
    body = strict_json(api.get("/api/v1/search?q=金寨路"))
    assert body["cities"] == [] and [s["name"] for s in body["stations"]] == [
        "蜀山区金寨路爱心驿站"
    ]
    assert body["stations"][0]["url"].endswith(f"/stations/{body['stations'][0]['id']}")
    # Wildcards are text, not patterns.
    assert strict_json(api.get("/api/v1/search?q=%25"))["stations"] == []
    assert strict_json(api.get("/api/v1/search?q=_"))["stations"] == []
    # Ordered by distance from the rider when given.
    body = strict_json(api.get("/api/v1/search?q=驿站&lat=36.07&lon=120.38"))
    assert body["stations"][0]["name"] == "市南区香港中路骑手驿站"
    for bad, field in (
        ("", "q"),
        ("x" * 51, "q"),
        ("驿站&lat=36", "lon"),
        ("驿站&limit=0", "limit"),
    ):
        response = api.get("/api/v1/search?q=" + bad)
        assert response.status_code == 400 and response.json["error"]["field"] == field, bad


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
    """Each id gives its own station, as nearest shows it (less the distance), with the ETag a
    write needs; an unknown id is a 404 that names it."""
    _, listed = nearest(api, "lat=36.60&lon=101.78&k=3")
    by_code = {f["properties"]["code"]: f for f in listed["features"]}
    for code, name, coordinates in (
        ("XN-0001", "城中区长江路工会驿站", [101.7782, 36.6171]),
        ("HF-0001", "蜀山区金寨路爱心驿站", [117.2272, 31.8206]),
        ("QD-0001", "市南区香港中路骑手驿站", [120.3826, 36.0671]),
    ):
        station_id = by_code[code]["id"]
        response = api.get(f"/api/v1/stations/{station_id}")
        assert response.status_code == 200 and response.mimetype == "application/geo+json"
        body = strict_json(response)
        assert body["type"] == "Feature" and body["id"] == station_id
        assert body["geometry"] == {"type": "Point", "coordinates": coordinates}
        props = body["properties"]
        assert (props["code"], props["name"], props["id"]) == (code, name, station_id)
        assert props["url"].endswith(f"/stations/{station_id}")
        near = {
            k: v
            for k, v in by_code[code]["properties"].items()
            if k not in ("distance_m", "bearing_deg", "beyond_radius")
        }
        assert props == near
        assert response.headers["ETag"] == '"v1"'
        assert response.headers["Cache-Control"] == "public, max-age=60"
    missing = api.get("/api/v1/stations/999")
    assert missing.status_code == 404
    assert strict_json(missing)["error"] == {
        "code": "not_found",
        "message": "no station 999",
        "field": "id",
    }


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


# -- ETags under compression: a gzip client reads and writes with the tags it receives --------

XN_ID, HF_ID = 1, 2  # XN-0001 (Xining) and HF-0001 (Hefei), as imported
GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture
def xn_token(api, database_url) -> dict:
    """A bearer header for xn-auditor, whose region (6301) holds XN-0001 only."""
    from staff_helpers import make_users, token_for

    from stations.store import open_store

    store = open_store(database_url)
    try:
        make_users(store)
        return {"Authorization": f"Bearer {token_for(store, 'xn-auditor')}"}
    finally:
        store.close()


def unzipped(response) -> dict:
    assert response.headers["Content-Encoding"] == "gzip"
    return json.loads(gzip.decompress(response.get_data()))


def test_a_gzip_client_patches_with_the_etag_it_received(api, xn_token):
    item = f"/api/v1/stations/{XN_ID}"
    got = api.get(item, headers={**xn_token, **GZIP})
    assert got.status_code == 200 and got.headers["ETag"] == '"v1:gzip"'
    assert unzipped(got)["properties"]["code"] == "XN-0001"

    changed = api.patch(
        item, json={"brand": "骑手驿站"}, headers={**xn_token, **GZIP, "If-Match": '"v1:gzip"'}
    )
    assert changed.status_code == 200, changed.get_data()
    assert changed.headers["ETag"] == '"v2:gzip"'
    assert unzipped(changed)["properties"]["brand"] == "骑手驿站"

    # The same tag once more is stale now: 412 with the current ETag, and nothing changes.
    stale = api.patch(
        item, json={"brand": "爱心驿站"}, headers={**xn_token, **GZIP, "If-Match": '"v1:gzip"'}
    )
    assert stale.status_code == 412 and stale.json["error"]["code"] == "version_conflict"
    assert stale.headers["ETag"] == '"v2"'
    assert api.get(item).json["properties"]["brand"] == "骑手驿站"

    # Strong comparison for writes: a weak tag of the current version does not match, and the
    # message says what to send instead.
    weak = api.patch(
        item, json={"brand": "爱心驿站"}, headers={**xn_token, "If-Match": 'W/"v2:gzip"'}
    )
    assert weak.status_code == 412 and 'If-Match: "v2"' in weak.json["error"]["message"]
    # A list matches when any member does; the uncompressed tag works as before.
    listed = api.patch(
        item, json={"brand": "爱心驿站"}, headers={**xn_token, "If-Match": '"v9", "v2:gzip"'}
    )
    assert listed.status_code == 200 and listed.headers["ETag"] == '"v3"'
    closed = api.delete(item, headers={**xn_token, "If-Match": '"v3"'})
    assert closed.status_code == 200 and closed.json["properties"]["status"] == "closed"


def test_if_match_star_writes_whatever_version_is_current(api, xn_token):
    item = f"/api/v1/stations/{XN_ID}"
    for brand in ("骑手驿站", "爱心驿站"):  # twice: "*" matches v1, then v2
        star = api.patch(item, json={"brand": brand}, headers={**xn_token, "If-Match": "*"})
        assert star.status_code == 200, star.json
        assert star.json["properties"]["brand"] == brand
    assert star.headers["ETag"] == '"v3"'
    # "*" says nothing about existence or region: 404 and 403 as without it
    missing = api.patch("/api/v1/stations/999", json={}, headers={**xn_token, "If-Match": "*"})
    assert missing.status_code == 404
    hefei = api.delete(f"/api/v1/stations/{HF_ID}", headers={**xn_token, "If-Match": "*"})
    assert hefei.status_code == 403 and hefei.json["error"]["code"] == "forbidden"
    assert api.get(f"/api/v1/stations/{HF_ID}").json["properties"]["status"] == "open"
    # Without If-Match, still 428, and the message names both ways
    blind = api.patch(item, json={"brand": "x"}, headers=xn_token)
    assert blind.status_code == 428 and "or *" in blind.json["error"]["message"]
    garbled = api.patch(item, json={"brand": "x"}, headers={**xn_token, "If-Match": '"v3'})
    assert garbled.status_code == 400 and garbled.json["error"]["code"] == "invalid_if_match"


@pytest.mark.parametrize(
    "accept, sent, status",
    [
        (GZIP, '"v1:gzip"', 304),
        ({}, '"v1:gzip"', 304),  # the gzip tag, asked now without compression: weakly the same
        (GZIP, '"v1"', 304),
        (GZIP, 'W/"v1:gzip"', 304),
        (GZIP, '"v0:gzip", "v1:br"', 304),
        (GZIP, '"v2:gzip"', 200),
        ({}, '"v11"', 200),
        ({}, '"v1:gzip-ish"', 200),
    ],
)
def test_if_none_match_compares_weakly_without_the_coding(api, accept, sent, status):
    response = api.get(f"/api/v1/stations/{XN_ID}", headers={**accept, "If-None-Match": sent})
    assert response.status_code == status
    assert (response.get_data() == b"") is (status == 304)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """gunicorn as `make run` starts it (so with Flask-Compress), on the sample stations, and
    xn-auditor's bearer header."""
    import os

    from servers import AppServer, flask_cli
    from staff_helpers import PASSWORD

    from conftest import SAMPLE

    tmp = tmp_path_factory.mktemp("etags")
    env = {"DATABASE_URL": f"sqlite:///{tmp / 'served.db'}", "SECRET_KEY": "etags"}
    full = {**os.environ, **env}
    for args, given in [
        (("import", str(write_csv(tmp / "s.csv", SAMPLE))), None),
        (("user", "create", "xn", "--role", "auditor", "--region", "6301", "--password-stdin"),
         PASSWORD + "\n"),
    ]:  # fmt: skip
        done = flask_cli(full, *args, input=given)
        assert done.returncode == 0, done.stdout + done.stderr
    token = flask_cli(full, "user", "token", "xn").stdout.strip()
    with AppServer(env, tmp / "gunicorn.log") as server:
        yield server.base, {"Authorization": f"Bearer {token}"}


def test_a_gzip_client_of_the_real_server_writes_with_its_etag(served):
    from servers import http

    base, staff = served
    item = f"{base}/api/v1/stations/{XN_ID}"
    status, headers, body = http(item, headers={**staff, **GZIP})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(body))["properties"]["code"] == "XN-0001"
    tag = headers["ETag"]
    assert tag == '"v1:gzip"'

    status, headers, body = http(
        item, "PATCH", {"brand": "骑手驿站"}, {**staff, **GZIP, "If-Match": tag}
    )
    assert status == 200, body
    assert json.loads(gzip.decompress(body))["properties"]["brand"] == "骑手驿站"
    fresh = headers["ETag"]
    assert fresh == '"v2:gzip"'

    status, headers, body = http(item, "PATCH", {"brand": "x"}, {**staff, "If-Match": tag})
    assert status == 412 and json.loads(body)["error"]["code"] == "version_conflict"
    assert headers["ETag"] == '"v2"'

    for accept in (GZIP, {}):
        status, _, body = http(item, headers={**staff, **accept, "If-None-Match": fresh})
        assert (status, body) == (304, b""), accept

    status, headers, body = http(item, "DELETE", None, {**staff, **GZIP, "If-Match": "*"})
    assert status == 200, body
    assert json.loads(gzip.decompress(body))["properties"]["status"] == "closed"
    assert headers["ETag"] == '"v3:gzip"'
