"""Partners: API keys and their region, rate limits sized for carrier-grade NAT, CORS, caching,
the list filters, CSV, the region summary and the bulk export."""

import csv
import io

import pytest

from app import create_app

from conftest import STORE_KINDS

XINING = "lat=36.6171&lon=101.7782"


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    """Keys, limits, CORS and exports behave the same on the SQLite and the PostGIS store."""
    return request.param


@pytest.fixture
def partner_app(seeded, database_url, clock):
    def make(**config):
        return create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "SECRET_KEY": "p",
                "CLOCK": clock,
                **config,
            }
        )

    return make


@pytest.fixture
def hefei_key(partner_app):
    result = (
        partner_app()
        .test_cli_runner()
        .invoke(args=["key", "create", "hefei-portal", "--region", "3401"])
    )
    assert result.exit_code == 0, result.output
    return result.output.strip()


def codes(response):
    return [f["properties"]["code"] for f in response.json["features"]]


def test_key_cli(partner_app, hefei_key):
    runner = partner_app().test_cli_runner()
    assert hefei_key.startswith("yz_")
    listed = runner.invoke(args=["key", "list"]).output
    assert "hefei-portal" in listed and "3401" in listed and hefei_key not in listed
    assert "Revoked 1 key" in runner.invoke(args=["key", "revoke", "hefei-portal"]).output
    c = partner_app().test_client()
    assert (
        c.get(f"/api/v1/stations/nearest?{XINING}", headers={"X-API-Key": hefei_key}).status_code
        == 401
    )


def test_a_scoped_key_sees_only_its_region(partner_app, hefei_key):
    c = partner_app().test_client()
    auth = {"X-API-Key": hefei_key}
    assert codes(c.get(f"/api/v1/stations/nearest?{XINING}", headers=auth)) == ["HF-0001"]
    assert codes(c.get("/api/v1/stations", headers=auth)) == ["HF-0001"]
    assert c.get("/api/v1/regions/63/summary", headers=auth).status_code == 403
    assert c.get("/api/v1/regions/3401/summary", headers=auth).json["stations"] == 1
    assert codes(c.get("/api/v1/stations?region=34", headers=auth)) == [
        "HF-0001"
    ]  # narrowed to the key
    assert (
        c.get(f"/api/v1/stations/nearest?{XINING}", headers={"X-API-Key": "yz_made_up"}).status_code
        == 401
    )
    assert len(codes(c.get(f"/api/v1/stations/nearest?{XINING}"))) == 3  # anonymous: everything


def test_one_abusive_client_is_limited_while_its_neighbours_are_not(partner_app):
    app = partner_app(RATELIMIT_CLIENT="5 per minute", RATELIMIT_ADDRESS="200 per minute")
    c = app.test_client()
    abuser = {"User-Agent": "scraper/1.0"}
    statuses = [
        c.get(f"/api/v1/stations/nearest?{XINING}", headers=abuser).status_code for _ in range(8)
    ]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 3
    limited = c.get(f"/api/v1/stations/nearest?{XINING}", headers=abuser)
    assert (
        limited.json["error"]["code"] == "too_many_requests"
        and int(limited.headers["Retry-After"]) > 0
    )
    # 100 riders behind the same carrier NAT address, different phones: none is refused
    riders = [
        c.get(
            f"/api/v1/stations/nearest?{XINING}",
            headers={"User-Agent": f"Mozilla/5.0 (Linux; Android 14; Phone{n})"},
        ).status_code
        for n in range(100)
    ]
    assert set(riders) == {200}


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_two_app_servers_share_a_clients_budget_only_through_redis(
    partner_app, redis_url, monkeypatch, storage
):
    """Several workers (or app servers) behind one address: with RATELIMIT_STORAGE_URL a rider's
    budget is one budget; in memory each process counts on its own."""
    import uuid

    if storage == "redis":
        monkeypatch.setenv("RATELIMIT_STORAGE_URL", redis_url)
    prefix = uuid.uuid4().hex  # this test's counters only
    servers = [
        partner_app(RATELIMIT_CLIENT="2 per minute", RATELIMIT_KEY_PREFIX=prefix).test_client()
        for _ in range(2)
    ]
    rider = {"User-Agent": "Mozilla/5.0 (Linux; Android 14; Rider)"}
    statuses = [
        servers[n % 2].get(f"/api/v1/stations/nearest?{XINING}", headers=rider).status_code
        for n in range(4)
    ]
    if storage == "redis":
        assert statuses == [200, 200, 429, 429]  # two requests in all, wherever they landed
    else:
        assert statuses == [200, 200, 200, 200]  # two per process: a budget twice as large


