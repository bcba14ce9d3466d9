"""The OpenAPI 3.1 description of /api/v1, built here beside the code it describes.

Every response property and request body has a closed schema (additionalProperties false) whose
enums and field lists come from the code itself (the vocabularies, the station's public fields,
the editable fields, the audit profiles). The examples are made by the core from example
stations (the same `present.properties` the API answers with), so they cannot drift from what
the API returns; tests validate them, and real responses, against the schemas (openapi-core),
and fuzz the running API from this document (schemathesis).

English text of the document is marked with `_`: the JSON stays English, /api/docs shows each
text in the reader's language (its template passes them through gettext).
"""

import copy
import io
import json
import shlex
from dataclasses import replace
from datetime import datetime
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlencode

from stations.core import audits, checkins, editing, geo, nearby, present, standards, writers
from stations.core.checkins import KINDS, ReportCount
from stations.core.coverage import DEFAULT_RADIUS_M, DEFAULT_SPACING_M, MIN_RADIUS_M, PRESETS
from stations.core.coverage import MAX_RADIUS_M as COVERAGE_MAX_RADIUS_M
from stations.core.demand import CELL_M, MIN_CELL_SEARCHES
from stations.core.hours import TZ
from stations.core.model import _CODE, LIMITS, Station  # _CODE: the pattern codes must match
from stations.core.published import PUBLIC_STATUSES
from stations.core.vocab import DATUMS, ENTRY_METHODS, FACILITIES, HOST_TYPES, STATUSES, Vocabulary
from stations.web import params
from stations.web.api import etags
from stations.web.api.base import MAP_MARKERS_MAX, MAX_K, MAX_RADIUS_M, PAGE_MAX, SEARCH_MAX

Schema = dict[str, Any]


def _(text: str) -> str:
    """Marks English text of the document for translation on /api/docs (see the module doc)."""
    return text


