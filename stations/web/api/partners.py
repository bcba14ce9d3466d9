"""Partners' access to the public API: keys, rate limits, CORS, HTTP caching.

Rate limits, and why they are shaped so. Three budgets, counted in Flask-Limiter's storage
(memory by default, or Redis through RATELIMIT_STORAGE_URL, e.g. redis://localhost:6379, so
that several workers and app servers share one count):

- RATELIMIT_CLIENT, per client: a keyed hash of address, browser and language. Hundreds of
  riders share one carrier-grade NAT address; each phone gets its own budget, so one abusive
  phone meets 429 while its neighbours do not.
- RATELIMIT_IDENTITIES, per address: how many distinct clients of one address get a budget of
  their own in a window. A client's identity is made of headers the client chooses, so a
  scraper could buy a fresh budget with every new User-Agent; past this many identities, new
  ones share ONE pooled client budget for the address ("pool"). Rotating headers therefore buys
  at most this many requests plus one client budget, while the riders already known keep
  theirs. Size it well above the number of phones one NAT address carries in a window.
- RATELIMIT_ADDRESS, per address as a whole: the capacity guard. It is sized from what the
  server can serve (measured with bench/serve.py, see RATE_LIMITS in app.py), so that no single
  address, whatever it sends, can take more than a stated share of the server.

Refused requests are not counted against the next budget (Flask-Limiter stops at the first
limit exceeded), so an abuser's 429s do not use up the address's ceiling for its neighbours.
A partner's key replaces all three with the key's own budget, RATELIMIT_KEY.
"""

import hashlib
import hmac

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse
from limits.strategies import FixedWindowRateLimiter

from stations.core.accounts import ApiKey, token_hash
from stations.web.api import etags
from stations.web.context import get_store
from stations.web.params import ApiError

CACHE_SECONDS = {  # endpoint -> max-age: what may be reused, and for how long
    "api.nearest": 30,
    "api.map_view": 30,
    "api.station": 60,
    "api.stations": 300,
    "api.region_summary": 300,
    "api.export": 3600,
    "api.openapi": 3600,
}


def api_key() -> ApiKey | None:
    """The partner key sent with this request (the X-API-Key header), or None; 401 if unknown."""
    if "api_key" not in g:
        raw = request.headers.get("X-API-Key")
        g.api_key = get_store().api_key(token_hash(raw.strip())) if raw else None
        g.api_key_invalid = bool(raw) and g.api_key is None
    return g.api_key


def scoped_region(requested: str) -> str:
    """The region a request may read: the requested one, narrowed to the key's region."""
    key = api_key()
    allowed = key.region if key else ""
    if not allowed or requested.startswith(allowed):
        return requested
    if allowed.startswith(requested):
        return allowed
    raise ApiError(f"this API key covers region {allowed} only", "region", "forbidden", 403)


def covers(adcode: str) -> bool:
    """Whether this request's key (if any) may see a station of this district."""
    key = api_key()
    return not key or not key.region or adcode.startswith(key.region)


def require_within(adcode: str) -> None:
    """A figure about a whole region (a summary, a coverage report) only for a region inside
    the key's: one outside it, or wider (a province for a city's key), is 403 rather than
    clipped, so that a number is never labelled with a region it does not describe."""
    key = api_key()
    if key and key.region and not adcode.startswith(key.region):
        raise ApiError(f"this API key covers region {key.region} only", "adcode", "forbidden", 403)


def _identity() -> str:
    """A keyed hash of this client's address, browser and language."""
    secret = current_app.config["SECRET_KEY"].encode()
    parts = f"{request.remote_addr}|{request.user_agent.string}|{request.headers.get('Accept-Language', '')}"
    return hmac.new(secret, parts.encode(), hashlib.sha256).hexdigest()[:24]


