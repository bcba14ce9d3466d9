"""The rider's map page `/` on a phone (390×844) in headless Chromium: what a rider sees after
"nearest", marker and list together, the view in the address bar, the night list, the empty
answers, riders without location, a slow network, accessibility and the desktop layout.

Fixtures come from tests/test_browser.py (the browser, the app server, the Phone that blocks
every host but the app's).
"""

import json
import re
import threading
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import test_browser
from axe import violations
from playwright.sync_api import expect
from test_browser import HERE, PHONE, STATIONS, TILE_HOST, Phone, _shots_dir
from werkzeug.serving import make_server

from app import create_app
from stations.core.hours import TZ

from conftest import write_csv

pytestmark = pytest.mark.browser
# Chromium, the app server on the stations of tests/test_browser.py and a phone on it.
browser = test_browser.browser
server = test_browser.server
phone = test_browser.phone
expect.set_options(timeout=20_000)  # two cores shared by many: give the page time, never a sleep
LHASA = (29.6525, 91.1721)  # about 1,250 km from every station here
DESKTOP = {"width": 1280, "height": 800}

# The map, its markers by station id (from each popup's link), and which popup is open.
MAP_JS = """
window.yzMap = () => window[JSON.parse(document.getElementById('yz-config').textContent).map];
window.yzMarkers = () => {
    const out = {};
    yzMap().eachLayer(l => {
        if (l instanceof L.CircleMarker && l.getPopup()) {
            const href = l.getPopup().getContent().querySelector('.popup-name').getAttribute('href');
            out[Number(href.match(/stations\\/(\\d+)/)[1])] = l;
        }
    });
    return out;
};
window.yzOpenPopup = () => {
    const open = Object.entries(yzMarkers()).find(([id, l]) => l.isPopupOpen());
    return open ? Number(open[0]) : null;
};
"""


def _map(page):
    page.evaluate(MAP_JS)


def locate(phone) -> list[str]:
    phone.page.click("#locate")
    phone.page.wait_for_selector(".result")
    return phone.page.locator(".result .name").all_inner_texts()


def station_ids(page) -> list[int]:
    return [
        int(i) for i in page.locator(".result").evaluate_all("els => els.map(e => e.dataset.id)")
    ]


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    view = page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= view["height"]
        and box["x"] + box["width"] <= view["width"]
    )


def marker_point(page, station_id: int) -> tuple[float, float]:
    """Where a station's marker is drawn on the screen."""
    _map(page)
    return tuple(
        page.evaluate(
            """(id) => { const m = yzMap(), l = yzMarkers()[id];
                const p = m.latLngToContainerPoint(l.getLatLng());
                const r = m.getContainer().getBoundingClientRect();
                return [r.left + p.x, r.top + p.y]; }""",
            station_id,
        )
    )


def markers_outside_view(page, ids) -> list[int]:
    _map(page)
    return page.evaluate(
        """(ids) => { const b = yzMap().getBounds(), ms = yzMarkers();
            return ids.filter(id => !ms[id] || !b.contains(ms[id].getLatLng())); }""",
        ids,
    )


def view_query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def settled(page):
    """Wait until the map has stopped (the same centre at two polls 300 ms apart: a popup's
    autopan takes 250 ms) and the address holds its centre and zoom (written a moment later)."""
    _map(page)
    page.wait_for_function(
        """() => { const q = new URLSearchParams(location.search), c = yzMap().getCenter();
            const before = window.yzLastCentre;
            window.yzLastCentre = [c.lat, c.lng];
            const at = (q.get('center') || '').split(',').map(Number);
            return !!before && before[0] === c.lat && before[1] === c.lng
                && Number(q.get('zoom')) === yzMap().getZoom()
                && Math.abs(at[0] - c.lat) < 2e-5 && Math.abs(at[1] - c.lng) < 2e-5; }""",
        polling=300,
    )


@pytest.fixture
def app_server(tmp_path):
    """An app on its own SQLite file with the given stations (and clock), on a free port."""
    started = []

    def start(rows, header, clock=None, **config):
        settings = {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / f'courier{len(started)}.db'}",
            "SECRET_KEY": "courier",
            "TILES_URL": f"http://{TILE_HOST}/{{z}}/{{x}}/{{y}}.png",
            **config,
        }
        if clock:
            settings["CLOCK"] = lambda: clock
        app = create_app(settings)
        path = write_csv(tmp_path / f"c{len(started)}.csv", rows, header=header)
        result = app.test_cli_runner().invoke(args=["import", str(path)])
        assert result.exit_code == 0, result.output
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        started.append((httpd, thread))
        return f"http://127.0.0.1:{httpd.server_port}"

    yield start
    for httpd, thread in started:
        httpd.shutdown()
        thread.join()


