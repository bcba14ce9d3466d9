"""Hostile input at the web and API edges: every value a red-team run turned into a 500 gets a
4xx naming the field or parameter (issue 13, points 4 and 7), on both stores."""

import re

import pytest
from staff_helpers import csrf, signed_in, token_for

from conftest import STORE_KINDS

XN, HF = 1, 2  # station ids of the sample: Xining, Hefei
HUGE_DATE = "3000000000-01-01"
TOO_BIG = "18446744073709551616"  # 2**64
OVERFLOWING_SINCE = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    return request.param


@pytest.fixture
def api_as_xn(staff_app, store):
    client = staff_app.test_client()
    client.auth = {"Authorization": f"Bearer {token_for(store, 'xn-auditor')}"}
    return client


def page(response) -> str:
    return response.get_data(as_text=True)


def error(response) -> dict:
    assert response.mimetype == "application/json", page(response)[:300]
    return response.json["error"]


def patch(client, body, station_id=XN, **headers):
    """A PATCH of station_id with this raw body (str) or JSON value."""
    sent = {**client.auth, "If-Match": '"v1"', **headers}
    if isinstance(body, str):
        return client.patch(
            f"/api/v1/stations/{station_id}",
            data=body,
            headers=sent,
            content_type="application/json",
        )
    return client.patch(f"/api/v1/stations/{station_id}", json=body, headers=sent)


def unchanged(store):
    station = store.get(XN)
    return (station.name, station.lat, station.version) == ("城中区长江路工会驿站", 36.6171, 1)


# -- dates out of range ---------------------------------------------------------------------


@pytest.mark.parametrize("since", OVERFLOWING_SINCE)
def test_updated_since_at_the_ends_of_the_calendar_is_400(api, since):
    response = api.get("/api/v1/stations", query_string={"updated_since": since})
    assert response.status_code == 400
    assert error(response)["field"] == "updated_since"


def test_huge_closed_until_through_the_api_is_400(api_as_xn, store):
    response = patch(api_as_xn, {"status": "temporarily_closed", "closed_until": HUGE_DATE})
    assert response.status_code == 400
    assert error(response)["field"] == "closed_until"
    assert unchanged(store)


def edit_form(client, station_id, **changes):
    html = page(client.get(f"/admin/stations/{station_id}/edit"))
    data = {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
        "version": re.search(r'name="version" value="(\d+)"', html).group(1),
    }
    for name in ("name", "address", "lat", "lon", "brand", "opening_hours", "manager_phone"):
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
        data[name] = found.group(1) if found else ""
    data.update(status="open", host_type="other", entry_method="open_door", crs="wgs84")
    return data | changes


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_huge_closed_until_on_the_edit_form_is_400_in_the_page_language(xn, store, lang):
    data = edit_form(xn, XN, status="temporarily_closed", closed_until=HUGE_DATE)
    response = xn.post(f"/admin/stations/{XN}/edit?lang={lang}", data=data)
    assert response.status_code == 400
    text = page(response)
    assert HUGE_DATE in text  # the value given is shown back
    assert ("日期" if lang == "zh" else "must be a date") in text
    assert unchanged(store)


def test_huge_closed_until_on_the_status_form_says_so(xn, store):
    html = page(xn.get(f"/admin/stations/{XN}?lang=en"))
    response = xn.post(
        f"/admin/stations/{XN}/status?lang=en",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
            "version": "1",
            "status": "temporarily_closed",
            "closed_until": HUGE_DATE,
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "must be a date" in page(response)
    assert store.get(XN).status == "open"


def audit_form(client, station_id, profile_key, **extra):
    from stations.core import standards

    profile = standards.profiles()[profile_key]
    return {
        "csrf_token": csrf(client, f"/admin/stations/{station_id}/audit"),
        "profile": profile_key,
        "visited_on": "2026-11-19",
        "visit_kind": "unannounced",
        **{f"result_{i.key}": "pass" for i in profile.items},
        **extra,
    }


def first_item(profile_key="siyou") -> str:
    from stations.core import standards

    return standards.profiles()[profile_key].items[0].key


def test_huge_valid_until_on_the_audit_form_is_400(xn, store):
    item = first_item()
    data = audit_form(xn, XN, "siyou", **{f"valid_until_{item}": HUGE_DATE})
    response = xn.post(f"/admin/stations/{XN}/audit?lang=en", data=data)
    assert response.status_code == 400
    assert "must be a date" in page(response)
    assert store.latest_audits([XN]) == {}


def audit_body(**changes):
    from stations.core import standards

    profile = standards.profiles()["siyou"]
    return {
        "profile": "siyou",
        "visited_on": "2026-11-19",
        "visit_kind": "scheduled",
        "items": {i.key: {"result": "pass"} for i in profile.items},
    } | changes


def post_audit(client, body):
    return client.post(f"/api/v1/stations/{XN}/audits", json=body, headers=client.auth)


def test_huge_valid_until_through_the_api_is_400(api_as_xn, store):
    body = audit_body()
    body["items"][first_item()]["valid_until"] = HUGE_DATE
    response = post_audit(api_as_xn, body)
    assert response.status_code == 400
    assert error(response)["field"] == first_item()
    assert store.latest_audits([XN]) == {}


@pytest.mark.parametrize("visited", [HUGE_DATE, "99999-01-01", "２０２６-１１-１９x"])
def test_bad_visit_dates_through_the_api_are_400(api_as_xn, visited):
    response = post_audit(api_as_xn, audit_body(visited_on=visited))
    assert response.status_code == 400 and error(response)["field"] == "visited_on"


# -- numbers: huge, non-finite ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, field",
    [
        ('{"lat": 1' + "0" * 400 + "}", "lat"),
        ('{"lat": 1e400}', "lat"),
        ('{"lon": -1e400}', "lon"),
        ('{"lat": 36.6' + "1" * 5000 + "}", "lat"),
    ],
)
def test_huge_numbers_are_400_naming_the_field(api_as_xn, store, raw, field):
    response = patch(api_as_xn, raw)
    assert response.status_code == 400
    assert error(response)["field"] == field
    assert unchanged(store)


