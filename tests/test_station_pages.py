"""The station page, the all-stations list and the error pages, through Flask's test client:
what a rider reads (state in words, when a station opens), what a link shares (og: tags),
how the list filters by city and pages, and what a wrong address or a crash looks like."""

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from app import create_app
from stations.core import datum, navigation

from conftest import STORE_KINDS, write_csv


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    """The list and the pages read the store: the same on SQLite and PostGIS."""
    return request.param


def text(response) -> str:
    return response.get_data(as_text=True)


def og(body: str) -> dict[str, str]:
    return {
        k: html.unescape(v)
        for k, v in re.findall(r'<meta property="og:(\w+)" content="([^"]*)"', body)
    }


def chips(body: str) -> dict[str, tuple[str, str]]:
    """City chips as {label: (count, href)}."""
    found = re.findall(r'<a class="city-chip" href="([^"]+)"[^>]*>(\S+) <b>(\d+)</b></a>', body)
    return {label: (count, html.unescape(href)) for href, label, count in found}


def listed(body: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'<a class="name" href="[^"]+">([^<]+)</a>', body)]


def states(body: str) -> dict[str, tuple[str, str, str]]:
    """Each listed station's state: (colour class, badge text, when it opens or closes)."""
    out = {}
    for item in re.findall(r'<li class="station">(.*?)</li>', body, re.S):
        name = re.search(r'class="name"[^>]*>([^<]+)<', item).group(1)
        kind, label = re.search(r'class="badge (\w+)">([^<]+)<', item).groups()
        when = re.search(r'<div class="when">([^<]+)<', item)
        out[html.unescape(name)] = (kind, html.unescape(label), when.group(1) if when else "")
    return out


# -- the list -----------------------------------------------------------------------------------


@pytest.fixture
def hefei_many(cli, tmp_path):
    """60 more stations in Hefei (3401): two pages when filtered to the city."""
    from helpers import station_rows

    result = cli("import", write_csv(tmp_path / "hf.csv", station_rows(60)))
    assert result.exit_code == 0, result.output


def test_the_list_filters_by_city_and_its_pager_keeps_the_filter(api, hefei_many):
    everything = text(api.get("/stations"))
    found = chips(everything)
    assert {k: v[0] for k, v in found.items()} == {
        "全部": "63",
        "合肥市": "61",
        "西宁市": "1",
        "青岛市": "1",
    }
    assert 'aria-current="page">全部' in everything
    hefei = api.get(found["合肥市"][1])  # the chip is a link that filters
    assert found["合肥市"][1] == "/stations?city=3401"
    body = text(hefei)
    assert "合肥市 · 61 个驿站" in body
    assert 'aria-current="page">合肥市' in body
    first = listed(body)
    assert len(first) == 50 and "城中区长江路工会驿站" not in first
    assert "1 / 2" in body
    following = re.search(r'<a href="([^"]+)" rel="next">', body).group(1)
    assert parse_qs(urlsplit(html.unescape(following)).query) == {"city": ["3401"], "page": ["2"]}
    second_page = text(api.get(html.unescape(following)))
    second = listed(second_page)
    assert len(second) == 11 and not set(first) & set(second)
    assert sorted(first + second) == sorted(
        [f"测试驿站{i}" for i in range(60)] + ["蜀山区金寨路爱心驿站"]
    )
    back = re.search(r'<a href="([^"]+)" rel="prev">', second_page).group(1)
    assert parse_qs(urlsplit(html.unescape(back)).query) == {"city": ["3401"], "page": ["1"]}
    assert listed(text(api.get("/stations?city=6301"))) == ["城中区长江路工会驿站"]


@pytest.mark.parametrize("city", ["34", "340104", "abcd", "３４０１", "34%", "3401&page=1"])
def test_a_malformed_city_is_a_clear_400(api, city):
    response = api.get("/stations", query_string={"city": city})
    assert response.status_code == 400
    body = text(response)
    assert "城市须为 4 位行政区划代码，例如合肥为 3401。" in body
    assert 'href="/"' in body and "回到地图" in body


@pytest.mark.parametrize(
    "city, words",
    [
        ("1101", ["北京市 · 0 个驿站", "北京市还没有驿站。"]),
        ("9999", ["9999 · 0 个驿站", "9999还没有驿站。"]),
    ],
)
def test_a_city_without_stations_is_a_friendly_empty_list(api, city, words):
    response = api.get(f"/stations?city={city}")
    assert response.status_code == 200
    body = text(response)
    assert all(w in body for w in words), body
    assert listed(body) == [] and "查看全部驿站" in body


