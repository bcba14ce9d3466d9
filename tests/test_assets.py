"""Static files for slow networks: fingerprinted URLs cached for a year, a short cache for any
other URL of the same file, nothing that blocks the first paint in the map pages' heads, and
the page at / marked for the service worker (kept only when it is not personal)."""

import gzip
import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest
import xstatic.pkg.leaflet as leaflet
from staff_helpers import make_users, sign_in

from app import create_app

ROOT = Path(__file__).resolve().parent.parent
YEAR = "public, max-age=31536000, immutable"
ASSET = re.compile(r'(?:src|href)="(/(?:static|vendor)/[^"]*)"')


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def asset_urls(html: str) -> list[str]:
    return ASSET.findall(html)


@pytest.fixture
def static_copy(app, tmp_path) -> Path:
    """The app serving a copy of static/ that a test may change."""
    folder = tmp_path / "static"
    shutil.copytree(ROOT / "static", folder)
    app.static_folder = str(folder)
    return folder


def test_the_map_page_names_every_file_by_its_content(client, seeded):
    html = client.get("/").get_data(as_text=True)
    urls = asset_urls(html)
    by_name = {url.split("?")[0]: url for url in urls}
    assert set(by_name) == {
        "/vendor/leaflet/leaflet.js",
        "/vendor/leaflet/leaflet.css",
        "/static/courier.js",
        "/static/favicon.svg",
    }, urls
    assert by_name["/static/favicon.svg"].endswith(f"?v={sha(ROOT / 'static/favicon.svg')}")
    assert by_name["/static/courier.js"].endswith(f"?v={sha(ROOT / 'static/courier.js')}")
    leaflet_dir = Path(leaflet.BASE_DIR)
    assert by_name["/vendor/leaflet/leaflet.js"].endswith(f"?v={sha(leaflet_dir / 'leaflet.js')}")
    assert by_name["/vendor/leaflet/leaflet.css"].endswith(f"?v={sha(leaflet_dir / 'leaflet.css')}")


def test_the_embed_inlines_the_style_sheet_as_every_page_does(client, seeded):
    html = client.get("/embed").get_data(as_text=True)
    assert 'rel="stylesheet" href="/static/style.css' not in html  # no round trip before paint
    head = html.split("</head>")[0]
    assert ".embed-map" in head and "<style>" in head


@pytest.mark.parametrize("encoding", ["gzip", "br", ""])
def test_a_fingerprinted_request_is_cached_for_a_year_compressed_or_not(client, encoding):
    headers = {"Accept-Encoding": encoding} if encoding else {}
    for path, url in (
        (ROOT / "static/courier.js", "/static/courier.js"),
        (Path(leaflet.BASE_DIR) / "leaflet.js", "/vendor/leaflet/leaflet.js"),
    ):
        url += f"?v={sha(path)}"
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == YEAR
        assert "Expires" not in response.headers
        assert response.headers.get("Content-Encoding", "") == encoding
        if encoding == "gzip":
            assert gzip.decompress(response.data) == path.read_bytes()
        again = client.get(url, headers={**headers, "If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.headers["Cache-Control"] == YEAR


def test_any_other_url_of_a_file_is_revalidated(client):
    current = sha(ROOT / "static/courier.js")
    for url in ("/static/courier.js", "/static/courier.js?v=0123456789ab"):
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["ETag"].startswith(f'"{current}')  # the content's own digest
        assert gzip.decompress(response.data) == (ROOT / "static/courier.js").read_bytes()
        again = client.get(
            url, headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]}
        )
        assert again.status_code == 304 and again.data == b""
    image = client.get("/vendor/leaflet/images/layers.png")  # named by leaflet.css, not by us
    assert image.status_code == 200 and image.headers["Cache-Control"] == "no-cache"
    etag = {"If-None-Match": image.headers["ETag"]}
    assert client.get("/vendor/leaflet/images/layers.png", headers=etag).status_code == 304
    assert client.get("/vendor/leaflet/leaflet-src.js").status_code == 404


