"""Public JSON API, /api/v1: GeoJSON (RFC 7946) for stations, one error shape for everything."""

import io
from datetime import datetime

from flask import Blueprint, Response, current_app, json, request, url_for
from werkzeug.exceptions import HTTPException

from . import checkins, datum, params, partners, present, regions, writers
from .hours import TZ
from .model import check_range
from .params import ApiError
from .storage import get_locator, get_store, now
from .store import StoreBusy

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_K = 50
MAX_RADIUS_M = 50_000
PAGE_MAX = 500
PUBLISHED = ("open", "temporarily_closed", "closed")  # planned stations are not public
LICENCE_URL = "https://opendatacommons.org/licenses/odbl/1-0/"
MAP_MARKERS_MAX = 300  # above this many stations in view the map gets clusters


def _json(body, status: int = 200, geo: bool = False) -> Response:
    # allow_nan=False: a NaN would make the body invalid JSON that browsers refuse.
    text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    mimetype = "application/geo+json" if geo else "application/json"
    return Response(text, status=status, mimetype=mimetype)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    response = _json(exc.body(), exc.status)
    if getattr(exc, "etag", None):
        response.headers["ETag"] = exc.etag
    return response


@bp.errorhandler(StoreBusy)
def _busy(exc: StoreBusy):
    response = _json({"error": {"code": "busy", "message": str(exc), "field": None}}, 503)
    response.headers["Retry-After"] = "2"
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    code = {
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        429: "too_many_requests",
    }.get(exc.code, "http_error")
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


bp.before_request(partners.refuse_bad_keys)
bp.after_request(partners.cors_and_cache)


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
    store = get_store()
    warnings = checkins.warnings_for(store, ids, moment)
    expired = store.expired_items(ids, moment.date().isoformat())
    audits = store.latest_audits(ids)
    features = []
    for station_id in ids:
        station = stations_by_id[station_id]
        props = present.properties(
            station,
            now=moment,
            url=url_for("web.station", station_id=station_id, _external=True),
            warnings=[
                *warnings.get(station_id, ()),
                *present.expired_warnings(expired.get(station_id, [])),
            ],
        )
        props["audit"] = present.audit_badge(audits.get(station_id))
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
        q_lat,
        q_lon,
        k,
        radius_m=radius,
        facilities=wanted,
        open_now=open_now,
        at=now(),
        region=_scoped_region(""),
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
    return _feature_response(found)


def _scoped_region(requested: str) -> str:
    return partners.scoped_region(requested)


def _region_param(args) -> str:
    value = args.get("region", "").strip()
    if not value:
        return ""
    if not (value.isdigit() and len(value) in (2, 4, 6)) or not regions.districts_of(value):
        raise ApiError("region must be an existing adcode prefix of 2, 4 or 6 digits", "region")
    return value


def _statuses(args) -> tuple[str, ...]:
    value = args.get("status", "").strip()
    if not value:
        return ()
    wanted = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [v for v in wanted if v not in PUBLISHED]
    if unknown:
        raise ApiError(f"status must be among {', '.join(PUBLISHED)}", "status")
    return wanted


