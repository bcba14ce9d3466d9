"""The map page on a slow network, in Debian's headless Chromium at phone size: it paints before
Leaflet arrives, and the service worker brings a repeat visit without waiting for the server,
and offline; it never keeps a page in the wrong language, an old deploy's files, or a staff page.

Every host but the app fails to resolve (the browser's own host rules), so no request is routed
through Playwright except where a test holds one on purpose, and the browser's HTTP cache and
service worker behave as they do on a phone.
"""

import re
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from test_browser import chromium
from werkzeug.serving import make_server

from app import create_app

from conftest import write_csv

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
PHONE = {"width": 390, "height": 844}
STATIONS = [
    ["A-1", "金寨路工会驿站", "31.8216", "117.2272", "24/7", "drinking_water;microwave"],
    ["B-1", "望江路爱心驿站", "31.8236", "117.2272", "24/7", "drinking_water;toilet"],
]
LOCATE_ZH, LOCATE_EN = "离我最近的驿站", "Nearest stations to me"
KEPT = """async () => {  // the page the worker keeps for /, once it is active (caches.match
    const reg = await navigator.serviceWorker.getRegistration();  // opens no cache: a probe
    if (!reg || !reg.active || reg.active.state !== 'activated') return null;  // must not
    const hit = await caches.match('/', { ignoreVary: true });  // recreate a deleted one)
    return hit ? await hit.text() : null;
}"""
CACHES = """async () => {
    const out = {};
    for (const name of await caches.keys())
        out[name] = (await (await caches.open(name)).keys()).map(r => r.url.replace(location.origin, ''));
    return out;
}"""


@pytest.fixture(scope="module")
def browser():
    # Every host but loopback fails to resolve: tiles cannot load, and the HTTP cache stays on
    # (routing requests through Playwright would turn it off).
    with chromium("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1") as b:
        yield b


class Server:
    """The app on loopback, serving a copy of static/ (a test may deploy a change), logging
    every request and able to hold requests for / (a server that does not answer)."""

    def __init__(self, tmp_path: Path):
        self.static = tmp_path / "static"
        shutil.copytree(ROOT / "static", self.static)
        self.app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'perf.db'}",
                "SECRET_KEY": "perf",
                "TILES_URL": "http://tiles.example.test/{z}/{x}/{y}.png",
                "MAP_CENTER": (31.8216, 117.2272),
            }
        )
        self.app.static_folder = str(self.static)
        header = ["code", "name", "lat", "lon", "opening_hours", "facilities"]
        csv = write_csv(tmp_path / "s.csv", STATIONS, header=header)
        result = self.app.test_cli_runner().invoke(args=["import", str(csv)])
        assert result.exit_code == 0, result.output
        self.log: list[str] = []  # "path?query" of each request as it arrives
        self.answered: list[str] = []  # … and as its answer leaves
        self.open = threading.Event()
        self.open.set()
        self.shell_answered = threading.Condition()
        self.app.before_request(self._arrive)
        self.app.after_request(self._leave)
        self.httpd = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"

    def _arrive(self):
        from flask import request

        self.log.append(request.full_path.rstrip("?"))
        if request.path == "/" and not self.open.wait(timeout=60):
            return "held too long", 503
        return None

    def _leave(self, response):
        from flask import request

        with self.shell_answered:
            self.answered.append(request.full_path.rstrip("?"))
            self.shell_answered.notify_all()
        return response

    def wait_answers(self, path: str, count: int) -> None:
        """Block until `count` answers to `path` have left (the browser runs on meanwhile)."""
        with self.shell_answered:
            assert self.shell_answered.wait_for(
                lambda: self.answered.count(path) >= count, timeout=30
            ), self.answered

    def close(self):
        self.open.set()
        self.httpd.shutdown()
        self.thread.join()


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    yield s
    s.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    yield ctx
    ctx.close()