def _has_own_budget(identity: str) -> bool:
    """Whether this identity is one of the first RATELIMIT_IDENTITIES of its address in the
    window: already marked, or marked now while the address still has a free place."""
    marks = FixedWindowRateLimiter(current_app.extensions["yizhan_limiter"].storage)
    places = parse(current_app.config["RATELIMIT_IDENTITIES"])
    once: RateLimitItem = type(places)(1, places.multiples, places.namespace)
    address = request.remote_addr or ""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    if not marks.test(once, prefix, "identity", address, identity):
        return True  # marked earlier in this window
    return marks.hit(places, prefix, "identities", address) and marks.hit(
        once, prefix, "identity", address, identity
    )


def _client_key() -> str:
    """The budget this request draws on: the partner's key, the client's own, or the pool its
    address's late-coming identities share."""
    if "rate_budget" not in g:
        key = api_key()
        if key:
            g.rate_budget = f"key:{key.id}"
        else:
            identity = _identity()
            g.rate_budget = (
                f"client:{identity}" if _has_own_budget(identity) else f"pool:{request.remote_addr}"
            )
    return g.rate_budget


def _address_key() -> str:
    return f"ip:{request.remote_addr}"


def init_limits(app: Flask, bp) -> None:
    """Rate limits on the public API blueprint for this app (storage per app); the budgets
    RATELIMIT_CLIENT, RATELIMIT_IDENTITIES, RATELIMIT_ADDRESS and RATELIMIT_KEY come from the
    app's configuration."""
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(
        key_func=_client_key, app=app, storage_uri=app.config["RATELIMIT_STORAGE_URI"]
    )
    # The marks of which identities have a budget of their own live in the same storage, under
    # the limiter's key prefix, so every app server sharing Redis agrees on them.
    app.extensions["yizhan_limiter"] = limiter
    limiter.limit(
        lambda: (
            current_app.config["RATELIMIT_KEY"]
            if api_key()
            else current_app.config["RATELIMIT_CLIENT"]
        ),
        key_func=_client_key,
    )(bp)
    limiter.limit(
        lambda: current_app.config["RATELIMIT_ADDRESS"],
        key_func=_address_key,
        exempt_when=lambda: api_key() is not None,
    )(bp)


def refuse_bad_keys():
    """A request that sends a key must send a good one (401), rather than silently be anonymous;
    a key in the address is refused (400) whatever it is: addresses end up in logs and in
    referrers, so such a key must be thought leaked."""
    if "key" in request.args:
        raise ApiError(
            "send the API key in the X-API-Key header, not in the address: "
            "addresses end up in logs",
            "key",
        )
    api_key()
    if g.get("api_key_invalid"):
        raise ApiError("the API key is unknown or revoked", "key", "unauthorized", 401)


def _weakly_comparable(environ: dict) -> dict:
    """The request's environ with If-None-Match freed of the coding suffixes a compressed
    response's ETag carries ('"v3:gzip"' for '"v3"'), so that a client which received the
    gzip tag gets its 304 whatever it accepts now (RFC 9110 weak comparison, 13.1.2). The
    ETag compared here is the uncompressed one: Flask-Compress appends its suffix later."""
    header = environ.get("HTTP_IF_NONE_MATCH")
    if not header:
        return environ
    return {**environ, "HTTP_IF_NONE_MATCH": etags.without_codings(header)}


def cors_and_cache(response):
    if request.method in ("GET", "HEAD", "OPTIONS"):
        # Anyone may read the public API from a browser; staff writes get no CORS at all.
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = (
            "ETag, Last-Modified, X-Next-Cursor, Retry-After, Link"
        )
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "X-API-Key, If-None-Match, If-Modified-Since"
        )
        response.headers["Access-Control-Max-Age"] = "86400"
    seconds = CACHE_SECONDS.get(request.endpoint or "")
    if request.method in ("GET", "HEAD") and response.status_code == 200 and seconds:
        # A key may narrow what is seen; a staff token widens it to unpublished stations.
        personal = g.get("api_key") or "Authorization" in request.headers
        response.headers["Cache-Control"] = (
            f"{'private' if personal else 'public'}, max-age={seconds}"
        )
        response.vary.add("X-API-Key")
        response.vary.add("Authorization")
        if not response.get_etag()[0]:
            response.add_etag()
        response.make_conditional(_weakly_comparable(request.environ))
    elif "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response