def _since(args) -> str | None:
    value = args.get("updated_since", "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            "updated_since must be ISO 8601, e.g. 2026-11-01T00:00:00+08:00", "updated_since"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TZ)
    return moment.astimezone(TZ).isoformat(timespec="seconds")


@bp.get("/stations")
def stations():
    """Published stations with filters, paged by a stable cursor (the last id seen)."""
    args = request.args
    box = params.bbox(args, required=False)
    region = _scoped_region(_region_param(args))
    wanted = params.facilities(args)
    statuses = _statuses(args)
    open_now = params.flag(args, "open_now")
    since = _since(args)
    fmt = args.get("format", "geojson")
    if fmt not in ("geojson", "csv"):
        raise ApiError("format must be geojson or csv", "format")
    limit = params.integer(args, "limit", 1, PAGE_MAX, default=100)
    after = params.integer(args, "cursor", 0, 2**62, default=0)
    store, moment, page = get_store(), now(), []
    while len(page) <= limit:  # open_now is judged here, so fetch until the page is full
        batch = store.public_page(
            box=box,
            region=region,
            statuses=statuses,
            facilities=wanted,
            updated_since=since,
            after_id=after,
            limit=limit + 1,
        )
        if not batch:
            break
        after = batch[-1].id
        page += [s for s in batch if not open_now or present.live_state(s, moment)["open_now"]]
        if len(batch) <= limit:
            break
    more = len(page) > limit
    page = page[:limit]
    cursor = page[-1].id if more else None
    if fmt == "csv":
        return _csv(page, cursor)
    body = {
        "type": "FeatureCollection",
        "features": _features({s.id: s for s in page}, [s.id for s in page]),
        "next_cursor": cursor,
    }
    return _last_modified(_json(body, geo=True), [p.updated_at for p in page])


def _csv(stations, cursor) -> Response:
    buffer = io.StringIO(newline="")
    fields = [f for f in writers.EXPORT_ORDER if f not in writers.STAFF_ONLY]
    writers.table_csv(buffer, fields, (writers.cells(s, fields) for s in stations))
    response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    if cursor is not None:
        response.headers["X-Next-Cursor"] = str(cursor)
    return response


@bp.get("/regions/<adcode>/summary")
def region_summary(adcode: str):
    if not (adcode.isdigit() and len(adcode) in (2, 4, 6)) or not regions.districts_of(adcode):
        raise ApiError(f"no region {adcode[:12]}", "adcode", "not_found", 404)
    _scoped_region(adcode)
    store = get_store()
    summary = store.region_summary(adcode)
    first = regions.districts_of(adcode)[0]
    name = {2: first.province, 4: first.city, 6: first.district}[len(adcode)]
    total = sum(summary["by_status"].values())
    body = {
        "adcode": adcode,
        "name": name,
        "stations": total,
        "by_status": summary["by_status"],
        "facilities": summary["facilities"],
        "verified_share": round(summary["verified"] / total, 3) if total else None,
        "updated_at": summary["updated_at"],
    }
    return _last_modified(_json(body), [summary["updated_at"]])


@bp.get("/export/stations.<fmt>")
def export(fmt: str):
    """The whole published registry (no staff-only fields), under the data licence."""
    if fmt not in ("geojson", "csv"):
        raise ApiError("export as stations.geojson or stations.csv", "format", "not_found", 404)
    region = _scoped_region("")
    store = get_store()
    stations = [
        s for s in store.iter_stations() if s.status != "planned" and s.adcode.startswith(region)
    ]
    if fmt == "csv":
        response = _csv(stations, None)
    else:
        body = {
            "type": "FeatureCollection",
            "license": writers.LICENCE,
            "features": [writers.feature(s, public=True) for s in stations],
        }
        response = _json(body, geo=True)
    response.headers["Link"] = f'<{LICENCE_URL}>; rel="license"'
    response.headers["X-License"] = writers.LICENCE
    response.headers["Content-Disposition"] = f"attachment; filename=yizhan-stations.{fmt}"
    return _last_modified(response, [st.updated_at for st in stations])


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
        region=_scoped_region(""),
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


# -- staff writes: Authorization: Bearer <token> ----------------------------------------------


def _token_user():
    from .accounts import token_hash

    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise ApiError(
            "send Authorization: Bearer <token> (flask --app app user token NAME)",
            None,
            "unauthorized",
            401,
        )
    user = get_store().token_user(token_hash(header[7:].strip()))
    if user is None:
        raise ApiError(
            "the token is unknown, revoked or its user disabled", None, "unauthorized", 401
        )
    return user


def _json_body() -> dict:
    if not request.is_json:
        raise ApiError(
            "send a JSON body with Content-Type: application/json",
            None,
            "unsupported_media_type",
            415,
        )
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("the body must be a JSON object", None, "invalid_body", 400)
    return body


def _etag(station) -> str:
    return f'"v{station.version}"'


def _expected_version() -> int:
    """The version the client last saw, from If-Match: required, so nobody overwrites blind."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise ApiError(
            "send If-Match with the station's ETag (GET it first)",
            None,
            "precondition_required",
            428,
        )
    tag = header.removeprefix("W/").strip('"')
    if not tag.startswith("v") or not tag[1:].isdigit():
        raise ApiError(
            'If-Match must be an ETag of this API, like "v3"', None, "invalid_if_match", 400
        )
    return int(tag[1:])


def _feature_response(station, status: int = 200) -> Response:
    response = _json(_features({station.id: station}, [station.id])[0], status, geo=True)
    response.headers["ETag"] = _etag(station)
    return _last_modified(response, [station.updated_at])


def _last_modified(response: Response, stamps) -> Response:
    """Last-Modified from the newest updated_at, so clients can ask If-Modified-Since."""
    newest = max((s for s in stamps if s), default=None)
    if newest:
        response.last_modified = datetime.fromisoformat(newest)
    return response


def _write(action):
    """Run a staff write, mapping core refusals onto HTTP statuses."""
    from .accounts import AccessDenied
    from .editing import Conflict, NotFound
    from .model import Invalid

    try:
        return action()
    except Invalid as exc:
        first = exc.errors[0]
        raise ApiError(
            "; ".join(str(e) for e in exc.errors), first.field, "invalid_field", 400
        ) from None
    except AccessDenied as exc:
        raise ApiError(str(exc), None, "forbidden", 403) from None
    except NotFound as exc:
        raise ApiError(str(exc), "id", "not_found", 404) from None
    except Conflict as exc:
        error = ApiError(str(exc), None, "version_conflict", 412)
        error.etag = _etag(exc.current)
        raise error from None


@bp.post("/stations")
def create_station():
    from . import editing

    user, body = _token_user(), _json_body()
    station = _write(lambda: editing.create(get_store(), user, body, now()))
    response = _feature_response(station, 201)
    response.headers["Location"] = url_for("api.station", station_id=station.id)
    return response


@bp.patch("/stations/<int:station_id>")
def patch_station(station_id: int):
    from . import editing

    user, body = _token_user(), _json_body()
    version = _expected_version()
    return _feature_response(
        _write(lambda: editing.update(get_store(), user, station_id, body, version, now()))
    )


@bp.delete("/stations/<int:station_id>")
def close_station(station_id: int):
    from . import editing

    user = _token_user()
    version = _expected_version()
    return _feature_response(
        _write(lambda: editing.close(get_store(), user, station_id, version, now()))
    )


@bp.post("/stations/<int:station_id>/audits")
def post_audit(station_id: int):
    from datetime import date

    from . import audits, standards

    user, body = _token_user(), _json_body()
    store = get_store()
    station = store.get(station_id)
    if station is None:
        raise ApiError(f"no station {station_id}", "id", "not_found", 404)
    from .accounts import require_write

    _write(
        lambda: require_write(user, station.adcode)
    )  # scope first: say nothing more to outsiders
    profile = standards.profiles().get(body.get("profile") or store.region_profile(station.adcode))
    if profile is None:
        raise ApiError(f"profile must be one of {', '.join(standards.profiles())}", "profile")
    items = body.get("items")
    if not isinstance(items, dict):
        raise ApiError("items must map each item key to {result, note, valid_until}", "items")
    form = {}
    for key, value in items.items():
        if not isinstance(value, dict):
            raise ApiError(f"items.{key} must be an object", "items")
        form[f"result_{key}"] = value.get("result", "")
        form[f"note_{key}"] = value.get("note", "")
        form[f"valid_until_{key}"] = value.get("valid_until") or ""
    try:
        visited = date.fromisoformat(str(body.get("visited_on", "")))
    except ValueError:
        raise ApiError("visited_on must be a date like 2026-11-20", "visited_on") from None
    try:
        answers = audits.parse_answers(profile, station, form)
        audit_id, share, passed = _write(
            lambda: audits.record(
                store,
                user,
                station,
                profile,
                answers,
                visited,
                str(body.get("visit_kind", "")),
                {},
                now(),
            )
        )
    except audits.AuditInvalid as exc:
        field, message = next(iter(exc.errors.items()))
        raise ApiError(str(exc), field, "invalid_field", 400) from None
    return _json(
        {
            "id": audit_id,
            "station_id": station.id,
            "profile": profile.key,
            "score": share,
            "passed": passed,
        },
        201,
    )


@bp.get("/openapi.json")
def openapi():
    from .openapi import document

    return _json(document(request.host_url))
