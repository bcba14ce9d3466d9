"""Public reads of the API: nearest, one station, filtered lists, region summaries, exports,
the courier map's markers, and the OpenAPI document."""

import io
import math
from datetime import datetime

from flask import Response, current_app, render_template, request, url_for

from stations.core import datum, demand, geo, listing, nearby, present, regions, writers
from stations.core.counts import CityExtent
from stations.core.hours import TZ
from stations.core.model import check_range, stored_id
from stations.core.published import PUBLIC_STATUSES
from stations.web import cities_cache, params, searchlog
from stations.web.api import partners
from stations.web.api.base import (
    LICENCE_URL,
    MAP_MARKERS_MAX,
    MAX_K,
    MAX_RADIUS_M,
    PAGE_MAX,
    SEARCH_MAX,
    bp,
    docs_bp,
    feature_response,
    features,
    json_response,
    last_modified,
    scoped_region,
)
from stations.web.api.openapi import docs_page, document
from stations.web.context import get_read_store, get_store, now
from stations.web.params import ApiError


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
    sort = params.choice(args, "sort", nearby.SORTS)
    q_lat, q_lon = datum.to_wgs84(lat, lon, crs)  # phones in WeChat report GCJ-02
    store = get_read_store()
    moment = now()
    region = scoped_region("")
    cap = anyway_max_m()
    limit = nearby.reach(radius, cap)
    # Ordered by usefulness, the k shown are chosen from every station within reach.
    hits = store.nearest(
        q_lat,
        q_lon,
        MAX_K if sort == "useful" else k,
        radius_m=radius,
        facilities=wanted,
        open_now=open_now,
        at=moment,
        region=region,
    )
    hits = nearby.within(hits, limit)
    stations = store.published_by_ids([h.id for h in hits])
    hits = [h for h in hits if h.id in stations]  # published, even if the index lags a write
    if sort == "useful":
        hits = nearby.by_usefulness(hits, stations, moment)
    hits = hits[:k]
    extra = {
        h.id: {
            "distance_m": round(h.distance_m),
            "bearing_deg": round(h.bearing_deg) % 360,
            "beyond_radius": h.beyond_radius,
        }
        for h in hits
    }
    beyond = bool(hits) and hits[0].beyond_radius
    reason, city = (None, None) if hits else _why_empty(store, q_lat, q_lon, limit, region)
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
            "sort": sort,
            "anyway_max_m": cap,
        },
        "generated_at": moment.isoformat(timespec="seconds"),
        "nearest_anyway": beyond,
        "reason": reason,
        "message": _message(radius, limit, beyond, reason),
        "nearest_city": city,
        "features": features(store, stations, [h.id for h in hits], extra),
    }
    response = json_response(body, geo=True)
    # Counted per ~500 m cell for coverage planning; the point itself is not kept.
    searchlog.record(q_lat, q_lon, demand.is_met(hits, stations))
    return response


def anyway_max_m() -> int:
    return int(current_app.config.get("NEAREST_ANYWAY_MAX_M", nearby.ANYWAY_MAX_M))


def _why_empty(store, lat: float, lon: float, limit: float, region: str):
    """The reason for an empty answer, and with none nearby the nearest city with stations."""
    probe = store.nearest(lat, lon, 1, region=region)
    found = store.published_by_ids([h.id for h in probe])
    first = next((h for h in probe if h.id in found), None)
    reason = nearby.empty_reason(first.distance_m if first else None, limit)
    if reason == "none_match" or first is None:
        return reason, None
    adcode = found[first.id].adcode[:4]
    city = next(
        (c for c in cities_cache.city_extents(store, adcode) if c["city"] == found[first.id].city),
        None,
    )
    return reason, city and {**city_json(city), "distance_m": round(first.distance_m)}


