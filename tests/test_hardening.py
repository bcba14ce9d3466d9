"""Hardening (issue 13): a partner key's region on every station-returning API route, audits
that leave no photo behind when refused, short links for codes with "/", security headers and
a script-only-from-us Content-Security-Policy, keys only in their header, Retry-After only where
it means something, Allow on 405, no server path in an import's message."""

import base64
import hashlib
import io
import re
from pathlib import Path

import pytest
from PIL import Image
from staff_helpers import csrf, job_outcome, make_users, signed_in, staff_app_for

from app import create_app
from stations.core import regions, standards

from conftest import SAMPLE, STORE_KINDS, write_csv

WUHU = {  # 鸠江区, 340207: in Anhui (34) but not in Hefei (3401)
    "code": "WH-0001",
    "name": "鸠江区骑手驿站",
    "lat": "31.4000",
    "lon": "118.4000",
    "opening_hours": "24/7",
    "facilities": "drinking_water",
    "manager_phone": "",
}
HEFEI_KEY_REGION = "3401"


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    return request.param


def make_app(database_url, clock, **config):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "hardening",
            "CLOCK": clock,
            "RATELIMIT_ENABLED": False,
            **config,
        }
    )


# -- 3: a partner key's region on every endpoint that returns station data ---------------------


@pytest.fixture
def anhui(database_url, clock, tmp_path):
    """The sample (Xining, Hefei, Qingdao) and a Wuhu station; a key scoped to Hefei (3401).
    Returns (app, key, {code: id})."""
    app = make_app(database_url, clock)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", str(write_csv(tmp_path / "s.csv", [*SAMPLE, WUHU]))])
    assert result.exit_code == 0, result.output
    key = runner.invoke(args=["key", "create", "hefei-portal", "--region", HEFEI_KEY_REGION])
    assert key.exit_code == 0, key.output
    stations = app.test_client().get("/api/v1/stations").json["features"]
    ids = {f["properties"]["code"]: f["id"] for f in stations}
    assert regions.locate(float(WUHU["lat"]), float(WUHU["lon"])).adcode == "340207"
    return app, key.output.strip(), ids


def test_a_hefei_key_gets_404_for_xining_and_wuhu_and_403_for_the_province(anhui):
    app, key, ids = anhui
    c = app.test_client()
    auth = {"X-API-Key": key}
    for code in ("XN-0001", "WH-0001"):  # the red team's /stations/1 (Xining), /stations/421 (Wuhu)
        response = c.get(f"/api/v1/stations/{ids[code]}", headers=auth)
        assert response.status_code == 404, code
        assert response.json["error"]["code"] == "not_found"
        assert c.get(f"/api/v1/stations/{ids[code]}").status_code == 200  # anonymous: public
    own = c.get(f"/api/v1/stations/{ids['HF-0001']}", headers=auth)
    assert own.status_code == 200 and own.json["properties"]["code"] == "HF-0001"
    # A region wider than the key's is refused, not clipped: a number for "Anhui" that counts
    # only Hefei would be wrong.
    wide = c.get("/api/v1/regions/34/summary", headers=auth)
    assert wide.status_code == 403 and "3401" in wide.json["error"]["message"]
    assert c.get("/api/v1/regions/63/summary", headers=auth).status_code == 403
    assert c.get("/api/v1/regions/340207/summary", headers=auth).status_code == 403
    assert c.get("/api/v1/regions/3401/summary", headers=auth).json["stations"] == 1
    assert c.get("/api/v1/regions/340104/summary", headers=auth).json["stations"] == 1
    assert c.get("/api/v1/regions/34/summary").json["stations"] == 2  # anonymous: the province
    assert c.get("/api/v1/regions/34/coverage", headers=auth).status_code == 403


WHOLE_CHINA = "bbox=73,18,135,54"


def _codes(body) -> set[str]:
    return {f["properties"]["code"] for f in body["features"]}


def _probe_nearest(c, headers, ids):
    # At the Wuhu station itself: an unscoped answer starts with it.
    body = c.get(
        f"/api/v1/stations/nearest?lat={WUHU['lat']}&lon={WUHU['lon']}&k=50", headers=headers
    ).json
    seen = _codes(body)
    if body.get("nearest_city"):
        seen.add("city:" + body["nearest_city"]["adcode"])
    return seen


