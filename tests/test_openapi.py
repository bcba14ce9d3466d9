"""The OpenAPI document is valid 3.1, describes every route with closed schemas and examples,
real responses validate against it (and broken ones do not), its examples are what the API
really answers, and fuzzing it finds no 500."""

import copy
import gzip
import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import schemathesis
import test_browser
from babel.messages.pofile import read_po
from hypothesis import HealthCheck, given, settings
from markupsafe import escape
from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance
from werkzeug.datastructures import Headers

from app import create_app
from stations.core import accounts
from stations.web.api import openapi

from conftest import FRIDAY_10

HOST = "http://localhost"
PO = Path(__file__).resolve().parent.parent / "translations/zh/LC_MESSAGES/messages.po"
GEO = "application/geo+json"
browser, server = test_browser.browser, test_browser.server  # its Chromium and live app


@pytest.fixture
def fuzz_app(seeded, db_path, clock):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{db_path}",
            "SECRET_KEY": "fuzz",
            "CLOCK": clock,
            "RATELIMIT_ENABLED": False,
            "SEARCH_LOG_FLUSH_SECONDS": 0,
        }
    )


@pytest.fixture
def staff(fuzz_app):
    """A signed-in admin for Hefei (3401) and its bearer header, on the fuzz app's store."""
    from staff_helpers import make_users, token_for

    from stations.store import open_store

    store = open_store(fuzz_app.config["DATABASE_URL"])
    make_users(store)
    token = token_for(store, "hf-admin")
    store.close()
    return {"Authorization": f"Bearer {token}"}


def spec_for(doc: dict) -> OpenAPI:
    return OpenAPI.from_dict(
        doc,
        config=Config(
            extra_media_type_deserializers={
                GEO: json.loads,
                "text/csv": lambda data: data.decode() if isinstance(data, bytes) else data,
            }
        ),
    )


@pytest.fixture(scope="module")
def doc() -> dict:
    return openapi.document(HOST + "/")


@pytest.fixture(scope="module")
def spec(doc) -> OpenAPI:
    return spec_for(doc)


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method != "parameters":
                yield path, method, op, item.get("parameters", []) + op.get("parameters", [])


def check(spec: OpenAPI, response) -> None:
    """openapi-core validates a real Flask test response against the operation it answers."""
    sent = response.request  # its body was read by the app: the request as sent, without it
    request = MockRequest(
        HOST, sent.method, sent.path, args=dict(sent.args), headers=dict(sent.headers)
    )
    spec.validate_response(request, WerkzeugOpenAPIResponse(response))


def check_body(spec, method, path, status, body, media=GEO) -> None:
    """openapi-core validates a response body (as JSON) for an operation and status."""
    spec.validate_response(
        MockRequest(HOST, method, path),
        MockResponse(
            json.dumps(body, ensure_ascii=False).encode()
            if not isinstance(body, str)
            else body.encode(),
            status_code=status,
            content_type=media,
        ),
    )


# -- the document -----------------------------------------------------------------------------


def test_the_served_document_is_valid_openapi_3_1(fuzz_app):
    response = fuzz_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.json
    assert document["openapi"] == "3.1.0"
    validate(document)
    assert document["servers"] == [{"url": HOST}]


def test_every_api_route_is_documented(fuzz_app):
    paths = fuzz_app.test_client().get("/api/v1/openapi.json").json["paths"]
    documented = {
        (path, method.upper())
        for path, item in paths.items()
        for method in item
        if method != "parameters"
    }
    routes = set()
    for rule in fuzz_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        expanded = (
            [path.replace("{fmt}", f) for f in ("geojson", "csv")] if "{fmt}" in path else [path]
        )
        for p in expanded:
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((p, method))
    assert routes - documented == set()
    assert documented - routes == set()  # and nothing documented that does not exist


def test_vocabularies_come_from_the_code(doc):
    from stations.core.checkins import KINDS
    from stations.core.editing import CREATE_ONLY, EDITABLE
    from stations.core.standards import profiles
    from stations.core.vocab import DATUMS, ENTRY_METHODS, FACILITIES, HOST_TYPES, STATUSES

    schemas = doc["components"]["schemas"]
    assert schemas["Facility"]["enum"] == FACILITIES.keys()
    assert schemas["HostType"]["enum"] == HOST_TYPES.keys()
    assert schemas["EntryMethod"]["enum"] == ENTRY_METHODS.keys()
    assert schemas["Status"]["enum"] == STATUSES.keys()
    assert schemas["PublishedStatus"]["enum"] == ["open", "temporarily_closed"]
    assert schemas["Datum"]["enum"] == DATUMS.keys()
    assert schemas["CheckinKind"]["enum"] == KINDS.keys()
    assert schemas["AuditProfile"]["enum"] == list(profiles())
    assert "饮用水" in schemas["Facility"]["description"]
    assert set(schemas["StationCreate"]["properties"]) == set(EDITABLE + CREATE_ONLY)
    assert set(schemas["StationPatch"]["properties"]) == set(EDITABLE)
    assert schemas["StationCreate"]["additionalProperties"] is False
    # the nearest feature declares every property it carries, each with a type
    nearest = schemas["NearestStationProperties"]
    assert len(nearest["properties"]) == 28 and nearest["required"] == list(nearest["properties"])
    assert nearest["properties"]["bearing_deg"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 359,
        "description": "Initial bearing from the query point, degrees from north.",
    }


