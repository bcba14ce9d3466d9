"""The OpenAPI 3.1 description of /api/v1, built here beside the code it describes.

Tests validate it (openapi-spec-validator) and fuzz the running API from it (schemathesis).
"""

from stations.core import nearby
from stations.core.checkins import KINDS
from stations.core.coverage import DEFAULT_RADIUS_M, DEFAULT_SPACING_M, MIN_RADIUS_M, PRESETS
from stations.core.coverage import MAX_RADIUS_M as COVERAGE_MAX_RADIUS_M
from stations.core.demand import CELL_M, MIN_CELL_SEARCHES
from stations.core.published import PUBLIC_STATUSES
from stations.core.vocab import DATUMS, FACILITIES, STATUSES
from stations.web.api.base import MAP_MARKERS_MAX, MAX_K, MAX_RADIUS_M, PAGE_MAX

ERROR = {"$ref": "#/components/responses/Error"}


def _param(name, schema, description, required=False, where="query"):
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema,
    }


def _errors(*codes):
    return {str(code): ERROR for code in codes}


def _geo(schema_ref):
    return {"application/geo+json": {"schema": {"$ref": schema_ref}}}


FILTERS = [
    _param(
        "facilities",
        {"type": "string"},
        f"Comma list; all must be present. Keys: {', '.join(FACILITIES.keys())}.",
    ),
    _param(
        "open_now",
        {"type": "string", "enum": ["0", "1", "true", "false"]},
        "Only stations open at this moment.",
    ),
]
KEY = _param("key", {"type": "string"}, "A partner's API key (or send X-API-Key).")


