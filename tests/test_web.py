"""Public pages through Flask's test client: list, station page, QR, check-ins, language."""

import re

import pytest
import segno
from rawdb import RawDB

from conftest import STORE_KINDS, write_csv


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    """Every page works the same on the SQLite and the PostGIS store."""
    return request.param


@pytest.fixture
def web(api):
    return api


def text(response):
    return response.get_data(as_text=True)


def test_station_list_shows_stations(web):
    page = web.get("/stations")
    assert page.status_code == 200
    body = text(page)
    assert (
        "3 个站点" in body
        and "城中区长江路工会驿站" in body
        and "周一至周五 08:00–18:00；法定节假日休息" in body
    )
    assert "饮用水" in body


def test_station_text_is_escaped_everywhere(web, cli, tmp_path):
    rows = [["X1", "<img src=x onerror=alert(1)>", "31.8206", "117.2272"]]
    cli("import", write_csv(tmp_path / "xss.csv", rows, header=["code", "name", "lat", "lon"]))
    for url in ("/stations", "/stations/4", "/stations/4/poster"):
        body = text(web.get(url))
        assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body, url


def test_demo_data_is_marked(client, cli):
    cli("seed")
    assert "站点均为虚构" in text(client.get("/stations"))
    assert "站点均为虚构" in text(client.get("/"))
    assert "站点均为虚构" in text(client.get("/stations/1"))


def test_real_data_has_no_demo_banner(web):
    assert "虚构" not in text(web.get("/stations")) and "虚构" not in text(web.get("/"))


def test_bad_page_number_is_400(web):
    assert web.get("/stations?page=abc").status_code == 400
    past = web.get("/stations?page=99")  # past the end: the last page there is
    assert past.status_code == 302 and past.headers["Location"].endswith("/stations?page=1")


def test_no_staff_data_on_public_pages(web):
    for url in ("/", "/stations", "/stations/1"):
        assert "13800138000" not in text(web.get(url))


def test_courier_page_serves_everything_itself(web):
    body = text(web.get("/"))
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', body) + re.findall(
        r'<link[^>]+href="([^"]+)"', body
    )
    assert scripts and all(src.startswith("/") and not src.startswith("//") for src in scripts), (
        scripts
    )
    for src in scripts:
        assert web.get(src).status_code == 200, src
    assert "cdn" not in body.lower()


def test_courier_page_does_not_embed_the_registry(web, cli, tmp_path):
    from helpers import station_rows

    before = len(web.get("/").data)
    cli("import", write_csv(tmp_path / "many.csv", station_rows(2000)))
    assert abs(len(web.get("/").data) - before) < 200  # the page is the same size with 2,000 more


def test_station_page(web, clock):
    body = text(web.get("/stations/1"))
    assert "城中区长江路工会驿站" in body
    assert "现在开放" in body and "至 18:00" in body
    assert "周一至周五 08:00–18:00；法定节假日休息" in body
    assert "uri.amap.com/navigation" in body and "coord_type=wgs84" in body
    assert "apis.map.qq.com/uri/v1/routeplan" in body and "maps.apple.com/?daddr=" in body
    assert "geo:36.6171,101.7782" in body
    clock.set(2026, 11, 21, 10, 0)  # Saturday: it opens on Monday
    assert "周一 08:00 开门" in text(web.get("/stations/1"))


def test_missing_station_is_404(web):
    assert web.get("/stations/999").status_code == 404


def test_short_url_by_code(web):
    response = web.get("/s/XN-0001")
    assert response.status_code == 301 and response.headers["Location"].endswith("/stations/1")
    assert web.get("/s/NOPE").status_code == 404


def test_qr_code_encodes_the_short_url(web):
    svg = text(web.get("/stations/1/qr.svg"))
    want = segno.make("http://localhost/s/XN-0001", error="m").svg_inline(scale=8, border=4)

    def modules(svg):
        return re.search(r'class="qrline"[^>]* d="([^"]+)"', svg).group(1)

    # The modules segno draws for the short URL, in a picture that scales.
    assert modules(svg) == modules(want)
    assert 'viewBox="0 0 264 264"' in svg and 'width="264"' in svg
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    poster = text(web.get("/stations/1/poster"))
    assert 'viewBox="0 0 330 330"' in poster and "<svg width=" not in poster


def test_english_switch(web):
    response = web.get("/?lang=en")
    assert "Nearest stations to me" in text(response) and 'lang="en"' in text(response)
    assert "lang=en" in response.headers.get("Set-Cookie", "")
    assert "Nearest stations to me" in text(web.get("/"))  # remembered
    assert "离我最近的驿站" in text(web.get("/?lang=zh"))


# -- check-ins --------------------------------------------------------------------------------