@pytest.mark.parametrize("raw", ['{"lat": NaN}', '{"lat": Infinity}', '{"lon": -Infinity}'])
def test_non_finite_constants_are_not_json(api_as_xn, store, raw):
    response = patch(api_as_xn, raw)
    assert response.status_code == 400
    assert error(response)["code"] == "invalid_body"
    assert "NaN" in error(response)["message"]
    assert unchanged(store)


# -- deep nesting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["[" * 100_000, "{" + '"a":[' * 50_000, '{"name": ' + "[" * 1000 + "]" * 1000 + "}"],
)
def test_deep_nesting_is_400(api_as_xn, store, raw):
    response = patch(api_as_xn, raw)
    assert response.status_code == 400
    assert error(response)["code"] == "invalid_body"
    assert "nested" in error(response)["message"]
    assert unchanged(store)


def test_brackets_inside_strings_are_not_nesting(api_as_xn, store):
    response = patch(api_as_xn, {"name": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[驿站"})
    assert response.status_code == 200, page(response)
    assert store.get(XN).name.endswith("驿站")


# -- wrong JSON types (point 7) ------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", {"a": [1, 2]}),
        ("name", True),
        ("name", 1.5),
        ("name", ["x"]),
        ("address", 12),
        ("brand", False),
        ("opening_hours", {"mo": "08:00"}),
        ("manager_phone", 13800138000),
        ("manager_name", ["王"]),
        ("host_type", 1),
        ("status", ["open"]),
        ("entry_method", {}),
        ("crs", 84),
        ("adcode", 630102),
        ("closed_until", 20261231),
        ("lat", True),
        ("lon", [101.7]),
        ("lon", {"v": 1}),
        ("facilities", "toilet"),
        ("facilities", [1, 2]),
        ("facilities", [["toilet"]]),
    ],
)
def test_wrong_json_types_are_400_naming_the_field(api_as_xn, store, field, value):
    response = patch(api_as_xn, {field: value})
    assert response.status_code == 400, page(response)
    body = error(response)
    assert body["field"] == field and body["code"] == "invalid_field"
    assert field in body["message"]
    assert unchanged(store)


def test_wrong_types_are_refused_on_create_too(api_as_xn, store):
    response = api_as_xn.post(
        "/api/v1/stations",
        json={"code": "XN-NEW", "name": True, "lat": 36.62, "lon": 101.78},
        headers=api_as_xn.auth,
    )
    assert response.status_code == 400 and error(response)["field"] == "name"
    assert store.get_by_code("XN-NEW") is None


@pytest.mark.parametrize("value", ["abc", "1" + "0" * 400, "NaN", "inf", "36,6"])
def test_numbers_as_text_are_read_by_the_core_and_refused_by_name(api_as_xn, store, value):
    response = patch(api_as_xn, {"lat": value})
    assert response.status_code == 400, page(response)
    assert error(response)["field"] == "lat"
    assert unchanged(store)


def test_right_types_still_pass(api_as_xn, store):
    response = patch(
        api_as_xn,
        {
            "name": "新名",
            "lat": "36.6172",
            "lon": 101.7782,
            "facilities": ["toilet"],
            "closed_until": None,
        },
    )
    assert response.status_code == 200, page(response)
    station = store.get(XN)
    assert (station.name, station.lat, station.lon, station.facilities) == (
        "新名",
        36.6172,
        101.7782,
        ("toilet",),
    )


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"profile": ["liuyou_a"]}, "profile"),
        ({"profile": {"k": 1}}, "profile"),
        ({"visited_on": 20261119}, "visited_on"),
        ({"visit_kind": ["scheduled"]}, "visit_kind"),
        ({"items": [1, 2]}, "items"),
        ({"items": "all"}, "items"),
    ],
)
def test_audit_body_types_are_400_naming_the_field(api_as_xn, store, changes, field):
    response = post_audit(api_as_xn, audit_body(**changes))
    assert response.status_code == 400, page(response)
    assert error(response)["field"] == field
    assert store.latest_audits([XN]) == {}


