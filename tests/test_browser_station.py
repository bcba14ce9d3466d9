"""The station page and its QR poster on a phone (390×844, headless Debian chromium): the small
map with the station on it, the distance from the rider, sharing the short link, every Go
choice big enough for a thumb, and a QR code that scans from the phone's own screen."""

import pytest
import zxingcpp
from PIL import Image
from test_browser import (  # noqa: F401  (browser and server are fixtures used by name)
    PHONE,
    TILE_HOST,
    Phone,
    _shots_dir,
    browser,
    server,
)

pytestmark = pytest.mark.browser
STATION = "/stations/1"  # 金寨路工会驿站, 31.8216, 117.2272, 24/7 (tests/test_browser.py)

MARKERS = """() => {
    const cfg = JSON.parse(document.getElementById('yz-station').textContent);
    const map = window[cfg.map];
    if (!map) return null;
    const at = [];
    map.eachLayer(l => { if (l instanceof L.CircleMarker) at.push([l.getLatLng().lat, l.getLatLng().lng]); });
    return {at, want: cfg.at};
}"""


def here_script(lat: float, lon: float, age_ms: int) -> str:
    """Puts the rider's last position where the map page leaves it, before the page runs."""
    value = f"JSON.stringify({{lat: {lat}, lon: {lon}, at: Date.now() - {age_ms}}})"
    return f"window.sessionStorage.setItem('yz:here', {value});"


@pytest.fixture
def phone(browser, server):  # noqa: F811
    p = Phone(browser, server)
    p.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    yield p
    p.close()


def wait_for_marker(page) -> dict:
    page.wait_for_function(f"(() => {{ const m = ({MARKERS})(); return m && m.at.length > 0; }})()")
    return page.evaluate(MARKERS)


def test_the_station_page_shows_the_station_on_a_small_map(phone, tmp_path):
    page = phone.open(STATION)
    drawn = wait_for_marker(page)
    assert drawn["at"] == [drawn["want"]]  # one marker, where the station is (WGS-84 tiles)
    assert drawn["want"] == pytest.approx([31.8216, 117.2272])
    box = page.locator(".station-map").bounding_box()
    assert box["height"] >= 150 and box["width"] >= PHONE["width"] - 40
    assert box["y"] + box["height"] <= PHONE["height"]  # on the first screen
    page.wait_for_load_state("networkidle")
    assert TILE_HOST in phone.hosts  # its tiles were asked for
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=_shots_dir(tmp_path) / "station-phone.png")


def test_the_distance_from_the_rider_shows_only_when_recent(browser, server):  # noqa: F811
    # 0.0108° north of the station: 1.2 km.
    fresh, stale = (Phone(browser, server) for _ in range(2))
    try:
        page = stale.page
        stale.context.add_init_script(here_script(31.8216 + 0.0108, 117.2272, 11 * 60 * 1000))
        stale.open(STATION)
        wait_for_marker(page)  # station.js has run
        assert page.locator("#distance").is_hidden()  # eleven minutes old: the rider moved on

        page = fresh.page
        fresh.open(STATION)
        wait_for_marker(page)
        assert page.locator("#distance").is_hidden()  # no position yet: nothing said
        fresh.context.add_init_script(here_script(31.8216 + 0.0108, 117.2272, 60 * 1000))
        page.reload()
        page.locator("#distance").wait_for(state="visible")
        assert page.inner_text("#distance") == "距你约 1.2 公里"
        fresh.context.add_init_script(here_script(31.8216 - 0.0031, 117.2272, 0))
        page.reload()
        page.wait_for_function(
            "() => document.getElementById('distance').textContent.includes('米')"
        )
        assert page.inner_text("#distance") == "距你约 340 米"
    finally:
        fresh.close()
        stale.close()


def test_share_copies_the_short_link_and_says_so(phone, server):  # noqa: F811
    # Chromium on Linux has no Web Share; make sure of it, so the copy is what is tested.
    phone.context.add_init_script("delete Navigator.prototype.share;")
    page = phone.open(STATION)
    wait_for_marker(page)
    share = page.locator("#share")
    assert share.is_visible() and share.inner_text() == "分享这个驿站"
    assert share.bounding_box()["height"] >= 44
    assert page.inner_text("#share-status") == ""
    share.click()
    page.wait_for_function("() => document.getElementById('share-status').textContent !== ''")
    link = f"{server}/s/A-1"
    assert page.inner_text("#share-status") == f"已复制链接：{link}"
    assert page.evaluate("navigator.clipboard.readText()") == link


def test_share_uses_the_phones_share_sheet_when_there_is_one(phone, server):  # noqa: F811
    phone.context.add_init_script(
        "navigator.share = d => { window.__shared = d; return Promise.resolve(); };"
    )
    page = phone.open(STATION)
    wait_for_marker(page)
    page.click("#share")
    page.wait_for_function("() => window.__shared !== undefined")
    assert page.evaluate("window.__shared") == {"title": "金寨路工会驿站", "url": f"{server}/s/A-1"}
    assert page.inner_text("#share-status") == ""  # the sheet said it all


def test_every_go_choice_is_there_and_big_enough_for_a_thumb(phone):
    page = phone.open(STATION)
    links = page.locator(".nav-buttons a.nav")
    labels = links.all_inner_texts()
    assert labels == [
        "高德地图：骑行导航",
        "苹果地图",
        "百度地图",
        "腾讯地图",
        "高德地图",
        "其他地图应用",
    ]
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert [h.split("?")[0] for h in hrefs[:5]] == [
        "https://uri.amap.com/navigation",
        "https://maps.apple.com/",
        "https://api.map.baidu.com/marker",
        "https://apis.map.qq.com/uri/v1/routeplan",
        "https://uri.amap.com/marker",
    ]
    assert hrefs[5].startswith("geo:31.8216,117.2272")
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, labels[i]
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], labels[i]
    # the state is said in words, not by colour alone
    assert page.inner_text(".state .badge") == "现在开放"


def test_the_poster_qr_scans_from_a_phone_screen(phone, server, tmp_path):  # noqa: F811
    page = phone.open(STATION + "/poster")
    qr = page.locator(".qr svg")
    box = qr.bounding_box()
    # The code takes the phone's width, whole, on the first screen.
    assert PHONE["width"] * 0.75 <= box["width"] <= PHONE["width"]
    assert box["x"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    shot = _shots_dir(tmp_path) / "poster-phone.png"
    page.screenshot(path=shot)
    found = zxingcpp.read_barcodes(Image.open(shot).convert("L"))
    assert [r.text for r in found] == [f"{server}/s/A-1"]
    assert [r.format for r in found] == [zxingcpp.BarcodeFormat.QRCode]


def test_the_poster_prints_the_code_at_a_scannable_size(browser, server, tmp_path):  # noqa: F811
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    page.goto(server + STATION + "/poster")
    page.emulate_media(media="print")
    assert page.locator(".no-print").first.is_hidden()
    width = page.locator(".qr svg").bounding_box()["width"]
    assert 300 <= width <= 12 / 2.54 * 96 + 1  # at most 12 cm on paper, and no postage stamp
    shot = tmp_path / "poster-print.png"
    page.screenshot(path=shot)
    found = zxingcpp.read_barcodes(Image.open(shot).convert("L"))
    assert [r.text for r in found] == [f"{server}/s/A-1"]
    desk.close()
