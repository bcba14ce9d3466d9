"""A staff import as a phone shows it (Debian's Chromium, 390×844, in Chinese): the upload becomes
a job whose page shows its phase and progress while it runs, then the plan with the bad row
named by its row and its column's label; a clean file applied shows how many stations were
written, and the station list counts them."""

import re

import pytest
from playwright.sync_api import expect
from staff_helpers import PASSWORD
from test_browser import STATIONS, Phone, _shots_dir, browser, serve_stations  # noqa: F401
from test_browser_staff_day import raw_keys, readable

from conftest import write_csv

pytestmark = pytest.mark.browser


def hefei_rows(n: int, first_lat: float) -> list[dict]:
    """n distinct stations in Hefei (3401), ~45 m apart, from first_lat northwards."""
    return [
        {
            "code": f"JOB-{first_lat:.2f}-{i:06d}",
            "name": f"合肥第{i}号驿站",
            "lat": f"{first_lat + (i // 200) * 0.0004:.6f}",
            "lon": f"{117.20 + (i % 200) * 0.0005:.6f}",
        }
        for i in range(n)
    ]


@pytest.fixture
def server(tmp_path, database_url):
    from stations.core.accounts import hash_password
    from stations.store import open_store

    header = ["code", "name", "lat", "lon", "opening_hours", "facilities"]
    served = serve_stations(tmp_path, database_url, STATIONS, header)
    base = next(served)
    with open_store(database_url) as store:
        store.create_user(
            "hf-admin", hash_password(PASSWORD), "admin", "3401", "2026-11-01T00:00:00+08:00"
        )
    yield base
    next(served, None)


def station_count(page, base) -> int:
    page.goto(base + "/admin/stations")
    text = page.locator("#list-count").inner_text()
    return int(re.match(r"共 (\d+) 个站点", text).group(1))


def upload(page, base, path, apply: bool) -> None:
    page.goto(base + "/admin/import")
    page.set_input_files('input[name="file"]', str(path))
    if apply:
        page.check('input[name="apply"]')
    page.click('button[type="submit"].primary')
    page.wait_for_url(re.compile(r"/admin/import/jobs/\d+$"))


def test_an_import_job_shows_progress_then_the_bad_row_then_what_was_applied(
    browser,  # noqa: F811
    server,
    tmp_path,
):
    shots = _shots_dir(tmp_path)
    keys = raw_keys()
    officer = Phone(browser, server)
    page = officer.page
    try:
        page.goto(server + "/login")
        page.fill('input[name="name"]', "hf-admin")
        page.fill('input[name="password"]', PASSWORD)
        page.click('button[type="submit"]')
        page.wait_for_url("**/admin/")
        before = station_count(page, server)
        officer.hosts.clear()  # from here on: the staff pages only, which ask nothing else

        # A big file with one bad latitude, only checked: the job page shows it running...
        rows = hefei_rows(20_000, 31.70)
        rows[1233]["lat"] = "北纬"  # row 1,235 of the file: the header is row 1
        upload(page, server, write_csv(tmp_path / "合肥驿站.csv", rows), apply=False)
        expect(page.locator("h1")).to_have_text("导入站点")
        expect(page.locator(".job-file")).to_have_text("文件： 合肥驿站.csv · 仅检查")
        expect(page.locator("#job-progress")).to_have_text(re.compile(r"^[\d,]+ / 20,000 行$"))
        expect(page.locator("#job-phase")).to_have_text(re.compile("^(正在读取文件|正在检查各行)$"))
        expect(page.locator("#job-bar")).to_be_visible()
        page.screenshot(path=shots / "staff-import-job-phone.png", full_page=True)

        # ...then the plan: nothing imported, the bad row named by row and column label.
        errors = page.locator(".job-errors li")
        expect(errors).to_have_count(1, timeout=60_000)
        expect(errors.first).to_contain_text("第 1235 行，纬度 列：")
        expect(page.locator("#job-phase")).to_have_text("已完成")
        expect(page.locator("#job-bar")).to_be_hidden()
        text = readable(page, keys)
        assert "没有导入任何数据。请修改以下行：" in text, text
        page.screenshot(path=shots / "staff-import-job-plan-phone.png", full_page=True)
        assert station_count(page, server) == before

        # A clean file, applied: the page says how many stations were written.
        good = write_csv(tmp_path / "新驿站.csv", hefei_rows(2000, 31.76))
        upload(page, server, good, apply=True)
        expect(page.locator(".job-file")).to_have_text("文件： 新驿站.csv · 检查并写入")
        applied = page.locator("#job-applied")
        expect(applied).to_have_text(
            "已写入 2000 个站点：新增 2000 个，更新 0 个，未变 0 个。", timeout=60_000
        )
        readable(page, keys)
        page.screenshot(path=shots / "staff-import-job-applied-phone.png", full_page=True)
        assert station_count(page, server) == before + 2000
        assert officer.hosts and set(officer.hosts) == {server.removeprefix("http://")}
    finally:
        officer.close()
