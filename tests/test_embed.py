"""The embed: framing policy, no cookies, URL switches validated, a region fitted to its
stations, the builder's region picker, and the no-JavaScript list."""

import json
import re
from dataclasses import replace

import pytest

from stations.core import regions, words
from stations.core.model import validate
from stations.store import open_store
from stations.web import embed as embed_face

from conftest import STORE_KINDS
from helpers import inside, moved

XINING = (36.6171, 101.7782)  # the sample's 城中区长江路工会驿站, 630103
HEFEI = (31.8206, 117.2272)  # 蜀山区金寨路爱心驿站, 340104


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    return request.param


@pytest.fixture
def embed(api):
    return api


def config_of(body: str) -> dict:
    return json.loads(re.search(r'id="yz-config">(.*?)</script>', body, re.S).group(1))


def centre_and_zoom(body: str) -> tuple[float, float, int]:
    lat, lon = (float(v) for v in re.search(r"center: \[([\d.]+), ([\d.]+)\]", body).groups())
    return lat, lon, int(re.search(r'"zoom": (\d+)', body).group(1))


def test_only_the_embed_may_be_framed(embed):
    assert embed.get("/embed").headers["Content-Security-Policy"] == "frame-ancestors *"
    assert "X-Frame-Options" not in embed.get("/embed").headers
    for path in ("/", "/stations", "/stations/1", "/login", "/admin/", "/embed/regions"):
        response = embed.get(path)
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'", path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_embed_sets_no_cookie_and_has_no_staff_link_or_form(embed):
    for query in ("", "?lang=en&list=1&locate=1", "?region=6301", "/list?lat=36.6&lon=101.7"):
        response = embed.get("/embed" + query)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, query
        body = response.get_data(as_text=True)
        assert "/admin" not in body and "<form" not in body and "csrf" not in body


def test_hostile_switches_are_ignored_and_never_reflected(embed):
    response = embed.get(
        "/embed?center=javascript:alert(1)&zoom=1e9&lang=<script>alert(1)</script>&facilities=<b>&tiles=evil&region=<i>"
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        "javascript:alert" not in body
        and "<script>alert" not in body
        and '"zoom": 1e9' not in body
        and "evil" not in body
        and "<i>" not in body
    )
    assert 'lang="zh-CN"' in body and '"zoom": 13' in body and '"fit"' not in body
    for region in ("99", "６３", "630", "6301021", "63%"):  # no such region: ignored
        assert '"fit"' not in embed.get(f"/embed?region={region}").get_data(as_text=True)


def test_switches_shape_the_embed(embed):
    body = embed.get(
        "/embed?center=36.6171,101.7782&zoom=15&lang=en&list=1&locate=1&facilities=toilet,microwave&open_now=1"
    ).get_data(as_text=True)
    assert "center: [36.6171, 101.7782]" in body and '"zoom": 15' in body
    assert 'id="locate"' in body and 'id="results"' in body and "Nearest stations to me" in body
    config = config_of(body)
    assert config["facilities"] == ["toilet", "microwave"] and config["openNow"] is True
    assert config["labels"]["toilet"] == "Toilet" and "fit" not in config
    assert 'id="locate"' not in embed.get("/embed").get_data(as_text=True)  # only when asked
    assert re.search(
        r'src="/static/courier.js\?v=[0-9a-f]{12}" defer', body
    )  # after the map script


def test_list_off_and_locate_on_offers_the_button_alone(embed):
    body = embed.get("/embed?locate=1").get_data(as_text=True)
    assert 'id="locate"' in body and 'id="results"' not in body
    assert "embed-with-locate" in body


def test_a_list_without_locate_me_is_refused(embed):
    """The list is of the stations nearest the visitor: without the button it could never fill,
    so the switch is dropped rather than showing an empty list."""
    body = embed.get("/embed?list=1").get_data(as_text=True)
    assert 'id="results"' not in body and 'id="locate"' not in body