# -- after "nearest" ------------------------------------------------------------------------------


def test_nearest_fits_every_listed_station_and_the_first_item_is_on_screen(phone, tmp_path):
    page = phone.open("/")
    names = locate(phone)
    assert names[0] == "金寨路工会驿站" and len(names) == 5
    ids = station_ids(page)
    assert markers_outside_view(page, ids) == []
    _map(page)
    here_in_view = page.evaluate(
        "(at) => yzMap().getBounds().contains(L.latLng(at[0], at[1]))", list(HERE)
    )
    assert here_in_view
    first = page.locator(".result").first
    assert in_viewport(page, first), first.bounding_box()
    assert first.locator(".distance").inner_text() == "111 米"
    assert first.locator(".hours-state").inner_text() == "现在开放"
    # facilities in words, and nothing under the Go button
    assert first.locator(".feature-list li").all_inner_texts() == ["💧 饮用水", "🍱 微波炉"]
    go = first.locator(".go").bounding_box()
    for other in first.locator(".feature-list li, .name, .distance, .hours-state").all():
        box = other.bounding_box()
        overlaps = not (
            box["x"] + box["width"] <= go["x"]
            or go["x"] + go["width"] <= box["x"]
            or box["y"] + box["height"] <= go["y"]
            or go["y"] + go["height"] <= box["y"]
        )
        assert not overlaps, other.inner_text()
    page.screenshot(path=_shots_dir(tmp_path) / "courier-nearest.png")


def test_list_and_markers_highlight_each_other(phone):
    page = phone.open("/")
    locate(phone)
    ids = station_ids(page)
    second = page.locator(".result").nth(1)
    second.locator(".show").click()
    _map(page)
    page.wait_for_function("(id) => yzOpenPopup() === id", arg=ids[1])
    style = page.evaluate(
        "(id) => { const o = yzMarkers()[id].options; return [o.radius, o.color]; }", ids[1]
    )
    assert style == [13, "#101828"]  # the selected marker: bigger, with a dark ring
    assert page.evaluate("(id) => yzMarkers()[id].options.radius", ids[0]) == 10
    expect(second).to_have_class("result selected")
    expect(second.locator(".show")).to_have_attribute("aria-pressed", "true")
    assert page.inner_text(".leaflet-popup .popup-name") == second.locator(".name").inner_text()

    settled(page)  # the popup's autopan has come to rest
    page.click(".leaflet-popup-close-button")  # closing the popup lets go of the station
    page.wait_for_function("() => !location.search.includes('station=')")
    expect(second).to_have_class("result")

    # and the other way: a tap on a marker (one the map shows) picks its list item
    box = page.locator(".map-box").bounding_box()
    tap = next(
        i
        for i in ids
        if i != ids[1] and box["y"] + 30 < marker_point(page, i)[1] < box["y"] + box["height"] - 30
    )
    page.mouse.click(*marker_point(page, tap))
    page.wait_for_function("(id) => yzOpenPopup() === id", arg=tap)
    item = page.locator(f'.result[data-id="{tap}"]')
    expect(item).to_have_attribute("aria-current", "true")
    expect(second).not_to_have_class("result selected")
    assert in_viewport(page, item)  # brought into view in the list, the map stays put
    assert view_query(page)["station"] == str(tap)

    # by keyboard: from an item's name, Tab goes to Go, the other maps, then "show on map"
    third = page.locator(".result").nth(2)
    third.locator(".name").focus()
    for _ in range(3):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "show"
    page.keyboard.press("Enter")
    page.wait_for_function("(id) => yzOpenPopup() === id", arg=ids[2])
    expect(third).to_have_attribute("aria-current", "true")