@pytest.mark.parametrize("answer", [{"result": True}, {"result": "pass", "note": 5}, "pass"])
def test_audit_item_types_are_400_naming_the_item(api_as_xn, store, answer):
    body = audit_body()
    body["items"][first_item()] = answer
    response = post_audit(api_as_xn, body)
    assert response.status_code == 400, page(response)
    assert error(response)["field"].startswith("items")
    assert first_item() in error(response)["message"]
    assert store.latest_audits([XN]) == {}


# -- headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ['"v\xb2"', '"v\xb9\xb2"', "v\xbd", '"v1\xff"'])
def test_if_match_with_latin1_bytes_is_refused(api_as_xn, store, raw):
    """The header as a server hands it over from raw latin-1 bytes (PEP 3333)."""
    response = api_as_xn.patch(
        f"/api/v1/stations/{XN}",
        json={"name": "改名"},
        headers=api_as_xn.auth,
        environ_overrides={"HTTP_IF_MATCH": raw},
    )
    assert response.status_code in (400, 412), page(response)
    assert unchanged(store)


# -- integers beyond 64 bits and non-ASCII digits ----------------------------------------------


@pytest.mark.parametrize("value", ["100000000000000000000", "²", "１２", "-1", "1e3", "9" * 5000])
def test_public_station_list_page_param(api, value):
    response = api.get("/stations", query_string={"page": value, "lang": "en"})
    if value in ("１２", "100000000000000000000", "9" * 5000):
        # digits, however many: a page past the end goes to the last page, with no database
        # asked for page 10^20 (the number is never converted)
        assert response.status_code == 302 and response.location.endswith("/stations?page=1")
    else:
        assert response.status_code == 400
        assert "The page must be a whole number from 1" in page(response)


def test_public_station_list_page_param_in_chinese(api):
    response = api.get("/stations", query_string={"page": "1e3"})
    assert response.status_code == 400 and "页码" in page(response)


