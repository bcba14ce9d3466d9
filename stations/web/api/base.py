"""The public JSON API's blueprint, /api/v1: one error shape for everything, GeoJSON features,
caching headers. Routes live in `read` (public reads) and `write` (staff writes)."""

from datetime import datetime

from flask import Blueprint, Response, current_app, json, request, url_for
from werkzeug.exceptions import HTTPException

from stations.core import checkins, present
from stations.core.model import Station, stored_id
from stations.store import Store, StoreBusy, StoreError
from stations.store.errors import StoreReadOnly
from stations.web import pages, params
from stations.web.api import partners
from stations.web.context import get_store, now
from stations.web.params import ApiError

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
docs_bp = Blueprint("api_docs", __name__)  # /api/docs: the API described for people
MAX_K = 50
MAX_RADIUS_M = 50_000
SEARCH_MAX = 20  # results of each kind from the map's search box
PAGE_MAX = 500
LICENCE_URL = "https://opendatacommons.org/licenses/odbl/1-0/"
MAP_MARKERS_MAX = 300  # above this many stations in view the map gets clusters


def json_response(body, status: int = 200, geo: bool = False) -> Response:
    # allow_nan=False: a NaN would make the body invalid JSON that browsers refuse.
    text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    mimetype = "application/geo+json" if geo else "application/json"
    return Response(text, status=status, mimetype=mimetype)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    response = json_response(exc.body(), exc.status)
    if exc.etag:
        response.headers["ETag"] = exc.etag
    return response


@bp.errorhandler(StoreError)
def _busy(exc: StoreError):
    """Storage faults in the API's error shape: busy 503, full 507, read-only 503,
    unavailable 503, each with Retry-After; a version conflict nothing else caught, 409."""
    status, retry, message = pages.store_fault(exc)
    code = {507: "storage_full", 409: "version_conflict"}.get(status, "unavailable")
    if isinstance(exc, StoreBusy):
        code = "busy"
    elif isinstance(exc, StoreReadOnly):
        code = "read_only"
    response = json_response({"error": {"code": code, "message": message, "field": None}}, status)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    status = exc.code or 500  # None only on a bare HTTPException, which nothing raises
    code = {
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        429: "too_many_requests",
    }.get(status, "http_error")
    return json_response(
        {"error": {"code": code, "message": exc.description, "field": None}}, status
    )


def init_app(app) -> None:
    """JSON errors also for /api/ paths that match no route (the blueprint never sees those)."""

    def json_for_api(exc: HTTPException):
        if request.path.startswith(PREFIX + "/") or request.path == PREFIX:
            return _http_error(exc)
        return pages.error_page(exc)  # an HTML page's own friendly error

    for status in (404, 405):
        app.register_error_handler(status, json_for_api)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    current_app.logger.exception("API error")
    return json_response(
        {"error": {"code": "internal", "message": "internal error", "field": None}}, 500
    )


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


def features(
    store: Store,
    stations_by_id: dict[int, Station],
    ids: list[int],
    extra: dict[int, dict] | None = None,
) -> list[dict]:
    """GeoJSON features of these stations with live state, warnings and audit badge: a fixed
    number of queries for the whole list, never one per station. store: where the stations
    were read (the replica for the public, the primary after a write)."""
    moment = now()
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
                *present.report_warnings(warnings.get(station_id, ())),
                *present.expired_warnings(expired.get(station_id, ())),
            ],
        )
        props["audit"] = present.audit_badge(audits.get(station_id))
        if extra:
            props.update(extra[station_id])
        features.append(present.feature(station, props))
    return features


def scoped_region(requested: str) -> str:
    return partners.scoped_region(requested)


def etag(station: Station) -> str:
    return f'"v{station.version}"'


def feature_response(station: Station, status: int = 200, store: Store | None = None) -> Response:
    """One stored station as a GeoJSON Feature, with its ETag and Last-Modified (store: where
    it was read; by default the primary)."""
    station_id = stored_id(station)
    found = features(store or get_store(), {station_id: station}, [station_id])
    response = json_response(found[0], status, geo=True)
    response.headers["ETag"] = etag(station)
    return last_modified(response, [station.updated_at])


def last_modified(response: Response, stamps) -> Response:
    """Last-Modified from the newest updated_at, so clients can ask If-Modified-Since."""
    newest = max((s for s in stamps if s), default=None)
    if newest:
        response.last_modified = datetime.fromisoformat(newest)
    return response