def test_every_operation_has_examples_and_a_curl_line(doc):
    for path, method, op, parameters in operations(doc):
        where = (method, path)
        assert op["x-codeSamples"][0]["source"].startswith("curl "), where
        for p in parameters:
            if p["required"]:
                assert "example" in p, (where, p["name"])
        if "requestBody" in op:
            assert "example" in op["requestBody"]["content"]["application/json"], where
        for status, response in op["responses"].items():
            if status == "304":
                assert "content" not in response
                continue
            for media, spec in response["content"].items():
                assert "example" in spec or spec.get("examples"), (where, status, media)


# -- the examples validate, and are what the API answers ---------------------------------------


def test_every_example_validates_against_its_schema(doc, spec):
    checked = 0
    for path, method, op, _parameters in operations(doc):
        for status, response in op["responses"].items():
            for media, content in response.get("content", {}).items():
                values = [content["example"]] if "example" in content else []
                values += [e["value"] for e in content.get("examples", {}).values()]
                for value in values:
                    check_body(spec, method, path, int(status), value, media)
                    checked += 1
    assert checked >= 60, checked


def example_request(doc, path, method) -> MockRequest:
    op = doc["paths"][path][method]
    parameters = doc["paths"][path].get("parameters", []) + op.get("parameters", [])
    url = op["x-codeSamples"][0]["source"].split()[1 if method == "get" else 3].strip("'")
    parts = urlsplit(url)
    headers = {
        p["name"]: p["example"] for p in parameters if p["in"] == "header" and "example" in p
    }
    if op.get("security"):
        headers["Authorization"] = "Bearer example"
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    view_args = {p["name"]: p["example"] for p in parameters if p["in"] == "path"}
    return MockRequest(
        HOST,
        method,
        parts.path,
        args=dict(parse_qsl(parts.query)),
        view_args=view_args,
        headers=headers,
        data=json.dumps(body["example"], ensure_ascii=False).encode() if body else None,
    )


def test_every_example_request_validates(doc, spec):
    """The example parameters and bodies (as the curl line sends them) are valid requests."""
    for path, method, _op, _parameters in operations(doc):
        spec.validate_request(example_request(doc, path, method))


def test_a_wrong_request_body_fails_validation(doc, spec):
    request = example_request(doc, "/api/v1/stations", "post")
    body = json.loads(request.body)
    request.body = json.dumps(
        {**body, "status": "temporarily_closed", "closed_until": "2026-12-01"}
    ).encode()
    spec.validate_request(request)  # with it, fine
    for bad in (
        {**body, "is_admin": True},  # a field nobody may set
        {**body, "facilities": ["jacuzzi"]},
        {**body, "status": "gone"},
        {**body, "lat": "north"},
        {k: v for k, v in body.items() if k != "code"},
        {**body, "status": "temporarily_closed"},  # without closed_until, the reopening date
    ):
        request.body = json.dumps(bad).encode()
        with pytest.raises(OpenAPIError):
            spec.validate_request(request)


def test_the_example_station_is_where_the_example_says(doc):
    """The examples' districts are what the registry's validation finds for their points."""
    from stations.core.model import validate as validate_station

    for station in openapi.EXAMPLE_STATIONS + (openapi.EXAMPLE_CREATED,):
        found = validate_station(
            {"code": station.code, "name": station.name, "lat": station.lat, "lon": station.lon}
        )
        assert (found.adcode, found.province, found.city, found.district) == (
            station.adcode,
            station.province,
            station.city,
            station.district,
        )


# -- real responses validate; broken ones do not ---------------------------------------------


