"""A union officer fixes a station's opening hours with the editor, on a phone (390×844), in
Debian's Chromium: a Chinese phrase, then day chips and time ranges, the preview in words,
save, and the station page shows the new hours in words."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from test_browser import PHONE, TILE_HOST, Phone, _shots_dir, browser, serve_stations  # noqa: F401

pytestmark = pytest.mark.browser

STATION = ["HF-0001", "金寨路工会驿站", "31.8216", "117.2272", "24/7", "drinking_water"]


@pytest.fixture
def server(tmp_path, database_url):
    header = ["code", "name", "lat", "lon", "opening_hours", "facilities"]
    yield from serve_stations(tmp_path, database_url, [STATION], header)


@pytest.fixture
def officer(browser, server, database_url):  # noqa: F811
    from staff_helpers import PASSWORD

    from stations.core.accounts import hash_password
    from stations.store import open_store

    with open_store(database_url) as store:
        store.create_user(
            "hf-admin", hash_password(PASSWORD), "admin", "3401", "2026-11-01T00:00:00+08:00"
        )
    phone = Phone(browser, server)
    page = phone.open("/admin/stations/1/edit")
    page.fill('input[name="name"]', "hf-admin")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url("**/admin/stations/1/edit")
    yield phone
    phone.close()


def big_enough(locator) -> None:
    for box in (el.bounding_box() for el in locator.all()):
        assert box and box["height"] >= 44 and box["width"] >= 44, box


def test_staff_fix_hours_with_the_editor_on_a_phone(officer, server, tmp_path):
    page = officer.page
    words, osm, field = (
        page.locator("#hours-words"),
        page.locator("#hours-osm"),
        page.locator("#opening_hours"),
    )
    # The station's current hours are read into the editor: every day, around the clock.
    expect(words).to_have_text("全天24小时开放")
    row = page.locator(".hours-row").nth(0)
    expect(row.locator(".hours-days input:checked")).to_have_count(7)
    expect(row.locator(".hours-24")).to_be_checked()

    # A phrase typed in Chinese becomes OSM, in words, and the rows follow it.
    page.fill("#hours-phrase", "晚上10点到早上6点")
    expect(words).to_have_text("周一至周日 22:00–次日06:00")
    expect(field).to_have_value("Mo-Su 22:00-06:00")
    row = page.locator(".hours-row").nth(0)
    expect(row.locator(".hours-from")).to_have_value("22:00")
    expect(row.locator(".hours-to")).to_have_value("06:00")

    # Now by hand: weekdays 08:00-12:00 and 14:00-18:00, Saturday mornings, holidays closed.
    row.locator(".day-chip", has_text="周六").click()
    row.locator(".day-chip", has_text="周日").click()
    expect(words).to_have_text("周一至周五 22:00–次日06:00")
    expect(page.locator("#hours-phrase")).to_have_value("")  # the rows say it now
    row.locator(".hours-from").fill("08:00")
    row.locator(".hours-to").fill("12:00")
    row.locator(".hours-add-range").click()
    row.locator(".hours-from").nth(1).fill("14:00")
    row.locator(".hours-to").nth(1).fill("18:00")
    expect(words).to_have_text("周一至周五 08:00–12:00、14:00–18:00")
    page.click("#hours-add-row")
    saturday = page.locator(".hours-row").nth(1)
    saturday.locator(".day-chip", has_text="周六").click()
    saturday.locator(".hours-from").fill("09:00")
    saturday.locator(".hours-to").fill("12:00")
    page.locator("label", has_text="法定节假日休息").click()
    want_words = "周一至周五 08:00–12:00、14:00–18:00；周六 09:00–12:00；法定节假日休息"
    expect(words).to_have_text(want_words)
    expect(osm).to_have_text("Mo-Fr 08:00-12:00,14:00-18:00; Sa 09:00-12:00; PH off")
    expect(field).to_have_value("Mo-Fr 08:00-12:00,14:00-18:00; Sa 09:00-12:00; PH off")

    # Made for a thumb: chips and buttons at least 44 px, nothing wider than the phone.
    big_enough(page.locator(".day-chip span:visible"))
    big_enough(page.locator(".hours-editor button:visible"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#hours-editor").screenshot(path=_shots_dir(tmp_path) / "staff-hours-editor.png")

    page.click('button[type="submit"].primary')
    page.wait_for_url("**/admin/stations/1")
    expect(page.locator("main")).to_contain_text(want_words)
    page.screenshot(path=_shots_dir(tmp_path) / "staff-hours-saved.png", full_page=True)
    assert set(officer.hosts) <= {urlsplit(server).netloc, TILE_HOST}


def test_a_phrase_that_cannot_be_read_is_said_in_chinese(officer):
    page = officer.page
    expect(page.locator("#hours-words")).to_have_text("全天24小时开放")
    page.fill("#hours-phrase", "每天8点到10点左右")
    expect(page.locator("#hours-problem")).to_have_text("无法识别“每天8点到10点左右”中的“左右”")
    expect(page.locator("#opening_hours")).to_have_value(
        "24/7"
    )  # the field keeps the last good value
