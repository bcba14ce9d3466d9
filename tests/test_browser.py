"""The courier pages in a real headless Chromium (Debian's, driven by Playwright).

Tiles point at a host that is not the app, and every request to anything but the app is
blocked and recorded: the pages must work, and fetch nothing else but tiles.
"""

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from app import create_app

from conftest import STORE_KINDS, write_csv

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TILE_HOST = "tiles.example.test"
PHONE = {"width": 390, "height": 844}
HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "${alert(1)}",
    "`);alert(1);//",
    "</script><script>alert(1)</script>",
]
# Around Hefei's 金寨路: a rider at HERE; A is nearest, B has a toilet, the hostile names sit a bit further.
HERE = (31.8206, 117.2272)
STATIONS = [
    ["A-1", "金寨路工会驿站", "31.8216", "117.2272", "24/7", "drinking_water;microwave"],
    ["B-1", "望江路爱心驿站", "31.8236", "117.2272", "24/7", "drinking_water;toilet"],
    ["C-1", "徽州大道骑手驿站", "31.8300", "117.2300", "24/7", "toilet;ebike_charging"],
] + [
    [f"X-{i}", name, f"{31.8180 - i * 0.0008:.4f}", "117.2290", "24/7", "phone_charging"]
    for i, name in enumerate(HOSTILE)
]


def _shots_dir(tmp_path) -> Path:
    return Path(os.environ["SCREENSHOTS_DIR"]) if os.environ.get("SCREENSHOTS_DIR") else tmp_path


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium(*extra_args: str):
    """Debian's headless Chromium under Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])
        yield b
        b.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def serve_stations(tmp_path, database_url, rows, header):
    """The app over real HTTP on loopback, tiles pointing at a host that is not it, with these
    stations imported: yields its base URL (use with `yield from` in a fixture)."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "browser",
            "TILES_URL": f"http://{TILE_HOST}/{{z}}/{{x}}/{{y}}.png",
        }
    )
    result = app.test_cli_runner().invoke(
        args=["import", str(write_csv(tmp_path / "s.csv", rows, header=header))]
    )
    assert result.exit_code == 0, result.output
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()


@pytest.fixture
def server(tmp_path, database_url):
    header = ["code", "name", "lat", "lon", "opening_hours", "facilities"]
    yield from serve_stations(tmp_path, database_url, STATIONS, header)


class Phone:
    """A phone-sized page that records every host it asks and blocks all but the app."""

    def __init__(self, browser, base, lang="zh-CN"):
        self.base = base
        self.context = browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale=lang,
            geolocation={"latitude": HERE[0], "longitude": HERE[1]},
            permissions=["geolocation"],
        )
        self.page = self.context.new_page()
        self.hosts: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.route("**/*", self._route)

    def _route(self, route):
        host = urlsplit(route.request.url).netloc
        self.hosts.append(host)
        if host == urlsplit(self.base).netloc:
            route.continue_()
        else:
            route.abort()

    def open(self, path="/"):
        self.page.goto(self.base + path)
        return self.page

    def locate(self):
        self.page.click("#locate")
        self.page.wait_for_selector(".result")
        return self.page.locator(".result .name").all_inner_texts()

    def close(self):
        self.context.close()


@pytest.fixture
def phone(browser, server):
    p = Phone(browser, server)
    yield p
    p.close()


