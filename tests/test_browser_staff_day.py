"""A union officer's working day, walked in Debian's Chromium on a phone (390×844) and on a desktop,
in Chinese: sign in, find a station by name, fix its hours with the editor, audit it, handle the
two reports riders made there, export the district. On every page: no raw key, no ISO timestamp."""

import re

import openpyxl
import pytest
from playwright.sync_api import expect
from staff_helpers import PASSWORD
from test_browser import PHONE, STATIONS, Phone, _shots_dir, browser, serve_stations  # noqa: F401

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
ISO_MOMENT = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2})?\b")


def raw_keys() -> set[str]:
    """Every stored key that has a label of its own, and every field name: none may show on a
    Chinese page. Keys that are their own label (AED, WGS-84) are names, not keys."""
    from stations.core import columns, labels

    keys = {
        t.key
        for v in labels.VOCABULARIES.values()
        for t in v.terms
        if t.key not in (t.zh, t.en) and t.key.lower() != t.zh.lower()
    }
    keys |= {f for f in columns.COLUMNS if columns.label(f, "zh") != f}
    return keys | {"command line"}


def readable(page, keys: set[str]) -> str:
    """The page's visible text, after asserting it shows people's words only."""
    text = page.inner_text("body")
    assert not ISO_MOMENT.search(text), (page.url, ISO_MOMENT.search(text).group(0))
    found = sorted(k for k in keys if re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", text))
    assert found == [], (page.url, found)
    return text


@pytest.fixture
def server(tmp_path, database_url):
    header = ["code", "name", "lat", "lon", "opening_hours", "facilities"]
    yield from serve_stations(tmp_path, database_url, STATIONS, header)


@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_a_staff_members_day(browser, server, database_url, tmp_path, screen):  # noqa: F811
    from stations.core.accounts import hash_password
    from stations.store import open_store

    shots = _shots_dir(tmp_path)
    keys = raw_keys()
    with open_store(database_url) as store:
        store.create_user(
            "hf-admin", hash_password(PASSWORD), "admin", "3401", "2026-11-01T00:00:00+08:00"
        )

    # Two riders on their own phones report problems at 金寨路工会驿站 (station 1).
    for kind, facility in (("locked", None), ("broken", "microwave")):
        rider = Phone(browser, server)
        page = rider.open("/stations/1")
        if facility:
            page.select_option("#facility", facility)
        page.click(f'button[name="kind"][value="{kind}"]')
        expect(page.locator(".flash")).to_be_visible()
        rider.close()

    if screen == "phone":
        officer = Phone(browser, server)
        context, page = officer.context, officer.page
    else:
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        page = context.new_page()
    try:
        # Sign in: the staff area sends a stranger to the sign-in page first.
        page.goto(server + "/admin/")
        expect(page).to_have_url(re.compile(r"/login"))
        readable(page, keys)
        page.fill('input[name="name"]', "hf-admin")
        page.fill('input[name="password"]', PASSWORD)
        page.click('button[type="submit"]')
        page.wait_for_url("**/admin/")
        readable(page, keys)
        page.screenshot(path=shots / f"day-{screen}-1-dashboard.png", full_page=True)

        # Find the station by (part of) its name.
        page.goto(server + "/admin/stations")
        page.fill('input[name="q"]', "金寨路")
        page.locator('input[name="q"]').press("Enter")
        page.wait_for_url("**q=*")
        names = page.locator("main table a", has_text="驿站")
        expect(names).to_have_count(1)
        expect(names.first).to_have_text("金寨路工会驿站")
        readable(page, keys)
        names.first.click()
        page.wait_for_url("**/admin/stations/1")
        station_page = readable(page, keys)
        assert "门锁着 / 没开" in station_page and "设施坏了：微波炉" in station_page

        # Fix the hours with the editor: a Chinese phrase, previewed in words.
        page.click("text=编辑")
        page.wait_for_url("**/admin/stations/1/edit")
        page.fill("#hours-phrase", "周一至周五 8点到18点，节假日休息")
        expect(page.locator("#hours-words")).to_have_text("周一至周五 08:00–18:00；法定节假日休息")
        expect(page.locator("#opening_hours")).to_have_value("Mo-Fr 08:00-18:00; PH off")
        page.screenshot(path=shots / f"day-{screen}-2-hours.png", full_page=True)
        page.click('button[type="submit"].primary')
        page.wait_for_url("**/admin/stations/1")
        expect(page.locator("main")).to_contain_text("周一至周五 08:00–18:00；法定节假日休息")
        history = readable(page, keys)
        assert "开放时间" in history  # the change, named by its label, its value in words
        assert "Mo-Fr" not in history and "全天24小时开放" in history
        expect(page.locator(".verified-at")).to_have_text("尚未核实")

        # Audit it: every item passes.
        page.goto(server + "/admin/stations/1/audit")
        readable(page, keys)
        for choice in page.locator('input[type="radio"][value="pass"]').all():
            choice.check()
        page.screenshot(path=shots / f"day-{screen}-3-audit.png", full_page=True)
        page.click('button[type="submit"].primary')
        page.wait_for_url("**/admin/stations/1")
        expect(page.locator(".flash")).to_contain_text("达标")
        readable(page, keys)
        expect(page.locator(".verified-at")).to_have_text(re.compile(r"^(刚刚|\d+ 分钟前)$"))

        # Handle both reports: acknowledge the locked door, resolve the microwave with a note.
        page.goto(server + "/admin/reports")
        rows = page.locator(".report-row")
        expect(rows).to_have_count(2)
        readable(page, keys)
        locked = rows.filter(has_text="门锁着")
        locked.locator('button[value="acknowledge"]').click()
        expect(page.locator(".flash")).to_be_visible()
        broken = page.locator(".report-row").filter(has_text="设施坏了：微波炉")
        broken.locator('input[name="note"]').fill("已更换微波炉")
        broken.locator('button[value="resolve"]').click()
        expect(page.locator(".flash")).to_be_visible()
        expect(page.locator(".report-row")).to_have_count(1)  # the open queue keeps the other
        readable(page, keys)
        page.screenshot(path=shots / f"day-{screen}-4-reports.png", full_page=True)
        page.goto(server + "/admin/stations/1")
        kept = readable(page, keys)
        assert "已更换微波炉" in kept and "已解决" in kept  # resolved, kept in the history

        # Export the district: the spreadsheet says what the dashboard says.
        page.goto(server + "/admin/")
        table = page.locator("main table").first
        headers = table.locator("thead th").all_inner_texts()
        cells = table.locator("tbody tr").first.locator("td").all_inner_texts()
        shown = dict(zip(headers, cells, strict=False))
        with page.expect_download() as download:
            page.click("a[href*='/admin/export/districts.xlsx']")
        path = tmp_path / f"districts-{screen}.xlsx"
        download.value.save_as(path)
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        rows_out = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
        exported = dict(zip(rows_out[0], rows_out[1], strict=False))
        assert "站点数" in exported and str(exported["站点数"]) == shown["站点数"]
        for value in rows_out[1]:
            assert not (isinstance(value, str) and value in keys), value
        if screen == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
