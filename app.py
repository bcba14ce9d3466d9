"""Yizhan web app factory: the one place where Flask, configuration and `stations` meet.

Configuration comes from environment variables, read here once:
DATABASE_URL (default sqlite:///<instance>/yizhan.db), SECRET_KEY (generated into the instance
folder on first run if unset), TILES (osm | tianditu | amap) and TIANDITU_KEY, or TILES_URL (any
XYZ template) with TILES_DATUM and TILES_ATTRIBUTION, PUBLIC_URL (the site's address printed
in QR codes), MAP_CENTER ("lat,lon" where the map opens; default: the busiest city),
AUDIT_INTERVAL_DAYS, COVERAGE_TARGET, SEARCH_LOG_FLUSH_SECONDS, NEAREST_ANYWAY_MAX_M, the API's rate limits (RATELIMIT_CLIENT,
RATELIMIT_IDENTITIES, RATELIMIT_ADDRESS, RATELIMIT_KEY, RATELIMIT_STORAGE_URL), TRUSTED_PROXIES and
SESSION_COOKIE_SECURE. The README's configuration table lists the same names; a test keeps the
two in step. A malformed value stops start-up with a message naming the variable, rather than
surfacing later as a 500.
"""

import os
import secrets

from flask import Flask
from flask_compress import Compress
from flask_wtf.csrf import CSRFProtect
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from stations import cli
from stations.web import admin, api, assets, auth, embed, health, i18n, pages, params, security
from stations.web import context as storage
from stations.web import public as web
from stations.web.api import partners


def _secret_key(instance_path: str) -> str:
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    with open(path) as f:
        return f.read().strip()


