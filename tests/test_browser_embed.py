"""The partner embed in a real headless Chromium, framed by a partner's page on another origin:
a region opens with all its stations in view, the builder's picker writes a snippet that shows
the region, and a 360×600 frame shows the locate button and the first station unscrolled.

Every request to anything but the app and the partner's origin is blocked (tests/test_browser.py).
"""

import pytest
import test_browser
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_browser import HERE, STATIONS, _partner_phone, _shots_dir

from conftest import STORE_KINDS
from helpers import inside

# The shared fixtures: Debian's chromium for the module, and a partner's site on another origin.
browser = test_browser.browser
partner_site = test_browser.partner_site

pytestmark = pytest.mark.browser

HEADER = ["code", "name", "lat", "lon", "opening_hours", "facilities"]
# 合肥市 (3401): the three stations by the rider on 金寨路 and three in its outer counties, up to
# 50 km apart; two stations elsewhere that a Hefei embed must not need to show.
HEFEI_CITY = [row for row in STATIONS if row[0] in ("A-1", "B-1", "C-1")]
OUTER = [
    ("FD-1", "肥东县店埠驿站", "340122"),
    ("CF-1", "长丰县水湖驿站", "340121"),
    ("CH-1", "巢湖市卧牛山驿站", "340181"),
]
HEFEI_REGION = HEFEI_CITY + [
    [code, name, f"{inside(adcode)[0]:.5f}", f"{inside(adcode)[1]:.5f}", "24/7", "drinking_water"]
    for code, name, adcode in OUTER
]
ELSEWHERE = [
    [
        "HB-1",
        "淮北市相山驿站",
        f"{inside('340603')[0]:.5f}",
        f"{inside('340603')[1]:.5f}",
        "24/7",
        "",
    ],
    ["XN-1", "西宁市城中驿站", "36.6171", "101.7782", "24/7", ""],
]
NEAREST = "金寨路工会驿站"  # the station nearest HERE

# Positions of what the map draws inside its view: stations (whatever marker they are drawn
# with) and the rider; popups and tooltips are not markers.
IN_VIEW = """() => {
    const c = document.getElementById('yz-config');
    const m = c && window[JSON.parse(c.textContent).map];
    if (!m) return [];
    const b = m.getBounds(), out = [];
    m.eachLayer(l => {
        if (!l.getLatLng || l instanceof L.Popup || l instanceof L.Tooltip) return;
        const p = l.getLatLng();
        if (b.contains(p)) out.push([+p.lat.toFixed(5), +p.lng.toFixed(5)]);
    });
    return out;
}"""


def positions(rows) -> list[list[float]]:
    return sorted([round(float(r[2]), 5), round(float(r[3]), 5)] for r in rows)


@pytest.fixture
def server(tmp_path, database_url):
    yield from test_browser.serve_stations(tmp_path, database_url, HEFEI_REGION + ELSEWHERE, HEADER)


def framed(page, selector="iframe"):
    """The embed's frame once its page (config and map script) has arrived."""
    page.frame_locator(selector).locator("#yz-config").wait_for(state="attached")
    return page.locator(selector).element_handle().content_frame()


def drawn_in_view(frame, want: int) -> list[list[float]]:
    """The marker positions in view once `want` of them are drawn (or what is drawn after 10 s)."""
    try:
        frame.wait_for_function(f"() => ({IN_VIEW})().length >= {want}", timeout=10_000)
    except PlaywrightTimeout:
        pass  # the assertion that follows says what was drawn instead
    return sorted(frame.evaluate(IN_VIEW))


def partner_page(partner_site, iframe: str, title="合肥市总工会") -> None:
    partner_site["page"] = (
        f'<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><h1>户外劳动者驿站</h1>{iframe}"
    )


def on_partner_phone(browser, partner_site, server, iframe: str, **page):
    """A phone opening the partner's page with this iframe: (phone, page, the embed's frame)."""
    partner_page(partner_site, iframe, **page)
    phone = _partner_phone(browser, partner_site, server)
    phone.page.goto(partner_site["base"] + "/")
    return phone, phone.page, framed(phone.page)