def test_a_tapped_markers_popup_stays_open_with_distance_and_go(phone):
    page = phone.open("/")
    locate(phone)
    ids = station_ids(page)
    _map(page)
    page.evaluate(
        "() => { window.yzClosed = 0; yzMap().on('popupclose', () => window.yzClosed++); }"
    )
    x, y = marker_point(page, ids[1])
    page.mouse.click(x, y)
    page.wait_for_function("(id) => yzOpenPopup() === id", arg=ids[1])
    tapped = page.evaluate("performance.now()")
    # the map moves (as a popup's autopan or a finger would) and fetches the stations in view
    with page.expect_response(lambda r: "/api/v1/map?" in r.url):
        page.evaluate("yzMap().panBy([0, 60], {animate: false})")
    page.wait_for_function("(t) => performance.now() - t > 2000", arg=tapped, polling=100)
    assert page.evaluate("window.yzClosed") == 0
    assert page.evaluate("yzOpenPopup()") == ids[1]
    popup = page.locator(".leaflet-popup")
    expect(popup).to_be_visible()
    assert popup.locator(".distance").inner_text() == "333 米"
    assert popup.locator(".hours-state").inner_text() == "现在开放"
    assert popup.locator(".go").inner_text() == "去这里 ➜"
    assert popup.locator(".go").get_attribute("href").startswith("https://uri.amap.com/navigation?")
    assert page.locator(".leaflet-tooltip").count() == 0  # no tooltip over the popup
    # the Go button offers the other map apps
    popup.locator(".go-more summary").click()
    apps = popup.locator(".go-more a")
    expect(apps.first).to_be_visible()
    assert apps.all_inner_texts()[:1] == ["高德地图（骑行）"]
    assert {"百度地图", "腾讯地图", "其他地图应用"} <= set(apps.all_inner_texts())
    hrefs = apps.evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert any(h.startswith("https://api.map.baidu.com/") for h in hrefs)
    assert any(h.startswith("geo:") for h in hrefs)
    # Nothing of the popup hides under the zoom buttons, and every app in its menu can be
    # reached inside the map (scrolling the popup if need be), not under the list below it.
    zoom = page.locator(".leaflet-control-zoom").bounding_box()
    box = page.locator(".leaflet-popup-content-wrapper").bounding_box()
    assert box["x"] >= zoom["x"] + zoom["width"] or box["y"] >= zoom["y"] + zoom["height"]
    mapbox = page.locator(".map-box").bounding_box()
    for i in range(apps.count()):
        apps.nth(i).scroll_into_view_if_needed()
        b = apps.nth(i).bounding_box()
        assert mapbox["y"] <= b["y"] and b["y"] + b["height"] <= mapbox["y"] + mapbox["height"], i


def test_a_tap_before_the_scripts_arrive_is_not_lost(phone):
    """On a slow first visit the button shows seconds before the script that works it."""
    held = []
    page = phone.page
    page.route("**/static/courier.js*", lambda route: held.append(route))
    page.goto(phone.base + "/", wait_until="commit")
    page.locator("#locate").click()
    expect(page.locator("#status")).to_have_text("请稍候，地图还在加载…")
    for _ in range(200):  # poll (the route handler runs while Playwright waits), 10 s at most
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1 and page.locator(".result").count() == 0
    held[0].continue_()
    expect(page.locator(".result .name").first).to_have_text("金寨路工会驿站")


# -- the view in the address bar ----------------------------------------------------------------


def _walk_to_a_view(phone):
    page = phone.open("/")
    locate(phone)
    with page.expect_response(lambda r: "/api/v1/stations/nearest" in r.url):
        page.click('.chip[data-facility="toilet"]')
    page.wait_for_function(
        "() => document.querySelector('.result .name').textContent === '望江路爱心驿站'"
    )
    page.locator(".result").nth(1).locator(".show").click()
    page.wait_for_selector(".leaflet-popup")
    page.wait_for_function("() => location.search.includes('station=')")
    settled(page)  # the popup's autopan moved the map a little
    query = view_query(page)
    assert query["facilities"] == "toilet" and "near" in query and "center" in query
    return page, query


def _same_view(page, names, selected_name):
    expect(page.locator('.chip[data-facility="toilet"]')).to_have_attribute("aria-pressed", "true")
    expect(page.locator('.chip[data-facility="microwave"]')).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(page.locator(".result .name")).to_have_text(names)
    expect(page.locator(".leaflet-popup .popup-name")).to_have_text(selected_name)
    expect(page.locator(".result.selected .name")).to_have_text(selected_name)