def document(server_url: str = "/") -> dict:
    station_id = _param(
        "station_id", {"type": "integer", "minimum": 1}, "Station id.", True, "path"
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Yizhan — union rest stations API",
            "version": "1.0.0",
            "description": "Trade-union rest stations for outdoor workers in China. Stations are GeoJSON (RFC 7946), "
            'coordinates WGS-84 [lon, lat]. Every error is {"error": {"code", "message", "field"}}.',
            "license": {"name": "Open Database License (ODbL) 1.0", "identifier": "ODbL-1.0"},
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/api/v1/stations/nearest": {
                "get": {
                    "operationId": "nearest",
                    "summary": "The nearest stations, by exact geodesic distance",
                    "description": "Each answered search is counted for coverage planning in a "
                    "~500 m grid cell, with whether a station was found within 1 km; the point "
                    "itself, the address and the client are not kept.",
                    "parameters": [
                        _param(
                            "lat",
                            {"type": "number", "minimum": -90, "maximum": 90},
                            "Latitude of the query point.",
                            True,
                        ),
                        _param(
                            "lon",
                            {"type": "number", "minimum": -180, "maximum": 180},
                            "Longitude of the query point.",
                            True,
                        ),
                        _param(
                            "k",
                            {"type": "integer", "minimum": 1, "maximum": MAX_K},
                            "How many stations (default 5).",
                        ),
                        _param(
                            "radius_m",
                            {"type": "integer", "minimum": 1, "maximum": MAX_RADIUS_M},
                            "Search radius; when nothing matches inside it the nearest are returned "
                            "anyway, up to the server's cap (query.anyway_max_m).",
                        ),
                        _param(
                            "sort",
                            {"type": "string", "enum": list(nearby.SORTS)},
                            "distance (default), or useful: open stations first, then hours "
                            "unknown, closed for now, temporarily closed; nearest first in each.",
                        ),
                        *FILTERS,
                        _param(
                            "crs",
                            {"type": "string", "enum": DATUMS.keys()},
                            "Datum of lat/lon (WeChat reports gcj02).",
                        ),
                        KEY,
                    ],
                    "responses": {
                        "200": {
                            "description": "Stations, nearest first",
                            "content": _geo("#/components/schemas/Nearest"),
                        },
                        **_errors(400, 401, 403, 414, 429),
                    },
                }
            },
            "/api/v1/stations": {
                "get": {
                    "operationId": "listStations",
                    "summary": "Published stations with filters, paged by cursor",
                    "parameters": [
                        _param("bbox", {"type": "string"}, "min_lon,min_lat,max_lon,max_lat"),
                        _param(
                            "region",
                            {"type": "string", "pattern": "^[0-9]{2}([0-9]{2}){0,2}$"},
                            "Adcode prefix: 63, 6301, 630102.",
                        ),
                        *FILTERS,
                        _param(
                            "status",
                            {"type": "string"},
                            f"Comma list of {', '.join(PUBLIC_STATUSES)}.",
                        ),
                        _param(
                            "updated_since",
                            {"type": "string"},
                            "ISO 8601: only stations changed after it (for sync).",
                        ),
                        _param(
                            "format",
                            {"type": "string", "enum": ["geojson", "csv"]},
                            "Response format.",
                        ),
                        _param(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": PAGE_MAX},
                            "Page size (default 100).",
                        ),
                        _param(
                            "cursor",
                            {"type": "integer", "minimum": 0},
                            "next_cursor of the previous page.",
                        ),
                        KEY,
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of stations",
                            "content": {
                                **_geo("#/components/schemas/Page"),
                                "text/csv": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors(400, 401, 403, 414, 429),
                    },
                },
                "post": {
                    "operationId": "createStation",
                    "summary": "Create a station (staff)",
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "Created",
                            "content": _geo("#/components/schemas/Feature"),
                        },
                        **_errors(400, 401, 403, 415, 429, 503),
                    },
                },
            },
            "/api/v1/stations/{station_id}": {
                "parameters": [station_id],
                "get": {
                    "operationId": "getStation",
                    "summary": "One station",
                    "description": "404 for planned and closed stations, except to staff "
                    "with a bearer token for their region (who need the ETag to edit them).",
                    "parameters": [KEY],
                    "responses": {
                        "200": {
                            "description": "The station",
                            "content": _geo("#/components/schemas/Feature"),
                        },
                        "304": {"description": "Not modified"},
                        **_errors(401, 404, 429),
                    },
                },
                "patch": {
                    "operationId": "patchStation",
                    "summary": "Change fields (staff; If-Match required)",
                    "security": [{"bearer": []}],
                    "parameters": [
                        _param(
                            "If-Match",
                            {"type": "string"},
                            'The ETag last seen, e.g. "v3".',
                            False,
                            "header",
                        )
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "Changed",
                            "content": _geo("#/components/schemas/Feature"),
                        },
                        **_errors(400, 401, 403, 404, 412, 415, 428, 429, 503),
                    },
                },
                "delete": {
                    "operationId": "closeStation",
                    "summary": "Close the station (staff; If-Match required)",
                    "security": [{"bearer": []}],
                    "parameters": [
                        _param(
                            "If-Match", {"type": "string"}, "The ETag last seen.", False, "header"
                        )
                    ],
                    "responses": {
                        "200": {
                            "description": "Closed",
                            "content": _geo("#/components/schemas/Feature"),
                        },
                        **_errors(400, 401, 403, 404, 412, 428, 429, 503),
                    },
                },
            },
            "/api/v1/stations/{station_id}/audits": {
                "post": {
                    "operationId": "postAudit",
                    "summary": "Record an audit (staff)",
                    "security": [{"bearer": []}],
                    "parameters": [station_id],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "Recorded",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_errors(400, 401, 403, 404, 415, 429, 503),
                    },
                }
            },
            "/api/v1/cities": {
                "get": {
                    "operationId": "cities",
                    "summary": "Cities with published stations: count, mean position, bbox",
                    "parameters": [KEY],
                    "responses": {
                        "200": {
                            "description": "Cities by adcode",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Cities"}
                                }
                            },
                        },
                        **_errors(401, 403, 429),
                    },
                }
            },
            "/api/v1/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Cities and stations whose name or address contains q",
                    "parameters": [
                        _param(
                            "q", {"type": "string", "minLength": 1, "maxLength": 50}, "Text.", True
                        ),
                        _param(
                            "limit", {"type": "integer", "minimum": 1, "maximum": 20}, "At most."
                        ),
                        _param("lat", {"type": "number"}, "Order stations by distance from here."),
                        _param("lon", {"type": "number"}, "With lat."),
                        KEY,
                    ],
                    "responses": {
                        "200": {
                            "description": "Matching cities and stations",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_errors(400, 401, 403, 414, 429),
                    },
                }
            },
            "/api/v1/map": {
                "get": {
                    "operationId": "mapView",
                    "summary": f"Compact markers for a view, or clusters above {MAP_MARKERS_MAX}",
                    "parameters": [
                        _param("bbox", {"type": "string"}, "min_lon,min_lat,max_lon,max_lat", True),
                        *FILTERS,
                        KEY,
                    ],
                    "responses": {
                        "200": {
                            "description": "Markers [id, lat, lon, name, open] or clusters [lat, lon, count]",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/MapView"}
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
                    "summary": "Counts for a region",
                    "parameters": [
                        _param(
                            "adcode",
                            {"type": "string"},
                            "Adcode prefix: 63, 6301, 630102.",
                            True,
                            "path",
                        ),
                        KEY,
                    ],
                    "responses": {
                        "200": {
                            "description": "Summary",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Summary"}
                                }
                            },
                        },
                        **_errors(401, 403, 404, 429),
                    },
                }
            },
            "/api/v1/regions/{adcode}/coverage": {
                "get": {
                    "operationId": "regionCoverage",
                    "summary": "The service circle of a region: area and demand covered by district, suggested sites",
                    "description": "Circles of open, published stations (neighbours' circles that reach "
                    "across the border count), measured in each district's CGCS2000 3-degree "
                    "Gauss-Krüger zone. Demand is an imported layer or the unmet searches of the "
                    f"last 90 days (grid cells of about {CELL_M} m with at least "
                    f"{MIN_CELL_SEARCHES} searches).",
                    "parameters": [
                        _param(
                            "adcode",
                            {"type": "string", "pattern": "^[0-9]{2}([0-9]{2}){0,2}$"},
                            "Adcode prefix: 63, 6301, 630102.",
                            True,
                            "path",
                        ),
                        _param(
                            "preset",
                            {"type": "string", "enum": list(PRESETS)},
                            "; ".join(f"{p.key}: {p.en}" for p in PRESETS.values()),
                        ),
                        _param(
                            "radius_m",
                            {
                                "type": "number",
                                "minimum": MIN_RADIUS_M,
                                "maximum": COVERAGE_MAX_RADIUS_M,
                            },
                            f"Service radius in metres (default {DEFAULT_RADIUS_M:.0f}); a preset overrides it.",
                        ),
                        _param(
                            "only_24h",
                            {"type": "string", "enum": ["0", "1", "true", "false"]},
                            "Count only stations open 24 hours.",
                        ),
                        _param(
                            "facilities",
                            {"type": "string"},
                            f"Comma list; a station counts only if it offers all. Keys: {', '.join(FACILITIES.keys())}.",
                        ),
                        _param(
                            "spacing_m",
                            {"type": "number", "minimum": 10, "maximum": 5000},
                            f"Pairs of stations closer than this are listed as redundant (default {DEFAULT_SPACING_M:.0f}).",
                        ),
                        _param(
                            "demand",
                            {"type": "string"},
                            "An imported demand layer's name, 'searches', or 'none' (default: the first demand layer with points in the region, else searches).",
                        ),
                        _param(
                            "suggest",
                            {"type": "integer", "minimum": 0, "maximum": 10},
                            "How many new sites to suggest (maximal covering of uncovered demand).",
                        ),
                        _param(
                            "geometry",
                            {"type": "string", "enum": ["0", "1", "true", "false"]},
                            "Also return the layers (circles, gaps, suggestions, demand, stations) as GeoJSON.",
                        ),
                        KEY,
                    ],
                    "responses": {
                        "200": {
                            "description": "Coverage by district",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Coverage"}
                                }
                            },
                        },
                        **_errors(400, 401, 403, 404, 429),
                    },
                }
            },
            "/api/v1/export/stations.geojson": {
                "get": {
                    "operationId": "exportGeojson",
                    "summary": "The whole published registry (ODbL)",
                    "parameters": [KEY],
                    "responses": {
                        "200": {
                            "description": "All stations",
                            "content": _geo("#/components/schemas/Collection"),
                        },
                        **_errors(401, 429),
                    },
                }
            },
            "/api/v1/export/stations.csv": {
                "get": {
                    "operationId": "exportCsv",
                    "summary": "The whole published registry as CSV (ODbL)",
                    "parameters": [KEY],
                    "responses": {
                        "200": {
                            "description": "All stations",
                            "content": {"text/csv": {"schema": {"type": "string"}}},
                        },
                        **_errors(401, 429),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "flask --app app user token NAME",
                },
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
            "responses": {
                "Error": {
                    "description": "What was wrong",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message", "field"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "field": {"type": ["string", "null"]},
                            },
                        }
                    },
                },
                "Point": {
                    "type": "object",
                    "required": ["type", "coordinates"],
                    "properties": {
                        "type": {"const": "Point"},
                        "coordinates": {
                            "type": "array",
                            "items": {"type": "number"},
                            "minItems": 2,
                            "maxItems": 2,
                        },
                    },
                },
                "Feature": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"const": "Feature"},
                        "id": {"type": ["integer", "string"]},
                        "geometry": {"$ref": "#/components/schemas/Point"},
                        "properties": {
                            "type": "object",
                            "required": ["code", "name", "status", "facilities"],
                            "properties": {
                                "id": {"type": "integer"},
                                "code": {"type": "string"},
                                "name": {"type": "string"},
                                # staff writes answer with any status, public reads never
                                # with planned or closed
                                "status": {"enum": list(STATUSES.keys())},
                                "facilities": {
                                    "type": "array",
                                    "items": {"enum": FACILITIES.keys()},
                                },
                                "open_now": {"type": ["boolean", "null"]},
                                "distance_m": {"type": "integer"},
                                "warnings": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    },
                },
                "Collection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"const": "FeatureCollection"},
                        "features": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Feature"},
                        },
                    },
                },
                "Page": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Collection"},
                        {
                            "type": "object",
                            "required": ["next_cursor"],
                            "properties": {"next_cursor": {"type": ["integer", "null"]}},
                        },
                    ]
                },
                "Nearest": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Collection"},
                        {
                            "type": "object",
                            "required": ["nearest_anyway"],
                            "properties": {
                                "nearest_anyway": {"type": "boolean"},
                                "query": {"type": "object"},
                                "reason": {"enum": ["none_nearby", "none_match", None]},
                                "nearest_city": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/City"},
                                        {"type": "null"},
                                    ]
                                },
                            },
                        },
                    ]
                },
                "City": {
                    "type": "object",
                    "required": ["adcode", "name", "province", "stations", "lat", "lon", "bbox"],
                    "properties": {
                        "adcode": {"type": "string", "pattern": "^[0-9]{4}$"},
                        "name": {"type": "string"},
                        "province": {"type": "string"},
                        "stations": {"type": "integer", "minimum": 1},
                        "lat": {"type": "number"},
                        "lon": {"type": "number"},
                        "bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4},
                        "distance_m": {"type": "integer"},
                    },
                },
                "Cities": {
                    "type": "object",
                    "required": ["cities"],
                    "properties": {
                        "cities": {"type": "array", "items": {"$ref": "#/components/schemas/City"}}
                    },
                },
                "MapView": {
                    "type": "object",
                    "required": ["markers", "clusters"],
                    "properties": {
                        "markers": {"type": "array", "items": {"type": "array"}},
                        "clusters": {"type": "array", "items": {"type": "array"}},
                    },
                },
                "Summary": {
                    "type": "object",
                    "required": ["adcode", "name", "stations", "by_status"],
                    "properties": {
                        "adcode": {"type": "string"},
                        "name": {"type": "string"},
                        "stations": {"type": "integer"},
                        "by_status": {"type": "object"},
                        "facilities": {"type": "object"},
                    },
                },
                "CoverageRow": {
                    "type": "object",
                    "required": [
                        "adcode",
                        "name",
                        "area_km2",
                        "covered_km2",
                        "covered_share",
                        "stations",
                    ],
                    "properties": {
                        "adcode": {"type": "string"},
                        "name": {"type": "string"},
                        "area_km2": {"type": "number"},
                        "covered_km2": {"type": "number"},
                        "covered_share": {"type": "number"},
                        "stations": {"type": "integer"},
                        "density": {"type": "number", "description": "Open stations per km²."},
                        "demand": {"type": "number"},
                        "demand_covered": {"type": "number"},
                        "demand_share": {"type": ["number", "null"]},
                        "redundant_pairs": {"type": "integer"},
                    },
                },
                "Coverage": {
                    "type": "object",
                    "required": ["region", "query", "total", "districts", "suggestions"],
                    "properties": {
                        "region": {"type": "object"},
                        "query": {"type": "object"},
                        "demand": {"type": "object"},
                        "target": {"type": "object"},
                        "total": {"$ref": "#/components/schemas/CoverageRow"},
                        "districts": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/CoverageRow"},
                        },
                        "suggestions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "rank": {"type": "integer"},
                                    "lat": {"type": "number"},
                                    "lon": {"type": "number"},
                                    "adds": {
                                        "type": "number",
                                        "description": "Demand it covers that nothing covered before.",
                                    },
                                    "adcode": {"type": "string"},
                                    "district": {"type": "string"},
                                    "label": {"type": "string"},
                                },
                            },
                        },
                        "gaps": {"type": "integer"},
                        "redundant_pairs": {"type": "array", "items": {"type": "object"}},
                        "layers": {"type": "object"},
                    },
                },
                "CheckinKind": {"enum": KINDS.keys()},
            },
        },
    }