def _message(radius: int | None, limit: float, beyond: bool, reason: str | None) -> str | None:
    if beyond:
        return f"no station matches within {radius} m; these are the nearest anyway"
    where = f" within {round(limit)} m" if math.isfinite(limit) else ""
    if reason == "none_nearby":
        return f"no station{where}"
    if reason == "none_match":
        return f"no station{where} matches these filters"
    return None


def city_json(city: CityExtent) -> dict:
    """A city of the picker as the API shows it: the bbox as [west, south, east, north]."""
    return {
        "adcode": city["adcode"],
        "name": city["city"],
        "province": city["province"],
        "stations": city["stations"],
        "lat": round(city["lat"], 6),
        "lon": round(city["lon"], 6),
        "bbox": [round(v, 6) for v in (city["west"], city["south"], city["east"], city["north"])],
    }


@bp.get("/cities")
def cities():
    """Cities with published stations, for a rider who cannot or will not share a location."""
    found = cities_cache.city_extents(get_read_store(), scoped_region(""))
    return json_response({"cities": [city_json(c) for c in found]})


@bp.get("/search")
def search():
    """Cities and stations whose names (or addresses) contain q: the map's search box."""
    args = request.args
    q = params.text(args, "q", 50)
    limit = params.integer(args, "limit", 1, SEARCH_MAX, default=10)
    lat = params.decimal(args, "lat", -90, 90)
    lon = params.decimal(args, "lon", -180, 180)
    if (lat is None) != (lon is None):
        raise ApiError("give lat and lon together", "lat" if lat is None else "lon")
    store = get_read_store()
    region = scoped_region("")
    folded = q.casefold()
    matching_cities = [
        city_json(c)
        for c in cities_cache.city_extents(store, region)
        if folded in c["city"].casefold() or folded in c["province"].casefold()
    ][:limit]
    stations = store.search_published(q, limit, region)
    if lat is not None and lon is not None:
        here = (lat, lon)
        stations.sort(key=lambda s: geo.distance_m(*here, s.lat, s.lon))
    return json_response(
        {
            "query": q,
            "cities": matching_cities,
            "stations": [
                {
                    "id": stored_id(s),
                    "name": s.name,
                    "address": s.address,
                    "city": s.city,
                    "district": s.district,
                    "lat": s.lat,
                    "lon": s.lon,
                    "url": url_for("web.station", station_id=stored_id(s), _external=True),
                }
                for s in stations
            ],
        }
    )


@bp.get("/stations/<int:station_id>")
def station(station_id: int):
    # Staff read what they will edit from the primary: its ETag must be the current version.
    staff = "Authorization" in request.headers
    store = get_store() if staff else get_read_store()
    found = store.published(station_id)
    if found is None and staff:
        from stations.web.api.write import staff_station

        found = staff_station(station_id)
    if found is None or not partners.covers(found.adcode):
        # Outside a partner key's region: as if absent, so a key learns nothing beyond it.
        raise ApiError(f"no station {station_id}", "id", "not_found", 404)
    return feature_response(found, store=store)


def _region_param(args) -> str:
    value = args.get("region", "").strip()
    if not value:
        return ""
    if not (value.isdigit() and len(value) in (2, 4, 6)):
        raise ApiError("region must be an adcode prefix of 2, 4 or 6 digits", "region")
    if not regions.districts_of(value):  # well formed, but names no region: as for a path
        raise ApiError(f"no region {value}", "region", "not_found", 404)
    return value


def _statuses(args) -> tuple[str, ...]:
    value = args.get("status", "").strip()
    if not value:
        return ()
    wanted = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [v for v in wanted if v not in PUBLIC_STATUSES]
    if unknown:
        raise ApiError(f"status must be among {', '.join(PUBLIC_STATUSES)}", "status")
    return wanted