READS = [
    "/api/v1/stations/nearest?lat=31.82&lon=117.2&k=3",
    "/api/v1/stations/nearest?lat=31.82&lon=117.2&k=2&radius_m=500&facilities=toilet&crs=gcj02",
    "/api/v1/stations/nearest?lat=36.6&lon=101.7&open_now=1&facilities=aed",
    "/api/v1/stations/nearest?lat=31.82&lon=117.2&k=3&sort=useful&radius_m=3000",
    # every option at once
    "/api/v1/stations/nearest?lat=31.818&lon=117.205&crs=gcj02&k=4&radius_m=2000"
    "&facilities=toilet,drinking_water&open_now=true&sort=useful",
    "/api/v1/stations/nearest?lat=31.82&lon=117.2&radius_m=3000&facilities=aed",  # none_match
    "/api/v1/stations/nearest?lat=29.65&lon=91.17&radius_m=3000",  # none_nearby: Lhasa
    "/api/v1/cities",
    "/api/v1/search?q=驿站&limit=2",
    "/api/v1/search?q=合肥&lat=31.8&lon=117.2",
    "/api/v1/stations?limit=2",
    "/api/v1/stations?region=34&status=open&updated_since=2020-01-01",
    "/api/v1/stations?format=csv&limit=1",
    "/api/v1/stations/1",
    "/api/v1/map?bbox=100,30,121,37",
    "/api/v1/regions/34/summary",
    "/api/v1/regions/630103/summary",
    "/api/v1/regions/6301/coverage?suggest=1&geometry=1",
    "/api/v1/export/stations.geojson",
    "/api/v1/export/stations.csv",
]