def wait_for_async(page, fn: str, test: str = "value => !!value", timeout: float = 30_000):
    """Wait until the page's async function `fn` resolves to a value that passes `test`; return
    it. (wait_for_function would take the promise itself as the truthy answer.)"""
    page.evaluate("window.__probe = {}")
    poll = f"""() => {{
        const probe = window.__probe;
        if (!probe.running) {{
            probe.running = true;
            ({fn})().then(
                value => {{ probe.value = value; probe.ok = ({test})(value); probe.running = false; }},
                () => {{ probe.running = false; }});
        }}
        return probe.ok === true;
    }}"""
    try:
        page.wait_for_function(poll, timeout=timeout)
    except PlaywrightTimeout as exc:
        exc.add_note(f"last value: {page.evaluate('window.__probe.value')!r}")
        raise
    return page.evaluate("window.__probe.value")


def first_visit(context, server, path="/"):
    """A visit that leaves the worker installed, with / kept."""
    page = context.new_page()
    page.goto(server.base + path)
    wait_for_async(page, KEPT)
    return page


def fcp(page) -> float:
    page.wait_for_function(
        "() => performance.getEntriesByName('first-contentful-paint').length === 1"
    )
    return page.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")


def test_the_page_paints_while_leaflet_is_still_on_its_way(browser, server):
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    held = {}
    ctx.route("**/vendor/leaflet/leaflet.*", lambda route: held.update({route.request.url: route}))
    page = ctx.new_page()
    try:
        page.goto(server.base + "/", wait_until="commit")
        expect(page.locator("#locate")).to_contain_text(LOCATE_ZH)
        expect(page.locator(".tagline")).to_be_visible()
        fcp(page)  # painted, with neither leaflet.js nor leaflet.css answered
        js = next(route for url, route in held.items() if ".js?" in url)
        css = next(route for url, route in held.items() if ".css?" in url)
        assert page.evaluate("typeof window.L") == "undefined"
        assert page.evaluate("document.readyState") == "interactive"  # deferred: waiting for it
        name = page.evaluate("JSON.parse(document.getElementById('yz-config').textContent).map")
        js.continue_()  # Leaflet comes; its style sheet is still on the way
        page.wait_for_function(f"() => window.L && window['{name}'] instanceof L.Map")
        expect(page.locator(f"#{name}.leaflet-container .leaflet-control-zoom-in")).to_be_attached()
        icon = page.evaluate("new L.Icon.Default()._getIconUrl('icon')")
        assert icon == "/vendor/leaflet/images/marker-icon.png"  # found without the style sheet
        css.continue_()
        expect(page.locator('link[href*="leaflet.css"]')).to_have_attribute("media", "all")
        expect(page.locator(f"#{name} .leaflet-control-zoom-in")).to_be_visible()
    finally:
        ctx.close()


def test_a_repeat_visit_comes_from_the_worker_without_waiting_for_the_server(context, server):
    first_visit(context, server).close()
    assert server.answered.count("/") == 2, server.answered  # the visit, the worker's own copy
    files_before = [p for p in server.log if p.startswith(("/static/", "/vendor/"))]
    server.open.clear()  # from now on the server holds every request for /
    page = context.new_page()
    response = page.goto(server.base + "/")
    assert response.from_service_worker
    expect(page.locator("#locate")).to_contain_text(LOCATE_ZH)
    assert fcp(page) < 1000
    name = page.evaluate("JSON.parse(document.getElementById('yz-config').textContent).map")
    page.wait_for_function(f"() => window['{name}'] instanceof L.Map")  # leaflet.js from the worker
    assert server.answered.count("/") == 2  # painted and working while / was not answered
    files_after = [p for p in server.log if p.startswith(("/static/", "/vendor/"))]
    assert files_after == files_before  # every file came from the worker's cache
    server.open.set()  # the worker's refresh of / in the background now ends
    server.wait_answers("/", 3)

    offline = context.new_page()
    context.set_offline(True)
    try:
        response = offline.goto(server.base + "/")
        assert response.from_service_worker
        expect(offline.locator("#locate")).to_contain_text(LOCATE_ZH)  # no signal: the page
        with pytest.raises(PlaywrightError):
            offline.goto(server.base + "/stations")  # only / is kept
    finally:
        context.set_offline(False)