def test_page_fetches_nothing_but_the_app_and_tiles(phone, tmp_path):
    page = phone.open("/")
    page.wait_for_load_state("networkidle")
    app_host = urlsplit(phone.base).netloc
    assert set(phone.hosts) <= {app_host, TILE_HOST}, set(phone.hosts)
    assert TILE_HOST in phone.hosts  # the tile layer is configured and asked
    page.screenshot(path=_shots_dir(tmp_path) / "courier-map.png")


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_locate_shows_the_nearest_station_first_without_tiles(phone, tmp_path):
    phone.open("/")
    names = phone.locate()
    assert names[0] == "金寨路工会驿站"
    first = phone.page.locator(".result").first
    assert first.locator(".distance").inner_text() == "111 米"
    assert first.locator(".badge").inner_text() == "现在开放"
    assert "尚未核实" in first.locator(".fresh").inner_text()
    phone.page.screenshot(path=_shots_dir(tmp_path) / "courier-nearest.png")


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_filter_chips_change_the_list(phone, tmp_path):
    phone.open("/")
    assert phone.locate()[0] == "金寨路工会驿站"
    phone.page.click('.chip[data-facility="toilet"]')
    phone.page.wait_for_function(
        "() => document.querySelector('.result .name').textContent === '望江路爱心驿站'"
    )
    names = phone.page.locator(".result .name").all_inner_texts()
    assert names == ["望江路爱心驿站", "徽州大道骑手驿站"]
    assert phone.page.get_attribute('.chip[data-facility="toilet"]', "aria-pressed") == "true"
    phone.page.click('.chip[data-facility="ebike_charging"]')
    phone.page.wait_for_function("() => document.querySelectorAll('.result').length === 1")
    assert phone.page.locator(".result .name").all_inner_texts() == ["徽州大道骑手驿站"]
    phone.page.screenshot(path=_shots_dir(tmp_path) / "courier-filtered.png")


def test_hostile_names_render_as_text_and_break_nothing(phone):
    page = phone.open("/")
    phone.locate()
    page.click('.chip[data-facility="phone_charging"]')  # only the hostile stations have it
    page.wait_for_function("() => document.querySelectorAll('.result').length === 4")
    assert sorted(page.locator(".result .name").all_inner_texts()) == sorted(HOSTILE)
    assert phone.dialogs == []
    with page.expect_response(lambda r: "/api/v1/map" in r.url):
        page.click('.chip[data-facility="phone_charging"]')
    # every station in view is drawn (once the unfiltered answer is on the map), and each
    # popup shows its name as text
    in_view = {row[1] for row in STATIONS if row[0] != "C-1"}  # C lies beyond the zoom-15 view
    names_drawn = """() => {
            const cfg = JSON.parse(document.getElementById('yz-config').textContent);
            const map = window[cfg.map];
            const names = [];
            map.eachLayer(l => { if (l instanceof L.CircleMarker && l.getPopup()) {
                names.push(l.getPopup().getContent().querySelector('.popup-name').textContent); } });
            return names;
        }"""
    page.wait_for_function(f"() => ({names_drawn})().length === {len(in_view)}")
    drawn = page.evaluate(names_drawn)
    assert sorted(drawn) == sorted(in_view)
    page.evaluate(  # open one hostile popup for real: its name must show as text
        """() => { const map = window[JSON.parse(document.getElementById('yz-config').textContent).map];
            map.eachLayer(l => { if (l instanceof L.CircleMarker && l.getPopup() &&
                l.getPopup().getContent().textContent.startsWith('<img')) l.openPopup(); }); }"""
    )
    assert page.inner_text(".leaflet-popup .popup-name") == HOSTILE[0]
    assert phone.dialogs == []
    assert page.locator("img[src=x]").count() == 0


def test_language_switch(phone, tmp_path):
    page = phone.open("/")
    assert page.inner_text("#locate").endswith("离我最近的驿站")
    page.click("a.lang")
    page.wait_for_url("**lang=en")
    assert page.inner_text("#locate").endswith("Nearest stations to me")
    assert page.get_attribute("html", "lang") == "en"
    phone.locate()
    assert page.locator(".result .badge").first.inner_text() == "Open now"
    assert "not verified yet" in page.locator(".result .fresh").first.inner_text()
    page.screenshot(path=_shots_dir(tmp_path) / "courier-english.png")


def test_first_load_is_small(browser, server):
    phone = Phone(browser, server)
    cdp = phone.context.new_cdp_session(phone.page)
    cdp.send("Network.enable")
    urls, sizes = {}, {}
    cdp.on(
        "Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"])
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    phone.open("/").wait_for_load_state("networkidle")
    total = sum(size for rid, size in sizes.items() if TILE_HOST not in urls.get(rid, ""))
    phone.close()
    assert total <= 150 * 1024, total


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_station_page_and_checkin(phone, tmp_path):
    page = phone.open("/stations/1")
    assert page.inner_text("h1") == "金寨路工会驿站"
    assert page.get_attribute("a.nav.amap", "href").startswith("https://uri.amap.com/navigation?")
    page.screenshot(path=_shots_dir(tmp_path) / "station.png", full_page=True)
    page.click('button[value="locked"]')
    page.wait_for_selector(".warning")
    assert "门锁着" in page.inner_text(".warning")
    assert "谢谢" in page.inner_text(".flash")