def test_the_list_says_when_closed_stations_open(api, cli, tmp_path, clock):
    header = ["code", "name", "lat", "lon", "opening_hours", "status", "closed_until"]
    rows = [
        ["HF-T", "望江路驿站", "31.8306", "117.2372", "24/7", "temporarily_closed", "2026-12-01"]
    ]
    assert cli("import", write_csv(tmp_path / "t.csv", rows, header=header)).exit_code == 0
    clock.set(2026, 11, 21, 10, 0)  # Saturday morning
    found = states(text(api.get("/stations")))
    assert found["蜀山区金寨路爱心驿站"] == ("open", "现在开放", "")  # 24/7: never closes
    xining, qingdao = found["城中区长江路工会驿站"], found["市南区香港中路骑手驿站"]
    assert (xining[0], xining[2]) == ("closed", "周一 08:00 开门")  # Mo-Fr 08:00-18:00
    assert (qingdao[0], qingdao[2]) == ("closed", "22:00 开门")  # 22:00-06:00, later today
    assert xining[1] == qingdao[1] != "现在开放"  # one word for "closed by its hours"
    assert found["望江路驿站"] == ("paused", "暂停开放，至 12月1日 恢复", "")
    english = states(text(api.get("/stations?lang=en")))
    assert english["城中区长江路工会驿站"] == ("closed", "Closed", "Opens Mon 08:00")
    assert english["望江路驿站"] == ("paused", "Temporarily closed until 1 Dec", "")


# -- the station page ---------------------------------------------------------------------------


def test_a_shared_link_previews_the_station(api):
    body = text(api.get("/stations/1"))  # 城中区长江路工会驿站, Friday 10:00: open
    tags = og(body)
    assert tags == {
        "type": "website",
        "site_name": "驿站",
        "title": "城中区长江路工会驿站",
        "description": "现在开放 至 18:00 · 设施：饮用水、微波炉、卫生间",
        "url": "http://localhost/s/XN-0001",  # the short link, as printed on the poster
        "locale": "zh_CN",
    }
    english = og(text(api.get("/stations/1?lang=en")))
    assert english["locale"] == "en_US" and english["url"] == tags["url"]
    assert (
        english["description"]
        == "Open now until 18:00 · Facilities: Drinking water, Microwave, Toilet"
    )


def test_the_station_page_says_when_it_opens(api, clock):
    def state():
        body = text(api.get("/stations/1"))  # Mo-Fr 08:00-18:00; PH off
        badge = re.search(r'<span class="badge (\w+)">([^<]+)</span>', body).groups()
        when = re.search(r'<span class="when">([^<]+)</span>', body)
        return badge[0], when.group(1) if when else ""

    assert state() == ("open", "至 18:00")
    clock.set(2026, 11, 20, 7, 0)  # Friday, before opening
    assert state() == ("closed", "08:00 开门")
    clock.set(2026, 11, 19, 19, 0)  # Thursday evening
    assert state() == ("closed", "明天 08:00 开门")
    clock.set(2026, 11, 20, 19, 0)  # Friday evening: the weekend first
    assert state() == ("closed", "周一 08:00 开门")
    clock.set(2026, 9, 30, 19, 0)  # before Golden Week: a week and more of public holidays
    assert state() == ("closed", "10月8日 08:00 开门")  # eight days on: a date


def test_every_go_choice_is_on_the_page(api):
    body = text(api.get("/stations/1"))
    found = re.findall(r'<a class="nav[^"]*" href="([^"]+)">([^<]+)</a>', body)
    choices = {label: html.unescape(href) for href, label in found}
    want = navigation.links(36.6171, 101.7782, "城中区长江路工会驿站", "", "630102")
    assert choices == {
        "高德地图：骑行导航": want["amap_route"],
        "苹果地图": want["apple"],
        "百度地图": want["baidu"],
        "腾讯地图": want["tencent"],
        "高德地图": want["amap"],
        "其他地图应用": want["geo"],
    }
    assert found[0][1] == "高德地图：骑行导航"  # the first, widest button rides there


@pytest.mark.parametrize("tiles_datum", ["wgs84", "gcj02"])
def test_the_small_map_marks_the_station_in_the_datum_of_its_tiles(
    seeded, database_url, clock, tiles_datum
):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "CLOCK": clock,
            "TILES_URL": "http://tiles.example.test/{z}/{x}/{y}.png",
            "TILES_DATUM": tiles_datum,
        }
    )
    body = text(app.test_client().get("/stations/1"))
    config = json.loads(
        html.unescape(re.search(r'id="yz-station">(.*?)</script>', body, re.S).group(1))
    )
    assert config["at"] == pytest.approx(datum.from_wgs84(36.6171, 101.7782, tiles_datum), abs=1e-9)
    assert (config["lat"], config["lon"]) == (36.6171, 101.7782)  # for the rider's distance
    assert f'id="{config["map"]}"' in body and "tiles.example.test" in body
    assert f"center: [{config['at'][0]}, {config['at'][1]}]" in body


