"""Bytes a rider's phone downloads on the first load of the courier page (tiles excluded).

Serves the app on loopback twice, once with the 420 demo stations and once with 100,000 more
around the same cities, and loads / in headless Chromium at phone size with tile requests
blocked. Counts encodedDataLength (what crossed the wire: compressed as the browser
negotiated; also with gzip only). The page must stay the same size as the registry grows.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app import create_app  # noqa: E402
from stations.store import open_store  # noqa: E402

import synthetic  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TILE_HOST = "tiles.example.test"
ZHENGZHOU = (34.770, 113.660)  # a demo city: the same first view for both registries


def first_load(browser, base: str, encodings: str | None) -> tuple[int, int]:
    """(bytes, requests) for a first visit, tiles blocked."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    if encodings:
        page.set_extra_http_headers({"Accept-Encoding": encodings})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
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


def measure(browser, db: Path) -> dict:
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{db}",
            "SECRET_KEY": "bench",
            "MAP_CENTER": ZHENGZHOU,
            "TILES_URL": f"http://{TILE_HOST}/{{z}}/{{x}}/{{y}}.png",
        }
    )
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    try:
        first_load(browser, base, None)  # warm the server's index, as a running site would be
        return {
            "negotiated": first_load(browser, base, None),
            "gzip": first_load(browser, base, "gzip"),
        }
    finally:
        httpd.shutdown()
        thread.join()


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
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


if __name__ == "__main__":
    main()