def _since(args) -> str | None:
    value = args.get("updated_since", "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value[:40].replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=TZ)
        # 0001-01-01T00:00:00+14:00 in China time is before year 1: an OverflowError
        return moment.astimezone(TZ).isoformat(timespec="seconds")
    except (ValueError, OverflowError):
        raise ApiError(
            "updated_since must be ISO 8601 between years 1 and 9999, "
            "e.g. 2026-11-01T00:00:00+08:00",
            "updated_since",
        ) from None


@bp.get("/stations")
def stations():
    """Published stations with filters, paged by a stable cursor (the last id seen)."""
    args = request.args
    box = params.bbox(args, required=False)
    region = scoped_region(_region_param(args))
    wanted = params.facilities(args)
    statuses = _statuses(args)
    open_now = params.flag(args, "open_now")
    since = _since(args)
    fmt = args.get("format", "geojson")
    if fmt not in ("geojson", "csv"):
        raise ApiError("format must be geojson or csv", "format")
    limit = params.integer(args, "limit", 1, PAGE_MAX, default=100)
    after = params.integer(args, "cursor", 0, 2**62, default=0)
    page, cursor = listing.public_page(
        get_read_store(),
        limit=limit,
        after=after,
        open_now=open_now,
        at=now(),
        box=box,
        region=region,
        statuses=statuses,
        facilities=wanted,
        updated_since=since,
    )
    if fmt == "csv":
        return _csv(page, cursor)
    by_id = {stored_id(s): s for s in page}
    body = {
        "type": "FeatureCollection",
        "features": features(get_read_store(), by_id, list(by_id)),
        "next_cursor": cursor,
    }
    return last_modified(json_response(body, geo=True), [p.updated_at for p in page])


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
    partners.require_within(adcode)
    store = get_read_store()
    summary = store.region_summary(adcode)
    name = regions.prefix_name(adcode)
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
    return last_modified(json_response(body), [summary["updated_at"]])


@bp.get("/export/stations.<fmt>")
def export(fmt: str):
    """The whole published registry (no staff-only fields), under the data licence."""
    if fmt not in ("geojson", "csv"):
        raise ApiError("export as stations.geojson or stations.csv", "format", "not_found", 404)
    stations = list(get_read_store().iter_published(scoped_region("")))
    if fmt == "csv":
        response = _csv(stations, None)
    else:
        body = {
            "type": "FeatureCollection",
            "license": writers.LICENCE,
            "features": [writers.feature(s, public=True) for s in stations],
        }
        response = json_response(body, geo=True)
    response.headers["Link"] = f'<{LICENCE_URL}>; rel="license"'
    response.headers["X-License"] = writers.LICENCE
    response.headers["Content-Disposition"] = f"attachment; filename=yizhan-stations.{fmt}"
    return last_modified(response, [st.updated_at for st in stations])


@bp.get("/map")
def map_view():
    """What the courier map draws for a view: light markers, or clusters when crowded."""
    args = request.args
    box = params.bbox(args)
    wanted = params.facilities(args)
    open_now = params.flag(args, "open_now")
    store = get_read_store()
    at, region = now(), scoped_region("")
    ids = store.visible_in_box(box, facilities=wanted, open_now=open_now, at=at, region=region)
    if len(ids) > MAP_MARKERS_MAX:
        clusters = store.clusters(box, facilities=wanted, open_now=open_now, at=at, region=region)
        return json_response(
            {
                "clusters": [[round(c.lat, 5), round(c.lon, 5), c.count] for c in clusters],
                "markers": [],
            }
        )
    stations = store.published_by_ids(ids)
    moment = now()
    markers = []
    for s in stations.values():
        state = present.live_state(s, moment)["open_now"]
        # [id, lat, lon, name, open (1/0/null)]: compact, since riders pay for every byte
        markers.append([s.id, s.lat, s.lon, s.name, None if state is None else int(state)])
    return json_response({"clusters": [], "markers": markers})


@bp.get("/openapi.json")
def openapi():
    return json_response(document(request.host_url))


@docs_bp.get("/api/docs")
def api_docs():
    """The API for people: generated from the same OpenAPI document the tests validate."""
    return render_template("api_docs.html", **docs_page(request.host_url))