def token(web, station_id=1):
    return re.search(
        r'name="csrf_token" value="([^"]+)"', text(web.get(f"/stations/{station_id}"))
    ).group(1)


def checkin(web, kind, station_id=1, **extra):
    data = {"kind": kind, "csrf_token": token(web, station_id), **extra}
    return web.post(f"/stations/{station_id}/checkins", data=data)


def test_checkin_needs_the_csrf_token(web):
    assert web.post("/stations/1/checkins", data={"kind": "ok"}).status_code == 400


def test_all_fine_stamps_verified_at(web, database_url, clock):
    assert checkin(web, "ok").status_code == 303
    found = RawDB(database_url).rows("select verified_at, version from stations where id = 1")
    assert found == [("2026-11-20T10:00:00+08:00", 1)]
    assert "今天已核实" in text(web.get("/stations/1"))


def test_negative_checkin_warns_workers_on_page_and_api(web):
    assert checkin(web, "locked").status_code == 303
    assert "有劳动者反映问题" in text(web.get("/stations/1")) and "门锁着" in text(
        web.get("/stations/1")
    )
    warnings = web.get("/api/v1/stations/1").json["properties"]["warnings"]
    assert warnings[0]["kind"] == "locked" and warnings[0]["count"] == 1


def test_broken_facility_is_named(web):
    checkin(web, "broken", facility="microwave")
    assert (
        web.get("/api/v1/stations/1").json["properties"]["warnings"][0]["facility"] == "microwave"
    )


def warned(web, station_id) -> dict[str, int]:
    """What workers are warned of at a station: {report kind: how many reported it}."""
    found = web.get(f"/api/v1/stations/{station_id}").json["properties"]["warnings"]
    return {w["kind"]: w["count"] for w in found}


def reports_of(database_url, station_id) -> list[str]:
    rows = RawDB(database_url).rows(
        "select kind from checkins where station_id = ? order by id", [station_id]
    )
    return [kind for (kind,) in rows]


def test_checkins_are_rate_limited_per_client_and_station(web, clock, database_url):
    assert checkin(web, "locked").status_code == 303
    assert "谢谢！你的反馈能帮到下一位劳动者。" in text(web.get("/stations/1"))
    again = checkin(web, "not_found")  # within 30 minutes: not recorded, said calmly
    assert again.status_code == 303 and again.headers["Location"].endswith("/stations/1")
    page = text(web.get("/stations/1"))
    assert "你刚刚反馈过这个站点，谢谢！" in page and "能帮到下一位劳动者" not in page
    assert warned(web, 1) == {"locked": 1} and reports_of(database_url, 1) == ["locked"]

    assert checkin(web, "locked", station_id=2).status_code == 303  # another station is fine
    assert "谢谢！你的反馈能帮到下一位劳动者。" in text(web.get("/stations/2"))
    assert warned(web, 2) == {"locked": 1}

    clock.set(2026, 11, 20, 10, 31)  # 31 minutes later the same station takes a report again
    assert checkin(web, "not_found").status_code == 303
    page = text(web.get("/stations/1"))
    assert "谢谢！你的反馈能帮到下一位劳动者。" in page and "你刚刚反馈过" not in page
    assert warned(web, 1) == {"locked": 1, "not_found": 1}
    assert reports_of(database_url, 1) == ["locked", "not_found"]


def test_unknown_kind_is_refused(web, database_url):
    response = checkin(web, "party")
    assert response.status_code == 303 and response.headers["Location"].endswith("/stations/1")
    page = text(web.get("/stations/1"))
    assert "请选择你看到的情况。" in page and "谢谢" not in page
    assert warned(web, 1) == {} and reports_of(database_url, 1) == []
    # nothing was counted against the rider: a real report right after is taken
    assert checkin(web, "locked").status_code == 303
    assert "谢谢！你的反馈能帮到下一位劳动者。" in text(web.get("/stations/1"))
    assert warned(web, 1) == {"locked": 1}


def test_no_raw_ip_is_stored(web, database_url):
    checkin(web, "locked")
    rows = RawDB(database_url).rows("select * from checkins")
    assert rows and not any("127.0.0.1" in str(v) for row in rows for v in row)


def test_custom_tiles_and_attribution_reach_every_map(seeded, database_url):
    from app import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t",
            "TILES_URL": "https://tiles.example.test/{z}/{x}/{y}.png",
            "TILES_ATTRIBUTION": "© Example Tiles",
        }
    )
    body = app.test_client().get("/").get_data(as_text=True)
    assert (
        "https://tiles.example.test/{z}/{x}/{y}.png" in body
        and "© Example Tiles" in body.replace("\\u00a9", "©")
    )