def _centre(text: str) -> tuple[float, float] | None:
    """MAP_CENTER as "lat,lon" (WGS-84), or None to open on the busiest city."""
    if not text:
        return None
    try:
        lat, lon = (float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(
            f"MAP_CENTER must be 'lat,lon', e.g. '36.6171,101.7782', not {text!r}"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"MAP_CENTER {text!r} is out of range")
    return lat, lon


def _whole_number(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"{name} must be a whole number ≥ 0, e.g. '{default}', not {text!r}")
    return int(text)


def _share(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise ValueError(f"{name} must be a share between 0 and 1, e.g. '{default}', not {text!r}")
    return value


# Rate limits in the `limits` notation Flask-Limiter reads; checked at start-up.
# Sized from capacity (stations/web/api/partners.py says why they are shaped so): bench/serve.py
# measured about 226 nearest req/s (hello-world: 2,200) for `make run`'s default server (2
# workers x 4 threads, gthread) on a 2-core machine. RATELIMIT_ADDRESS lets one address take at
# most 30 req/s, about 1/8 of that capacity (1/4 with memory:// storage, see below), so the
# rest stays free for everyone else. A client rotating its headers gets its own budget only among
# the first RATELIMIT_IDENTITIES clients of its address, then one pooled client budget.
# With memory:// storage each worker counts alone (2 workers: twice each budget); Redis
# (RATELIMIT_STORAGE_URL) makes them one.
RATE_LIMITS = {
    "RATELIMIT_CLIENT": "120 per minute",  # one client: address + browser + language
    "RATELIMIT_IDENTITIES": "300 per 10 minutes",  # clients per address with their own budget
    "RATELIMIT_ADDRESS": "1800 per minute",  # one address as a whole: 1/8 of capacity
    "RATELIMIT_KEY": "1200 per minute",  # one partner's API key
}


def _check_rate_limit(name: str, value) -> None:
    try:
        if isinstance(value, str) and value.strip() and parse_many(value):
            return
    except ValueError:
        pass
    example = RATE_LIMITS[name]
    raise ValueError(f"{name} must look like '{example}', not {value!r}")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = params.BoundedInt  # before any route is added
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("DATABASE_URL")
        or f"sqlite:///{os.path.join(app.instance_path, 'yizhan.db')}",
        # Optional: public reads (map, list, station pages, public API, embed) from a replica.
        DATABASE_READ_URL=os.environ.get("DATABASE_READ_URL", ""),
        # PostgreSQL: the most connections one process opens to each database (a request
        # holds one while it runs, so more than GUNICORN_THREADS buys nothing).
        DATABASE_POOL_SIZE=_whole_number("DATABASE_POOL_SIZE", 10),
        TILES=os.environ.get("TILES", "osm"),
        TIANDITU_KEY=os.environ.get("TIANDITU_KEY", ""),
        TILES_URL=os.environ.get("TILES_URL", ""),
        TILES_DATUM=os.environ.get("TILES_DATUM", "wgs84"),
        TILES_ATTRIBUTION=os.environ.get("TILES_ATTRIBUTION", ""),
        PUBLIC_URL=os.environ.get("PUBLIC_URL", ""),
        MAP_CENTER=_centre(os.environ.get("MAP_CENTER", "")),
        AUDIT_INTERVAL_DAYS=_whole_number("AUDIT_INTERVAL_DAYS", 180),
        # The share of demand (of area, with no demand data) a region aims to have within
        # its service circle: the coverage page's progress bar.
        COVERAGE_TARGET=_share("COVERAGE_TARGET", 0.8),
        # The search log (coverage planning): how long a process keeps its per-cell counts
        # before writing them to the database; 0 writes at every search.
        SEARCH_LOG_FLUSH_SECONDS=_whole_number("SEARCH_LOG_FLUSH_SECONDS", 30),
        # How far "the nearest anyway" may reach when nothing is within the asked radius:
        # beyond it, riders are told there is no station nearby.
        NEAREST_ANYWAY_MAX_M=_whole_number("NEAREST_ANYWAY_MAX_M", 50_000),
        # Audit photos: a folder every app server shares (NFS, a mounted volume) when there
        # are several of them; the database holds only their random file names.
        EVIDENCE_DIR=os.environ.get("EVIDENCE_DIR") or os.path.join(app.instance_path, "evidence"),
        # The demo accounts' passwords, written (mode 600) when `seed` creates them, so they do
        # not scroll away under the server's log; gunicorn prints this path once it is ready.
        DEMO_PASSWORDS_FILE=os.path.join(app.instance_path, "demo-passwords.txt"),
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URL", "memory://"),
        # How many proxies in front of us set X-Forwarded-For; 0: the header is ignored, so a
        # client cannot pose as another address to dodge the rate limits.
        TRUSTED_PROXIES=_whole_number("TRUSTED_PROXIES", 0),
        SECRET_KEY=os.environ.get("SECRET_KEY") or None,
        # Riders pay for every byte: compress HTML, JSON and our static files.
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "application/javascript",
            "text/javascript",
            "application/json",
            "application/geo+json",
            "image/svg+xml",
        ],
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        # Secure cookies need HTTPS; `make run` serves plain http on loopback.
        SESSION_COOKIE_SECURE=os.environ.get("SESSION_COOKIE_SECURE", "") in ("1", "true")
        or os.environ.get("PUBLIC_URL", "").startswith("https://"),
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,  # uploads: imports and audit photos
    )
    app.config.update(
        {name: os.environ.get(name) or default for name, default in RATE_LIMITS.items()}
    )
    if test_config:
        app.config.update(test_config)
    for name in RATE_LIMITS:
        _check_rate_limit(name, app.config[name])
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    security.init_app(app)  # first: its after-request headers run last, over everyone's
    storage.init_app(app)
    i18n.init_app(app)
    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)  # the API takes no cookies, so a forged cross-site request gains nothing
    Compress(app)
    assets.init_app(app)
    pages.init_app(app)
    health.init_app(app)
    app.register_blueprint(web.bp)
    auth.init_app(app)
    app.register_blueprint(admin.bp)
    embed.init_app(app)
    partners.init_limits(app, api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.docs_bp)
    api.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        # Flask's documented way to wrap its WSGI app; mypy sees only a method being replaced.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    cli.init_app(app)
    return app