def inside_box(inner: dict, outer: dict) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_a_region_embed_opens_with_all_its_stations_in_view(
    browser, server, partner_site, tmp_path
):
    phone, page, frame = on_partner_phone(
        browser,
        partner_site,
        server,
        f'<iframe src="{server}/embed?region=3401" title="驿站地图" width="360" height="600"'
        ' style="border:0" loading="lazy"></iframe>',
    )
    assert drawn_in_view(frame, len(HEFEI_REGION)) == positions(HEFEI_REGION)  # six, none else
    page.screenshot(path=_shots_dir(tmp_path) / "embed-region.png")
    phone.close()


def test_a_province_embed_in_a_phone_frame_shows_every_station_of_the_province(
    browser, server, partner_site
):
    phone, page, frame = on_partner_phone(
        browser,
        partner_site,
        server,
        f'<iframe src="{server}/embed?region=34&list=1&locate=1" title="驿站地图" width="360"'
        ' height="600" style="border:0"></iframe>',
        title="安徽省总工会",
    )
    anhui = HEFEI_REGION + ELSEWHERE[:1]  # Hefei's six and Huaibei's, 250 km apart
    assert drawn_in_view(frame, len(anhui)) == positions(anhui)
    phone.close()


def test_a_region_fits_the_frame_it_is_given(browser, server, partner_site):
    """A wide frame gets a closer view than the smallest one: the map script fits cfg.fit to
    the frame it finds (needs courier.js's fitBounds)."""
    partner_page(
        partner_site,
        f'<iframe src="{server}/embed?region=3401" title="驿站地图" width="1000" height="700"'
        ' style="border:0"></iframe>',
    )
    desk = browser.new_context(viewport={"width": 1100, "height": 800}, locale="zh-CN")
    page = desk.new_page()
    allowed = (server, partner_site["base"])
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(allowed) else r.abort())
    page.goto(partner_site["base"] + "/")
    frame = framed(page)
    frame.wait_for_function(  # fitted: as close as the region's extent allows in this frame
        """() => { const cfg = JSON.parse(document.getElementById('yz-config').textContent);
            const m = window[cfg.map];
            return m.getZoom() === m.getBoundsZoom(L.latLngBounds(cfg.fit)); }""",
        timeout=10_000,
    )
    assert drawn_in_view(frame, len(HEFEI_REGION)) == positions(HEFEI_REGION)
    desk.close()


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_the_builders_picker_writes_a_snippet_that_shows_the_region(
    browser, server, partner_site, tmp_path
):
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    page.goto(server + "/embed/builder")
    assert page.inner_text('select[name="province"] option[value="34"]') == "安徽省（7）"
    page.select_option('select[name="province"]', "34")
    page.wait_for_selector('select[name="city"]:enabled option[value="3401"]', state="attached")
    assert page.inner_text('select[name="city"] option[value="3401"]') == "合肥市（6）"
    page.select_option('select[name="city"]', "3401")
    page.wait_for_selector(
        'select[name="district"]:enabled option[value="340122"]', state="attached"
    )
    assert page.inner_text('select[name="district"] option[value="340122"]') == "肥东县（1）"
    assert page.input_value('input[name="region"]') == "3401"
    page.wait_for_function(
        "() => document.getElementById('region-note').textContent.startsWith('合肥市：6 个驿站')"
    )
    snippet = page.input_value("#snippet")
    assert "region=3401" in snippet and "list=1" in snippet and "locate=1" in snippet
    assert 'width="100%"' in snippet and "max-width:480px" in snippet  # fits a phone's column
    preview = framed(page, "#preview")  # the builder's own preview shows the region too
    assert drawn_in_view(preview, len(HEFEI_REGION)) == positions(HEFEI_REGION)
    page.screenshot(path=_shots_dir(tmp_path) / "embed-builder.png", full_page=True)
    desk.close()

    partner_page(partner_site, snippet)
    phone = _partner_phone(browser, partner_site, server)
    phone.page.goto(partner_site["base"] + "/")
    frame = framed(phone.page)
    width = phone.page.locator("iframe").bounding_box()["width"]
    assert width == phone.page.evaluate("document.body.clientWidth") < 390  # the column's width
    assert drawn_in_view(frame, len(HEFEI_REGION)) == positions(HEFEI_REGION)
    phone.close()