@pytest.mark.parametrize("region", ["6301", "63", "630103"])
def test_a_region_opens_fitted_to_its_stations(embed, region):
    body = embed.get(f"/embed?region={region}").get_data(as_text=True)
    (south, west), (north, east) = config_of(body)["fit"]
    assert south < XINING[0] < north and west < XINING[1] < east  # the one station in Qinghai
    assert north - south < 0.05 and east - west < 0.05  # its stations, not the province
    lat, lon, zoom = centre_and_zoom(body)
    assert abs(lat - XINING[0]) < 1e-3 and abs(lon - XINING[1]) < 1e-3 and zoom >= 13
    assert 'class="embed-note"' not in body


def test_a_region_with_stations_far_apart_opens_on_all_of_them(embed, database_url):
    feidong = inside("340122")  # 肥东县, some 30 km east of the city
    record = {"code": "HF-0002", "name": "肥东县店埠驿站", "lat": feidong[0], "lon": feidong[1]}
    with open_store(database_url) as store:
        store.save_many([validate(record)], [], "2026-11-20T08:00:00+08:00")
    body = embed.get("/embed?region=3401").get_data(as_text=True)
    (south, west), (north, east) = config_of(body)["fit"]
    for lat, lon in (HEFEI, feidong):
        assert south < lat < north and west < lon < east
    lat, lon, zoom = centre_and_zoom(body)
    # The opening zoom already shows both in the smallest embed map, before any fitting.
    assert zoom == embed_face.fit_zoom(south, west, north, east) and zoom <= 11


def test_a_region_without_stations_opens_on_its_outline_and_says_so(embed):
    body = embed.get("/embed?region=4403").get_data(as_text=True)  # 深圳市: no station
    (south, west), (north, east) = config_of(body)["fit"]
    w, s, e, n = regions.outline("4403").bounds
    assert south <= s and west <= w and north >= n and east >= e
    assert north - south < 1 and east - west < 1.5
    assert "深圳市暂无驿站，地图显示该地区范围。" in body
    english = embed.get("/embed?region=4403&lang=en").get_data(as_text=True)
    assert "深圳市 has no stations yet; the map shows its area." in english


def test_a_zoom_given_with_a_region_is_kept(embed):
    body = embed.get("/embed?region=6301&zoom=9").get_data(as_text=True)
    lat, lon, zoom = centre_and_zoom(body)
    assert zoom == 9 and abs(lat - XINING[0]) < 1e-3 and "fit" not in config_of(body)


def test_fit_zoom_fits_the_box_in_the_small_map():
    # Xining's districts: about 1.6 degrees of longitude; one zoom level more would not fit.
    zoom = embed_face.fit_zoom(36.0, 100.9, 37.4, 102.5, size=(330, 250))
    assert zoom == 7
    assert embed_face.fit_zoom(36.6, 101.7, 36.6, 101.7) == 18  # a point: as close as it goes
    assert embed_face.fit_zoom(-60, -170, 70, 170) == 3


# -- the builder ----------------------------------------------------------------------------


def test_region_picker_levels_carry_names_and_station_counts(embed):
    provinces = embed.get("/embed/regions").get_json()
    assert provinces["level"] == "province"
    counts = {p["name"]: p["stations"] for p in provinces["items"]}
    assert counts["青海省"] == 1 and counts["安徽省"] == 1 and counts["广东省"] == 0
    assert "香港特别行政区" not in counts and len(counts) == 31  # the mainland
    qinghai = embed.get("/embed/regions?parent=63").get_json()
    assert qinghai["level"] == "city" and qinghai["name"] == "青海省" and qinghai["stations"] == 1
    assert {"code": "6301", "name": "西宁市", "stations": 1} in qinghai["items"]
    xining = embed.get("/embed/regions?parent=6301").get_json()
    assert xining["level"] == "district"
    assert {"code": "630103", "name": "城中区", "stations": 1} in xining["items"]
    assert {"code": "630102", "name": "城东区", "stations": 0} in xining["items"]
    beijing = embed.get("/embed/regions?parent=11").get_json()  # a municipality: districts next
    assert (
        beijing["level"] == "district"
        and {"code": "110108", "name": "海淀区", "stations": 0} in beijing["items"]
    )
    hubei = embed.get("/embed/regions?parent=42").get_json()  # cities governed by the province
    assert {"code": "429004", "name": "仙桃市", "stations": 0} in hubei["items"]
    assert embed.get("/embed/regions?parent=4290").get_json()["name"].startswith("仙桃市、潜江市")
    district = embed.get("/embed/regions?parent=630103").get_json()
    assert district["level"] == "none" and district["items"] == [] and district["stations"] == 1


