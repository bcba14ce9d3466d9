"""Static files: fingerprinted URLs cached for a year, Leaflet from its PyPI package, files small
enough to compress (riders on slow networks pay for every byte), and the service worker.

Fingerprints: every url_for('static', …) and url_for('assets.vendor', …) carries `v=<digest>`,
the first 12 hex digits of the SHA-256 of the file's bytes. A digest is computed once per file
and process and again only when the file's mtime, size or inode change; being of the content,
it is the same in every app server and after every restart. A request whose `v` is the file's
current digest is answered `Cache-Control: public, max-age=31536000, immutable`; without `v`, or
with another one (a page from before a deploy, or from a server not yet updated), the current
file comes with `no-cache` and an ETag (the same digest), so the browser revalidates rather than
keeping content under a name that is not its own.

Flask sends static files as a stream, and Flask-Compress cannot gzip a stream; files under a
megabyte are read into the response instead, so they compress like any page. Flask-Compress
appends the encoding to the ETag and answers If-None-Match with 304 itself.

The page at `/` is the shell the service worker keeps (static/sw.js, served at /sw.js so that
its scope is the whole site): it is sent `no-cache`, or `private, no-store` when it carries
anything personal (a signed-in staff member's menu, a flashed message) so that the worker never
stores it.
"""

import hashlib
import os
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    get_flashed_messages,
    request,
    send_from_directory,
)
from markupsafe import Markup
from werkzeug.security import safe_join

from stations.web.auth import signed_in

MAX_INLINE = 1024 * 1024
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
PERSONAL = "private, no-store"
SHELL = "/"
bp = Blueprint("assets", __name__)

_digests: dict[str, tuple[tuple[int, int, int], str]] = {}
_texts: dict[str, tuple[tuple[int, int, int], str]] = {}


def _stat_key(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def digest(path: str) -> str | None:
    """The file's fingerprint, or None when there is no such file."""
    key = _stat_key(path)
    if key is None:
        return None
    known = _digests.get(path)
    if known is not None and known[0] == key:
        return known[1]
    with open(path, "rb") as f:
        value = hashlib.sha256(f.read()).hexdigest()[:12]
    _digests[path] = (key, value)
    return value


def _leaflet_dir() -> str:
    import xstatic.pkg.leaflet as leaflet

    return leaflet.BASE_DIR


def _vendor_allowed(filename: str) -> bool:
    return filename in ("leaflet.js", "leaflet.css") or filename.startswith("images/")


def file_path(endpoint: str | None, filename: str) -> str | None:
    """Where the file a static or vendor URL names lives, or None."""
    if endpoint == "static":
        folder = current_app.static_folder
    elif endpoint == "assets.vendor" and _vendor_allowed(filename):
        folder = _leaflet_dir()
    else:
        return None
    return safe_join(folder, filename) if folder else None


def fingerprint(endpoint: str | None, filename: str) -> str | None:
    path = file_path(endpoint, filename)
    return digest(path) if path else None


def inline_static(filename: str) -> Markup:
    """A static text file's content, to inline in a page (read again only when it changes)."""
    path = file_path("static", filename)
    key = _stat_key(path) if path else None
    if path is None or key is None:
        raise FileNotFoundError(filename)
    known = _texts.get(path)
    if known is None or known[0] != key:
        known = (key, Path(path).read_text(encoding="utf-8"))
        _texts[path] = known
    if "</" in known[1]:
        raise ValueError(f"{filename} cannot be inlined: it contains '</'")
    return Markup(known[1])


def init_app(app: Flask) -> None:
    """Call after Compress(app): after_request hooks run in reverse, so these run first."""
    app.register_blueprint(bp)
    app.add_template_global(inline_static)

    @app.url_defaults
    def add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint in ("static", "assets.vendor") and "v" not in values:
            value = fingerprint(endpoint, str(values.get("filename", "")))
            if value:
                values["v"] = value

    @app.after_request
    def cache_lifetime(response: Response) -> Response:
        endpoint = request.endpoint
        if endpoint in ("static", "assets.vendor") and response.status_code == 200:
            current = fingerprint(endpoint, str((request.view_args or {}).get("filename", "")))
            if current:
                fresh = request.args.get("v") == current
                response.headers["Cache-Control"] = IMMUTABLE if fresh else REVALIDATE
                response.headers.pop("Expires", None)
                response.set_etag(current)
                response.make_conditional(request)  # Flask-Compress redoes it when it compresses
        elif request.path == SHELL and response.status_code == 200:
            personal = signed_in() is not None or bool(get_flashed_messages())
            response.headers["Cache-Control"] = PERSONAL if personal else REVALIDATE
            response.vary.add("Cookie")  # the language cookie picks the page's language
        return response

    @app.after_request
    def materialise(response):
        length = response.content_length
        if response.direct_passthrough and length is not None and length <= MAX_INLINE:
            source = response.response
            response.direct_passthrough = False
            response.set_data(b"".join(source))  # no longer a stream
            if hasattr(source, "close"):
                source.close()  # the file is read: close it now, not at response teardown
        return response


@bp.get("/vendor/leaflet/<path:filename>")
def vendor(filename: str):
    """Leaflet from the xstatic-leaflet package: our server, not a CDN."""
    if not _vendor_allowed(filename):
        abort(404)
    return send_from_directory(_leaflet_dir(), filename)


def worker_version() -> str:
    """Changes whenever the worker or any file it may keep changes: a new deploy's worker then
    differs byte for byte from the old one, so browsers install it and drop the old caches.
    Made of file names and contents only, so every app server serves the same worker."""
    static = Path(current_app.static_folder or "")
    leaflet = Path(_leaflet_dir())
    files = [("static", p.relative_to(static)) for p in static.rglob("*") if p.is_file()]
    files += [("vendor", p.relative_to(leaflet)) for p in leaflet.rglob("*") if p.is_file()]
    roots = {"static": static, "vendor": leaflet}
    lines = sorted(
        f"{root}/{name.as_posix()}:{digest(str(roots[root] / name))}"
        for root, name in files
        if root == "static" or _vendor_allowed(name.as_posix())
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]


@bp.get("/sw.js")
def service_worker():
    """The service worker, at the root so that it may control every page of the site."""
    static = current_app.static_folder or ""
    source = Path(static, "sw.js").read_text(encoding="utf-8")
    version = worker_version()
    response = Response(
        f'self.YZ_VERSION = "{version}";\n{source}', mimetype="application/javascript"
    )
    response.headers["Cache-Control"] = REVALIDATE
    response.set_etag(version)
    return response.make_conditional(request)


@bp.get("/favicon.ico")
def favicon():
    """The site's icon where every browser asks for it first (a red map pin, SVG): a 404 here
    was a console error on every page load."""
    static = current_app.static_folder or ""
    response = Response(Path(static, "favicon.svg").read_bytes(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