def test_a_temporarily_closed_station_says_until_when(api, cli, tmp_path):
    header = ["code", "name", "lat", "lon", "status", "closed_until"]
    rows = [["HF-T", "望江路驿站", "31.8306", "117.2372", "temporarily_closed", "2027-01-05"]]
    assert cli("import", write_csv(tmp_path / "t.csv", rows, header=header)).exit_code == 0
    body = text(api.get("/stations/4"))
    assert '<span class="badge paused">暂停开放，至 1月5日 恢复</span>' in body
    assert og(body)["description"].startswith("暂停开放，至 1月5日 恢复")


def test_hours_that_are_only_a_comment_say_check_on_site(api, cli, tmp_path):
    # The library read a bare comment as "open"; the reference (opening_hours.js) says unknown.
    header = ["code", "name", "lat", "lon", "opening_hours"]
    rows = [
        [
            "HF-C",
            "望江路驿站",
            "31.8306",
            "117.2372",
            'Mo-Fr 08:00-18:00; "closed on public holidays"',
        ]
    ]
    result = cli("import", write_csv(tmp_path / "c.csv", rows, header=header))
    assert result.exit_code == 0, result.output
    body = text(api.get("/stations/4"))  # Friday 10:00, inside the Mo-Fr hours
    assert (
        '<span class="badge unknown">时间未知</span> <span class="when">以现场为准</span>' in body
    )
    assert og(body)["description"].startswith("时间未知 以现场为准")
    english = text(api.get("/stations/4?lang=en"))
    assert '<span class="badge unknown">Hours unknown</span>' in english
    assert '<span class="when">check on site</span>' in english
    listed_zh = states(text(api.get("/stations?lang=zh")))
    assert listed_zh["望江路驿站"] == ("unknown", "时间未知", "以现场为准")


# -- error pages (no store involved beyond the page itself: SQLite only) -----------------------

sqlite_only = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)


@sqlite_only
@pytest.mark.parametrize(
    "path", ["/stations/999", "/no/such/page", "/s/NOPE", "/stations/999/poster"]
)
def test_a_missing_page_is_a_friendly_404_in_both_languages(api, path):
    response = api.get(path)
    assert response.status_code == 404 and response.mimetype == "text/html"
    body = text(response)
    assert "<h1>找不到这个页面</h1>" in body and "回到地图" in body and 'href="/"' in body
    assert 'class="top"' in body  # the site's own header, not Werkzeug's bare page
    english = text(api.get(path + "?lang=en"))
    assert "<h1>Page not found</h1>" in english and "Back to the map" in english


@sqlite_only
def test_api_paths_keep_their_json_errors(api):
    for path in ("/api/v1/stations/999", "/api/v1/no-such-thing"):
        response = api.get(path)
        assert response.status_code == 404 and response.mimetype == "application/json", path
        assert response.json["error"]["code"] == "not_found"
    refused = api.post("/api/v1/stations/nearest?lat=36&lon=101")
    assert refused.status_code == 405 and refused.json["error"]["code"] == "method_not_allowed"


@sqlite_only
def test_a_wrong_method_on_a_page_is_friendly_and_says_what_is_allowed(api):
    response = api.post("/stations")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert "回到地图" in text(response)


@pytest.fixture
def crashing(database_url):
    """An app with a page that raises, as a bug would; exceptions become 500 pages as in
    production (TESTING would hand them to the test instead)."""
    app = create_app(
        {
            "TESTING": True,
            "PROPAGATE_EXCEPTIONS": False,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
        }
    )

    def boom():
        raise RuntimeError("secret detail: password=hunter2 at /srv/yizhan/app.py")

    app.add_url_rule("/boom", "boom", boom)
    return app.test_client()


@sqlite_only
@pytest.mark.parametrize(
    "lang, title", [("zh", "系统出了点问题"), ("en", "Something went wrong on our side")]
)
def test_a_crash_is_a_friendly_500_that_leaks_nothing(crashing, lang, title):
    response = crashing.get(f"/boom?lang={lang}")
    assert response.status_code == 500 and response.mimetype == "text/html"
    body = text(response)
    assert f"<h1>{title}</h1>" in body and 'href="/"' in body
    for leak in ("Traceback", "RuntimeError", "hunter2", "/srv/yizhan", "app.py"):
        assert leak not in body


def test_a_page_past_the_end_goes_to_the_last_page(client, seeded):
    response = client.get("/stations?page=99")
    assert response.status_code == 302 and response.headers["Location"].endswith("/stations?page=1")
    huge = client.get("/stations?page=100000000000000000000")
    assert huge.status_code == 302 and huge.headers["Location"].endswith("/stations?page=1")


def test_the_search_box_without_javascript_lists_its_matches(client, seeded):
    body = client.get("/stations?q=金寨路").get_data(as_text=True)
    assert "“金寨路”：1 个驿站" in body
    assert body.count('class="station"') == 1 and "蜀山区金寨路爱心驿站" in body
    none = client.get("/stations?q=<b>nothing</b>").get_data(as_text=True)
    assert "：0 个驿站" in none and "<b>nothing</b>" not in none  # escaped