def test_the_view_survives_reload_back_and_a_shared_link(browser, phone):
    page, query = _walk_to_a_view(phone)
    names = page.locator(".result .name").all_inner_texts()
    selected = page.locator(".result.selected .name").inner_text()
    _map(page)
    centre = page.evaluate("(() => { const c = yzMap().getCenter(); return [c.lat, c.lng]; })()")
    url = page.url

    page.reload()
    _same_view(page, names, selected)
    _map(page)
    again = page.evaluate("(() => { const c = yzMap().getCenter(); return [c.lat, c.lng]; })()")
    assert abs(again[0] - centre[0]) < 1e-4 and abs(again[1] - centre[1]) < 1e-4
    assert view_query(page)["zoom"] == query["zoom"]

    page.locator(".result .name").first.click()  # to the station page, and back
    page.wait_for_url("**/stations/*")
    page.go_back()
    page.wait_for_url(lambda u: "station=" in u and "/stations/" not in u)
    _same_view(page, names, selected)

    # a shared link, opened by someone else who has not shared a location
    other = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        fresh = other.new_page()
        fresh.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(phone.base) else r.abort(),
        )
        fresh.goto(url)
        _same_view(fresh, names, selected)
    finally:
        other.close()


def test_the_server_opens_a_view_from_the_query(phone):
    page = phone.open(
        "/?facilities=toilet,microwave&open_now=1&center=31.8236,117.2272&zoom=16&station=2"
    )
    for key in ("toilet", "microwave"):
        expect(page.locator(f'.chip[data-facility="{key}"]')).to_have_attribute(
            "aria-pressed", "true"
        )
    expect(page.locator(".chip[data-open-now]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator('.chip[data-facility="drinking_water"]')).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(page.locator(".leaflet-popup .popup-name")).to_have_text("望江路爱心驿站")
    _map(page)
    assert page.evaluate("yzMap().getZoom()") == 16
    bad = page.goto(phone.base + "/?zoom=99&facilities=toilet")
    assert bad.status == 400
    assert "zoom" in page.inner_text("main")
    page.click("main a")  # the same link without the bad key
    expect(page.locator('.chip[data-facility="toilet"]')).to_have_attribute("aria-pressed", "true")


# -- the night list, and closed stations --------------------------------------------------------

NIGHT_HEADER = [
    "code",
    "name",
    "lat",
    "lon",
    "opening_hours",
    "facilities",
    "status",
    "closed_until",
]
NIGHT = [
    [
        "N-1",
        "金寨路工会驿站",
        "31.8216",
        "117.2272",
        "Mo-Su 07:00-22:00",
        "drinking_water",
        "open",
        "",
    ],
    ["N-2", "望江路爱心驿站", "31.8236", "117.2272", "24/7", "toilet", "open", ""],
    [
        "N-3",
        "徽州大道骑手驿站",
        "31.8300",
        "117.2300",
        "24/7",
        "toilet",
        "temporarily_closed",
        "2026-11-30",
    ],
    ["N-4", "长江西路驿站", "31.8190", "117.2250", "Mo-Fr 08:00-18:00", "microwave", "open", ""],
]


def test_at_night_open_stations_come_first_and_closed_ones_say_when_they_open(
    browser,
    app_server,
    tmp_path,
):
    saturday_0230 = datetime(2026, 11, 21, 2, 30, tzinfo=TZ)
    base = app_server(NIGHT, NIGHT_HEADER, clock=saturday_0230)
    phone = Phone(browser, base)
    try:
        page = phone.open("/")
        names = locate(phone)
        assert names == ["望江路爱心驿站", "金寨路工会驿站", "长江西路驿站", "徽州大道骑手驿站"]
        states = page.locator(".result .hours-state").all_inner_texts()
        assert states == [
            "现在开放",
            "休息中 · 07:00 开门",
            "休息中 · 周一 08:00 开门",
            "暂停开放 · 至 11月30日",
        ]
        assert "已闭站" not in page.inner_text("#results")
        items = page.locator(".result")
        assert items.nth(0).locator(".go:not(.quiet)").count() == 1  # open: the prominent Go
        for i in (1, 2, 3):  # closed: only a quiet route link
            assert items.nth(i).locator(".go:not(.quiet)").count() == 0
            assert items.nth(i).locator(".go.quiet").inner_text() == "路线"
        page.screenshot(path=_shots_dir(tmp_path) / "courier-night.png")
        page.goto(base + "/?lang=en")
        locate(phone)
        assert page.locator(".result .hours-state").nth(1).inner_text() == "Closed · opens 07:00"
        assert page.locator(".result .distance").first.inner_text() == "333 m"
    finally:
        phone.close()


# -- empty answers ----------------------------------------------------------------------------------


def test_far_from_any_station_the_nearest_city_is_offered(browser, server):
    phone = Phone(browser, server)
    phone.context.set_geolocation({"latitude": LHASA[0], "longitude": LHASA[1]})
    try:
        page = phone.open("/")
        page.click("#locate")
        expect(page.locator("#status")).to_have_text("附近 50 公里内没有驿站")
        assert page.locator(".result").count() == 0
        button = page.locator(".status-action")
        expect(button).to_have_text(re.compile(r"^查看合肥市（7 个驿站，距你约 \d{4} 公里）$"))
        with page.expect_response(lambda r: "/api/v1/map?" in r.url):
            button.click()
        ids = list(range(1, len(STATIONS) + 1))
        _map(page)
        page.wait_for_function("(n) => Object.keys(yzMarkers()).length === n", arg=len(ids))
        assert markers_outside_view(page, ids) == []
        assert not re.search(r"\d{6}", page.inner_text("main"))  # no raw metres anywhere
    finally:
        phone.close()


def test_no_station_matching_the_filters_offers_to_clear_them(phone):
    page = phone.open("/")
    locate(phone)
    page.click('.chip[data-facility="air_conditioning"]')  # no station here has it
    expect(page.locator("#status")).to_have_text("附近有驿站，但没有符合筛选条件的")
    expect(page.locator(".result")).to_have_count(0)
    page.click(".status-action")
    expect(page.locator(".result")).to_have_count(5)
    expect(page.locator('.chip[data-facility="air_conditioning"]')).to_have_attribute(
        "aria-pressed", "false"
    )
    assert "facilities" not in view_query(page)


# -- without location -----------------------------------------------------------------------------


def test_without_location_the_city_picker_and_search_get_somewhere(browser, server, tmp_path):
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )  # no geolocation permission: the browser refuses
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    try:
        page.goto(server + "/")
        expect(page.locator("#status")).to_contain_text("选择城市")  # says what to do at once
        page.click("#locate")
        expect(page.locator("#status")).to_contain_text("允许本网站使用定位")
        expect(page.locator("#status")).to_contain_text("选择城市或搜索")
        expect(page.locator("#finder")).to_have_class("finder attention")
        expect(page.locator("#city option[value='3401']")).to_have_text("合肥市 · 7 个站点")
        page.screenshot(path=_shots_dir(tmp_path) / "courier-no-location.png")
        _map(page)
        page.evaluate("yzMap().setView([34.7466, 113.6253], 12, {animate: false})")  # Zhengzhou
        with page.expect_response(lambda r: "/api/v1/map?" in r.url):
            page.select_option("#city", "3401")
        _map(page)
        page.wait_for_function("() => Object.keys(yzMarkers()).length === 7")
        assert markers_outside_view(page, list(range(1, 8))) == []
        expect(page.locator("#status")).to_have_text("合肥市：7 个驿站")
        assert view_query(page)["center"].startswith("31.8")

        page.fill("#q", "望江")
        result = page.locator(".search-results button", has_text="望江路爱心驿站")
        result.click()
        expect(page.locator(".leaflet-popup .popup-name")).to_have_text("望江路爱心驿站")
        assert view_query(page)["station"] == "2"
        # The city picked before is no longer claimed by the picker or the status line.
        expect(page.locator("#city")).to_have_value("")
        expect(page.locator("#status")).to_have_text(re.compile("^望江路爱心驿站"))
        page.fill("#q", "合肥")  # cities first
        expect(page.locator(".search-results button").first).to_have_text(
            "合肥市 安徽省 · 7 个站点"
        )
        page.fill("#q", "不存在的地方")
        expect(page.locator(".search-results .none")).to_have_text("没有找到“不存在的地方”。")
    finally:
        context.close()


# -- a slow network ---------------------------------------------------------------------------------


def test_the_nearest_journey_completes_on_slow_3g(browser, server):
    phone = Phone(browser, server)
    cdp = phone.context.new_cdp_session(phone.page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 2000, "downloadThroughput": 50000, "uploadThroughput": 50000},
    )
    try:
        page = phone.page
        page.goto(server + "/", timeout=120_000)
        page.locator("#locate").click(timeout=120_000)
        page.wait_for_selector(".result", timeout=120_000)
        assert page.locator(".result .name").first.inner_text() == "金寨路工会驿站"
        assert markers_outside_view(page, station_ids(page)) == []
    finally:
        phone.close()