def test_region_picker_refuses_what_names_no_region(embed):
    for parent in ("99", "abc", "6301999", "<b>"):
        response = embed.get(f"/embed/regions?parent={parent}")
        assert response.status_code == 400, parent
        assert "不是任何地区的行政区划代码前缀" in response.get_json()["error"]["message"]
    english = embed.get("/embed/regions?parent=99&lang=en").get_json()
    assert english["error"]["message"] == "99 is not an adcode prefix of a region."


def test_builder_offers_a_snippet_and_may_not_be_framed(embed):
    response = embed.get("/embed/builder")
    assert response.status_code == 200 and response.headers["X-Frame-Options"] == "DENY"
    body = response.get_data(as_text=True)
    assert 'id="snippet"' in body and "/static/builder.js" in body
    assert '"base": "http://localhost/embed"' in body and '"regions": "/embed/regions"' in body
    assert '<option value="63" data-name="青海省" data-stations="1">青海省（1）</option>' in body
    assert "卫生间" in body and "省份" in body
    assert (
        embed.get("/embed/list?lat=36.6&lon=101.7").headers["Content-Security-Policy"]
        == "frame-ancestors *"
    )


def test_the_english_builder_is_english_throughout(embed):
    body = embed.get("/embed/builder?lang=en").get_data(as_text=True)
    main = body[body.index("<main") : body.index("</main>")]
    assert "Toilet" in main and "Drinking water" in main and "Province" in main
    assert '<option value="en" selected>' in main
    labels = re.findall(r"<(?:label|legend|h1|h2|button)[^>]*>([^<]*)", main)
    assert all(not re.search(r"[\u4e00-\u9fff]", text) for text in labels), labels
    assert "青海省 (1)" in main  # place names stay Chinese: they have no other


# -- the list without JavaScript -------------------------------------------------------------


def list_items(body: str) -> list[dict]:
    out = []
    for li in re.findall(r'<li class="result">(.*?)</li>', body, re.S):
        out.append(
            {
                "name": re.search(r'class="name"[^>]*>([^<]*)<', li).group(1),
                "distance": re.search(r'class="distance">([^<]*)<', li).group(1),
                "state": re.search(r'class="badge [a-z]+">([^<]*)<', li).group(1),
                "nav": re.findall(r'class="nav-link ([a-z_]+)" href="([^"]*)"', li),
            }
        )
    return out


def test_no_javascript_list(embed):
    response = embed.get("/embed/list?lat=36.6171&lon=101.7782&k=2")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<script" not in body
    items = list_items(body)
    # Hefei is 1,400 km away: beyond the nearest-anyway cap, so not listed at all.
    assert [i["name"] for i in items] == ["城中区长江路工会驿站"]
    assert 'target="_blank"' in body and '/stations/1"' in body


@pytest.mark.parametrize(
    ("metres", "zh", "en"),
    [(350, "350 米", "350 m"), (1200, "1.2 公里", "1.2 km"), (12_000, "12 公里", "12 km")],
)
def test_the_list_says_distances_in_words(embed, metres, zh, en):
    lat, lon = moved(*XINING, 0, metres)
    for lang, want in (("zh", zh), ("en", en)):
        body = embed.get(f"/embed/list?lat={lat:.7f}&lon={lon:.7f}&lang={lang}").get_data(
            as_text=True
        )
        assert list_items(body)[0]["distance"] == want