def test_the_builder_refuses_what_cannot_work_and_says_why(browser, server):
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = desk.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    page.goto(server + "/embed/builder?lang=en")
    assert page.inner_text('label.check:has(input[value="toilet"])').strip().endswith("Toilet")
    page.uncheck('input[name="locate"]')
    assert page.is_disabled('input[name="list"]') and not page.is_checked('input[name="list"]')
    assert 'needs "locate me"' in page.inner_text("#switch-note")
    snippet = page.input_value("#snippet")
    assert "list=1" not in snippet and "locate=1" not in snippet
    page.check('input[name="locate"]')
    page.check('input[name="list"]')
    page.fill('input[name="height"]', "300")
    page.press('input[name="height"]', "Tab")
    assert page.input_value('input[name="height"]') == "420"
    assert 'height="420"' in page.input_value("#snippet")
    page.fill('input[name="region"]', "6301")
    page.wait_for_function(
        "() => document.getElementById('region-note').textContent.includes('西宁市')"
    )
    assert page.input_value('select[name="province"]') == "63"
    page.wait_for_function("() => document.querySelector('select[name=city]').value === '6301'")
    assert (
        page.inner_text("#region-note")
        == "Stations in 西宁市: 1; the map opens with all of them in view."
    )
    page.fill('input[name="region"]', "4403")
    page.wait_for_function(
        "() => document.getElementById('region-note').textContent.includes('深圳市')"
    )
    assert (
        page.inner_text("#region-note") == "深圳市 has no stations yet; the map will show its area."
    )
    desk.close()


def test_a_360_by_600_frame_shows_the_locate_button_and_the_first_station(
    browser, server, partner_site, tmp_path
):
    phone, page, frame = on_partner_phone(
        browser,
        partner_site,
        server,
        f'<iframe src="{server}/embed?region=3401&list=1&locate=1" title="驿站地图" width="360"'
        ' height="600" style="border:0" allow="geolocation"></iframe>',
    )
    box = page.locator("iframe").bounding_box()
    button = page.frame_locator("iframe").locator("#locate")
    assert inside_box(button.bounding_box(), box)  # before any scrolling
    frame.click("#locate")
    first = page.frame_locator("iframe").locator(".result").first
    first.wait_for()
    assert first.locator(".name").inner_text() == NEAREST
    assert inside_box(first.bounding_box(), box)
    assert inside_box(button.bounding_box(), box)
    assert frame.evaluate("document.scrollingElement.scrollTop") == 0
    page.screenshot(path=_shots_dir(tmp_path) / "embed-frame-360.png")
    phone.close()


def test_list_off_and_locate_on_shows_the_nearest_on_the_map(browser, server, partner_site):
    """No list: the map itself answers "nearest" (needs courier.js: fit to the rider and the
    nearest stations, the nearest one's popup open, no false error)."""
    phone, page, frame = on_partner_phone(
        browser,
        partner_site,
        server,
        f'<iframe src="{server}/embed?region=3401&locate=1" title="驿站地图" width="360"'
        ' height="600" style="border:0" allow="geolocation"></iframe>',
    )
    box = page.locator("iframe").bounding_box()
    assert inside_box(page.frame_locator("iframe").locator("#locate").bounding_box(), box)
    frame.click("#locate")
    popup = page.frame_locator("iframe").locator(".leaflet-popup")
    popup.wait_for()
    assert NEAREST in popup.inner_text()
    here = [round(HERE[0], 5), round(HERE[1], 5)]
    nearest = positions([r for r in STATIONS if r[1] == NEAREST])[0]
    in_view = frame.evaluate(IN_VIEW)
    assert here in in_view and nearest in in_view
    assert "站点加载失败" not in frame.inner_text("#status")
    phone.close()