def test_changed_content_gets_a_new_url_and_the_old_one_a_short_cache(client, seeded, static_copy):
    script = static_copy / "courier.js"
    before = [u for u in asset_urls(client.get("/").get_data(as_text=True)) if "courier" in u]
    stat = script.stat()
    os.utime(script, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    touched = [u for u in asset_urls(client.get("/").get_data(as_text=True)) if "courier" in u]
    assert touched == before  # the same bytes: the same name, whatever the file's date

    script.write_text(script.read_text(encoding="utf-8") + "\n// changed\n", encoding="utf-8")
    after = [u for u in asset_urls(client.get("/").get_data(as_text=True)) if "courier" in u]
    assert after != before and after == [f"/static/courier.js?v={sha(script)}"]
    fresh = client.get(after[0])
    assert fresh.headers["Cache-Control"] == YEAR and fresh.data.endswith(b"// changed\n")
    stale = client.get(before[0])  # a page from before the change asks for the old name
    assert stale.headers["Cache-Control"] == "no-cache" and stale.data.endswith(b"// changed\n")


def test_every_app_server_names_files_alike(seeded, database_url, tmp_path):
    """Two processes or machines behind one proxy, with files of other dates and paths, must
    agree on the names of files and on the worker."""
    from stations.web import assets

    copy = tmp_path / "elsewhere" / "static"
    shutil.copytree(ROOT / "static", copy)
    for path in copy.iterdir():
        os.utime(path, (1_000_000_000, 1_000_000_000))
    pages, workers = [], []
    for folder in (ROOT / "static", copy):
        assets._digests.clear()  # as in a process of its own
        app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x"})
        app.static_folder = str(folder)
        client = app.test_client()
        pages.append(asset_urls(client.get("/").get_data(as_text=True)))
        workers.append(client.get("/sw.js").data)
    assert pages[0] == pages[1] and len(pages[0]) == 4
    assert workers[0] == workers[1]


def test_the_worker_is_served_at_the_root_and_changes_with_any_file(client, static_copy):
    first = client.get("/sw.js")
    assert first.status_code == 200 and first.mimetype == "application/javascript"
    assert first.headers["Cache-Control"] == "no-cache"
    assert b'addEventListener("fetch"' in first.data
    assert client.get("/sw.js", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    (static_copy / "style.css").write_text("body { color: red }\n", encoding="utf-8")
    second = client.get("/sw.js")
    assert second.data != first.data  # browsers compare the bytes: a new deploy, a new worker
    version = re.match(rb'self.YZ_VERSION = "([0-9a-f]{12})";', second.data)
    assert version and version.group(1).decode() in second.headers["ETag"]


def test_nothing_in_the_map_page_head_holds_the_first_paint(client, seeded):
    html = client.get("/").get_data(as_text=True)
    head = html.split("</head>")[0]
    blocking_scripts = [
        tag for tag in re.findall(r"<script\b[^>]*\bsrc=[^>]*>", head) if " defer" not in tag
    ]
    assert blocking_scripts == []
    assert re.search(r'<script defer src="/vendor/leaflet/leaflet\.js\?v=', head)
    sheets = re.findall(r'<link rel="stylesheet"[^>]*>', head)
    assert sheets and all('media="print" data-leaflet-css' in s for s in sheets)
    assert 'css.addEventListener("load", on)' in html  # the map's script switches it on
    css = (ROOT / "static/style.css").read_text(encoding="utf-8")
    assert f"<style>{css}</style>" in head  # our own style sheet comes with the page
    assert "/static/style.css" not in html


@pytest.mark.parametrize("path", ["/", "/stations", "/admin/"])
def test_pages_allow_pinch_zoom(client, seeded, store, path):
    make_users(store)
    sign_in(client, "boss")
    html = client.get(path).get_data(as_text=True)
    viewports = re.findall(r'<meta name="viewport"[^>]*>', html)
    assert viewports == ['<meta name="viewport" content="width=device-width, initial-scale=1">']
    assert "user-scalable" not in html and "maximum-scale" not in html


def test_the_map_is_made_once_leaflet_is_there(client, seeded):
    html = client.get("/").get_data(as_text=True)
    name = re.search(r'"map": "(map_[0-9a-f]+)"', html).group(1)
    script = re.search(r"<script>(\(function \(run\).*?)</script>", html, re.S).group(1)
    assert 'document.querySelector("script[data-leaflet]")' in script
    assert 'document.addEventListener("DOMContentLoaded", once)' in script
    assert f'window["{name}"] = {name};' in script


@pytest.mark.parametrize("path", ["/admin/", "/admin/stations/1/edit"])
def test_staff_map_pages_run_their_script_after_the_map(client, seeded, store, path):
    make_users(store)
    sign_in(client, "boss")
    html = client.get(path).get_data(as_text=True)
    map_script = html.index("(function (run)")
    staff = re.search(r'<script defer src="/static/staff\.js\?v=[0-9a-f]{12}"></script>', html)
    assert staff and staff.start() > map_script


def test_the_map_page_is_kept_only_when_nothing_in_it_is_personal(client, seeded, store):
    anonymous = client.get("/")
    assert anonymous.headers["Cache-Control"] == "no-cache"
    assert "Cookie" in anonymous.headers["Vary"]  # the language cookie picks the language
    with client.session_transaction() as session:
        session["_flashes"] = [("ok", "Thank you!")]
    flashed = client.get("/")
    assert "Thank you!" in flashed.get_data(as_text=True)
    assert flashed.headers["Cache-Control"] == "private, no-store"
    make_users(store)
    sign_in(client, "boss")
    staff = client.get("/")
    assert "boss" in staff.get_data(as_text=True)
    assert staff.headers["Cache-Control"] == "private, no-store"
    assert "no-store" not in client.get("/stations").headers.get("Cache-Control", "")


def test_map_scales_are_metric_only(client, seeded):
    html = client.get("/").get_data(as_text=True)
    assert "L.control.scale({imperial: false})" in html and "L.control.scale()" not in html


def test_the_site_has_an_icon_where_browsers_look_for_it(client, seeded):
    # A missing /favicon.ico was a 404 in the console of every page a rider opened.
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.data.startswith(b"<svg") and b'fill="#c8102e"' in icon.data
    page = client.get("/").get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    linked = client.get(href)
    assert linked.status_code == 200 and linked.data == icon.data