def test_distance_words():
    assert words.distance(0) == "0 米" and words.distance(999.4) == "999 米"
    assert words.distance(999.6) == "1.0 公里"  # never "1000 米"
    assert words.distance(1049, "en") == "1.0 km" and words.distance(1050, "en") == "1.1 km"
    assert words.distance(9949) == "9.9 公里" and words.distance(9950) == "10 公里"
    assert words.distance(1_247_502, "en") == "1248 km"


def test_the_list_says_the_hours_state_in_words(embed, clock, database_url):
    # Friday 10:00: Xining (Mo-Fr 08:00-18:00) is open until 18:00; Qingdao (22:00-06:00) rests.
    xining = list_items(embed.get("/embed/list?lat=36.6171&lon=101.7782").get_data(as_text=True))
    assert xining[0]["state"] == "现在开放 · 18:00 关门"
    qingdao = "/embed/list?lat=36.0671&lon=120.3826"
    assert (
        list_items(embed.get(qingdao).get_data(as_text=True))[0]["state"] == "休息中 · 22:00 开门"
    )
    assert (
        list_items(embed.get(qingdao + "&lang=en").get_data(as_text=True))[0]["state"]
        == "Resting · opens 22:00"
    )
    hefei = list_items(embed.get("/embed/list?lat=31.8206&lon=117.2272").get_data(as_text=True))
    assert hefei[0]["state"] == "现在开放"  # 24/7: no closing time to give
    clock.set(2026, 11, 20, 23, 0)  # Friday night: Xining opens again on Monday
    night = embed.get("/embed/list?lat=36.6171&lon=101.7782")
    assert list_items(night.get_data(as_text=True))[0]["state"] == "休息中 · 周一 08:00 开门"
    night_en = embed.get("/embed/list?lat=36.6171&lon=101.7782&lang=en").get_data(as_text=True)
    assert list_items(night_en)[0]["state"] == "Resting · opens Mon 08:00"
    clock.set(2026, 11, 21, 5, 0)  # Saturday 05:00: Qingdao closes at 06:00
    assert (
        list_items(embed.get(qingdao).get_data(as_text=True))[0]["state"] == "现在开放 · 06:00 关门"
    )
    with open_store(database_url) as store:
        s = store.get_by_code("XN-0001")
        paused = replace(s, status="temporarily_closed", closed_until="2026-12-01")
        store.save_many([], [paused], "2026-11-20T09:00:00+08:00")
    paused_zh = embed.get("/embed/list?lat=36.6171&lon=101.7782").get_data(as_text=True)
    assert list_items(paused_zh)[0]["state"] == "暂停开放，至 2026年12月1日 恢复"
    paused_en = embed.get("/embed/list?lat=36.6171&lon=101.7782&lang=en").get_data(as_text=True)
    assert list_items(paused_en)[0]["state"] == "Temporarily closed until Dec 1, 2026"


def test_the_list_offers_navigation_in_the_riders_apps(embed):
    body = embed.get("/embed/list?lat=31.8206&lon=117.2272").get_data(as_text=True)
    nav = dict(list_items(body)[0]["nav"])
    assert (
        nav["amap_route"].startswith("https://uri.amap.com/navigation?")
        and "mode=ride" in nav["amap_route"]
    )
    assert nav["baidu"].startswith("https://api.map.baidu.com/marker?")
    assert nav["tencent"].startswith("https://apis.map.qq.com/uri/v1/routeplan?type=bike")
    assert nav["geo"].startswith("geo:31.8206,117.2272")
    assert ">骑行导航（高德）</a>" in body and ">百度地图</a>" in body
    assert list_items(body)[0]["nav"][0][0] == "amap_route"  # the ride first