def test_report_move_beyond_64_bits_is_404(xn, store):
    response = xn.post(
        f"/admin/reports/{TOO_BIG}", data={"csrf_token": csrf(xn, "/admin/"), "action": "reject"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/stations/{n}", "/api/v1/stations/{n}", "/stations/{n}/qr.svg"])
def test_ids_beyond_64_bits_are_404(api, path):
    for n in (TOO_BIG, "9" * 400):
        response = api.get(path.format(n=n))
        assert response.status_code == 404


def test_api_ids_beyond_64_bits_are_json_404(api_as_xn):
    response = patch(api_as_xn, {"name": "x"}, station_id=TOO_BIG)
    assert response.status_code == 404 and error(response)["code"] == "not_found"


@pytest.mark.parametrize("zoom", ["²", "１２", "99999999999999999999999", "-3"])
def test_embed_zoom_is_never_a_500(api, zoom):
    response = api.get("/embed", query_string={"zoom": zoom})
    assert response.status_code in (200, 400)


# -- a sweep: each hostile value in each number, date and id of every GET route ------------------

HOSTILE = [
    TOO_BIG,
    "9" * 5000,
    "-1",
    "²",
    "１２３",
    "1e400",
    "NaN",
    "-Infinity",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    HUGE_DATE,
    "\x00",
]
# What the pages and the API read from their query strings (grep of stations/web) and what
# the OpenAPI document declares.
QUERY_NAMES = [
    "page", "zoom", "lat", "lon", "k", "radius_m", "limit", "cursor", "city", "district",
    "center", "centre", "near", "updated_since", "open_now", "bbox", "spacing_m", "station",
    "parent", "profile", "sort", "dir", "status", "facilities", "geometry", "format", "crs",
]  # fmt: skip
SAMPLE_PATHS = {"<code>": "XN-0001", "<adcode>": "6301", "<fmt>": "csv", "<what>": "stations"}


def get_routes(app) -> list[str]:
    """Every GET route, with each path parameter filled by a sample (ids by XN)."""
    routes = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if "GET" not in rule.methods or "<path:" in path or "evidence" in path:
            continue
        for placeholder, sample in SAMPLE_PATHS.items():
            path = path.replace(placeholder, sample)
        routes.append(re.sub(r"<int:\w+>", str(XN), path))
    return sorted(routes)


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
@pytest.mark.parametrize("value", HOSTILE)
def test_no_hostile_value_in_any_get_route_is_a_server_error(staff_app, value):
    boss = signed_in(staff_app, "boss")  # admin pages too, every region
    failures = []
    routes = get_routes(staff_app)
    assert len(routes) > 30
    for route in routes:
        for name in QUERY_NAMES:
            response = boss.get(route, query_string={name: value})
            if response.status_code >= 500:
                failures.append((route, name, response.status_code))
        for id_route in {r for r in routes if f"/{XN}" in r}:
            response = boss.get(id_route.replace(f"/{XN}", f"/{value}", 1))
            if response.status_code >= 500:
                failures.append((id_route, "id", response.status_code))
    assert failures == []


# -- the core's own checks, for every face that reaches it -------------------------------------


@pytest.mark.parametrize("value", [10**400, -(10**5000), 10**16], ids=["e400", "-e5000", "e16"])
def test_the_core_refuses_huge_integers_by_name(value):
    from stations.core.model import Invalid, validate

    with pytest.raises(Invalid) as refused:
        validate({"code": "A-1", "name": "驿站", "lat": value, "lon": 101.7782})
    assert [(e.field, e.code) for e in refused.value.errors] == [("lat", "not_finite")]


@pytest.mark.parametrize(
    "name, value",
    [
        ("closed_until", HUGE_DATE),
        ("closed_until", "10000-01-01"),
        ("closed_until", "1899-12-31"),
        ("closed_until", "２９９９９-０１-０１"),
        ("verified_at", "0001-01-01T00:00:00+14:00"),
        ("verified_at", "9999-12-31T23:59:59-14:00"),
        ("verified_at", HUGE_DATE),
    ],
)
def test_the_core_refuses_dates_out_of_range_by_name(name, value):
    from stations.core.model import Invalid, validate

    record = {"code": "A-1", "name": "驿站", "lat": 36.6171, "lon": 101.7782, name: value}
    if name == "closed_until":
        record["status"] = "temporarily_closed"
    with pytest.raises(Invalid) as refused:
        validate(record)
    assert [e.field for e in refused.value.errors] == [name]
    assert refused.value.errors[0].code in ("bad_date", "bad_timestamp")


# -- ids beyond 64 bits with every method: the answer an absent id gets --------------------------


@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
def test_ids_beyond_64_bits_get_what_an_absent_id_gets_for_every_method(api_as_xn, xn, store):
    """POST /admin/reports/18446744073709551616 and PATCH /api/v1/stations/18446744073709551616
    are answered as for a valid id that does not exist (999): the view's own 404, or 405 with
    the path's Allow when the method is not one of the path's."""
    admin = {"csrf_token": csrf(xn, "/admin/"), "action": "reject"}
    bearer = {**api_as_xn.auth, "If-Match": "*"}
    cases = [  # (client, method, path, what is sent)
        (xn, "POST", "/admin/reports/{n}", {"data": admin}),
        (xn, "PUT", "/admin/reports/{n}", {"data": admin}),
        (api_as_xn, "PATCH", "/api/v1/stations/{n}", {"json": {"name": "x"}, "headers": bearer}),
        (api_as_xn, "DELETE", "/api/v1/stations/{n}", {"headers": bearer}),
        (api_as_xn, "POST", "/api/v1/stations/{n}", {"json": {}, "headers": bearer}),
        (api_as_xn, "PUT", "/api/v1/stations/{n}", {"json": {}, "headers": bearer}),
        (api_as_xn, "POST", "/api/v1/stations/{n}/audits", {"json": {}, "headers": bearer}),
        (api_as_xn, "PATCH", "/api/v1/stations/{n}/audits", {"json": {}, "headers": bearer}),
    ]
    seen = set()
    for client, method, path, sent in cases:
        absent = client.open(path.format(n=999), method=method, **sent)
        expected = (absent.status_code, absent.headers.get("Allow"))
        for n in (TOO_BIG, str(2**63), "9" * 400, "１８４４６７４４０７３７０９５５１６１６"):
            response = client.open(path.format(n=n), method=method, **sent)
            got = (response.status_code, response.headers.get("Allow"))
            assert got == expected, (method, path, n, got, expected)
            if response.is_json:
                assert error(response)["code"] == error(absent)["code"]
        seen.add(expected)
    assert (404, None) in seen
    assert (405, "DELETE, GET, HEAD, OPTIONS, PATCH") in seen and (405, "OPTIONS, POST") in seen
    assert unchanged(store)
