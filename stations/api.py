"""Public JSON API, /api/v1: GeoJSON (RFC 7946) for stations, one error shape for everything."""

from flask import Blueprint, Response, current_app, json, request, url_for
from werkzeug.exceptions import HTTPException

from . import checkins, datum, params, present
from .model import check_range
from .params import ApiError
from .storage import get_locator, get_store, now

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_K = 50
MAX_RADIUS_M = 50_000
PAGE_MAX = 500
MAP_MARKERS_MAX = 300  # above this many stations in view the map gets clusters


def _json(body, status: int = 200, geo: bool = False) -> Response:
    # allow_nan=False: a NaN would make the body invalid JSON that browsers refuse.
    text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    mimetype = "application/geo+json" if geo else "application/json"
    return Response(text, status=status, mimetype=mimetype)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return _json(exc.body(), exc.status)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
        exc.code, "http_error"
    )
    return _json({"error": {"code": code, "message": exc.description, "field": None}}, exc.code)


def init_app(app) -> None:
    """JSON errors also for /api/ paths that match no route (the blueprint never sees those)."""

    def json_for_api(exc: HTTPException):
        if request.path.startswith(bp.url_prefix + "/") or request.path == bp.url_prefix:
            return _http_error(exc)
        return exc

    for status in (404, 405):
        app.register_error_handler(status, json_for_api)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    current_app.logger.exception("API error")
    return _json({"error": {"code": "internal", "message": "internal error", "field": None}}, 500)


@bp.before_request
def _limit_query():
    if len(request.query_string) > params.MAX_QUERY_BYTES:
        raise ApiError(
            f"the query string is longer than {params.MAX_QUERY_BYTES} bytes",
            None,
            "query_too_long",
            414,
        )


def _features(stations_by_id: dict, ids, extra=None) -> list[dict]:
    moment = now()
    warnings = checkins.warnings_for(get_store(), ids, moment)
    features = []
    for station_id in ids:
        station = stations_by_id[station_id]
        props = present.properties(
            station,
            now=moment,
            url=url_for("web.station", station_id=station_id, _external=True),
            warnings=warnings.get(station_id, ()),
        )
        if extra:
            props.update(extra[station_id])
        features.append(present.feature(station, props))
    return features


def _query_point(args) -> tuple[float, float, str]:
    # Ranges are checked together, so a swapped pair is named as such.
    lat = params.decimal(args, "lat", float("-inf"), float("inf"), required=True)
    lon = params.decimal(args, "lon", float("-inf"), float("inf"), required=True)
    crs = params.crs(args)
    try:
        check_range(lat, lon)
    except ValueError as exc:
        raise ApiError(str(exc), getattr(exc, "field", "lat")) from None
    return lat, lon, crs


@bp.get("/stations/nearest")
def nearest():
    args = request.args
    lat, lon, crs = _query_point(args)
    k = params.integer(args, "k", 1, MAX_K, default=5)
    radius = params.integer(args, "radius_m", 1, MAX_RADIUS_M)
    wanted = params.facilities(args)
    open_now = params.flag(args, "open_now")
    q_lat, q_lon = datum.to_wgs84(lat, lon, crs)  # phones in WeChat report GCJ-02
    hits = get_locator().nearest(
        q_lat, q_lon, k, radius_m=radius, facilities=wanted, open_now=open_now, at=now()
    )
    stations = get_store().by_ids([h.id for h in hits])
    extra = {
        h.id: {
            "distance_m": round(h.distance_m),
            "bearing_deg": round(h.bearing_deg) % 360,
            "beyond_radius": h.beyond_radius,
        }
        for h in hits
    }
    beyond = bool(hits) and hits[0].beyond_radius
    body = {
        "type": "FeatureCollection",
        "query": {
            "lat": round(q_lat, 7),
            "lon": round(q_lon, 7),
            "crs": "wgs84",
            "input_crs": crs,
            "k": k,
            "radius_m": radius,
            "facilities": list(wanted),
            "open_now": open_now,
        },
        "generated_at": now().isoformat(timespec="seconds"),
        "nearest_anyway": beyond,
        "message": (
            f"no station matches within {radius} m; these are the nearest anyway"
            if beyond
            else None
            if hits
            else "no station matches these filters"
        ),
        "features": _features(stations, [h.id for h in hits], extra),
    }
    return _json(body, geo=True)


@bp.get("/stations/<int:station_id>")
def station(station_id: int):
    found = get_store().get(station_id)
    if found is None:
        raise ApiError(f"no station {station_id}", "id", "not_found", 404)
    body = _features({found.id: found}, [found.id])[0]
    return _json(body, geo=True)


@bp.get("/stations")
def stations():
    args = request.args
    box = params.bbox(args)
    limit = params.integer(args, "limit", 1, PAGE_MAX, default=100)
    after = params.integer(args, "cursor", 0, 2**62, default=0)
    page = get_store().in_box_page(
        box.min_lat, box.min_lon, box.max_lat, box.max_lon, after, limit + 1
    )
    more = len(page) > limit
    page = page[:limit]
    body = {
        "type": "FeatureCollection",
        "features": _features({s.id: s for s in page}, [s.id for s in page]),
        "next_cursor": page[-1].id if more else None,
    }
    return _json(body, geo=True)


@bp.get("/map")
def map_view():
    """What the courier map draws for a view: light markers, or clusters when crowded."""
    args = request.args
    box = params.bbox(args)
    wanted = params.facilities(args)
    open_now = params.flag(args, "open_now")
    locator = get_locator()
    idx = locator.in_box(
        box.min_lat,
        box.min_lon,
        box.max_lat,
        box.max_lon,
        facilities=wanted,
        open_now=open_now,
        at=now(),
    )
    if len(idx) > MAP_MARKERS_MAX:
        clusters = locator.clusters(idx, box.min_lat, box.min_lon, box.max_lat, box.max_lon)
        return _json(
            {
                "clusters": [[round(c.lat, 5), round(c.lon, 5), c.count] for c in clusters],
                "markers": [],
            }
        )
    stations = get_store().by_ids(locator.ids[idx])
    moment = now()
    markers = []
    for s in stations.values():
        state = present.live_state(s, moment)["open_now"]
        # [id, lat, lon, name, open (1/0/null)]: compact, since riders pay for every byte
        markers.append([s.id, s.lat, s.lon, s.name, None if state is None else int(state)])
    return _json({"clusters": [], "markers": markers})