def test_real_responses_of_every_read_validate(fuzz_app, doc, spec):
    client = fuzz_app.test_client()
    answers = {}
    for url in READS:
        response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        check(spec, response)
        answers[url] = response
    # every read the document describes was among them
    reads = {path for path, method, _op, _p in operations(doc) if method == "get"}
    pattern = {p: re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", p) + "$") for p in reads}
    asked = {p for p in reads for url in READS if pattern[p].match(urlsplit(url).path)}
    assert asked == reads, reads - asked
    # the empty answers say why, and the nearest city then validates too
    lhasa = answers["/api/v1/stations/nearest?lat=29.65&lon=91.17&radius_m=3000"].json
    assert lhasa["reason"] == "none_nearby" and lhasa["nearest_city"]["name"] == "西宁市"
    every = answers[READS[4]].json
    assert every["query"]["input_crs"] == "gcj02" and every["query"]["sort"] == "useful"
    assert every["features"], every  # the properties of a found station were validated
    aed = answers["/api/v1/stations/nearest?lat=31.82&lon=117.2&radius_m=3000&facilities=aed"]
    assert aed.json["reason"] == "none_match" and aed.json["features"] == []
    # not modified, and the errors
    again = client.get(
        "/api/v1/stations/1",
        headers={"If-None-Match": answers["/api/v1/stations/1"].headers["ETag"]},
    )
    assert again.status_code == 304
    check(spec, again)
    for url, status in [
        ("/api/v1/stations/nearest?lat=91&lon=117", 400),
        ("/api/v1/stations/nearest?lat=31&lon=117&key=nonsense", 400),  # keys: header only
        ("/api/v1/stations/999", 404),
        ("/api/v1/regions/9999/summary", 404),
        ("/api/v1/search?q=", 400),
        ("/api/v1/stations?" + "x=1&" * 1200, 414),
    ]:
        response = client.get(url)
        assert response.status_code == status, url
        check(spec, response)


def test_broken_responses_fail_validation(fuzz_app, spec):
    """What the schemas exist for: a mistyped, unknown or missing property is caught."""
    response = fuzz_app.test_client().get("/api/v1/stations/nearest?lat=31.82&lon=117.2&k=2")
    body = response.json
    check_body(spec, "get", "/api/v1/stations/nearest", 200, body)

    def broken(change):
        bad = copy.deepcopy(body)
        change(bad)
        return bad

    props = lambda b: b["features"][0]["properties"]  # noqa: E731
    mutations = {
        "bearing north": lambda b: props(b).update(bearing_deg="north"),
        "bearing 360": lambda b: props(b).update(bearing_deg=360),
        "unknown property": lambda b: props(b).update(colour="blue"),
        "unknown top-level": lambda b: b.update(debug=True),
        "missing distance": lambda b: props(b).pop("distance_m"),
        "missing hours text": lambda b: props(b).pop("hours_text"),
        "planned is never public": lambda b: props(b).update(status="planned"),
        "unknown facility": lambda b: props(b)["facilities"].append("jacuzzi"),
        "open as text": lambda b: props(b).update(open_now="yes"),
        "closes at noon": lambda b: props(b).update(closes_at="noon"),
        "navigation app unknown": lambda b: props(b)["navigation"].update(waze="https://waze.com"),
        "warning unknown kind": lambda b: props(b)["warnings"].append(
            {"kind": "haunted", "facility": "", "count": 1, "last_at": "2026-11-20T09:00:00+08:00"}
        ),
        "longitude out of range": lambda b: b["features"][0]["geometry"].update(
            coordinates=[200, 31]
        ),
        "three coordinates": lambda b: b["features"][0]["geometry"]["coordinates"].append(5),
        "query crs": lambda b: b["query"].update(crs="gcj02"),
        "reason unknown": lambda b: b.update(reason="tired"),
    }
    for name, change in mutations.items():
        try:
            check_body(spec, "get", "/api/v1/stations/nearest", 200, broken(change))
        except OpenAPIError:
            continue
        pytest.fail(f"a response with {name} validated")
    # one station, as a read or a write answers it, is closed too
    one = fuzz_app.test_client().get("/api/v1/stations/1").json
    check_body(spec, "patch", "/api/v1/stations/1", 200, one)
    for change in (
        lambda b: b["properties"].update(manager_phone="13800138000"),  # staff-only: never
        lambda b: b["properties"].update(version=3),
        lambda b: b["properties"].pop("hours_text"),
    ):
        for method, path in (("get", "/api/v1/stations/1"), ("patch", "/api/v1/stations/1")):
            with pytest.raises(OpenAPIError):
                check_body(spec, method, path, 200, broken_copy(one, change))
    # an error body is closed too
    with pytest.raises(OpenAPIError):
        check_body(
            spec,
            "get",
            "/api/v1/stations/{station_id}".replace("{station_id}", "1"),
            404,
            {"error": {"code": "not_found", "message": "no station 1"}},
            "application/json",
        )


def broken_copy(body: dict, change) -> dict:
    bad = copy.deepcopy(body)
    change(bad)
    return bad


# -- the documented writes work as documented ------------------------------------------------


def without_ids(feature: dict) -> dict:
    props = {k: v for k, v in feature["properties"].items() if k not in ("id", "url")}
    return {**feature, "id": None, "properties": props}


def test_documented_writes_succeed_as_documented(fuzz_app, staff, doc, spec):
    """Each write sent as its example documents it, with a real staff token: the answer
    validates, and is the documented example response (but for the new station's id)."""
    client = fuzz_app.test_client()
    paths = doc["paths"]

    def example(path, method, status="200"):
        content = paths[path][method]["responses"][status]["content"]
        return next(iter(content.values()))["example"]

    create = paths["/api/v1/stations"]["post"]["requestBody"]["content"]["application/json"]
    created = client.post("/api/v1/stations", json=create["example"], headers=staff)
    assert created.status_code == 201, created.json
    check(spec, created)
    assert without_ids(created.json) == without_ids(example("/api/v1/stations", "post", "201"))
    new_id = created.json["id"]
    item = f"/api/v1/stations/{new_id}"

    audit_body = paths["/api/v1/stations/{station_id}/audits"]["post"]["requestBody"]
    audit = client.post(
        f"{item}/audits", json=audit_body["content"]["application/json"]["example"], headers=staff
    )
    assert audit.status_code == 201, audit.json
    check(spec, audit)
    documented = example("/api/v1/stations/{station_id}/audits", "post", "201")
    assert {k: v for k, v in audit.json.items() if k not in ("id", "station_id")} == {
        k: v for k, v in documented.items() if k not in ("id", "station_id")
    }

    # the audit shows on the station: its badge validates
    public = client.get(item)
    check(spec, public)
    assert public.json["properties"]["audit"]["profile"] == openapi.EXAMPLE_AUDIT_PROFILE

    patch = paths["/api/v1/stations/{station_id}"]["patch"]["requestBody"]["content"]
    patched = client.patch(
        item,
        json=patch["application/json"]["example"],
        headers={**staff, "If-Match": created.headers["ETag"]},
    )
    assert patched.status_code == 200, patched.json
    check(spec, patched)
    for key, value in patch["application/json"]["example"].items():
        assert patched.json["properties"][key] == value

    # a stale ETag, no ETag, not JSON: the documented errors
    stale = client.patch(
        item, json={"name": "x"}, headers={**staff, "If-Match": created.headers["ETag"]}
    )
    assert stale.status_code == 412 and stale.json["error"]["code"] == "version_conflict"
    check(spec, stale)
    blind = client.delete(item, headers=staff)
    assert blind.status_code == 428
    check(spec, blind)
    text = client.post("/api/v1/stations", data="code=x", headers=staff)
    assert text.status_code == 415
    check(spec, text)
    outside = client.post(
        "/api/v1/stations", json={**create["example"], "lat": 0, "lon": 0}, headers=staff
    )
    assert outside.status_code == 400 and outside.json["error"]["field"] == "lat"
    check(spec, outside)

    # a gzip client's tag, and "*": the answers validate as well
    gz = {"Accept-Encoding": "gzip"}
    tag = client.get(item, headers={**staff, **gz}).headers["ETag"]
    assert tag == patched.headers["ETag"][:-1] + ':gzip"'
    zipped = client.patch(
        item, json={"brand": "工会驿站"}, headers={**staff, **gz, "If-Match": tag}
    )
    assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "gzip"
    zipped.set_data(gzip.decompress(zipped.get_data()))
    check(spec, zipped)
    star = client.patch(item, json={"brand": "爱心驿站"}, headers={**staff, "If-Match": "*"})
    assert star.status_code == 200 and star.json["properties"]["brand"] == "爱心驿站"
    check(spec, star)

    closed = client.delete(item, headers={**staff, "If-Match": star.headers["ETag"]})
    assert closed.status_code == 200 and closed.json["properties"]["status"] == "closed"
    check(spec, closed)
    # staff still read it (any status); the public no longer does
    check(spec, client.get(item, headers=staff))
    assert client.get(item).status_code == 404


def test_error_examples_carry_the_codes_the_api_sends(doc, fuzz_app, staff):
    """Each documented error example's code is the one a real request of that status gets."""
    client = fuzz_app.test_client()
    real = {
        ("/api/v1/stations/nearest", "get", "400"): client.get(
            "/api/v1/stations/nearest?lat=91&lon=1"
        ),
        ("/api/v1/stations/nearest", "get", "401"): client.get(
            "/api/v1/stations/nearest?lat=31&lon=117", headers={"X-API-Key": "x"}
        ),
        ("/api/v1/stations/nearest", "get", "414"): client.get(
            "/api/v1/stations/nearest?" + "x" * 5000
        ),
        ("/api/v1/stations/{station_id}", "get", "404"): client.get("/api/v1/stations/999"),
        ("/api/v1/stations", "post", "401"): client.post("/api/v1/stations", json={}),
        ("/api/v1/stations", "post", "415"): client.post(
            "/api/v1/stations", data="x", headers=staff
        ),
        ("/api/v1/stations", "post", "400"): client.post(
            "/api/v1/stations", json={"code": "A-1", "name": "x", "lat": 0, "lon": 0}, headers=staff
        ),
        ("/api/v1/stations/{station_id}", "delete", "428"): client.delete(
            "/api/v1/stations/2", headers=staff
        ),
        ("/api/v1/stations/{station_id}", "patch", "400"): client.patch(
            "/api/v1/stations/2", json={"status": "gone"}, headers={**staff, "If-Match": "v1"}
        ),
        ("/api/v1/stations/{station_id}", "patch", "403"): client.patch(
            "/api/v1/stations/1", json={}, headers={**staff, "If-Match": '"v1"'}
        ),
        ("/api/v1/regions/{adcode}/summary", "get", "404"): client.get(
            "/api/v1/regions/9999/summary"
        ),
    }
    for (path, method, status), response in real.items():
        documented = doc["paths"][path][method]["responses"][status]["content"]["application/json"]
        assert str(response.status_code) == status, (path, method, response.json)
        assert response.json["error"]["code"] == documented["example"]["error"]["code"], (
            path,
            method,
            status,
            response.json,
        )


# -- fuzzing ----------------------------------------------------------------------------------


# What every fuzzed answer must be: no 5xx, a documented status and media type (schemathesis's
# checks), and a body that validates against its closed schema (openapi-core, below: an
# undeclared property fails). schemathesis's own response_schema_conformance is not used: it
# rewrites the 3.1 prefixItems of [lon, lat] tuples into draft-4 array items and then refuses
# its own rewrite under the 2020-12 meta-schema.
CONFORMS = [not_a_server_error, status_code_conformance, content_type_conformance]


def conforms(spec: OpenAPI, case, response) -> None:
    """openapi-core validates one fuzzed answer against the operation that was called."""
    headers = Headers([(k, v) for k, values in response.headers.items() for v in values])
    spec.validate_response(
        MockRequest(HOST, case.method.lower(), case.formatted_path),
        MockResponse(
            response.content,
            status_code=response.status_code,
            content_type=headers.get("Content-Type", "").split(";")[0],
            headers=headers,
        ),
    )


def _fuzz(schema, operations, headers=None, examples=30) -> list[int]:
    spec = spec_for(copy.deepcopy(schema.raw_schema))
    seen: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case):
            # identity: the WSGI client does not undo Flask-Compress (test_api covers gzip)
            response = case.call(headers={"Accept-Encoding": "identity", **(headers or {})})
            seen.append(response.status_code)
            assert response.status_code < 500, (
                case.method,
                case.path,
                case.query,
                case.body,
                response.text[:300],
            )
            if response.status_code >= 400:
                assert set(response.json()) == {"error"}, (
                    case.method,
                    case.path,
                    response.text[:300],
                )
            case.validate_response(response, checks=CONFORMS)
            conforms(spec, case, response)

        run()
    return seen


