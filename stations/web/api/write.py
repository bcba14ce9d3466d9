"""Staff writes through the API: Authorization: Bearer <token>, If-Match for every change."""

from flask import request, url_for

from stations.web.api import body, etags
from stations.web.api.base import bp, etag, feature_response, json_response
from stations.web.context import get_store, now
from stations.web.params import ApiError


def _token_user():
    from stations.core.accounts import token_hash

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


def staff_station(station_id: int):
    """A station of any status in the token user's region, or None: staff read the planned and
    closed stations they edit (for the ETag that If-Match needs); the public never does."""
    user = _token_user()
    found = get_store().get(station_id)
    return found if found is not None and user.covers(found.adcode) else None


def _json_body(schema: str) -> dict:
    """The body as a JSON object whose fields have the types the OpenAPI schema declares."""
    if not request.is_json:
        raise ApiError(
            "send a JSON body with Content-Type: application/json",
            None,
            "unsupported_media_type",
            415,
        )
    if (request.content_length or 0) > body.MAX_BYTES:
        raise ApiError(
            f"the body is larger than {body.MAX_BYTES // 1024} KB", None, "too_large", 413
        )
    return body.check(body.read(request.get_data(cache=False)), schema)


def _if_match() -> list[etags.Tag] | None:
    """The tags of If-Match (None for "*"): required, so nobody overwrites without saying so."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise ApiError(
            "send If-Match with the station's ETag (GET it first), or * to change whatever "
            "version is current",
            None,
            "precondition_required",
            428,
        )
    try:
        return etags.parse(header)
    except etags.Malformed:
        raise ApiError(
            'If-Match must be * or ETags of this API, like "v3"', None, "invalid_if_match", 400
        ) from None


def _conditional(station_id: int, change):
    """Run change(version) on the station if If-Match names its current version.

    If-Match is compared strongly (RFC 9110 13.1.1), ignoring the coding suffix a compressed
    response's ETag carries ('"v3:gzip"' names version 3). "*" matches whatever version is
    current. The version check itself happens in the same transaction as the write (the core's
    Conflict); if another write slips in between, it is tried again while If-Match still
    matches (only "*" or a list naming the newer version can). A station that does not exist,
    or lies outside the user's region, gets 404 or 403 first, as if there were no If-Match
    (RFC 9110 13.2.1)."""
    from stations.core.editing import Conflict

    tags = _if_match()
    for _attempt in range(3):
        current = get_store().get(station_id)
        matching = current is not None and etags.strong_match(tags, current.version)
        try:
            # -1 is no version: the core refuses it after its own existence and region checks
            return change(current.version if current is not None and matching else -1)
        except Conflict as exc:
            if etags.strong_match(tags, exc.current.version) and matching:
                continue  # "*" (or a list that names the newer version): again
            if etags.weakly_names(tags, exc.current.version):
                exc.args = (
                    f"a weak ETag (W/…) cannot be used for a write; send If-Match: "
                    f"{etag(exc.current)}",
                )
            raise
    raise ApiError("the station is being changed by others; try again", None, "busy", 503)


def _write(action):
    """Run a staff write, mapping core refusals onto HTTP statuses."""
    from stations.core.accounts import AccessDenied
    from stations.core.editing import Conflict, NotFound
    from stations.core.model import Invalid

    try:
        return action()
    except Invalid as exc:
        first = exc.errors[0]
        if first.code == "code_taken":  # a valid body that clashes with the registry's state
            raise ApiError(str(first), first.field, "conflict", 409) from None
        raise ApiError(
            "; ".join(str(e) for e in exc.errors), first.field, "invalid_field", 400
        ) from None
    except AccessDenied as exc:
        raise ApiError(str(exc), None, "forbidden", 403) from None
    except NotFound as exc:
        raise ApiError(str(exc), "id", "not_found", 404) from None
    except Conflict as exc:
        error = ApiError(str(exc), None, "version_conflict", 412)
        error.etag = etag(exc.current)
        raise error from None


@bp.post("/stations")
def create_station():
    from stations.core import editing

    user, data = _token_user(), _json_body("StationCreate")
    station = _write(lambda: editing.create(get_store(), user, data, now()))
    response = feature_response(station, 201)
    response.headers["Location"] = url_for("api.station", station_id=station.id)
    return response


@bp.patch("/stations/<int:station_id>")
def patch_station(station_id: int):
    from stations.core import editing

    user, data = _token_user(), _json_body("StationPatch")
    return feature_response(
        _write(
            lambda: _conditional(
                station_id,
                lambda version: editing.update(get_store(), user, station_id, data, version, now()),
            )
        )
    )


@bp.delete("/stations/<int:station_id>")
def close_station(station_id: int):
    from stations.core import editing

    user = _token_user()
    return feature_response(
        _write(
            lambda: _conditional(
                station_id,
                lambda version: editing.close(get_store(), user, station_id, version, now()),
            )
        )
    )


@bp.post("/stations/<int:station_id>/audits")
def post_audit(station_id: int):
    from datetime import date

    from stations.core import audits, standards

    user, data = _token_user(), _json_body("AuditCreate")
    store = get_store()
    station = store.get(station_id)
    if station is None:
        raise ApiError(f"no station {station_id}", "id", "not_found", 404)
    from stations.core.accounts import require_write

    _write(
        lambda: require_write(user, station.adcode)
    )  # scope first: say nothing more to outsiders
    profile = standards.profiles().get(data.get("profile") or store.region_profile(station.adcode))
    if profile is None:
        raise ApiError(f"profile must be one of {', '.join(standards.profiles())}", "profile")
    items = data.get("items")
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
        visited = date.fromisoformat(str(data.get("visited_on", "")))
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
                str(data.get("visit_kind", "")),
                {},
                now(),
            )
        )
    except audits.AuditInvalid as exc:
        field, message = next(iter(exc.errors.items()))
        raise ApiError(str(exc), field, "invalid_field", 400) from None
    return json_response(
        {
            "id": audit_id,
            "station_id": station.id,
            "profile": profile.key,
            "score": share,
            "passed": passed,
        },
        201,
    )