def test_markers_on_gcj02_tiles_are_shifted_to_match(browser, tmp_path):
    """On Amap-style GCJ-02 tiles a station must be drawn where Amap shows that place."""
    from stations.core import datum

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'gcj.db'}",
            "SECRET_KEY": "gcj",
            "TILES_URL": f"http://{TILE_HOST}/{{z}}/{{x}}/{{y}}.png",
            "TILES_DATUM": "gcj02",
            "MAP_CENTER": (31.8216, 117.2272),
        }
    )
    path = write_csv(tmp_path / "one.csv", [STATIONS[0][:4]], header=["code", "name", "lat", "lon"])
    assert app.test_cli_runner().invoke(args=["import", str(path)]).exit_code == 0
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    phone = Phone(browser, f"http://127.0.0.1:{httpd.server_port}")
    try:
        page = phone.open("/")
        page.wait_for_function(
            "() => (() => { const m = window[JSON.parse(document.getElementById('yz-config').textContent).map];"
            " if (!m) return false;"  # the map is made once the deferred Leaflet has run
            " let n = 0; m.eachLayer(l => { if (l instanceof L.CircleMarker) n++; }); return n === 1; })()"
        )
        drawn = page.evaluate(
            """() => { const m = window[JSON.parse(document.getElementById('yz-config').textContent).map];
                let at = null; m.eachLayer(l => { if (l instanceof L.CircleMarker) at = l.getLatLng(); });
                return [at.lat, at.lng]; }"""
        )
    finally:
        phone.close()
        httpd.shutdown()
        thread.join()
    want = datum.from_wgs84(31.8216, 117.2272, "gcj02")
    assert abs(drawn[0] - want[0]) < 1e-9 and abs(drawn[1] - want[1]) < 1e-9
    assert abs(drawn[1] - 117.2272) > 0.003  # really moved (~500 m here)


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_staff_sign_in_audit_and_public_badge(browser, server, database_url, tmp_path):
    from staff_helpers import PASSWORD

    from stations.core.accounts import hash_password
    from stations.store import open_store

    with open_store(database_url) as store:  # the server fixture's database
        store.create_user(
            "hf-auditor", hash_password(PASSWORD), "auditor", "3401", "2026-11-01T00:00:00+08:00"
        )
    shots = _shots_dir(tmp_path)
    worker = Phone(browser, server)
    page = worker.open("/stations/1")
    page.click('button[value="ok"]')  # a rider confirms the station: verified coordinates
    page.wait_for_selector(".flash")
    worker.close()

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    staff_page = desk.new_page()
    staff_page.goto(server + "/admin/")
    assert "/login" in staff_page.url
    staff_page.fill('input[name="name"]', "hf-auditor")
    staff_page.fill('input[name="password"]', PASSWORD)
    staff_page.screenshot(path=shots / "staff-login.png")
    staff_page.click('button[type="submit"]')
    staff_page.wait_for_url("**/admin/")
    assert "hf-auditor" in staff_page.inner_text(".staff-nav")
    staff_page.screenshot(path=shots / "staff-dashboard.png", full_page=True)
    staff_page.goto(server + "/admin/stations/1/audit")
    assert "有地图可查" in staff_page.inner_text("main")
    for radio in staff_page.locator('input[type="radio"][value="pass"]').all():
        radio.check()
    staff_page.screenshot(path=shots / "staff-audit.png", full_page=True)
    staff_page.click('button[type="submit"].primary')
    staff_page.wait_for_url("**/admin/stations/1")
    assert "达标" in staff_page.inner_text(".flash")
    desk.close()

    rider = Phone(browser, server)
    page = rider.open("/stations/1")
    badge = page.inner_text(".audit-badge")
    assert "六有（A）" in badge and "达标" in badge
    page.screenshot(path=shots / "station-audited.png", full_page=True)
    rider.close()


