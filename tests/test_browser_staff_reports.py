"""A union staff member handles workers' reports on a phone (390×844) in a real Chromium:
every action within reach, two reports handled, the resolved one kept in the station's history."""

from datetime import datetime, timedelta

import pytest
from staff_helpers import PASSWORD
from test_browser import PHONE, STATIONS, Phone, _shots_dir, browser, serve_stations  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path, database_url):
    header = ["code", "name", "lat", "lon", "opening_hours", "facilities"]
    yield from serve_stations(tmp_path, database_url, STATIONS, header)


def within_width(page, selector: str) -> list[dict]:
    """The boxes of every visible element matching selector that stick out of the phone's width
    or are smaller than a thumb (44 px)."""
    return page.eval_on_selector_all(
        selector,
        """(els, width) => els.filter(e => e.offsetParent !== null).map(e => {
            const r = e.getBoundingClientRect();
            return {text: e.textContent.trim(), left: r.left, right: r.right, h: r.height, w: r.width};
        }).filter(b => b.left < 0 || b.right > width || b.h < 44 || b.w < 44)""",
        PHONE["width"],
    )


def test_staff_handle_two_reports_on_a_phone(browser, server, database_url, tmp_path):  # noqa: F811
    from stations.core.accounts import hash_password
    from stations.core.hours import TZ
    from stations.store import open_store

    now = datetime.now(TZ)
    with open_store(database_url) as store:
        store.create_user(
            "hf-auditor", hash_password(PASSWORD), "auditor", "3401", "2026-11-01T00:00:00+08:00"
        )
        stamp = lambda hours: (now - timedelta(hours=hours)).isoformat(timespec="seconds")  # noqa: E731
        store.add_checkin(1, "locked", None, "rider-a", stamp(80), False)  # overdue
        store.add_checkin(1, "broken", "microwave", "rider-b", stamp(5), False)
    shots = _shots_dir(tmp_path)
    phone = Phone(browser, server)
    page = phone.open("/login?next=/admin/reports")
    page.fill('input[name="name"]', "hf-auditor")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_selector(".report-row")
    rows = page.locator(".report-row")
    assert rows.count() == 2
    assert rows.nth(0).locator(".problem").inner_text() == "门锁着 / 没开"  # overdue first
    assert "超期" in rows.nth(0).inner_text()
    assert rows.nth(1).locator(".problem").inner_text() == "设施坏了：微波炉"
    # a card per report: the station's name on one line, every action on screen and thumb-sized
    name = rows.nth(0).locator(".station a").bounding_box()
    assert name["width"] > 100 and name["height"] < 30, name  # 7 characters on one line
    assert within_width(page, ".report-actions button, .report-actions input") == []
    assert within_width(page, ".queue-filters select, .queue-filters button") == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=shots / "staff-reports-phone.png", full_page=True)

    locked = rows.nth(0)
    locked.locator('button[value="acknowledge"]').click()
    page.wait_for_selector(".flash")
    assert "处理中" in page.inner_text(".flash")
    # acknowledged, it waits from now: the broken microwave (5 hours) is now the longest waiting
    assert page.locator(".report-row .report-state").all_inner_texts() == ["待处理", "处理中"]

    broken = page.locator(".report-row").filter(has_text="微波炉")
    broken.locator('input[name="note"]').fill("已更换微波炉")
    broken.locator('button[value="resolve"]').click()
    page.wait_for_selector(".flash:has-text('已解决')")
    assert page.locator(".report-row").count() == 1  # the open queue: only the acknowledged one
    assert page.locator(".report-row .problem").inner_text() == "门锁着 / 没开"

    page.click(".report-row .station a")
    page.wait_for_selector(".report-history")
    history = page.locator(".report-history .report-entry")
    assert history.count() == 2
    resolved = history.filter(has_text="已解决")
    assert resolved.locator(".problem").inner_text() == "设施坏了：微波炉"
    assert "hf-auditor" in resolved.inner_text() and "已更换微波炉" in resolved.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=shots / "staff-station-reports-phone.png", full_page=True)

    # the audit form: each pass / fail / n.a. choice a thumb-sized box with its label
    page.goto(server + "/admin/stations/1/audit")
    page.wait_for_selector(".result-choice")
    assert within_width(page, ".result-choice") == []
    first = page.locator(".result-choice.result-fail").first
    first.click()
    assert first.locator("input").is_checked()
    assert first.inner_text().strip() == "不符合"
    page.screenshot(path=shots / "staff-audit-phone.png", full_page=True)
    phone.close()