def test_the_address_ceiling_and_spoofed_forwarded_for(partner_app):
    app = partner_app(RATELIMIT_CLIENT="5 per minute", RATELIMIT_ADDRESS="20 per minute")
    c = app.test_client()
    spoofing = [
        c.get(
            f"/api/v1/stations/nearest?{XINING}",
            headers={"User-Agent": "bot", "X-Forwarded-For": f"10.0.0.{n}"},
        ).status_code
        for n in range(8)
    ]
    assert spoofing.count(429) == 3  # X-Forwarded-For is ignored without a trusted proxy
    many = [
        c.get(
            f"/api/v1/stations/nearest?{XINING}", headers={"User-Agent": f"phone {n}"}
        ).status_code
        for n in range(30)
    ]
    assert 429 in many  # the whole address has a ceiling too


def test_a_trusted_proxy_passes_the_real_address(partner_app):
    app = partner_app(RATELIMIT_CLIENT="3 per minute", TRUSTED_PROXIES=1)
    c = app.test_client()
    for n in range(6):  # six different real clients behind our own proxy
        assert (
            c.get(
                f"/api/v1/stations/nearest?{XINING}",
                headers={"User-Agent": "same", "X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            == 200
        )


def test_a_key_raises_the_limit(partner_app, hefei_key):
    app = partner_app(RATELIMIT_CLIENT="3 per minute", RATELIMIT_KEY="50 per minute")
    c = app.test_client()
    assert {
        c.get("/api/v1/stations", headers={"X-API-Key": hefei_key}).status_code for _ in range(10)
    } == {200}


def test_cors_for_reads_only(partner_app, store):
    c = partner_app(RATELIMIT_ENABLED=False).test_client()
    response = c.get(
        f"/api/v1/stations/nearest?{XINING}", headers={"Origin": "https://portal.example"}
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = c.options(
        "/api/v1/stations",
        headers={
            "Origin": "https://portal.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-API-Key",
        },
    )
    assert preflight.status_code in (200, 204)
    assert (
        "GET" in preflight.headers["Access-Control-Allow-Methods"]
        and "X-API-Key" in preflight.headers["Access-Control-Allow-Headers"]
    )
    patch = c.patch("/api/v1/stations/1", json={}, headers={"Origin": "https://portal.example"})
    assert "Access-Control-Allow-Origin" not in patch.headers


def test_etags_and_304(partner_app):
    c = partner_app(RATELIMIT_ENABLED=False).test_client()
    for path in (
        "/api/v1/stations?region=63",
        "/api/v1/stations/1",
        "/api/v1/regions/63/summary",
        "/api/v1/export/stations.csv",
    ):
        first = c.get(path)
        assert (
            first.status_code == 200
            and first.headers["ETag"]
            and "max-age" in first.headers["Cache-Control"]
        ), path
        again = c.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b"", path
    assert (
        c.get(f"/api/v1/stations/nearest?{XINING}").headers["Cache-Control"] == "public, max-age=30"
    )
    for path in (
        "/api/v1/stations/1",
        "/api/v1/stations?region=63",
        "/api/v1/export/stations.geojson",
    ):
        modified = c.get(path).headers["Last-Modified"]
        assert c.get(path, headers={"If-Modified-Since": modified}).status_code == 304, path
    assert (
        c.get("/api/v1/export/stations.geojson").headers["Cache-Control"] == "public, max-age=3600"
    )


def test_list_filters(partner_app, cli, tmp_path):
    from conftest import write_csv

    # Beside the three open samples: two stations closed for a while, one closed for good and
    # one planned (neither of those two is ever public).
    result = cli(
        "import",
        write_csv(
            tmp_path / "closed.csv",
            [
                ["TC-1", "暂停的驿站一", "31.83", "117.23", "temporarily_closed", "2026-12-31"],
                ["TC-2", "暂停的驿站二", "36.62", "101.78", "temporarily_closed", "2027-01-15"],
                ["GONE-1", "关闭的驿站", "31.84", "117.24", "closed", ""],
                ["PLAN-1", "规划中的驿站", "31.85", "117.25", "planned", ""],
            ],
            header=["code", "name", "lat", "lon", "status", "closed_until"],
        ),
    )
    assert result.exit_code == 0, result.output
    c = partner_app(RATELIMIT_ENABLED=False).test_client()
    samples = ["XN-0001", "HF-0001", "QD-0001"]
    assert codes(c.get("/api/v1/stations?region=37")) == ["QD-0001"]
    assert codes(c.get("/api/v1/stations?facilities=toilet")) == ["XN-0001", "HF-0001"]
    assert codes(c.get("/api/v1/stations?open_now=1")) == ["XN-0001", "HF-0001"]  # Friday 10:00
    paused = c.get("/api/v1/stations?status=temporarily_closed")
    assert codes(paused) == ["TC-1", "TC-2"]
    assert [
        (f["properties"]["status"], f["properties"]["closed_until"], f["properties"]["open_now"])
        for f in paused.json["features"]
    ] == [("temporarily_closed", "2026-12-31", False), ("temporarily_closed", "2027-01-15", False)]
    assert codes(c.get("/api/v1/stations?status=temporarily_closed&region=6301")) == ["TC-2"]
    assert codes(c.get("/api/v1/stations?status=open")) == samples
    assert codes(c.get("/api/v1/stations?status=open,temporarily_closed")) == samples + [
        "TC-1",
        "TC-2",
    ]
    assert codes(c.get("/api/v1/stations")) == samples + ["TC-1", "TC-2"]  # never GONE, PLAN
    assert codes(c.get("/api/v1/stations?updated_since=2999-01-01T00:00:00Z")) == []
    assert len(codes(c.get("/api/v1/stations?updated_since=2000-01-01"))) == 5
    for bad, field in (
        ("region=9x", "region"),
        ("status=planned", "status"),
        ("status=closed", "status"),  # closed stations are not public either
        ("updated_since=soon", "updated_since"),
        ("format=xml", "format"),
    ):
        response = c.get("/api/v1/stations?" + bad)
        assert response.status_code == 400 and response.json["error"]["field"] == field, bad
    # A well-formed code of no region (there is no province 99) is not found, not malformed.
    unknown = c.get("/api/v1/stations?region=99")
    assert unknown.status_code == 404 and unknown.json["error"]["field"] == "region"


def test_csv_format_pages_with_a_cursor_header(partner_app):
    c = partner_app(RATELIMIT_ENABLED=False).test_client()
    first = c.get("/api/v1/stations?format=csv&limit=2")
    rows = list(csv.DictReader(io.StringIO(first.data.decode("utf-8-sig"))))
    assert [r["code"] for r in rows] == ["XN-0001", "HF-0001"] and "manager_phone" not in rows[0]
    rest = c.get(f"/api/v1/stations?format=csv&limit=2&cursor={first.headers['X-Next-Cursor']}")
    assert [r["code"] for r in csv.DictReader(io.StringIO(rest.data.decode("utf-8-sig")))] == [
        "QD-0001"
    ]
    assert "X-Next-Cursor" not in rest.headers


def test_bulk_export_is_public_and_licensed(partner_app, cli, tmp_path):
    from conftest import write_csv

    cli(
        "import",
        write_csv(
            tmp_path / "planned.csv",
            [["P-1", "规划中的驿站", "31.85", "117.25", "planned"]],
            header=["code", "name", "lat", "lon", "status"],
        ),
    )
    c = partner_app(RATELIMIT_ENABLED=False).test_client()
    geo = c.get("/api/v1/export/stations.geojson")
    assert (
        geo.json["license"].startswith("Open Database License")
        and 'rel="license"' in geo.headers["Link"]
    )
    assert sorted(f["properties"]["code"] for f in geo.json["features"]) == [
        "HF-0001",
        "QD-0001",
        "XN-0001",
    ]
    text = geo.get_data(as_text=True) + c.get("/api/v1/export/stations.csv").get_data(as_text=True)
    assert "13800138000" not in text and "manager" not in text
    assert c.get("/api/v1/export/stations.xml").status_code == 404