def _schema_without_keys(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # A random partner key is refused (401) before anything else is looked at: leave it out so
    # the generated requests reach the parameters behind it.
    for item in schema.raw_schema["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p for p in operation["parameters"] if p.get("name") != "X-API-Key"
                ]
    return schema


def test_fuzzing_finds_no_server_error(fuzz_app):
    """schemathesis generates requests from the document for every operation (bounded: 30 each,
    derandomized, so every run sends the same ones); none may get a 5xx or a non-JSON error."""
    schema = _schema_without_keys(fuzz_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    seen = _fuzz(schema, operations)
    assert len(seen) > 100, seen
    print("fuzzed", len(seen), "requests:", {code: seen.count(code) for code in sorted(set(seen))})


def test_fuzzing_the_writes_with_a_real_token_finds_no_server_error(fuzz_app, staff):
    """The writes fuzzed from their request schemas with a real staff token, so the bodies
    reach validation (and some succeed): never a 5xx."""
    schema = _schema_without_keys(fuzz_app)
    for item in schema.raw_schema["paths"].values():  # the stations that exist: 1, 2 and 3
        for p in item.get("parameters", []) + item.get("post", {}).get("parameters", []):
            if p["name"] == "station_id":
                p["schema"] = {"type": "integer", "enum": [1, 2, 3]}
    writes = [
        result.ok()
        for result in schema.get_all_operations()
        if result.ok().method.upper() in ("POST", "PATCH", "DELETE")
    ]
    assert len(writes) == 4
    seen = _fuzz(schema, writes, headers=staff, examples=50)
    assert len(seen) >= 150, seen
    print("fuzzed writes", len(seen), {code: seen.count(code) for code in sorted(set(seen))})
    # past the token: refused by validation, by region, by version, and some written
    assert {400, 403, 412} <= set(seen) and {200, 201} & set(seen), seen


# -- the page for people ----------------------------------------------------------------------


def test_human_docs_page_shows_every_operation_with_examples(fuzz_app, doc):
    client = fuzz_app.test_client()
    page = client.get("/api/docs?lang=en").get_data(as_text=True)
    for path, method, op, _parameters in operations(doc):
        assert f"{method.upper()}</span> <code>{path}</code>" in page, (method, path)
        curl = op["x-codeSamples"][0]["source"]
        assert str(escape(curl)) in page, curl
    for label in ("Parameters", "Request body", "Example request", "Example response", "Responses"):
        assert label in page
    assert "The nearest stations, by exact geodesic distance" in page
    # the example response of nearest, pretty-printed, Chinese as it is
    assert "&#34;bearing_deg&#34;: " in page and "蜀山区金寨路爱心驿站" in page
    # request body fields of a write, with their types, linked to the list of their values
    assert '<code class="api-name">facilities</code>' in page
    assert '<a class="api-type" href="#vocabulary-Facility"><code>Facility[]</code></a>' in page
    assert '<h3 id="vocabulary-Facility"><code>Facility</code></h3>' in page
    assert '<code class="api-name">drinking_water</code> <span>Drinking water</span>' in page
    # an audit's answers, one level down
    assert "<h4><code>AuditAnswer</code></h4>" in page and "pass | fail | na" in page


def test_human_docs_page_is_chinese_by_default(fuzz_app, doc):
    page = fuzz_app.test_client().get("/api/docs").get_data(as_text=True)
    for label in ("参数", "请求体", "请求示例", "响应示例", "响应"):
        assert label in page, label
    assert "Example request" not in page and "Parameters" not in page
    assert "离查询点最近的驿站（按精确的椭球面距离）" in page
    assert '<code class="api-name">drinking_water</code> <span>饮用水</span>' in page
    assert "响应示例：找到站点" in page


def test_every_text_on_the_docs_page_has_chinese(doc):
    """Summaries, descriptions of operations, parameters, body fields and responses: each is
    in the Chinese catalogue, so the zh page shows no English left over."""
    with open(PO, "rb") as f:
        translated = {m.id: m.string for m in read_po(f) if m.id and m.string}
    page = openapi.docs_page(HOST + "/")
    texts = {page["doc"]["info"]["description"]}
    for op in page["operations"]:
        texts |= {op["summary"], op["description"]}
        texts |= {p["description"] for p in op["parameters"]}
        body = op["body"] or {"fields": [], "nested": []}
        for fields in [body["fields"]] + [inner["fields"] for inner in body["nested"]]:
            texts |= {p["description"] for p in fields}
        for r in op["responses"]:
            texts.add(r["description"])
            texts |= {title for title, _media, _text in r["examples"]}
    missing = sorted(t for t in texts if t and t not in translated)
    assert not missing, missing


def test_the_clock_of_the_examples_is_the_tests_clock():
    # The documented write examples are compared with real answers at the tests' fixed moment.
    assert openapi.EXAMPLE_NOW.timetuple()[:5] == FRIDAY_10


def test_warnings_and_audit_badges_validate(fuzz_app, staff, doc, spec):
    """A station with workers' problem reports, an audit and a medicine past its date: the
    warnings and the badge it then carries validate, in every read that shows them."""
    client = fuzz_app.test_client()
    for rider in range(3):  # three riders' phones report the hot water broken
        phone = fuzz_app.test_client()
        page = phone.get("/stations/2", environ_base={"REMOTE_ADDR": f"10.0.0.{rider + 1}"})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
        sent = phone.post(
            "/stations/2/checkins",
            data={"kind": "broken", "facility": "hot_water", "csrf_token": token.group(1)},
            environ_base={"REMOTE_ADDR": f"10.0.0.{rider + 1}"},
            headers={"User-Agent": f"phone {rider}"},
        )
        assert sent.status_code in (200, 303), sent.status_code
    body = doc["paths"]["/api/v1/stations/{station_id}/audits"]["post"]["requestBody"]
    audit = copy.deepcopy(body["content"]["application/json"]["example"])
    audit["items"]["first_aid_kit"]["valid_until"] = "2026-11-01"  # before the clock's day
    assert client.post("/api/v1/stations/2/audits", json=audit, headers=staff).status_code == 201

    one = client.get("/api/v1/stations/2")
    check(spec, one)
    warnings = one.json["properties"]["warnings"]
    assert {"kind": "expired", "item": "first_aid_kit", "valid_until": "2026-11-01"} in warnings
    assert any(w["kind"] == "broken" and w["facility"] == "hot_water" for w in warnings), warnings
    assert one.json["properties"]["audit"]["passed"] is False
    for url in ("/api/v1/stations/nearest?lat=31.82&lon=117.2", "/api/v1/stations?region=34"):
        listed = client.get(url)
        check(spec, listed)
        assert listed.json["features"][0]["properties"]["warnings"] == warnings


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_docs_page_reads_on_a_phone(browser, server, lang, tmp_path):
    """At 390 px the page never scrolls sideways: long curl lines and JSON scroll inside their
    own boxes; the example request and response are there, in the reader's language."""
    phone = test_browser.Phone(browser, server)
    try:
        page = phone.open(f"/api/docs?lang={lang}")
        section = page.locator("#nearest")
        labels = {"zh": ("请求示例", "响应示例"), "en": ("Example request", "Example response")}
        assert section.locator("h3", has_text=labels[lang][0]).is_visible()
        curl = section.locator("pre.api-code").first
        assert curl.inner_text().startswith("curl ")
        assert section.locator("p.small", has_text=labels[lang][1]).first.is_visible()
        assert '"bearing_deg":' in section.locator("details[open] pre.api-code").first.inner_text()
        width = page.evaluate("window.innerWidth")
        assert width == 390
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        boxes = page.evaluate(
            """[...document.querySelectorAll('pre.api-code')].filter(p => p.offsetParent)
                .map(p => ({right: p.getBoundingClientRect().right, overflow:
                getComputedStyle(p).overflowX, wider: p.scrollWidth > p.clientWidth}))"""
        )
        assert boxes and all(b["right"] <= width and b["overflow"] == "auto" for b in boxes)
        assert any(b["wider"] for b in boxes)  # long lines scroll inside their box...
        moved = curl.evaluate("p => { p.scrollLeft = 200; return p.scrollLeft }")
        assert moved > 0 and page.evaluate("window.scrollX") == 0  # ...and not the page
        page.screenshot(path=test_browser._shots_dir(tmp_path) / f"api-docs-{lang}.png")
        assert set(phone.hosts) == {server.split("//")[1]}
    finally:
        phone.close()


# -- every schemathesis check --------------------------------------------------------------------

BIG = "1000000 per minute"
# The rules the document can only state in words, JSON Schema having no way to say them: a
# request valid by the schemas may be refused with 400 for these fields only (the operation,
# the field the error names). Every other refusal of a schema-valid request is a failure.
IN_WORDS = {
    ("POST /api/v1/stations", "lat"): "the point lies in mainland China (a boundary polygon)",
    ("POST /api/v1/stations", "lon"): "the point lies in mainland China",
    ("POST /api/v1/stations", "adcode"): "a current district, where the point is",
    ("POST /api/v1/stations", "opening_hours"): "OpenStreetMap opening_hours syntax",
    ("POST /api/v1/stations", "manager_phone"): "a Chinese mobile, landline or 400 number",
    ("PATCH /api/v1/stations/{station_id}", "lat"): "the point lies in mainland China",
    ("PATCH /api/v1/stations/{station_id}", "lon"): "the point lies in mainland China",
    ("PATCH /api/v1/stations/{station_id}", "adcode"): "a current district, where the point is",
    ("PATCH /api/v1/stations/{station_id}", "opening_hours"): "opening_hours syntax",
    ("PATCH /api/v1/stations/{station_id}", "manager_phone"): "a Chinese phone number",
    ("POST /api/v1/stations/{station_id}/audits", "visited_on"): "not after today",
    ("GET /api/v1/map", "bbox"): "min ≤ max",
    ("GET /api/v1/stations", "bbox"): "min ≤ max",
    ("GET /api/v1/search", "lat"): "lat and lon together",
    ("GET /api/v1/search", "lon"): "lat and lon together",
    ("GET /api/v1/regions/{adcode}/coverage", "demand"): "the name of an imported layer",
}


def _all_checks(app, headers, methods) -> tuple[int, int, dict, list]:
    """schemathesis's whole run (examples, coverage, fuzzing, stateful) with every check, over
    a real HTTP server on the app; (operations, cases, status histogram, failures)."""
    import threading
    from collections import Counter

    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import events, from_schema
    from schemathesis.engine.recorder import ScenarioRecorder
    from werkzeug.serving import make_server

    config = SchemathesisConfig.from_dict(
        {
            "seed": 13,
            "generation": {"deterministic": True, "max-examples": 15},
            "checks": {
                "enabled": True,
                # its rewrite of 3.1 prefixItems fails under 2020-12 (see CONFORMS above): the
                # bodies are validated by openapi-core in the fuzz tests above instead
                "response_schema_conformance": {"enabled": False},
                # a version that changed (412) is state no schema can hold
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "412", "429"]
                },
                # an If-Match that names no version of the station fails its precondition
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400",
                        "401",
                        "403",
                        "404",
                        "405",
                        "406",
                        "409",
                        "412",
                        "415",
                        "422",
                        "428",
                        "429",
                    ]  # fmt: skip
                },
                # a missing If-Match is 428 Precondition Required (RFC 6585)
                "missing_required_header": {
                    "expected-statuses": ["400", "401", "403", "415", "428"]
                },
            },
            "headers": {"Accept-Encoding": "identity", **headers},
            "workers": 1,
            "operations": [
                {
                    "include-method-regex": f"^(?!({'|'.join(methods)})$)",
                    "enabled": False,
                }
            ],
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        schema = schemathesis.openapi.from_url(url + "/api/v1/openapi.json", config=config)
        schema.config.update(base_url=url)
        statuses: Counter = Counter()
        operations, failures = set(), []
        for event in from_schema(schema).execute():
            if isinstance(event, (events.FatalError, events.NonFatalError)):
                failures.append(("error", repr(getattr(event, "value", event))[:400]))
            recorder = getattr(event, "recorder", None)
            if not isinstance(event, events.ScenarioFinished) or not isinstance(
                recorder, ScenarioRecorder
            ):
                continue
            for case_id, interaction in recorder.interactions.items():
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
                    operations.add(recorder.cases[case_id].value.operation.label)
            for case_id, checks in recorder.checks.items():
                for check_node in checks:
                    if check_node.failure_info is None:
                        continue
                    case = recorder.cases[case_id].value
                    response = recorder.interactions[case_id].response
                    if _said_in_words(check_node.name, case, response):
                        continue
                    failures.append(
                        (
                            case.operation.label,
                            check_node.name,
                            response.status_code if response else None,
                            response.content[:200] if response else None,
                            check_node.failure_info.code_sample[:400],
                        )
                    )
    finally:
        server.shutdown()
    return len(operations), sum(statuses.values()), dict(sorted(statuses.items())), failures