# -- schema helpers ---------------------------------------------------------------------------


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _closed(properties: dict[str, Schema], required: list[str] | None = None, **more) -> Schema:
    """An object with exactly these properties (all required unless said otherwise)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
        **more,
    }


def _or_null(schema: Schema) -> Schema:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None], "type": [schema["type"], "null"]}
    return {**schema, "type": [schema["type"], "null"]}


def _vocabulary(vocab: Vocabulary, keys: list[str] | None = None) -> Schema:
    keys = keys if keys is not None else vocab.keys()
    return {
        "type": "string",
        "enum": keys,
        "description": "; ".join(
            f"{key}: {vocab.label(key, 'en')} ({vocab.label(key, 'zh')})" for key in keys
        ),
    }


STRING: Schema = {"type": "string"}
# What the core refuses in any text it stores (text.control_character): control characters
# other than white space. A name must hold something besides white space.
_NO_CONTROL = "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]"
TEXT_PATTERN = f"^{_NO_CONTROL}*$"
NAME_PATTERN = f"^{_NO_CONTROL}*[^\\s\\x00-\\x1f\\x7f-\\x9f\\u200b-\\u200f\\u2028-\\u202f\\u2060-\\u206f\\ufeff]{_NO_CONTROL}*$"
# A date of a record: the years the core reads (model.MIN_YEAR to MAX_YEAR).
DATE_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
# bbox: min_lon,min_lat,max_lon,max_lat, each in range; min <= max is said in words.
_LON_TEXT = r"-?(180(\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]+)?)"
_LAT_TEXT = r"-?(90(\.0+)?|[1-8]?[0-9](\.[0-9]+)?)"
BBOX_PATTERN = f"^{_LON_TEXT},{_LAT_TEXT},{_LON_TEXT},{_LAT_TEXT}$"
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
DATE: Schema = {"type": "string", "format": "date"}
DATE_TIME: Schema = {"type": "string", "format": "date-time"}
SHARE: Schema = {"type": "number", "minimum": 0, "maximum": 1}
ADCODE: Schema = {"type": "string", "pattern": "^[0-9]{6}$", "description": "District adcode."}
PREFIX: Schema = {"type": "string", "pattern": "^[0-9]{2}([0-9]{2}){0,2}$"}
LAT: Schema = {"type": "number", "minimum": -90, "maximum": 90}
LON: Schema = {"type": "number", "minimum": -180, "maximum": 180}
# present.live_state gives these to the minute, in China time: 2026-11-20T18:00+08:00
MINUTE: Schema = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?\+08:00$",
    "description": "ISO 8601 in China time, to the minute.",
}
FLAG: Schema = {"type": "string", "enum": ["0", "1", "true", "false"]}
_FACILITY_KEY = "(" + "|".join(FACILITIES.keys()) + ")"
FACILITY_LIST: Schema = {"type": "string", "pattern": f"^({_FACILITY_KEY}(,{_FACILITY_KEY})*)?$"}
PROFILES = standards.profiles()


# What each field of a station is, by name: the lists of names come from the code (the public
# properties present.properties gives, the export's columns, the editable fields), so a field
# added there and not here fails the document's build.
STATION_FIELDS: dict[str, Schema] = {
    "id": {"type": "integer", "minimum": 1},
    "code": {
        "type": "string",
        "minLength": 1,
        "maxLength": LIMITS["code"],
        "pattern": _CODE.pattern,
        "description": "The operator's own station code, unique.",
    },
    "name": {
        "type": "string",
        "minLength": 1,
        "maxLength": LIMITS["name"],
        "pattern": NAME_PATTERN,
    },
    "address": {"type": "string", "maxLength": LIMITS["address"], "pattern": TEXT_PATTERN},
    "adcode": ADCODE,
    "province": STRING,
    "city": STRING,
    "district": STRING,
    "host_type": ref("HostType"),
    "brand": {"type": "string", "maxLength": LIMITS["brand"], "pattern": TEXT_PATTERN},
    "opening_hours": {
        "type": "string",
        "description": "OpenStreetMap opening_hours syntax; empty when unknown.",
    },
    "entry_method": ref("EntryMethod"),
    "status": ref("Status"),
    "closed_until": _or_null(DATE),
    "verified_at": _or_null(DATE_TIME),
    "created_at": DATE_TIME,
    "updated_at": DATE_TIME,
    "version": {"type": "integer", "minimum": 1},
    "coord_source": ref("Datum"),
    "source_lat": _or_null(NUMBER),
    "source_lon": _or_null(NUMBER),
    "facilities": {"type": "array", "items": ref("Facility"), "uniqueItems": True},
    "hours_text": ref("HoursText"),
    "open_now": {**_or_null(BOOLEAN), "description": "null when the hours are unknown."},
    "opens_next": _or_null(MINUTE),
    "closes_at": _or_null(MINUTE),
    "url": {"type": "string", "format": "uri", "description": "The station's page."},
    "navigation": ref("Navigation"),
    "warnings": {"type": "array", "items": ref("Warning")},
    "audit": _or_null(ref("AuditBadge")),
    "distance_m": {"type": "integer", "minimum": 0, "description": "Geodesic metres."},
    "bearing_deg": {
        "type": "integer",
        "minimum": 0,
        "maximum": 359,
        "description": "Initial bearing from the query point, degrees from north.",
    },
    "beyond_radius": {"type": "boolean", "description": "Further than radius_m."},
}

# What a staff write may send (editing.EDITABLE, and code on create): the canonical form. The
# API also accepts the Chinese or English labels of a vocabulary, numbers as text and
# facilities as one comma-separated text, as the spreadsheet import does.
INPUT_FIELDS: dict[str, Schema] = {
    **{name: STATION_FIELDS[name] for name in ("code", "name", "address", "host_type", "brand")},
    **{
        name: STATION_FIELDS[name]
        for name in ("opening_hours", "facilities", "entry_method", "status")
    },
    "lat": {**LAT, "description": _("Latitude in the datum crs names.")},
    "lon": {**LON, "description": _("Longitude in the datum crs names.")},
    "crs": {**ref("Datum"), "description": _("Datum of lat and lon (default wgs84).")},
    "adcode": {
        **ADCODE,
        "description": _("District adcode; found from the point when left out."),
    },
    "closed_until": {
        **_or_null({**DATE, "pattern": DATE_PATTERN}),
        "description": _("Reopening date; required when status is temporarily_closed."),
    },
    "manager_name": {
        "type": "string",
        "maxLength": LIMITS["manager_name"],
        "pattern": TEXT_PATTERN,
        "description": _("Staff only: never shown to the public."),
    },
    "manager_phone": {
        "type": "string",
        "description": _("Staff only: a mobile, landline or 400 number."),
    },
}
INPUT_DESCRIPTIONS = {
    "code": _("The operator's own station code, unique."),
    "name": _("The station's name."),
    "address": _("Street address."),
    "host_type": _("What hosts the station."),
    "brand": _("The programme's name on the sign."),
    "opening_hours": _("OpenStreetMap opening_hours syntax; empty when unknown."),
    "facilities": _("Facility keys."),
    "entry_method": _("How a worker gets in."),
    "status": _("planned and closed stations are not published."),
}


def _input_schema(creating: bool) -> Schema:
    names = editing.EDITABLE + (editing.CREATE_ONLY if creating else ())
    properties = {}
    for name in sorted(names, key=lambda n: (n != "code", names.index(n))):
        schema = dict(INPUT_FIELDS[name])
        if name in INPUT_DESCRIPTIONS:
            schema["description"] = INPUT_DESCRIPTIONS[name]
        properties[name] = schema
    if not creating:
        return _closed(properties, [])
    # A temporarily closed station says when it reopens (model.validate asks the same).
    reopening = {"properties": {"status": {"const": "temporarily_closed"}}, "required": ["status"]}
    return _closed(
        properties,
        ["code", "name", "lat", "lon"],
        **{
            "if": reopening,
            "then": {
                "properties": {"closed_until": {**DATE, "pattern": DATE_PATTERN}},
                "required": ["closed_until"],
            },
        },
    )


# -- examples, made by the core ---------------------------------------------------------------

EXAMPLE_NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)  # a Friday morning in China
EXAMPLE_POINT = (31.8171, 117.2300)  # a rider in Shushan district, Hefei (WGS-84)
_HEFEI: dict[str, Any] = {"province": "安徽省", "city": "合肥市"}
EXAMPLE_STATIONS = (
    Station(
        id=101,
        code="HF-0101",
        name="蜀山区金寨路爱心驿站",
        address="金寨路 162 号加油站内",
        lat=31.8206,
        lon=117.2272,
        adcode="340104",
        district="蜀山区",
        **_HEFEI,
        host_type="gas_station",
        brand="爱心驿站",
        opening_hours="Mo-Su 07:00-21:00",
        facilities=("drinking_water", "hot_water", "microwave", "toilet", "phone_charging"),
        entry_method="open_door",
        status="open",
        verified_at="2026-11-01T09:30:00+08:00",
        created_at="2026-10-08T14:00:00+08:00",
        updated_at="2026-11-12T16:20:00+08:00",
        version=3,
    ),
    Station(
        id=102,
        code="HF-0102",
        name="包河区徽州大道骑手驿站",
        address="徽州大道 1188 号社区服务中心一楼",
        lat=31.795,
        lon=117.288,
        adcode="340111",
        district="包河区",
        **_HEFEI,
        host_type="community",
        brand="骑手驿站",
        opening_hours="Mo-Su 12:00-22:00",
        facilities=("drinking_water", "air_conditioning", "rest_seating", "ebike_charging"),
        entry_method="staffed",
        status="open",
        created_at="2026-10-09T10:00:00+08:00",
        updated_at="2026-10-09T10:00:00+08:00",
        version=1,
    ),
)
# What POST /api/v1/stations is sent in the example, and the station it creates.
EXAMPLE_CREATE: dict[str, Any] = {
    "code": "HF-0103",
    "name": "庐阳区长江中路工会驿站",
    "address": "长江中路 98 号银行网点内",
    "lat": 31.868,
    "lon": 117.283,
    "crs": "wgs84",
    "host_type": "bank",
    "brand": "工会驿站",
    "opening_hours": "Mo-Fr 08:30-17:30; PH off",
    "facilities": ["drinking_water", "hot_water", "microwave", "rest_seating"],
    "entry_method": "open_door",
    "status": "open",
    "manager_name": "王师傅",
    "manager_phone": "13800138000",
}
EXAMPLE_CREATED = Station(
    id=103,
    **{k: v for k, v in EXAMPLE_CREATE.items() if k not in ("crs", "facilities")},
    facilities=tuple(EXAMPLE_CREATE["facilities"]),
    adcode="340103",
    district="庐阳区",
    **_HEFEI,
    source_lat=31.868,
    source_lon=117.283,
    created_at=EXAMPLE_NOW.isoformat(timespec="seconds"),
    updated_at=EXAMPLE_NOW.isoformat(timespec="seconds"),
    version=1,
)
EXAMPLE_PATCH: dict[str, Any] = {
    "opening_hours": "Mo-Su 07:00-22:00",
    "facilities": ["drinking_water", "toilet"],
}
EXAMPLE_AUDIT_PROFILE = "qigeyi_haikou"
EXAMPLE_REPORT = ReportCount(
    kind="broken", facility="hot_water", count=2, last_at="2026-11-19T18:42:10+08:00"
)


def _example_audit() -> dict:
    """A complete audit body for the example profile: every item answered, as the API needs."""
    profile = PROFILES[EXAMPLE_AUDIT_PROFILE]
    items = {}
    for item in profile.items:
        if item.from_registry:
            continue  # set from the registry, whatever is sent
        answer: dict[str, Any] = {"result": "pass"}
        if item.expires:
            answer["valid_until"] = "2027-06-30"
        items[item.key] = answer
    first = next(iter(items))
    items[first] = {"result": "fail", "note": "门口无标识牌"}
    return {
        "profile": profile.key,
        "visited_on": "2026-11-20",
        "visit_kind": "unannounced",
        "items": items,
    }


def _feature(station: Station, server: str, extra: dict | None = None, warnings=()) -> dict:
    props = present.properties(
        station, now=EXAMPLE_NOW, url=f"{server}/stations/{station.id}", warnings=warnings
    )
    props["audit"] = None
    if extra:
        props.update(extra)
    return present.feature(station, props)


def _examples(server: str) -> dict[str, Any]:
    """Request and response bodies for every operation, made by the same core functions the
    API answers with (present.properties, navigation links, the hours, writers.feature)."""
    first, second = EXAMPLE_STATIONS
    lat, lon = EXAMPLE_POINT
    distances, bearings = geo.distance_bearing(
        lat, lon, [s.lat for s in EXAMPLE_STATIONS], [s.lon for s in EXAMPLE_STATIONS]
    )
    station = _feature(first, server, warnings=present.report_warnings([EXAMPLE_REPORT]))
    station["properties"]["audit"] = {
        "profile": "siyou",
        "profile_zh": PROFILES["siyou"].zh,
        "profile_en": PROFILES["siyou"].en,
        "passed": True,
        "visited_on": "2026-11-05",
    }
    nearest_features = [
        _feature(
            s,
            server,
            {
                "distance_m": round(float(d)),
                "bearing_deg": round(float(b)) % 360,
                "beyond_radius": False,
            },
        )
        for s, d, b in zip(EXAMPLE_STATIONS, distances, bearings, strict=True)
    ]
    page_features = [_feature(s, server) for s in EXAMPLE_STATIONS]
    patched = replace(
        first,
        opening_hours=EXAMPLE_PATCH["opening_hours"],
        facilities=tuple(EXAMPLE_PATCH["facilities"]),
        version=4,
        updated_at=EXAMPLE_NOW.isoformat(timespec="seconds"),
    )
    closed = replace(
        first, status="closed", version=4, updated_at=EXAMPLE_NOW.isoformat(timespec="seconds")
    )
    exported = [writers.feature(s, public=True) for s in EXAMPLE_STATIONS]
    city = {
        "adcode": "3401",
        "name": "合肥市",
        "province": "安徽省",
        "stations": 12,
        "lat": 31.8412,
        "lon": 117.2596,
        "bbox": [117.1021, 31.7339, 117.4102, 31.9487],
    }
    return {
        "nearest": {
            "type": "FeatureCollection",
            "query": {
                "lat": lat,
                "lon": lon,
                "crs": "wgs84",
                "input_crs": "wgs84",
                "k": 2,
                "radius_m": 10000,
                "facilities": ["drinking_water"],
                "open_now": False,
                "sort": "distance",
                "anyway_max_m": nearby.ANYWAY_MAX_M,
            },
            "generated_at": EXAMPLE_NOW.isoformat(timespec="seconds"),
            "nearest_anyway": False,
            "message": None,
            "reason": None,
            "nearest_city": None,
            "features": nearest_features,
        },
        "nearest_none": {
            "type": "FeatureCollection",
            "query": {
                "lat": 29.6525,
                "lon": 91.1721,
                "crs": "wgs84",
                "input_crs": "wgs84",
                "k": 5,
                "radius_m": 3000,
                "facilities": [],
                "open_now": False,
                "sort": "useful",
                "anyway_max_m": nearby.ANYWAY_MAX_M,
            },
            "generated_at": EXAMPLE_NOW.isoformat(timespec="seconds"),
            "nearest_anyway": False,
            "message": f"no station within {nearby.ANYWAY_MAX_M} m",
            "reason": "none_nearby",
            "nearest_city": {**city, "distance_m": 2485000},
            "features": [],
        },
        "page": {"type": "FeatureCollection", "features": page_features, "next_cursor": 102},
        "station": station,
        "created": _feature(EXAMPLE_CREATED, server),
        "patched": _feature(patched, server),
        "closed": _feature(closed, server),
        "export": {"type": "FeatureCollection", "license": writers.LICENCE, "features": exported},
        "csv": _csv(EXAMPLE_STATIONS),
        "map": {
            "clusters": [],
            "markers": [[s.id, s.lat, s.lon, s.name, _open_flag(s)] for s in EXAMPLE_STATIONS],
        },
        "map_clusters": {
            "clusters": [[31.8412, 117.2596, 318], [31.7203, 117.1544, 41]],
            "markers": [],
        },
        "summary": {
            "adcode": "3401",
            "name": "合肥市",
            "stations": 12,
            "by_status": {"open": 11, "temporarily_closed": 1},
            "facilities": {"drinking_water": 11, "toilet": 9, "microwave": 7, "hot_water": 6},
            "verified_share": 0.833,
            "updated_at": "2026-11-12T16:20:00+08:00",
        },
        "coverage": _coverage_example(),
        "cities": {"cities": [city]},
        "search": {
            "query": "金寨路",
            "cities": [],
            "stations": [
                {
                    "id": first.id,
                    "name": first.name,
                    "address": first.address,
                    "city": first.city,
                    "district": first.district,
                    "lat": first.lat,
                    "lon": first.lon,
                    "url": f"{server}/stations/{first.id}",
                }
            ],
        },
        "audit_body": _example_audit(),
        "audit_recorded": {
            "id": 7,
            "station_id": EXAMPLE_CREATED.id,
            "profile": EXAMPLE_AUDIT_PROFILE,
            **_audit_score(EXAMPLE_CREATED),
        },
    }


def _audit_score(station: Station) -> dict:
    """Score and verdict of the example audit at this station, as audits.record reckons them."""
    body = _example_audit()
    profile = PROFILES[body["profile"]]
    form = {}
    for key, answer in body["items"].items():
        for part in ("result", "note", "valid_until"):
            form[f"{part}_{key}"] = answer.get(part, "")
    share, passed = audits.score(profile, audits.parse_answers(profile, station, form))
    return {"score": share, "passed": passed}


def _open_flag(station: Station) -> int | None:
    state = present.live_state(station, EXAMPLE_NOW)["open_now"]
    return None if state is None else int(state)


def _csv(stations) -> str:
    buffer = io.StringIO(newline="")
    fields = [f for f in writers.EXPORT_ORDER if f not in writers.STAFF_ONLY]
    writers.table_csv(buffer, fields, (writers.cells(s, fields) for s in stations))
    return "\ufeff" + buffer.getvalue()


def _coverage_example() -> dict:
    row = {
        "adcode": "340104",
        "name": "蜀山区",
        "area_km2": 647.512,
        "covered_km2": 48.204,
        "covered_share": 0.0744,
        "stations": 5,
        "density": 0.0077,
        "demand": 412.0,
        "demand_covered": 298.0,
        "demand_share": 0.7233,
        "redundant_pairs": 1,
    }
    return {
        "region": {"adcode": "340104", "name": "蜀山区"},
        "query": {"radius_m": 1000, "only_24h": False, "facilities": [], "spacing_m": 300},
        "projection": "CGCS2000 3-degree Gauss-Krüger zone of each district",
        "generated_at": EXAMPLE_NOW.isoformat(timespec="seconds"),
        "demand": {"source": "searches", "fictitious": False},
        "target": {"share": 0.8, "measure": "demand", "progress": 0.7233},
        "total": row,
        "districts": [row],
        "suggestions": [
            {
                "rank": 1,
                "lat": 31.842611,
                "lon": 117.198342,
                "adds": 64.0,
                "adcode": "340104",
                "district": "蜀山区",
                "label": "",
            }
        ],
        "gaps": 3,
        "redundant_pairs": [{"a": 101, "b": 108, "distance_m": 212}],
    }


# -- the errors each status answers with ------------------------------------------------------

ERRORS: dict[int, tuple[str, str, str, str | None]] = {
    # status: (description, code, an example message, its field)
    400: (
        _("A parameter or field is wrong; field names it"),
        "invalid_parameter",
        "lat must be between -90 and 90, not 91",
        "lat",
    ),
    401: (
        _("The API key or bearer token is unknown"),
        "unauthorized",
        "the API key is unknown or revoked",
        "key",
    ),
    403: (
        _("Outside the key's or the user's region"),
        "forbidden",
        "this API key covers region 6301 only",
        "region",
    ),
    404: (_("No such station or region"), "not_found", "no station 999", "id"),
    409: (_("The code is already used by another station"), "conflict", "", "code"),
    412: (
        _("The station changed since that ETag; the response carries the current ETag"),
        "version_conflict",
        "changed by hf-admin at 2026-11-20T09:58:02+08:00; review the current version and apply your change again",
        None,
    ),
    414: (
        _("The query string is too long"),
        "query_too_long",
        f"the query string is longer than {params.MAX_QUERY_BYTES} bytes",
        None,
    ),
    415: (
        _("The body is not JSON"),
        "unsupported_media_type",
        "send a JSON body with Content-Type: application/json",
        None,
    ),
    428: (
        _("If-Match is missing"),
        "precondition_required",
        "send If-Match with the station's ETag (GET it first), or * to change whatever "
        "version is current",
        None,
    ),
    429: (
        _("Too many requests; wait as Retry-After says"),
        "too_many_requests",
        "120 per 1 minute",
        None,
    ),
    503: (
        _("The database is busy; try again after Retry-After seconds"),
        "busy",
        "the database is busy with another write; try again shortly",
        None,
    ),
}
# If-Match: * or a list of this API's tags, each perhaps with the coding a compressed response
# appends to it (etags.CODINGS).
_TAG = rf'(W/)?"v[0-9]+(:({"|".join(etags.CODINGS)}))?"'
IF_MATCH_PATTERN = rf"^(\*|{_TAG}(\s*,\s*{_TAG})*)$"
WRITE_ERRORS = {
    400: ("invalid_field", "lat: (0, 0) lies outside China's boundary", "lat"),
    401: ("unauthorized", "the token is unknown, revoked or its user disabled", None),
    403: ("forbidden", "this station (340104) is outside xn-auditor's region (6301)", None),
}


def _errors(*codes: int, write: bool = False, **overrides: tuple[str, str, str | None]) -> dict:
    out = {}
    for status in codes:
        description, code, message, field = ERRORS[status]
        if write and status in WRITE_ERRORS:
            code, message, field = WRITE_ERRORS[status]
        if f"e{status}" in overrides:
            code, message, field = overrides[f"e{status}"]
        out[str(status)] = {
            "description": description,
            "content": {
                "application/json": {
                    "schema": ref("Error"),
                    "example": {"error": {"code": code, "message": message, "field": field}},
                }
            },
        }
    return out


# -- parameters -------------------------------------------------------------------------------


def _param(
    name, schema, description, required=False, where="query", example=None, vocabulary=None
) -> dict:
    param = {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema,
    }
    if example is not None:
        param["example"] = example
    if vocabulary:  # a comma list of this vocabulary's keys
        param["x-vocabulary"] = vocabulary
    return param


def _filters(facilities=None, open_now=None) -> list[dict]:
    return [
        _param(
            "facilities",
            FACILITY_LIST,
            _("Comma list of facility keys; a station must have them all."),
            example=facilities,
            vocabulary="Facility",
        ),
        _param("open_now", FLAG, _("Only stations open at this moment."), example=open_now),
    ]


def _key() -> dict:
    return _param(
        "X-API-Key",
        STRING,
        _(
            "A partner's API key, in this header only: a key in the address (?key=) is refused "
            "with 400, since addresses end up in logs."
        ),
        where="header",
    )


def _json(schema: Schema, example: Any) -> dict:
    return {"application/json": {"schema": schema, "example": example}}


def _geo(schema: Schema, example: Any) -> dict:
    return {"application/geo+json": {"schema": schema, "example": example}}


# -- the document -----------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _document(server_url: str) -> dict:

    server = server_url.rstrip("/")
    ex = _examples(server)
    etag_header = {
        "ETag": {
            "description": _("The station's version, for If-Match"),
            "schema": {"type": "string", "example": '"v3"'},
        }
    }

    def station_id(example=101):
        return _param(
            "station_id", {"type": "integer", "minimum": 1}, _("Station id."), True, "path", example
        )

    def if_match(example):
        return _param(
            "If-Match",
            {"type": "string", "pattern": IF_MATCH_PATTERN},
            _(
                'The ETag last seen, e.g. "v3", or "v3:gzip" as a compressed response carries '
                "it (required). Compared strongly: a W/ tag never matches. * changes whatever "
                "version is current."
            ),
            True,
            "header",
            example,
        )

    paths: dict[str, dict] = {
        "/api/v1/stations/nearest": {
            "get": {
                "operationId": "nearest",
                "summary": _("The nearest stations, by exact geodesic distance"),
                "description": _(
                    "When no station matches within radius_m, the nearest ones are returned "
                    "anyway, up to anyway_max_m; beyond it reason says none_nearby and "
                    "nearest_city names the nearest city with stations. Each answered search "
                    "is counted for coverage planning in a grid cell of about 500 m; the "
                    "point itself, the address and the client are not kept."
                ),
                "parameters": [
                    _param(
                        "lat",
                        LAT,
                        _("Latitude of the query point."),
                        True,
                        example=EXAMPLE_POINT[0],
                    ),
                    _param(
                        "lon",
                        LON,
                        _("Longitude of the query point."),
                        True,
                        example=EXAMPLE_POINT[1],
                    ),
                    _param(
                        "k",
                        {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 5},
                        _("How many stations."),
                        example=2,
                    ),
                    _param(
                        "radius_m",
                        {"type": "integer", "minimum": 1, "maximum": MAX_RADIUS_M},
                        _(
                            "Search radius in metres; when nothing matches inside it the nearest are "
                            "returned anyway, up to the server's cap (query.anyway_max_m)."
                        ),
                        example=10000,
                    ),
                    _param(
                        "sort",
                        {"type": "string", "enum": list(nearby.SORTS), "default": nearby.SORTS[0]},
                        _(
                            "distance: nearest first. useful: open stations first, then hours unknown, closed by their hours, temporarily closed; nearest first within each."
                        ),
                        example="distance",
                    ),
                    *_filters(facilities="drinking_water"),
                    _param(
                        "crs",
                        ref("Datum"),
                        _("Datum of lat and lon (WeChat reports gcj02)."),
                        example="wgs84",
                    ),
                    _key(),
                ],
                "responses": {
                    "200": {
                        "description": _("Stations, in the order asked for"),
                        "content": {
                            "application/geo+json": {
                                "schema": ref("Nearest"),
                                "examples": {
                                    "found": {
                                        "summary": _("Stations found"),
                                        "value": ex["nearest"],
                                    },
                                    "none_nearby": {
                                        "summary": _("No station within reach"),
                                        "value": ex["nearest_none"],
                                    },
                                },
                            }
                        },
                    },
                    **_errors(400, 401, 403, 414, 429),
                },
            }
        },
        "/api/v1/stations": {
            "get": {
                "operationId": "listStations",
                "summary": _("Published stations with filters, paged by cursor"),
                "parameters": [
                    _param(
                        "bbox",
                        {"type": "string", "pattern": f"^$|{BBOX_PATTERN}"},
                        _(
                            "min_lon,min_lat,max_lon,max_lat (WGS-84), with min ≤ max; empty for "
                            "no bounds."
                        ),
                        example="117.1,31.7,117.4,31.95",
                    ),
                    _param(
                        "region",
                        {"type": "string", "pattern": "^([0-9]{2}([0-9]{2}){0,2})?$"},
                        _(
                            "Adcode prefix: province 34, city 3401 or district 340104; one that "
                            "names no region is 404."
                        ),
                        example="3401",
                    ),
                    *_filters(),
                    _param(
                        "status",
                        STRING,
                        _("Comma list of statuses: open, temporarily_closed."),
                        vocabulary="PublishedStatus",
                    ),
                    _param(
                        "updated_since",
                        {"type": "string"},
                        _("ISO 8601: only stations changed after it (for sync)."),
                    ),
                    _param(
                        "format",
                        {"type": "string", "enum": ["geojson", "csv"], "default": "geojson"},
                        _("Response format."),
                    ),
                    _param(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": PAGE_MAX, "default": 100},
                        _("Page size."),
                        example=2,
                    ),
                    _param(
                        "cursor",
                        {"type": "integer", "minimum": 0},
                        _("next_cursor of the previous page."),
                    ),
                    _key(),
                ],
                "responses": {
                    "200": {
                        "description": _(
                            "A page of stations; next_cursor is null on the last page"
                        ),
                        "content": {
                            **_geo(ref("Page"), ex["page"]),
                            "text/csv": {"schema": {"type": "string"}, "example": ex["csv"]},
                        },
                    },
                    **_errors(
                        400, 401, 403, 404, 414, 429, e404=("not_found", "no region 9999", "region")
                    ),
                },
            },
            "post": {
                "operationId": "createStation",
                "summary": _("Create a station (staff)"),
                "description": _(
                    "Vocabulary fields also take their Chinese or English labels, and facilities "
                    "one comma-separated text, as the spreadsheet import does. Any other field is "
                    "refused."
                ),
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": True,
                    "content": _json(ref("StationCreate"), EXAMPLE_CREATE),
                },
                "responses": {
                    "201": {
                        "description": _("Created; Location names the new station"),
                        "headers": etag_header,
                        "content": _geo(ref("Station"), ex["created"]),
                    },
                    **_errors(
                        400,
                        401,
                        403,
                        409,
                        415,
                        429,
                        503,
                        write=True,
                        e409=(
                            "conflict",
                            "code: HF-0103 is already used by another station",
                            "code",
                        ),
                    ),
                },
            },
        },
        "/api/v1/stations/{station_id}": {
            "parameters": [station_id()],
            "get": {
                "operationId": "getStation",
                "summary": _("One station"),
                "description": _(
                    "404 for planned and closed stations, except to staff with a bearer token "
                    "for their region (who need the ETag to edit them). 404 too for a station "
                    "outside the region of the partner key sent, as if it did not exist."
                ),
                "parameters": [_key()],
                "responses": {
                    "200": {
                        "description": _("The station"),
                        "headers": etag_header,
                        "content": _geo(ref("Station"), ex["station"]),
                    },
                    "304": {
                        "description": _(
                            "Not modified since the ETag sent in If-None-Match (no body)"
                        )
                    },
                    **_errors(401, 404, 429),
                },
            },
            "patch": {
                "operationId": "patchStation",
                "summary": _("Change fields (staff; If-Match required)"),
                "description": _(
                    "Only the fields sent change. A moved station takes the district of its new place unless adcode is sent."
                ),
                "security": [{"bearer": []}],
                "parameters": [if_match('"v3"')],
                "requestBody": {
                    "required": True,
                    "content": _json(ref("StationPatch"), EXAMPLE_PATCH),
                },
                "responses": {
                    "200": {
                        "description": _("Changed"),
                        "headers": etag_header,
                        "content": _geo(ref("Station"), ex["patched"]),
                    },
                    **_errors(400, 401, 403, 404, 412, 415, 428, 429, 503, write=True),
                },
            },
            "delete": {
                "operationId": "closeStation",
                "summary": _("Close the station (staff; If-Match required)"),
                "description": _(
                    "The station is kept with status closed, and no longer published."
                ),
                "security": [{"bearer": []}],
                "parameters": [if_match('"v3"')],
                "responses": {
                    "200": {
                        "description": _("Closed"),
                        "headers": etag_header,
                        "content": _geo(ref("Station"), ex["closed"]),
                    },
                    **_errors(400, 401, 403, 404, 412, 428, 429, 503, write=True),
                },
            },
        },
        "/api/v1/stations/{station_id}/audits": {
            "post": {
                "operationId": "postAudit",
                "summary": _("Record an audit (staff)"),
                "description": _(
                    "Every item of the profile must be answered, except online_map, which the "
                    "registry decides; a failed item needs a note."
                ),
                "security": [{"bearer": []}],
                "parameters": [station_id()],
                "requestBody": {
                    "required": True,
                    "content": _json(ref("AuditCreate"), ex["audit_body"]),
                },
                "responses": {
                    "201": {
                        "description": _("Recorded"),
                        "content": _json(ref("AuditRecorded"), ex["audit_recorded"]),
                    },
                    **_errors(
                        400,
                        401,
                        403,
                        404,
                        415,
                        429,
                        503,
                        write=True,
                        e400=("invalid_field", "sign: say what is wrong", "sign"),
                    ),
                },
            }
        },
        "/api/v1/map": {
            "get": {
                "operationId": "mapView",
                "summary": _("Compact markers for a map view, or clusters when crowded"),
                "description": _(
                    "Markers are [id, lat, lon, name, open]; when the view holds too many stations, clusters [lat, lon, count] instead."
                ),
                "parameters": [
                    _param(
                        "bbox",
                        {"type": "string", "pattern": BBOX_PATTERN},
                        _("min_lon,min_lat,max_lon,max_lat (WGS-84), with min ≤ max."),
                        True,
                        example="117.1,31.7,117.4,31.95",
                    ),
                    *_filters(),
                    _key(),
                ],
                "responses": {
                    "200": {
                        "description": _("Markers or clusters"),
                        "content": {
                            "application/json": {
                                "schema": ref("MapView"),
                                "examples": {
                                    "markers": {"summary": _("Markers"), "value": ex["map"]},
                                    "clusters": {
                                        "summary": _("Clusters"),
                                        "value": ex["map_clusters"],
                                    },
                                },
                            }
                        },
                    },
                    **_errors(400, 401, 403, 414, 429),
                },
            }
        },
        "/api/v1/regions/{adcode}/summary": {
            "get": {
                "operationId": "regionSummary",
                "summary": _("Counts for a region"),
                "description": _(
                    "With a partner key for a region: that region or a part of it only. A region "
                    "outside it, or wider than it (the province for a city's key), is 403 rather "
                    "than clipped, so that a count is never labelled with a region it does not "
                    "describe. The same holds for the coverage report."
                ),
                "parameters": [
                    _param(
                        "adcode",
                        PREFIX,
                        _("Adcode prefix: province 34, city 3401 or district 340104."),
                        True,
                        "path",
                        "3401",
                    ),
                    _key(),
                ],
                "responses": {
                    "200": {
                        "description": _("Summary"),
                        "content": _json(ref("Summary"), ex["summary"]),
                    },
                    **_errors(401, 403, 404, 429, e404=("not_found", "no region 9999", "adcode")),
                },
            }
        },
        "/api/v1/regions/{adcode}/coverage": {
            "get": {
                "operationId": "regionCoverage",
                "summary": _(
                    "The service circle of a region: area and demand covered by district, suggested sites"
                ),
                "description": _(
                    "Circles of open, published stations (neighbours' circles that reach across "
                    "the border count), measured in each district's CGCS2000 3-degree "
                    "Gauss-Krüger zone. Demand is an imported layer or the unmet searches of the "
                    "last 90 days."
                ),
                "parameters": [
                    _param(
                        "adcode",
                        PREFIX,
                        _("Adcode prefix: province 34, city 3401 or district 340104."),
                        True,
                        "path",
                        "340104",
                    ),
                    _param(
                        "preset",
                        {
                            "type": "string",
                            "enum": list(PRESETS),
                            "description": "; ".join(f"{p.key}: {p.en}" for p in PRESETS.values()),
                        },
                        _("A named service circle; it overrides radius_m."),
                    ),
                    _param(
                        "radius_m",
                        {
                            "type": "number",
                            "minimum": MIN_RADIUS_M,
                            "maximum": COVERAGE_MAX_RADIUS_M,
                            "default": DEFAULT_RADIUS_M,
                        },
                        _("Service radius in metres."),
                        example=1000,
                    ),
                    _param(
                        "only_24h",
                        STRING,
                        _("1 or true: count only stations open 24 hours; any other value: all."),
                    ),
                    _param(
                        "facilities",
                        FACILITY_LIST,
                        _("Comma list of facility keys; a station counts only if it offers all."),
                        vocabulary="Facility",
                    ),
                    _param(
                        "spacing_m",
                        {
                            "type": "number",
                            "minimum": 10,
                            "maximum": 5000,
                            "default": DEFAULT_SPACING_M,
                        },
                        _("Pairs of stations closer than this are listed as redundant."),
                    ),
                    _param(
                        "demand",
                        {"type": "string"},
                        _(
                            "An imported demand layer's name, searches, or none (default: the first demand layer with points in the region, else searches)."
                        ),
                    ),
                    _param(
                        "suggest",
                        {"type": "integer", "minimum": 0, "maximum": 10},
                        _("How many new sites to suggest (maximal covering of uncovered demand)."),
                        example=1,
                    ),
                    _param(
                        "geometry",
                        STRING,
                        _(
                            "1 or true: also return the layers (circles, gaps, suggestions, demand, stations) as GeoJSON."
                        ),
                    ),
                    _key(),
                ],
                "responses": {
                    "200": {
                        "description": _("Coverage by district"),
                        "content": _json(ref("Coverage"), ex["coverage"]),
                    },
                    **_errors(
                        400,
                        401,
                        403,
                        404,
                        429,
                        e400=(
                            "invalid_parameter",
                            "radius_m must be between 100 and 5000",
                            "radius_m",
                        ),
                        e404=("not_found", "no region 9999", "adcode"),
                    ),
                },
            }
        },
        "/api/v1/cities": {
            "get": {
                "operationId": "cities",
                "summary": _("Cities with published stations, for a city picker"),
                "description": _(
                    "Sorted by province, then city adcode; a partner key sees its own region only."
                ),
                "parameters": [_key()],
                "responses": {
                    "200": {
                        "description": _("Cities"),
                        "content": _json(ref("Cities"), ex["cities"]),
                    },
                    **_errors(401, 429),
                },
            }
        },
        "/api/v1/search": {
            "get": {
                "operationId": "search",
                "summary": _("Find cities and stations by name or address"),
                "parameters": [
                    _param(
                        "q",
                        {"type": "string", "minLength": 1, "maxLength": 50},
                        _("Text to find in station names, addresses, cities and districts."),
                        True,
                        example="金寨路",
                    ),
                    _param(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": SEARCH_MAX, "default": 10},
                        _("How many stations at most."),
                        example=5,
                    ),
                    _param("lat", LAT, _("Latitude, to order stations by distance (with lon).")),
                    _param("lon", LON, _("Longitude, to order stations by distance (with lat).")),
                    _key(),
                ],
                "responses": {
                    "200": {
                        "description": _("Matching cities and stations"),
                        "content": _json(ref("Search"), ex["search"]),
                    },
                    **_errors(
                        400,
                        401,
                        429,
                        e400=("invalid_parameter", "q must be 1 to 50 characters", "q"),
                    ),
                },
            }
        },
        "/api/v1/export/stations.geojson": {
            "get": {
                "operationId": "exportGeojson",
                "summary": _("The whole published registry as GeoJSON (ODbL)"),
                "parameters": [_key()],
                "responses": {
                    "200": {
                        "description": _("All published stations"),
                        "content": _geo(ref("Export"), ex["export"]),
                    },
                    **_errors(401, 429),
                },
            }
        },
        "/api/v1/export/stations.csv": {
            "get": {
                "operationId": "exportCsv",
                "summary": _("The whole published registry as CSV (ODbL)"),
                "parameters": [_key()],
                "responses": {
                    "200": {
                        "description": _("All published stations, UTF-8 with a byte order mark"),
                        "content": {
                            "text/csv": {"schema": {"type": "string"}, "example": ex["csv"]}
                        },
                    },
                    **_errors(401, 429),
                },
            }
        },
    }
    for path, item in paths.items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method != "parameters":
                operation["x-codeSamples"] = [
                    {
                        "lang": "Shell",
                        "label": "curl",
                        "source": curl(
                            server,
                            path,
                            method,
                            shared + operation.get("parameters", []),
                            operation,
                        ),
                    }
                ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Yizhan — union rest stations API",
            "version": "1.1.0",
            "description": _(
                "Trade-union rest stations for outdoor workers in China. Stations are GeoJSON "
                "(RFC 7946), coordinates WGS-84 [lon, lat]. Every error is "
                '{"error": {"code", "message", "field"}}. Staff writes need '
                "Authorization: Bearer TOKEN (flask --app app user token NAME)."
            ),
            "license": {"name": "Open Database License (ODbL) 1.0", "identifier": "ODbL-1.0"},
        },
        "servers": [{"url": server or "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "flask --app app user token NAME",
                },
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
            "schemas": schemas(),
        },
    }


def document(server_url: str = "/") -> dict:
    """The OpenAPI document, for a server at server_url (a copy: callers may change it)."""
    return copy.deepcopy(_document(server_url))


def curl(server: str, path: str, method: str, parameters: list[dict], operation: dict) -> str:
    """The example request of an operation as one curl command line."""
    query = {p["name"]: p["example"] for p in parameters if p["in"] == "query" and "example" in p}
    for p in parameters:
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", str(p["example"]))
    url = server + path + ("?" + urlencode(query, safe=",") if query else "")
    words = ["curl"]
    if method != "get":
        words += ["-X", method.upper()]
    words.append(url)
    if operation.get("security"):
        words += ["-H", "Authorization: Bearer $TOKEN"]
    for p in parameters:
        if p["in"] == "header" and "example" in p:
            words += ["-H", f"{p['name']}: {p['example']}"]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        words += ["-H", "Content-Type: application/json"]
        words += ["--data", json.dumps(body["example"], ensure_ascii=False, separators=(",", ":"))]
    return " ".join(
        shlex.quote(w) if not w.startswith("Authorization: Bearer $") else f'"{w}"' for w in words
    )


# -- the schemas ------------------------------------------------------------------------------


def _properties(names, status: Schema | None = None) -> dict[str, Schema]:
    out = {name: STATION_FIELDS[name] for name in names}
    if status is not None:
        out["status"] = status
    return out


def _feature_schema(properties: str, id_schema: Schema) -> Schema:
    return _closed(
        {
            "type": {"type": "string", "const": "Feature"},
            "id": id_schema,
            "geometry": ref("Point"),
            "properties": ref(properties),
        }
    )


@cache
def schemas() -> dict[str, Schema]:
    """Every shared schema; the station property lists come from the core's own output."""
    sample = _feature(EXAMPLE_STATIONS[0], "http://example.org")["properties"]
    public = list(sample)  # present.properties, and the audit badge
    nearest = [*public, "distance_m", "bearing_deg", "beyond_radius"]
    exported = list(writers.feature(EXAMPLE_STATIONS[0], public=True)["properties"])
    report_kinds = [k for k in KINDS.keys() if k not in checkins.POSITIVE]
    navigation_apps = list(sample["navigation"])
    city = {
        "adcode": {"type": "string", "pattern": "^[0-9]{4}$", "description": "City adcode prefix."},
        "name": STRING,
        "province": STRING,
        "stations": {"type": "integer", "minimum": 1},
        "lat": {**LAT, "description": "Mean latitude of its stations (WGS-84)."},
        "lon": {**LON, "description": "Mean longitude of its stations (WGS-84)."},
        "bbox": {
            "type": "array",
            "description": "[west, south, east, north] of its stations (WGS-84).",
            "prefixItems": [LON, LAT, LON, LAT],
            "minItems": 4,
            "items": False,
        },
    }
    coverage_row = _closed(
        {
            "adcode": {"type": "string", "pattern": "^[0-9]{2,6}$"},
            "name": STRING,
            "area_km2": {"type": "number", "minimum": 0},
            "covered_km2": {"type": "number", "minimum": 0},
            "covered_share": SHARE,
            "stations": {"type": "integer", "minimum": 0},
            "density": {"type": "number", "minimum": 0, "description": "Open stations per km²."},
            "demand": {"type": "number", "minimum": 0},
            "demand_covered": {"type": "number", "minimum": 0},
            "demand_share": _or_null(SHARE),
            "redundant_pairs": {"type": "integer", "minimum": 0},
        }
    )
    layer_properties = {
        "circles": {"adcode": ADCODE, "district": STRING, "covered_km2": NUMBER},
        "gaps": {"adcode": ADCODE, "district": STRING, "area_km2": NUMBER},
        "suggestions": {
            "rank": INTEGER,
            "adds": NUMBER,
            "adcode": ADCODE,
            "district": STRING,
            "label": STRING,
        },
        "demand": {"weight": NUMBER, "covered": BOOLEAN, "label": STRING},
        "stations": {"id": INTEGER, "code": STRING, "name": STRING, "adcode": ADCODE},
    }
    audit_items = sorted({i.key for p in PROFILES.values() for i in p.items})
    return {
        "Error": _closed(
            {
                "error": _closed(
                    {
                        "code": {
                            "type": "string",
                            "description": "Stable, for programs: invalid_parameter, invalid_field, unauthorized, forbidden, not_found, version_conflict, …",
                        },
                        "message": {"type": "string", "description": "For people (English)."},
                        "field": {
                            **_or_null(STRING),
                            "description": "The parameter or field at fault.",
                        },
                    }
                )
            }
        ),
        "Facility": _vocabulary(FACILITIES),
        "HostType": _vocabulary(HOST_TYPES),
        "EntryMethod": _vocabulary(ENTRY_METHODS),
        "Status": _vocabulary(STATUSES),
        "PublishedStatus": _vocabulary(STATUSES, list(PUBLIC_STATUSES)),
        "Datum": _vocabulary(DATUMS),
        "CheckinKind": _vocabulary(KINDS),
        "ReportKind": _vocabulary(KINDS, report_kinds),
        "AuditProfile": {
            "type": "string",
            "enum": list(PROFILES),
            "description": "; ".join(f"{p.key}: {p.en} ({p.zh})" for p in PROFILES.values()),
        },
        "Point": _closed(
            {
                "type": {"type": "string", "const": "Point"},
                "coordinates": {
                    "type": "array",
                    "description": "[lon, lat], WGS-84",
                    "prefixItems": [LON, LAT],
                    "minItems": 2,
                    "items": False,
                },
            }
        ),
        "HoursText": _closed(
            {"zh": STRING, "en": STRING}, description="The opening hours in words."
        ),
        "Navigation": _closed(
            {app: {"type": "string", "format": "uri"} for app in navigation_apps},
            description="Links that open the station in map apps, each in the datum it expects.",
        ),
        "ReportWarning": _closed(
            {
                "kind": ref("ReportKind"),
                "facility": {
                    "type": "string",
                    "enum": ["", *FACILITIES.keys()],
                    "description": "The broken facility; empty for other kinds.",
                },
                "count": {"type": "integer", "minimum": 1},
                "last_at": DATE_TIME,
            },
            description="Open problem reports from workers.",
        ),
        "ExpiredWarning": _closed(
            {
                "kind": {"type": "string", "const": "expired"},
                "item": {"type": "string", "enum": audit_items},
                "valid_until": DATE,
            },
            description="An audited item past its use-by date (medicines).",
        ),
        "Warning": {"oneOf": [ref("ReportWarning"), ref("ExpiredWarning")]},
        "AuditBadge": _closed(
            {
                "profile": ref("AuditProfile"),
                "profile_zh": STRING,
                "profile_en": STRING,
                "passed": BOOLEAN,
                "visited_on": DATE,
            },
            description="The latest audit.",
        ),
        "StationProperties": _closed(
            _properties(public),
            description="A station as the public and staff read it; planned and closed only to staff.",
        ),
        "PublishedStationProperties": _closed(_properties(public, ref("PublishedStatus"))),
        "NearestStationProperties": _closed(_properties(nearest, ref("PublishedStatus"))),
        "ExportStationProperties": _closed(_properties(exported, ref("PublishedStatus"))),
        "Station": _feature_schema("StationProperties", {"type": "integer", "minimum": 1}),
        "PublishedStation": _feature_schema(
            "PublishedStationProperties", {"type": "integer", "minimum": 1}
        ),
        "NearestStation": _feature_schema(
            "NearestStationProperties", {"type": "integer", "minimum": 1}
        ),
        "ExportStation": _feature_schema("ExportStationProperties", STATION_FIELDS["code"]),
        "NearestQuery": _closed(
            {
                "lat": LAT,
                "lon": LON,
                "crs": {"type": "string", "const": "wgs84"},
                "input_crs": ref("Datum"),
                "k": {"type": "integer", "minimum": 1, "maximum": MAX_K},
                "radius_m": _or_null({"type": "integer", "minimum": 1, "maximum": MAX_RADIUS_M}),
                "facilities": {"type": "array", "items": ref("Facility")},
                "open_now": BOOLEAN,
                "sort": {"type": "string", "enum": list(nearby.SORTS)},
                "anyway_max_m": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "The cap on nearest anyway.",
                },
            },
            description="The query as understood, the point in WGS-84.",
        ),
        "City": _closed(city),
        "NearestCity": _closed(
            {**city, "distance_m": {"type": "integer", "minimum": 0}},
            description="The nearest city with published stations.",
        ),
        "Nearest": _closed(
            {
                "type": {"type": "string", "const": "FeatureCollection"},
                "query": ref("NearestQuery"),
                "generated_at": DATE_TIME,
                "nearest_anyway": {
                    "type": "boolean",
                    "description": "Nothing matched within radius_m: these are the nearest anyway.",
                },
                "message": _or_null(STRING),
                "reason": {
                    "type": ["string", "null"],
                    "enum": ["none_nearby", "none_match", None],
                    "description": "null when stations are returned; none_nearby: no station within anyway_max_m; none_match: stations there, but none matching the filters.",
                },
                "nearest_city": _or_null(ref("NearestCity")),
                "features": {"type": "array", "items": ref("NearestStation")},
            }
        ),
        "Page": _closed(
            {
                "type": {"type": "string", "const": "FeatureCollection"},
                "features": {"type": "array", "items": ref("PublishedStation")},
                "next_cursor": _or_null({"type": "integer", "minimum": 0}),
            }
        ),
        "Export": _closed(
            {
                "type": {"type": "string", "const": "FeatureCollection"},
                "license": {"type": "string", "const": writers.LICENCE},
                "features": {"type": "array", "items": ref("ExportStation")},
            }
        ),
        "MapView": _closed(
            {
                "markers": {
                    "type": "array",
                    "maxItems": MAP_MARKERS_MAX,
                    "items": {
                        "type": "array",
                        "description": "[id, lat, lon, name, open: 1, 0 or null when unknown]",
                        "prefixItems": [
                            {"type": "integer", "minimum": 1},
                            LAT,
                            LON,
                            STRING,
                            {"enum": [0, 1, None]},
                        ],
                        "minItems": 5,
                        "items": False,
                    },
                },
                "clusters": {
                    "type": "array",
                    "items": {
                        "type": "array",
                        "description": "[lat, lon, count]",
                        "prefixItems": [LAT, LON, {"type": "integer", "minimum": 1}],
                        "minItems": 3,
                        "items": False,
                    },
                },
            }
        ),
        "Summary": _closed(
            {
                "adcode": PREFIX,
                "name": STRING,
                "stations": {"type": "integer", "minimum": 0},
                "by_status": {
                    "type": "object",
                    "propertyNames": ref("PublishedStatus"),
                    "additionalProperties": {"type": "integer", "minimum": 1},
                },
                "facilities": {
                    "type": "object",
                    "description": "Open stations offering each facility.",
                    "propertyNames": ref("Facility"),
                    "additionalProperties": {"type": "integer", "minimum": 1},
                },
                "verified_share": _or_null(SHARE),
                "updated_at": _or_null(DATE_TIME),
            }
        ),
        "CoverageRow": coverage_row,
        "Coverage": _closed(
            {
                "region": _closed({"adcode": PREFIX, "name": STRING}),
                "query": _closed(
                    {
                        "radius_m": {"type": "integer", "minimum": 0},
                        "only_24h": BOOLEAN,
                        "facilities": {"type": "array", "items": ref("Facility")},
                        "spacing_m": {"type": "integer", "minimum": 0},
                    }
                ),
                "projection": STRING,
                "generated_at": DATE_TIME,
                "demand": _closed(
                    {
                        "source": {
                            "type": "string",
                            "description": "A demand layer's name, none, or searches: the unmet "
                            f"searches of the last 90 days in cells of about {CELL_M} m with at "
                            f"least {MIN_CELL_SEARCHES} searches.",
                        },
                        "fictitious": {
                            "type": "boolean",
                            "description": "The layer is made-up demo data.",
                        },
                    }
                ),
                "target": _closed(
                    {
                        "share": SHARE,
                        "measure": {"type": "string", "enum": ["demand", "area"]},
                        "progress": SHARE,
                    }
                ),
                "total": ref("CoverageRow"),
                "districts": {"type": "array", "items": ref("CoverageRow")},
                "suggestions": {
                    "type": "array",
                    "items": _closed(
                        {
                            "rank": {"type": "integer", "minimum": 1},
                            "lat": LAT,
                            "lon": LON,
                            "adds": {
                                "type": "number",
                                "minimum": 0,
                                "description": "Demand it covers that nothing covered before.",
                            },
                            "adcode": ADCODE,
                            "district": STRING,
                            "label": STRING,
                        }
                    ),
                },
                "gaps": {"type": "integer", "minimum": 0},
                "redundant_pairs": {
                    "type": "array",
                    "items": _closed(
                        {
                            "a": INTEGER,
                            "b": INTEGER,
                            "distance_m": {"type": "integer", "minimum": 0},
                        }
                    ),
                },
                "layers": _closed(
                    {
                        name: _closed(
                            {
                                "type": {"type": "string", "const": "FeatureCollection"},
                                "features": {
                                    "type": "array",
                                    "items": _closed(
                                        {
                                            "type": {"type": "string", "const": "Feature"},
                                            "geometry": ref("Geometry"),
                                            "properties": _closed(props),
                                        }
                                    ),
                                },
                            }
                        )
                        for name, props in layer_properties.items()
                    },
                    description="Only with geometry=1.",
                ),
            },
            required=[
                "region",
                "query",
                "projection",
                "generated_at",
                "demand",
                "target",
                "total",
                "districts",
                "suggestions",
                "gaps",
                "redundant_pairs",
            ],
        ),
        "Geometry": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {
                    "type": "string",
                    "enum": [
                        "Point",
                        "MultiPoint",
                        "LineString",
                        "MultiLineString",
                        "Polygon",
                        "MultiPolygon",
                        "GeometryCollection",
                    ],
                },
                "coordinates": {"type": "array"},
                "geometries": {"type": "array"},
            },
            "additionalProperties": False,
        },
        "Cities": _closed({"cities": {"type": "array", "items": ref("City")}}),
        "Search": _closed(
            {
                "query": STRING,
                "cities": {"type": "array", "items": ref("City")},
                "stations": {
                    "type": "array",
                    "items": _closed(
                        {
                            "id": {"type": "integer", "minimum": 1},
                            "name": STRING,
                            "address": STRING,
                            "city": STRING,
                            "district": STRING,
                            "lat": LAT,
                            "lon": LON,
                            "url": {"type": "string", "format": "uri"},
                        }
                    ),
                },
            }
        ),
        "StationCreate": _input_schema(creating=True),
        "StationPatch": _input_schema(creating=False),
        "AuditAnswer": _closed(
            {
                "result": {
                    "type": "string",
                    "enum": list(audits.RESULTS),
                    "description": _("pass, fail or na (not applicable)."),
                },
                "note": {
                    "type": "string",
                    "maxLength": 500,
                    "description": _("What is wrong; required when the result is fail."),
                },
                "valid_until": {
                    **_or_null({**DATE, "pattern": DATE_PATTERN}),
                    "description": _("Use-by date (medicines)."),
                },
            },
            required=["result"],
            # a failed item says what is wrong (audits.parse_answers)
            **{
                "if": {"properties": {"result": {"const": "fail"}}, "required": ["result"]},
                "then": {
                    "properties": {"note": {"type": "string", "pattern": r"\S"}},
                    "required": ["note"],
                },
            },
        ),
        "AuditCreate": _closed(
            {
                "profile": {
                    **ref("AuditProfile"),
                    "description": _("The standard audited against (default: the region's)."),
                },
                "visited_on": {
                    **DATE,
                    "description": _("The day of the visit; not in the future."),
                },
                "visit_kind": {
                    "type": "string",
                    "enum": list(audits.VISIT_KINDS),
                    "description": _("scheduled or unannounced."),
                },
                "items": {
                    "type": "object",
                    "description": _("Each item key of the profile and its answer."),
                    "propertyNames": {"enum": audit_items},
                    "additionalProperties": ref("AuditAnswer"),
                },
            },
            required=["visited_on", "visit_kind", "items"],
            # every item of the profile named is answered, but the one the registry decides
            allOf=[
                {
                    "if": {
                        "properties": {"profile": {"const": profile.key}},
                        "required": ["profile"],
                    },
                    "then": {
                        "properties": {
                            "items": {
                                "required": [i.key for i in profile.items if not i.from_registry]
                            }
                        }
                    },
                }
                for profile in PROFILES.values()
            ],
        ),
        "AuditRecorded": _closed(
            {
                "id": {"type": "integer", "minimum": 1},
                "station_id": {"type": "integer", "minimum": 1},
                "profile": ref("AuditProfile"),
                "score": {**SHARE, "description": "Share of applicable items passed."},
                "passed": BOOLEAN,
            }
        ),
    }