def test_a_language_switch_is_never_undone_by_the_kept_page(context, server):
    page = first_visit(context, server)
    assert '<html lang="zh-CN">' in page.evaluate(KEPT)
    page.click("a.lang")  # to /?lang=en
    page.wait_for_url("**/?lang=en")
    expect(page.locator("#locate")).to_contain_text(LOCATE_EN)
    again = context.new_page()
    response = again.goto(server.base + "/")
    assert response.from_service_worker
    expect(again.locator("#locate")).to_contain_text(LOCATE_EN)
    assert again.get_attribute("html", "lang") == "en"

    # A copy of / asked for in English is still on its way when the rider switches back to
    # Chinese on another page: it must not become the kept page.
    server.open.clear()
    slow = context.new_page()
    slow.goto(server.base + "/")  # the kept English page; the worker's refresh is held
    expect(slow.locator("#locate")).to_contain_text(LOCATE_EN)
    other = context.new_page()
    other.goto(server.base + "/stations?lang=zh")
    expect(other.locator("html")).to_have_attribute("lang", "zh-CN")
    held = server.answered.count("/")
    server.open.set()
    server.wait_answers("/", held + 1)  # the English copy has left the server …
    with pytest.raises(PlaywrightTimeout):  # … and is never kept
        wait_for_async(other, KEPT, "kept => (kept || '').includes('<html lang=\"en\">')", 2000)
    last = context.new_page()
    last.goto(server.base + "/")
    expect(last.locator("#locate")).to_contain_text(LOCATE_ZH)
    assert last.get_attribute("html", "lang") == "zh-CN"


def test_a_new_deploy_replaces_the_old_files(context, server):
    page = first_visit(context, server)
    old = page.evaluate(CACHES)
    assert len(old) == 1
    [(old_name, old_urls)] = old.items()
    old_script = next(u for u in old_urls if u.startswith("/static/courier.js?v="))
    script = server.static / "courier.js"
    script.write_text(script.read_text(encoding="utf-8") + "\n// deploy 2\n", encoding="utf-8")
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    wait_for_async(page, "() => caches.keys()", f"n => n.length === 1 && n[0] !== '{old_name}'")
    [(new_name, new_urls)] = page.evaluate(CACHES).items()
    new_script = next(u for u in new_urls if u.startswith("/static/courier.js?v="))
    assert new_name != old_name and new_script != old_script
    assert old_script not in new_urls
    assert new_script in page.evaluate(KEPT)  # the kept page names the new file
    repeat = context.new_page()
    response = repeat.goto(server.base + "/")
    assert response.from_service_worker
    assert repeat.evaluate(f"fetch('{new_script}').then(r => r.text())").endswith("// deploy 2\n")


def test_staff_pages_and_forms_never_come_from_the_worker(context, server):
    from staff_helpers import PASSWORD

    from stations.core.accounts import hash_password
    from stations.store import open_store

    with open_store(server.app.config["DATABASE_URL"]) as store:
        store.create_user("boss", hash_password(PASSWORD), "admin", "", "2026-11-01T00:00:00+08:00")
    page = first_visit(context, server)
    page.goto(server.base + "/login?next=/admin/")
    page.fill('input[name="name"]', "boss")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url("**/admin/")
    for _ in range(2):
        asked = len(server.log)
        response = page.goto(server.base + "/admin/")
        assert not response.from_service_worker
        assert "/admin/" in server.log[asked:]
    # the map page of a signed-in member of staff carries their menu: it is not kept
    page.goto(server.base + "/")  # may show the kept page; the worker's refresh drops it
    wait_for_async(page, KEPT, "kept => kept === null")
    asked = len(server.log)
    page.goto(server.base + "/")
    assert "/" in server.log[asked:]
    expect(page.locator(".staff-nav")).to_contain_text("boss")
    station = page.goto(server.base + "/stations/1")
    assert not station.from_service_worker
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click('button[value="ok"]')  # a check-in
    assert not posted.value.from_service_worker
    context.set_offline(True)
    try:
        for path in ("/admin/", "/stations/1"):
            with pytest.raises(PlaywrightError):
                page.goto(server.base + path)
    finally:
        context.set_offline(False)
    page.goto(server.base + "/stations")
    kept = page.evaluate(CACHES)
    assert all(
        re.match(r"^/(static|vendor)/[^?]+\?v=[0-9a-f]{12}$", u) or u == "/"
        for urls in kept.values()
        for u in urls
    ), kept
