"""Yizhan web app factory: the one place where Flask, configuration and `stations` meet.

Configuration comes from environment variables, read here once:
DATABASE_URL (default sqlite:///<instance>/yizhan.db), SECRET_KEY (generated into the instance
folder on first run if unset), TILES (osm | tianditu | amap) and TIANDITU_KEY, or TILES_URL (any
XYZ template) with TILES_DATUM and TILES_ATTRIBUTION, PUBLIC_URL (the site's address printed
in QR codes), MAP_CENTER ("lat,lon" where the map opens; default: the busiest city), and the
API's rate limits RATELIMIT_CLIENT, RATELIMIT_ADDRESS, RATELIMIT_KEY (e.g. "120 per minute";
unset: the defaults in stations/partners.py) with RATELIMIT_STORAGE_URL.
"""

import os
import secrets

from flask import Flask
from flask_compress import Compress
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from stations import admin, api, assets, auth, cli, embed, i18n, partners, storage, web

RATE_LIMITS = ("RATELIMIT_CLIENT", "RATELIMIT_ADDRESS", "RATELIMIT_KEY")


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


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("DATABASE_URL")
        or f"sqlite:///{os.path.join(app.instance_path, 'yizhan.db')}",
        TILES=os.environ.get("TILES", "osm"),
        TIANDITU_KEY=os.environ.get("TIANDITU_KEY", ""),
        TILES_URL=os.environ.get("TILES_URL", ""),
        TILES_DATUM=os.environ.get("TILES_DATUM", "wgs84"),
        TILES_ATTRIBUTION=os.environ.get("TILES_ATTRIBUTION", ""),
        PUBLIC_URL=os.environ.get("PUBLIC_URL", ""),
        MAP_CENTER=_centre(os.environ.get("MAP_CENTER", "")),
        AUDIT_INTERVAL_DAYS=int(os.environ.get("AUDIT_INTERVAL_DAYS", "180")),
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URL", "memory://"),
        # Only those set: an unset one keeps its default in partners.init_limits.
        **{name: os.environ[name] for name in RATE_LIMITS if os.environ.get(name)},
        # How many proxies in front of us set X-Forwarded-For; 0: the header is ignored, so a
        # client cannot pose as another address to dodge the rate limits.
        TRUSTED_PROXIES=int(os.environ.get("TRUSTED_PROXIES", "0")),
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
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    storage.init_app(app)
    i18n.init_app(app)
    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)  # the API takes no cookies, so a forged cross-site request gains nothing
    Compress(app)
    assets.init_app(app)
    app.register_blueprint(web.bp)
    auth.init_app(app)
    app.register_blueprint(admin.bp)
    embed.init_app(app)
    partners.init_limits(app, api.bp)
    app.register_blueprint(api.bp)
    api.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    cli.init_app(app)
    return app