def _probe_cities(c, headers, ids):
    return {
        "city:" + city["adcode"] for city in c.get("/api/v1/cities", headers=headers).json["cities"]
    }


def _probe_search(c, headers, ids):
    body = c.get("/api/v1/search?q=驿站&limit=20", headers=headers).json
    return {s["name"] for s in body["stations"]} | {"city:" + x["adcode"] for x in body["cities"]}


def _probe_station(c, headers, ids):
    seen = set()
    for code, station_id in ids.items():
        response = c.get(f"/api/v1/stations/{station_id}", headers=headers)
        if response.status_code == 200:
            seen.add(response.json["properties"]["code"])
        else:
            assert response.status_code == 404, code
    return seen


def _probe_stations(c, headers, ids):
    seen = _codes(c.get("/api/v1/stations?limit=500", headers=headers).json)
    seen |= _codes(c.get("/api/v1/stations?region=34", headers=headers).json)
    csv_text = c.get("/api/v1/stations?format=csv", headers=headers).get_data(as_text=True)
    return seen | {code for code in ids if code in csv_text}


def _probe_summary(c, headers, ids):
    seen = set()
    for region in ("34", "63", "37", "3401"):
        response = c.get(f"/api/v1/regions/{region}/summary", headers=headers)
        if response.status_code == 200 and response.json["stations"]:
            seen.add("region:" + region)
        else:
            assert response.status_code in (200, 403), region
    return seen


def _probe_coverage(c, headers, ids):
    seen = set()
    for region in ("34", "63", "340207"):  # refused before any work when outside the key's
        response = c.get(f"/api/v1/regions/{region}/coverage?suggest=0", headers=headers)
        if response.status_code == 200:
            seen.add("region:" + region)
        else:
            assert response.status_code == 403, region
    return seen


def _probe_export(c, headers, ids):
    seen = _codes(c.get("/api/v1/export/stations.geojson", headers=headers).json)
    csv_text = c.get("/api/v1/export/stations.csv", headers=headers).get_data(as_text=True)
    return seen | {code for code in ids if code in csv_text}


def _probe_map(c, headers, ids):
    markers = c.get(f"/api/v1/map?{WHOLE_CHINA}", headers=headers).json["markers"]
    by_id = {v: k for k, v in ids.items()}
    return {by_id[m[0]] for m in markers}


# Every GET route of the API: how to ask it for everything it would show, as the set of what
# it showed (station codes, "city:<adcode>", "region:<adcode>"), or None: no station data.
PROBES = {
    "api.nearest": _probe_nearest,
    "api.cities": _probe_cities,
    "api.search": _probe_search,
    "api.station": _probe_station,
    "api.stations": _probe_stations,
    "api.region_summary": _probe_summary,
    "api.region_coverage": _probe_coverage,
    "api.export": _probe_export,
    "api.map_view": _probe_map,
    "api.openapi": None,  # the API's description: no station in it
}
# What a Hefei key may see of the sample plus Wuhu, and what anonymous use sees beyond it.
OUTSIDE_HEFEI = {"XN-0001", "QD-0001", "WH-0001", "城中区长江路工会驿站", "鸠江区骑手驿站"} | {
    "city:6301",
    "city:3702",
    "city:3402",
    "region:34",
    "region:63",
    "region:37",
    "region:340207",
}