# -- accessibility and layout -----------------------------------------------------------------------


def test_axe_finds_nothing_serious_after_nearest(phone):
    page = phone.open("/")
    locate(phone)
    found = violations(page)  # the whole page: nothing needs leaving out
    assert found == [], json.dumps(found, ensure_ascii=False, indent=1)


def test_tap_targets_and_every_chip_within_reach(phone):
    page = phone.open("/")
    locate(phone)
    page.locator(".result .show").first.click()
    page.wait_for_selector(".leaflet-popup .go")
    targets = page.locator(
        ".leaflet-popup .go, .leaflet-popup .go-more summary, .leaflet-popup-close-button, "
        ".chip, .result .go, .result .go-more summary, .result .show, #locate, .leaflet-control-zoom a, #q, #search button, #city"
    )
    assert targets.count() == 3 + 8 + 5 * 3 + 1 + 2 + 3
    small = [
        (t.inner_text() or t.get_attribute("class"), box)
        for t in targets.all()
        if (box := t.bounding_box())["width"] < 43.9 or box["height"] < 43.9  # sub-pixel layout
    ]
    assert small == []
    # pinch-zoom: one viewport, and it does not forbid zooming
    viewports = page.locator('meta[name="viewport"]').evaluate_all("els => els.map(e => e.content)")
    assert viewports == ["width=device-width, initial-scale=1"]

    # chips that do not fit: the edge that hides some shows an arrow
    row = page.locator(".chips").bounding_box()
    chips = page.locator(".chip").all()
    hidden_right = [
        c
        for c in chips
        if c.bounding_box()["x"] + c.bounding_box()["width"] > row["x"] + row["width"]
    ]
    assert hidden_right, "the phone row should not hold all eight chips"
    expect(page.locator(".chips-arrow.next")).to_be_visible()
    expect(page.locator(".chips-arrow.prev")).to_be_hidden()
    for _ in range(6):  # tap the arrow until the row ends
        if page.locator(".chips-arrow.next").is_hidden():
            break
        target = page.evaluate(
            """(() => { const r = document.querySelector('.chips');
                return Math.min(r.scrollLeft + r.clientWidth * 0.7, r.scrollWidth - r.clientWidth); })()"""
        )
        page.click(".chips-arrow.next")
        page.wait_for_function(  # the smooth scroll has come to rest where the arrow sends it
            "(target) => Math.abs(document.querySelector('.chips').scrollLeft - target) < 2",
            arg=target,
        )
    last = page.locator(".chip").last
    expect(page.locator(".chips-arrow.next")).to_be_hidden()
    box = last.bounding_box()
    assert box["x"] + box["width"] <= row["x"] + row["width"] + 1
    expect(page.locator(".chips-arrow.prev")).to_be_visible()


def test_desktop_map_takes_the_window_with_the_list_beside_it(browser, server, tmp_path):
    context = browser.new_context(
        viewport=DESKTOP,
        locale="zh-CN",
        geolocation={"latitude": HERE[0], "longitude": HERE[1]},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    try:
        page.goto(server + "/")
        page.click("#locate")
        page.wait_for_selector(".result")
        header = page.locator("header.top").bounding_box()
        box = page.locator(".map-box").bounding_box()
        panel = page.locator(".panel").bounding_box()
        assert box["height"] >= DESKTOP["height"] - header["height"] - 2
        assert box["width"] >= 700
        assert panel["x"] + panel["width"] <= box["x"] + 1  # beside it, not above
        first = page.locator(".result").first
        assert in_viewport(page, first)
        assert markers_outside_view(page, station_ids(page)) == []
        assert page.evaluate("document.documentElement.scrollHeight") <= DESKTOP["height"]
        page.screenshot(path=_shots_dir(tmp_path) / "courier-desktop.png")
    finally:
        context.close()