def test_the_list_is_capped_like_the_nearest_api(embed):
    far = moved(*HEFEI, 90, 60_000)  # 60 km east of the only station around
    body = embed.get(f"/embed/list?lat={far[0]:.6f}&lon={far[1]:.6f}").get_data(as_text=True)
    assert list_items(body) == [] and "你附近 50 公里 内没有驿站。" in body
    assert "有驿站的最近城市是合肥市，距你 60 公里。" in body  # a way on
    assert (
        "There is no rest station within 50 km of you. The nearest city with stations is 合肥市,"
        " 60 km away."
    ) in embed.get(f"/embed/list?lat={far[0]:.6f}&lon={far[1]:.6f}&lang=en").get_data(as_text=True)
    embed.application.config["NEAREST_ANYWAY_MAX_M"] = 100_000
    body = embed.get(f"/embed/list?lat={far[0]:.6f}&lon={far[1]:.6f}").get_data(as_text=True)
    assert [(i["name"], i["distance"]) for i in list_items(body)] == [
        ("蜀山区金寨路爱心驿站", "60 公里")
    ]


def test_list_errors_are_translated_and_name_the_input(embed):
    cases = [
        ("?lon=101", "缺少位置信息：网址中没有纬度（lat）。"),
        ("?lat=36", "缺少位置信息：网址中没有经度（lon）。"),
        ("?lat=nan&lon=101", "纬度（lat）必须是 -90 到 90 之间的数字。"),
        ("?lat=36&lon=500", "经度（lon）必须是 -180 到 180 之间的数字。"),
        ("?lat=36&lon=101&k=99", "站点数量（k）必须是 1 到 20 之间的整数。"),
        ("?lat=36&lon=101&crs=mars", "坐标系（crs）必须是 wgs84、gcj02 或 bd09。"),
        ("?lon=101&lang=en", "Your location is missing: the address has no latitude (lat)."),
        ("?lat=x&lon=101&lang=en", "latitude (lat) must be a number from -90 to 90."),
    ]
    for query, message in cases:
        response = embed.get("/embed/list" + query)
        body = response.get_data(as_text=True)
        assert response.status_code == 400, query
        assert re.search(r'class="flash error"[^>]*>([^<]*)<', body).group(1) == message, query
        assert "is required" not in body and "must be a decimal" not in body


def test_the_list_puts_stations_open_now_first(embed, cli, tmp_path):
    from conftest import write_csv

    # Friday 10:00 (the api fixture's clock): the nearer one closed at 09:00, the further open.
    rows = [
        ["HF-N", "近处早班驿站", "31.8216", "117.2272", "Mo-Fr 07:00-09:00", ""],
        ["HF-F", "远处全天驿站", "31.8306", "117.2272", "24/7", ""],
    ]
    header = ["code", "name", "lat", "lon", "opening_hours", "facilities"]
    assert cli("import", write_csv(tmp_path / "two.csv", rows, header=header)).exit_code == 0
    items = list_items(embed.get("/embed/list?lat=31.8206&lon=117.2272").get_data(as_text=True))
    names = [i["name"] for i in items]
    assert names.index("远处全天驿站") < names.index("近处早班驿站")
    assert items[names.index("近处早班驿站")]["state"] == "休息中 · 周一 07:00 开门"


def test_the_list_says_check_on_site_when_the_hours_are_unknown(embed, cli, tmp_path):
    from conftest import write_csv

    rows = [["HF-C", "打电话驿站", "31.8216", "117.2272", '"call first"']]
    header = ["code", "name", "lat", "lon", "opening_hours"]
    assert cli("import", write_csv(tmp_path / "c.csv", rows, header=header)).exit_code == 0
    url = "/embed/list?lat=31.8216&lon=117.2272"
    states = {i["name"]: i["state"] for i in list_items(embed.get(url).get_data(as_text=True))}
    assert states["打电话驿站"] == "时间未知 · 以现场为准"
    english = list_items(embed.get(url + "&lang=en").get_data(as_text=True))
    assert {i["name"]: i["state"] for i in english}["打电话驿站"] == "Hours unknown · check on site"