# -- /api/docs: the document laid out for people ----------------------------------------------


def type_text(schema: Schema) -> str:
    """A schema in a few words: 'integer 1…50', 'Facility[]', 'string (date) | null'."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    choices = schema.get("anyOf") or schema.get("oneOf") or []
    if choices:
        return " | ".join(type_text(s) for s in choices)
    given = schema.get("type", "")
    kinds: list[str] = [given] if isinstance(given, str) else list(given)
    nullable = "null" in kinds
    kinds = [k for k in kinds if k != "null"]
    text = " | ".join(kinds)
    if "const" in schema:
        text = json.dumps(schema["const"], ensure_ascii=False)
    elif "enum" in schema:
        text = " | ".join(str(v) for v in schema["enum"] if v is not None)
    elif text == "array" and "items" in schema:
        text = type_text(schema["items"]) + "[]"
    elif text == "object" and isinstance(schema.get("additionalProperties"), dict):
        text = "{key: " + type_text(schema["additionalProperties"]) + "}"
    if "format" in schema:
        text += f" ({schema['format']})"
    if "minimum" in schema and "maximum" in schema:
        text += f" {schema['minimum']}…{schema['maximum']}"
    elif "minimum" in schema:
        text += f" ≥ {schema['minimum']}"
    elif "maximum" in schema:
        text += f" ≤ {schema['maximum']}"
    if "maxLength" in schema:
        text += f" ≤ {schema['maxLength']}"
    if "default" in schema:
        text += f" = {schema['default']}"
    return text + (" | null" if nullable else "")


# The vocabularies listed at the foot of /api/docs, each key with its Chinese and English names.
DOCS_VOCABULARIES = {
    "Facility": FACILITIES,
    "HostType": HOST_TYPES,
    "EntryMethod": ENTRY_METHODS,
    "Status": STATUSES,
    "Datum": DATUMS,
    "CheckinKind": KINDS,
}


def _vocabulary_of(schema: Schema) -> str | None:
    """The listed vocabulary a field takes its values from, if any."""
    name = type_text(schema).removesuffix(" | null").removesuffix("[]")
    if name == "PublishedStatus":
        return "Status"
    return name if name in DOCS_VOCABULARIES or name == "AuditProfile" else None


def _row(name: str, where: str, required: bool, schema: Schema, description: str, vocabulary=None):
    return {
        "name": name,
        "where": where,
        "required": required,
        "type": type_text(schema),
        "vocabulary": vocabulary or _vocabulary_of(schema),
        "description": description,
    }


def _rows(parameters: list[dict]) -> list[dict]:
    return [
        _row(
            p["name"],
            p["in"],
            p.get("required", False),
            p["schema"],
            p.get("description", ""),
            _vocabulary_of(ref(p["x-vocabulary"])) if "x-vocabulary" in p else None,
        )
        for p in parameters
    ]


def _pretty(value: Any, indent: int = 0) -> str:
    """JSON for people: two-space indents, short lists of plain values on one line."""
    if isinstance(value, str) and indent == 0:
        return value  # CSV, already text
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {_pretty(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = [f"{inner}{_pretty(v, indent + 2)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _vocabularies() -> list[dict]:
    out = [
        {"name": name, "terms": [(t.key, t.zh, t.en) for t in vocab.terms]}
        for name, vocab in DOCS_VOCABULARIES.items()
    ]
    out.append({"name": "AuditProfile", "terms": [(p.key, p.zh, p.en) for p in PROFILES.values()]})
    return out


def _body_fields(schema: Schema) -> list[dict]:
    return [
        _row(field, "body", field in schema.get("required", ()), spec, spec.get("description", ""))
        for field, spec in schema["properties"].items()
    ]


def _objects_within(schema: Schema, found: dict[str, Schema]) -> list[str]:
    """The object schemas a body's fields refer to (an audit's answers), to list theirs too."""
    names = []
    for spec in schema["properties"].values():
        for inner in (spec, spec.get("items", {}), spec.get("additionalProperties", {})):
            name = inner.get("$ref", "").rsplit("/", 1)[-1] if isinstance(inner, dict) else ""
            if name and found[name].get("type") == "object" and name not in names:
                names.append(name)
    return names


def docs_page(server_url: str) -> dict:
    """What templates/api_docs.html shows: each operation with its parameters, the fields of
    its request body, its example request (curl and body) and an example of each response."""
    doc = document(server_url)
    found = doc["components"]["schemas"]
    operations = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            body = None
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                name = type_text(content["schema"])
                schema = found[name]
                body = {
                    "schema": name,
                    "fields": _body_fields(schema),
                    "nested": [
                        {"schema": inner, "fields": _body_fields(found[inner])}
                        for inner in _objects_within(schema, found)
                    ],
                    "example": _pretty(content["example"]),
                }
            responses = []
            for status, response in op["responses"].items():
                examples = []
                for media, spec in response.get("content", {}).items():
                    if "example" in spec:
                        examples.append(("", media, _pretty(spec["example"])))
                    for example in spec.get("examples", {}).values():
                        examples.append((example["summary"], media, _pretty(example["value"])))
                responses.append(
                    {
                        "status": status,
                        "description": response["description"],
                        "schema": ", ".join(
                            type_text(spec["schema"])
                            for spec in response.get("content", {}).values()
                        ),
                        "examples": examples,
                    }
                )
            operations.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": op["summary"],
                    "description": op.get("description", ""),
                    "bearer": bool(op.get("security")),
                    "parameters": _rows(item.get("parameters", []) + op.get("parameters", [])),
                    "body": body,
                    "curl": op["x-codeSamples"][0]["source"],
                    "responses": responses,
                }
            )
    return {"doc": doc, "operations": operations, "vocabularies": _vocabularies()}