def test_every_station_returning_route_respects_a_scoped_key(anhui):
    app, key, ids = anhui
    gets = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and "GET" in rule.methods
    }
    assert gets == set(PROBES), "a new API route: say here whether and how it shows stations"
    c = app.test_client()
    for endpoint, probe in PROBES.items():
        if probe is None:
            continue
        scoped = probe(c, {"X-API-Key": key}, ids)
        assert not scoped & OUTSIDE_HEFEI, (endpoint, scoped & OUTSIDE_HEFEI)
        if endpoint not in ("api.region_coverage",):  # anonymous coverage of 34 is slow; skip
            anonymous = probe(c, {}, ids)
            assert anonymous & OUTSIDE_HEFEI, endpoint  # the probe can see beyond Hefei
    # Writes return stations too, but only to a staff token: a partner key alone gets 401.
    writes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}
    }
    assert writes == {
        ("api.create_station", "POST"),
        ("api.patch_station", "PATCH"),
        ("api.close_station", "DELETE"),
        ("api.post_audit", "POST"),
    }
    hefei = ids["HF-0001"]
    for path, method in (
        ("/api/v1/stations", "POST"),
        (f"/api/v1/stations/{hefei}", "PATCH"),
        (f"/api/v1/stations/{hefei}", "DELETE"),
        (f"/api/v1/stations/{hefei}/audits", "POST"),
    ):
        response = c.open(path, method=method, json={}, headers={"X-API-Key": key})
        assert response.status_code == 401, (method, path)


# -- 8: refused audits leave no photo behind --------------------------------------------------

XN = 1


@pytest.fixture
def auditor(seeded, database_url, clock, store, tmp_path):
    make_users(store)
    app = staff_app_for(database_url, clock, tmp_path)
    return app, signed_in(app, "xn-auditor"), Path(app.config["EVIDENCE_DIR"])