@pytest.fixture
def partner_site():
    """A second origin (another port) serving whatever HTML a test puts in .page."""
    from werkzeug.wrappers import Response

    site = {"page": ""}

    def wsgi(environ, start_response):
        return Response(site["page"], mimetype="text/html")(environ, start_response)

    httpd = make_server("127.0.0.1", 0, wsgi, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    site["base"] = f"http://127.0.0.1:{httpd.server_port}"
    yield site
    httpd.shutdown()
    thread.join()


def _partner_phone(browser, partner_site, app_base):
    """A phone that lets requests reach the partner's origin and ours, nothing else."""
    phone = Phone(browser, app_base)
    allowed = {urlsplit(app_base).netloc, urlsplit(partner_site["base"]).netloc}
    phone.page.unroute("**/*")
    phone.page.route(
        "**/*", lambda r: r.continue_() if urlsplit(r.request.url).netloc in allowed else r.abort()
    )
    return phone


def test_a_partner_page_embeds_the_map(browser, server, partner_site, tmp_path):
    partner_site["page"] = (
        "<!doctype html><title>区总工会</title><h1>附近的驿站</h1>"
        f'<iframe src="{server}/embed?center=31.8216,117.2272&zoom=15&list=1&locate=1" title="驿站地图"'
        ' width="360" height="600" allow="geolocation" loading="lazy"></iframe>'
    )
    phone = _partner_phone(browser, partner_site, server)
    page = phone.page
    page.goto(partner_site["base"] + "/")
    frame = page.frame_locator("iframe")
    frame.locator("#locate").wait_for()
    inner = next(f for f in page.frames if "/embed" in f.url)
    inner.wait_for_function(
        "() => (() => { const m = window[JSON.parse(document.getElementById('yz-config').textContent).map];"
        " if (!m) return false;"  # the map is made once the deferred Leaflet has run
        " let n = 0; m.eachLayer(l => { if (l instanceof L.CircleMarker) n++; }); return n >= 3; })()"
    )
    frame.locator("#locate").click()
    frame.locator(".result").first.wait_for()
    assert frame.locator(".result .name").first.get_attribute("target") == "_blank"
    page.screenshot(path=_shots_dir(tmp_path) / "embed-partner.png")
    phone.close()


def test_the_courier_page_refuses_to_be_framed(browser, server, partner_site):
    partner_site["page"] = (
        f'<!doctype html><iframe src="{server}/" width="360" height="600"'
        ' onload="window.settled = true"></iframe>'
    )
    phone = _partner_phone(browser, partner_site, server)
    page = phone.page
    with page.expect_response(lambda r: r.url == server + "/") as answer:
        page.goto(partner_site["base"] + "/")
    assert answer.value.status == 200  # the page was sent: the browser is what refuses it
    page.wait_for_function("() => window.settled === true")  # the iframe's load: it has settled
    framed = [f for f in page.frames if f != page.main_frame]
    assert len(framed) == 1
    assert not framed[0].url.startswith(server)  # Chromium's error page instead of ours
    assert framed[0].locator("#locate").count() == 0
    phone.close()


def test_the_builders_snippet_works_on_another_site(browser, server, partner_site, tmp_path):
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    page.goto(server + "/embed/builder")
    page.fill('input[name="region"]', "3401")
    page.check('input[name="facilities"][value="toilet"]')
    page.select_option('select[name="lang"]', "en")
    snippet = page.input_value("#snippet")
    assert 'allow="geolocation"' in snippet and 'loading="lazy"' in snippet and "title=" in snippet
    assert "region=3401" in snippet and "facilities=toilet" in snippet and "lang=en" in snippet
    page.screenshot(path=_shots_dir(tmp_path) / "embed-builder.png")
    desk.close()

    partner_site["page"] = (
        f"<!doctype html><title>合肥市总工会</title><h1>户外劳动者驿站</h1>{snippet}"
    )
    phone = _partner_phone(browser, partner_site, server)
    phone.page.goto(partner_site["base"] + "/")
    # The frame's own document, once it has arrived (a lazy frame starts as about:blank).
    phone.page.frame_locator("iframe").locator("#yz-config").wait_for(state="attached")
    inner = phone.page.locator("iframe").element_handle().content_frame()
    assert inner is not None and "/embed" in inner.url
    inner.wait_for_function(  # the frame may be found before its document or map exists
        "() => (() => { const c = document.getElementById('yz-config'); const m = c && window[JSON.parse(c.textContent).map];"
        " if (!m) return false; let n = 0; m.eachLayer(l => { if (l instanceof L.CircleMarker) n++; }); return n >= 2; })()"
    )
    assert inner.locator("#locate").inner_text().endswith("Nearest stations to me")
    phone.close()


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_staff_coverage_page_on_a_phone(browser, server, database_url, tmp_path):
    """A Hefei union officer sees the share within 1 km, the gaps and three suggested sites
    with the demand each adds, on a phone, and can export them."""
    from dataclasses import replace
    from datetime import date

    from pyproj import Geod
    from staff_helpers import PASSWORD

    from stations.core import coverage_report, regions
    from stations.core.accounts import hash_password
    from stations.core.demand import DemandPoint
    from stations.store import open_store

    geod = Geod(ellps="WGS84")
    # Three clusters of workers, 4-6 km from the stations: each wants a site of its own.
    clusters = [(0, 4000, 40.0), (90, 5000, 25.0), (200, 6000, 10.0)]
    points = []
    for bearing, metres, weight in clusters:
        lon, lat, _ = geod.fwd(HERE[1], HERE[0], bearing, metres)
        points += [DemandPoint(lat + i * 0.0005, lon, weight / 4) for i in range(4)]
    points.append(DemandPoint(HERE[0], HERE[1], 5.0, "金寨路"))  # covered already
    codes = regions.locate_many([p.lat for p in points], [p.lon for p in points])
    points = [replace(p, adcode=code) for p, code in zip(points, codes, strict=True)]
    with open_store(database_url) as store:
        store.create_user(
            "hf-admin", hash_password(PASSWORD), "admin", "3401", "2026-11-01T00:00:00+08:00"
        )
        store.replace_demand_layer("骑手分布", "demand", points, "2026-11-01T00:00:00+08:00", False)
        query, _ = coverage_report.parse({"region": "3401"})
        want = coverage_report.build(store, query, today=date.today(), demand="骑手分布", suggest=3)
    phone = Phone(browser, server)
    page = phone.open("/admin/coverage?region=3401&demand=骑手分布")
    page.fill('input[name="name"]', "hf-admin")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_selector(".site-pin")
    share = page.inner_text("#area-share strong")
    assert share == f"{round(want.coverage.total.covered_share * 100, 1)}%"
    assert page.locator(".site-pin").count() == 3
    assert page.locator(".site-pin").all_inner_texts() == ["1", "2", "3"]
    rows = page.locator("#suggestions tbody tr").all_inner_texts()
    assert [r.split("\t")[2] for r in rows] == ["40", "25", "10"]  # the demand each adds
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=_shots_dir(tmp_path) / "staff-coverage-phone.png")
    with page.expect_download() as download:
        page.click("text=XLSX")
    assert download.value.suggested_filename.endswith(".xlsx")
    assert set(phone.hosts) <= {urlsplit(server).netloc, TILE_HOST}  # no CDN, only tiles
    phone.close()
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk_page = desk.new_page()
    desk_page.route(
        "**/*",
        lambda r: (
            r.continue_()
            if urlsplit(r.request.url).netloc == urlsplit(server).netloc
            else r.abort()
        ),
    )
    desk_page.goto(
        server
        + "/login?next=/admin/coverage%3Fregion%3D3401%26demand%3D%E9%AA%91%E6%89%8B%E5%88%86%E5%B8%83"
    )
    desk_page.fill('input[name="name"]', "hf-admin")
    desk_page.fill('input[name="password"]', PASSWORD)
    desk_page.click('button[type="submit"]')
    desk_page.wait_for_selector(".site-pin")
    desk_page.screenshot(path=_shots_dir(tmp_path) / "staff-coverage.png", full_page=True)
    desk.close()