def _said_in_words(check_name, case, response) -> bool:
    """A schema-valid request refused by a rule IN_WORDS names (and only by such rules)."""
    if check_name != "positive_data_acceptance" or response is None:
        return False
    if response.status_code != 400:
        return False
    field = json.loads(response.content)["error"]["field"]
    if case.operation.label == "POST /api/v1/stations/{station_id}/audits":
        body = case.body if isinstance(case.body, dict) else {}
        if "profile" not in body:  # then the items are the region's profile's: state
            return True
    return (case.operation.label, field) in IN_WORDS


def test_every_schemathesis_check_passes(seeded, db_path, clock):
    """Every check schemathesis has (server errors, status codes, media types, headers,
    schemas, valid data accepted, invalid data refused, missing headers, methods, auth, use
    after free…) over the reads without a token, the reads with a partner key and the writes
    with a staff token: no failure but the rules IN_WORDS names, which no schema can state."""
    from staff_helpers import make_users, token_for

    from stations.store import open_store

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{db_path}",
            "SECRET_KEY": "fuzz",
            "CLOCK": clock,
            "RATELIMIT_CLIENT": BIG,
            "RATELIMIT_ADDRESS": BIG,
            "RATELIMIT_KEY": BIG,
            "SEARCH_LOG_FLUSH_SECONDS": 0,
        }
    )
    store = open_store(app.config["DATABASE_URL"])
    make_users(store)
    token = token_for(store, "hf-admin")
    partner_key, digest = accounts.new_token()
    store.add_api_key("fuzz-portal", digest, "3401", "2026-01-01T00:00:00+08:00")
    store.close()
    runs = {
        "reads": ({}, ["GET"]),
        "reads with a partner key for 3401": ({"X-API-Key": partner_key}, ["GET"]),
        "writes": ({"Authorization": f"Bearer {token}"}, ["POST", "PATCH", "DELETE"]),
    }
    total = []
    for name, (headers, methods) in runs.items():
        operations, cases, statuses, failures = _all_checks(app, headers, methods)
        print(
            f"schemathesis {name}: operations={operations} cases={cases} {statuses} "
            f"failures={len(failures)}"
        )
        total += failures
    assert total == [], "\n".join(map(str, total))
