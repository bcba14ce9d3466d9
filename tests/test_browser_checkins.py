"""A rider's check-in on a phone over Slow 3G, in a real headless Chromium (see test_browser.py
for the browser, the app server and the phone that blocks every other host)."""

import re

import pytest
import test_browser
from playwright.sync_api import expect
from rawdb import RawDB

pytestmark = pytest.mark.browser
# The phone, its browser and the app server of test_browser.py, as fixtures of this module too.
browser, server, phone = test_browser.browser, test_browser.server, test_browser.phone
SLOW_3G = {  # as Chrome's DevTools preset: a 2 s round trip, 400 kbit/s each way
    "offline": False,
    "latency": 2000,
    "downloadThroughput": 50000,
    "uploadThroughput": 50000,
}


# What the form looked like the moment it was sent, kept in sessionStorage: the page's scripts
# do not answer while its navigation is on the way, so it is read back on the next page.
RECORD_BUSY_FORM = """
document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector('form.checkin-form');
  if (!form) return;
  new MutationObserver(() => {
    if (form.dataset.busy !== '1' || sessionStorage.getItem('busy-form')) return;
    sessionStorage.setItem('busy-form', JSON.stringify({
      disabled: [...form.querySelectorAll('button')].map(b => b.disabled),
      busy: [...form.querySelectorAll('button[aria-busy=true]')].map(b => b.value),
      status: form.querySelector('.checkin-status').textContent,
    }));
  }).observe(form, {attributes: true, subtree: true, childList: true, characterData: true});
});
"""


def test_a_double_tap_on_slow_3g_is_one_report_and_one_thank_you(phone, database_url, tmp_path):
    phone.context.add_init_script(RECORD_BUSY_FORM)
    page = phone.open("/stations/1")  # 金寨路工会驿站, open around the clock
    expect(page.locator("h1")).to_have_text("金寨路工会驿站")
    cdp = phone.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    page.get_by_role("button", name="门锁着 / 没开").dblclick()  # two quick taps

    thanks = page.locator(".flash")
    expect(thanks).to_have_count(1, timeout=60_000)  # back on the station page
    expect(thanks).to_have_text("谢谢！你的反馈能帮到下一位劳动者。")
    assert re.search(r"/stations/1$", page.url), page.url
    expect(page.locator(".warning")).to_contain_text("门锁着 / 没开 × 1")
    expect(page.get_by_role("button", name="门锁着 / 没开")).to_be_enabled()  # a fresh form
    assert [u for u in posts if u.endswith("/stations/1/checkins")] == [
        phone.base + "/stations/1/checkins"
    ]
    assert RawDB(database_url).rows("select kind from checkins") == [("locked",)]
    # while it was on its way, every button was disabled and the page said so
    busy = page.evaluate("JSON.parse(sessionStorage.getItem('busy-form'))")
    assert busy == {"disabled": [True] * 5, "busy": ["locked"], "status": "正在发送你的反馈…"}
    page.screenshot(
        path=test_browser._shots_dir(tmp_path) / "station-checkin-thanks.png", full_page=True
    )


def test_a_page_shown_again_from_the_cache_sends_a_new_report_not_a_repeat(phone, database_url):
    """Back to the station page as the browser kept it (here: the first answer served again, as
    its HTTP cache would): its token was sent already, so the page makes a new one, and the
    next tap is a report of its own (here refused for the half hour), not taken for a repeat."""
    first = phone.page.goto(phone.base + "/stations/1")
    cached = first.text()
    page = phone.page
    used = page.input_value('input[name="submission"]')
    page.get_by_role("button", name="门锁着 / 没开").click()
    expect(page.locator(".flash")).to_have_text("谢谢！你的反馈能帮到下一位劳动者。")

    page.route(
        "**/stations/1",
        lambda route: route.fulfill(status=200, content_type="text/html", body=cached),
    )
    page.go_back()
    expect(page.locator(".flash")).to_have_count(0)
    token = page.locator('input[name="submission"]')
    expect(token).not_to_have_value(used)
    assert re.fullmatch(r"[0-9a-f]{32}", token.input_value())
    page.unroute("**/stations/1")  # the answer comes back to the live page
    page.get_by_role("button", name="找不到").click()
    expect(page.locator(".flash")).to_have_text("你刚刚反馈过这个站点，谢谢！")
    assert page.url.endswith("/stations/1")  # back on the station page, not a dead end
    assert RawDB(database_url).rows("select kind from checkins") == [("locked",)]
