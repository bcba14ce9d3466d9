"""What a rider's phone downloads for the courier page, and how soon it paints on Slow 3G.

Serves the app on loopback twice, once with the 420 demo stations and once with 100,000 more
around the same cities, and loads / in headless Chromium at phone size; every host but the app
fails to resolve (tiles excluded), so nothing is routed through Playwright and the browser's
HTTP cache and the service worker behave as on a phone.

Bytes: encodedDataLength of the page's requests (what crossed the wire: compressed as the
browser negotiated; also with gzip only), plus everything the server sent in the same visit
(response bodies, as compressed), which includes the service worker's install. The page must
stay the same size as the registry grows, and within 150 KB.

Paint: first contentful paint under CDP network emulation of Slow 3G (2,000 ms latency,
50,000 bytes/s each way), on a first visit (a fresh browser context) and on a repeat visit
(the same context, a new tab, after the service worker installed); and, for comparison, a
repeat visit with service workers blocked (the browser's HTTP cache alone: the page itself
still costs a round trip). Targets: 2.5 s first, 1.0 s repeat.
Run: python bench/page_weight.py
"""

import logging
import os
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # bench/ for synthetic, the root for app
from app import create_app  # noqa: E402
from stations.store import open_store  # noqa: E402

import synthetic  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TILE_HOST = "tiles.example.test"
ZHENGZHOU = (34.770, 113.660)  # a demo city: the same first view for both registries
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
SLOW_3G = {
    "offline": False,
    "latency": 2000,
    "downloadThroughput": 50_000,
    "uploadThroughput": 50_000,
}
TARGET_FIRST, TARGET_REPEAT = 2.5, 1.0
WORKER_READY = """async () => {  // the worker active and / kept (waits up to two minutes)
    const ready = async () => {
        const reg = await navigator.serviceWorker.getRegistration();
        if (!reg || !reg.active || reg.active.state !== 'activated') return false;
        return !!(await caches.match('/', { ignoreVary: true }));
    };
    for (const end = Date.now() + 120000; Date.now() < end; await new Promise(r => setTimeout(r, 100)))
        if (await ready()) return true;
    return false;
}"""
FCP = """() => new Promise(done => {
    const seen = () => performance.getEntriesByName('first-contentful-paint')[0];
    if (seen()) return done(seen().startTime);
    new PerformanceObserver(() => seen() && done(seen().startTime))
        .observe({ type: 'paint', buffered: true });
})"""


class Counter:
    """WSGI middleware: body bytes the server sends (after compression), per request."""

    def __init__(self, app):
        self.app = app
        self.sent: list[tuple[str, int]] = []

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        size = 0
        body = self.app(environ, start_response)
        try:
            for chunk in body:
                size += len(chunk)
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()
            self.sent.append((path, size))


def first_load(browser, base: str, encodings: str | None) -> tuple[int, int]:
    """(bytes, requests) the page itself loads on a first visit, tiles blocked."""
    context = browser.new_context(**PHONE, service_workers="block")
    page = context.new_page()
    if encodings:
        page.set_extra_http_headers({"Accept-Encoding": encodings})
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes = {}
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    page.goto(base + "/")
    page.wait_for_load_state("networkidle")
    context.close()
    return sum(sizes.values()), len(sizes)


def visit(context, base: str) -> tuple[float, object]:
    """First contentful paint (s) of / in a new tab of context, on Slow 3G."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    page.goto(base + "/", wait_until="commit")
    fcp = page.evaluate(FCP) / 1000
    page.wait_for_load_state("load")
    return fcp, page


def paint_times(browser, base: str, counter: Counter) -> dict:
    context = browser.new_context(**PHONE)
    before = len(counter.sent)
    first, page = visit(context, base)
    if not page.evaluate(WORKER_READY):
        raise RuntimeError("the service worker did not install within two minutes")
    page.wait_for_load_state("networkidle")
    visit_bytes = sum(size for _, size in counter.sent[before:])
    page.close()
    repeat, page = visit(context, base)
    from_worker = page.evaluate("performance.getEntriesByType('navigation')[0].workerStart > 0")
    context.close()
    plain = browser.new_context(**PHONE, service_workers="block")
    visit(plain, base)[1].close()
    http_cache_only, _ = visit(plain, base)
    plain.close()
    return {
        "first": first,
        "repeat": repeat,
        "from_worker": from_worker,
        "http_cache_only": http_cache_only,
        "visit_bytes": visit_bytes,
    }


def measure(browser, db: Path) -> dict:
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{db}",
            "SECRET_KEY": "bench",
            "MAP_CENTER": ZHENGZHOU,
            "TILES_URL": f"http://{TILE_HOST}/{{z}}/{{x}}/{{y}}.png",
        }
    )
    counter = Counter(app.wsgi_app)
    app.wsgi_app = counter  # type: ignore[method-assign]
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    try:
        first_load(browser, base, None)  # warm the server's index, as a running site would be
        return {
            "negotiated": first_load(browser, base, None),
            "gzip": first_load(browser, base, "gzip"),
            **paint_times(browser, base, counter),
        }
    finally:
        httpd.shutdown()
        thread.join()


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                # every host but the app fails at once: no tiles, and no Playwright routing
                # (which would turn the HTTP cache off)
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            ],
        )
        demo = Path(tmp) / "demo.db"
        app = create_app({"DATABASE_URL": f"sqlite:///{demo}", "SECRET_KEY": "bench"})
        app.test_cli_runner().invoke(args=["seed"])
        small = measure(browser, demo)
        big = Path(tmp) / "big.db"
        big.write_bytes(demo.read_bytes())
        with open_store(f"sqlite:///{big}") as store:
            synthetic.fill(store, 100_000, cities=60, spread=0.05)  # crowd the demo cities' views
            total = store.count()
        large = measure(browser, big)
        browser.close()
    print(f"first view: zoom 13 around {ZHENGZHOU}, the same for both registries")
    for label in ("negotiated", "gzip"):
        (a, n_a), (b, n_b) = small[label], large[label]
        print(
            f"{label:>10}: 420 stations {a / 1024:6.1f} KB in {n_a} requests; "
            f"{total:,} stations {b / 1024:6.1f} KB in {n_b} requests; ratio {b / a:.3f}"
        )
    a, b = small["visit_bytes"], large["visit_bytes"]
    print(
        f"{'whole visit':>10}: 420 stations {a / 1024:6.1f} KB; {total:,} stations "
        f"{b / 1024:6.1f} KB (response bodies the server sent, the worker's install included)"
    )
    print("first contentful paint on Slow 3G (2,000 ms round trip, 50,000 bytes/s):")
    for label, result in (("420 stations", small), (f"{total:,} stations", large)):
        print(
            f"  {label}: first visit {result['first']:.2f} s "
            f"(target {TARGET_FIRST} s, ratio {result['first'] / TARGET_FIRST:.2f}); "
            f"repeat visit {result['repeat']:.2f} s "
            f"(target {TARGET_REPEAT} s, ratio {result['repeat'] / TARGET_REPEAT:.2f}, "
            f"{'served by the service worker' if result['from_worker'] else 'NOT from the worker'}); "
            f"repeat without the worker {result['http_cache_only']:.2f} s"
        )


if __name__ == "__main__":
    main()