def _jpeg(colour=(10, 120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, "JPEG")
    return out.getvalue()


def _audit(client, photos, **fields):
    profile = standards.profiles()["siyou"]
    data = {
        "csrf_token": csrf(client, f"/admin/stations/{XN}/audit"),
        "profile": profile.key,
        "visited_on": "2026-11-19",
        "visit_kind": "unannounced",
        **{f"result_{i.key}": "pass" for i in profile.items},
        **fields,
    }
    for item, (name, content) in zip(profile.items, photos, strict=False):
        data[f"photo_{item.key}"] = (io.BytesIO(content), name)
    return client.post(f"/admin/stations/{XN}/audit", data=data, content_type="multipart/form-data")


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_refused_audits_leave_no_photo_files(auditor, store, monkeypatch):
    app, client, evidence = auditor
    two = [("a.jpg", _jpeg()), ("b.jpg", _jpeg((200, 0, 0)))]
    refusals = [
        _audit(client, two, visited_on="2026-12-01"),  # in the future
        _audit(client, two, visit_kind="drive-by"),  # no such visit
        _audit(client, two, visited_on="yesterday"),  # no date
        _audit(client, [two[0], ("c.jpg", b"not an image")]),  # the second photo is refused
        _audit(client, two, result_sign="fail"),  # a failed item without its note
    ]
    assert [r.status_code for r in refusals] == [400] * 5
    assert "不能晚于今天" in refusals[0].get_data(as_text=True)  # "is in the future"
    assert store.audits_for(XN) == [] and _files(evidence) == []  # was: 10 orphan files

    accepted = _audit(client, two)
    assert accepted.status_code == 303
    items = store.audit_items(store.audits_for(XN)[0].id)
    named = sorted(i.photo for i in items if i.photo)
    assert len(named) == 2 and _files(evidence) == named


def test_photos_are_removed_when_the_store_refuses_the_audit(auditor, store, monkeypatch):
    app, client, evidence = auditor
    with app.app_context():
        from stations.web.context import get_store

        kind = type(get_store())

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(kind, "add_audit", full)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = _audit(client, [("a.jpg", _jpeg())])
    assert response.status_code == 500
    assert _files(evidence) == [] and store.audits_for(XN) == []


# -- 9: short links for codes with "/" --------------------------------------------------------


@pytest.fixture
def slashed(database_url, clock, tmp_path):
    app = make_app(database_url, clock)
    rows = [
        {**SAMPLE[1], "code": "SEC/SLASH-1", "name": "斜杠驿站"},
        {**SAMPLE[0], "code": "SEC/../DOT-1", "name": "点点驿站"},
    ]
    result = app.test_cli_runner().invoke(args=["import", str(write_csv(tmp_path / "s.csv", rows))])
    assert result.exit_code == 0, result.output
    c = app.test_client()
    ids = {f["properties"]["code"]: f["id"] for f in c.get("/api/v1/stations").json["features"]}
    return c, ids


def test_a_code_with_a_slash_has_a_working_short_link(slashed):
    c, ids = slashed
    station = ids["SEC/SLASH-1"]
    poster = c.get(f"/stations/{station}/poster").get_data(as_text=True)
    assert "http://localhost/s/SEC/SLASH-1" in poster  # what the QR code and the text say
    for path in ("/s/SEC/SLASH-1", "/s/SEC%2FSLASH-1", "/s/SEC%2fSLASH-1"):
        response = c.get(path)
        assert response.status_code == 301, path
        assert response.headers["Location"].endswith(f"/stations/{station}"), path
    assert c.get("/s/SEC/NOPE-1").status_code == 404
    assert c.get("/s/SEC/SLASH-1/").status_code == 404  # not another code's address


def test_a_code_a_browser_would_rewrite_gets_the_station_address(slashed):
    c, ids = slashed
    station = ids["SEC/../DOT-1"]  # a browser turns /s/SEC/../DOT-1 into /s/DOT-1
    poster = c.get(f"/stations/{station}/poster").get_data(as_text=True)
    assert f"http://localhost/stations/{station}" in poster and "/s/SEC/" not in poster
    assert c.get("/s/SEC/../DOT-1").status_code == 301  # still found if it arrives unchanged


# -- 10: headers, the Content-Security-Policy, keys in the address, Retry-After, Allow --------


def _policies(response) -> list[str]:
    return response.headers.getlist("Content-Security-Policy")


def _script_policy(response) -> str:
    found = [p for p in _policies(response) if "script-src" in p]
    assert len(found) == 1, _policies(response)
    return found[0]


def _inline_scripts(html: str) -> list[str]:
    """The executable inline scripts of a page: <script> without src or a data type."""
    return re.findall(r"<script>(.*?)</script>", html, re.S)


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


@pytest.fixture
def boss(seeded, database_url, clock, store, tmp_path):
    make_users(store)
    app = staff_app_for(database_url, clock, tmp_path)
    return app, signed_in(app, "boss")


PAGES = [
    "/",
    "/?lang=en",
    "/stations",
    "/stations/2",
    "/stations/2/poster",
    "/embed",
    "/embed/builder",
    "/embed/list?lat=36.6&lon=101.7",
    "/api/docs",
    "/login",
    "/admin/",
    "/admin/stations/1/edit",
    "/admin/stations/1/audit",
    "/admin/coverage?region=3401",
    "/nowhere",
    "/api/v1/stations",
    "/api/v1/nowhere",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(boss, path):
    app, client = boss
    response = client.get(path)
    assert response.status_code in (200, 404), path
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    policy = _script_policy(response)
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert policy.startswith("script-src 'self'") and "object-src 'none'" in policy
    html = response.get_data(as_text=True)
    allowed = set(re.findall(r"'sha256-([^']+)'", policy))
    scripts = _inline_scripts(html)
    assert {_sha256(s) for s in scripts} == allowed  # each inline script allowed, nothing more
    assert not re.search(r"<[^>]+\son[a-z]+=", html)  # no inline event handler: it would not run
    if path in ("/", "/stations/2", "/embed", "/admin/"):
        assert any("(function (run)" in s for s in scripts)  # the map's script is one of them


def test_the_frame_policy_is_kept_beside_the_script_policy(boss):
    _app, client = boss
    assert "frame-ancestors *" in _policies(client.get("/embed"))
    assert "frame-ancestors 'none'" in _policies(client.get("/"))


def test_a_key_in_the_address_is_refused_with_a_pointer_to_the_header(anhui):
    app, key, _ids = anhui
    c = app.test_client()
    for query in (f"key={key}", "key=yz_made_up", "key="):
        response = c.get(f"/api/v1/stations?{query}")
        assert response.status_code == 400, query
        error = response.json["error"]
        assert error["field"] == "key" and "X-API-Key header" in error["message"]
    assert c.get("/api/v1/stations", headers={"X-API-Key": key}).status_code == 200
    document = c.get("/api/v1/openapi.json").json
    for item in document["paths"].values():
        for operation in (op for op in item.values() if isinstance(op, dict)):
            names = [(p["name"], p["in"]) for p in operation.get("parameters", [])]
            assert ("key", "query") not in names
    near = document["paths"]["/api/v1/stations/nearest"]["get"]["parameters"]
    assert ("X-API-Key", "header") in [(p["name"], p["in"]) for p in near]


def test_retry_after_only_on_429(database_url, clock, seeded):
    app = make_app(database_url, clock, RATELIMIT_ENABLED=True, RATELIMIT_CLIENT="2 per minute")
    c = app.test_client()
    ok = [c.get("/api/v1/stations") for _ in range(2)]
    for response in ok:
        assert response.status_code == 200 and "X-RateLimit-Limit" in response.headers
        assert "Retry-After" not in response.headers
    limited = c.get("/api/v1/stations")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


@pytest.mark.parametrize("path", ["/", "/stations/1", "/api/v1/stations", "/admin/"])
def test_trace_gets_405_with_allow(client, seeded, path):
    response = client.open(path, method="TRACE")
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "GET" in allowed and "TRACE" not in allowed


def _import(client, name, content):
    return client.post(
        "/admin/import",
        data={
            "csrf_token": csrf(client, "/admin/import"),
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
    )


def test_an_import_refusal_names_the_uploaded_file_never_a_server_path(boss, monkeypatch, tmp_path):
    import tempfile

    from stations.core import readers

    _app, client = boss
    state, response = job_outcome(client, _import(client, "站点.pdf", b"%PDF-1.4\n"))
    page = response.get_data(as_text=True)
    assert state["phase"] == "refused", state
    assert state["message"].startswith("站点.pdf: unknown file type .pdf;"), state
    assert "站点.pdf: unknown file type .pdf" in page
    assert not re.search(r"[0-9a-f]{32}\.", page)  # not the name the server saved it under

    real_read = readers.read

    def unreadable(path, **kwargs):  # readers.read's own words for a file it cannot open
        raise readers.FileRejected(f"cannot read {path}: Permission denied")

    monkeypatch.setattr(readers, "read", unreadable)
    state, response = job_outcome(client, _import(client, "stations.xlsx", b"PK\x03\x04"))
    page = response.get_data(as_text=True)
    assert state["message"] == "cannot read stations.xlsx: Permission denied"
    assert "cannot read stations.xlsx: Permission denied" in page
    for where in (tempfile.gettempdir() + "/", str(tmp_path), "/imports/"):
        assert where not in page and where not in state["message"]
    monkeypatch.setattr(readers, "read", real_read)


# -- 10, in a real browser: the pages run under the policy ------------------------------------

import test_browser  # noqa: E402  (the browser tests' fixtures, after the tests above)
from test_browser import Phone  # noqa: E402

browser = test_browser.browser
server = test_browser.server

MAP_READY = """() => {
    const c = document.getElementById('yz-config') || document.getElementById('yz-station');
    const m = c && window[JSON.parse(c.textContent).map];
    const css = document.querySelector('link[data-leaflet-css]');
    return !!(m && m.getCenter && css && css.media === 'all');
}"""


@pytest.mark.browser
@pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)
def test_pages_work_under_the_script_policy_in_a_browser(browser, server):  # noqa: F811
    phone = Phone(browser, server)
    refused: list[str] = []
    phone.page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    phone.page.on("pageerror", lambda e: refused.append(str(e)))
    try:
        response = phone.page.goto(server + "/")
        policy = response.all_headers()["content-security-policy"]
        assert "script-src 'self' 'sha256-" in policy and "unsafe-inline" not in policy
        phone.page.wait_for_function(MAP_READY)  # the map's inline script ran, its CSS is on
        assert phone.locate()[0] == "金寨路工会驿站"  # courier.js and the early-tap script ran
        station = phone.page.locator(".result a.name").first.get_attribute("href")
        phone.page.goto(server + station if station.startswith("/") else station)
        phone.page.wait_for_function(MAP_READY)
        phone.page.goto(server + "/embed")
        phone.page.wait_for_function(MAP_READY)
        phone.page.goto(server + "/embed/builder")
        phone.page.wait_for_function("() => document.getElementById('snippet').value.length > 0")
        assert refused == []
    finally:
        phone.close()
