"""No per-station queries: nearest, lists, map and exports cost a fixed number of SQL
statements however many stations they return, and navigation links need no boundary lookup."""

from datetime import date, datetime

import pytest

from app import create_app
from stations.core import audits, datum, navigation, standards
from stations.core.hours import TZ
from stations.store import open_store
from stations.web.context import get_store

from conftest import write_csv
from helpers import station_rows

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
STATIONS = 120  # on a ~55 m grid in central Hefei
HEFEI = "lat=31.80&lon=117.20"


@pytest.fixture(scope="module")
def busy_app(tmp_path_factory):
    """120 stations, each with an audit holding an expired first-aid kit and an open report:
    everything a feature shows that needs a query."""
    folder = tmp_path_factory.mktemp("batching")
    url = f"sqlite:///{folder / 'yizhan.db'}"
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test",
            "CLOCK": lambda: NOW,
            "RATELIMIT_ENABLED": False,
        }
    )
    result = app.test_cli_runner().invoke(
        args=["import", str(write_csv(folder / "many.csv", station_rows(STATIONS)))]
    )
    assert result.exit_code == 0, result.output
    profile = standards.profiles()["qigeyi_haikou"]
    with open_store(url) as store:
        store.create_user("auditor", "x", "auditor", "", NOW.isoformat())
        auditor = store.user_login("auditor")[0]
        for s in store.iter_stations():
            answers = [
                audits.Answer(i.key, "pass", valid_until="2026-11-10" if i.expires else None)
                for i in profile.items
            ]
            audits.record(
                store, auditor, s, profile, answers, date(2026, 11, 19), "scheduled", {}, NOW
            )
            store.add_checkin(s.id, "locked", None, f"c{s.id}", "2026-11-20T09:00:00+08:00", False)
    return app


def statements(app, url: str) -> tuple[list[str], object]:
    """The SQL statements one request runs on its store, and the response."""
    seen: list[str] = []
    with app.test_request_context(url):
        get_store().db.conn.set_trace_callback(seen.append)
        response = app.full_dispatch_request()
    assert response.status_code == 200, response.get_data(as_text=True)
    return seen, response


def test_nearest_runs_the_same_queries_for_5_and_50_stations(busy_app):
    statements(busy_app, f"/api/v1/stations/nearest?{HEFEI}")  # builds the index
    few, small = statements(busy_app, f"/api/v1/stations/nearest?{HEFEI}&k=5")
    many, large = statements(busy_app, f"/api/v1/stations/nearest?{HEFEI}&k=50")
    assert len(small.json["features"]) == 5 and len(large.json["features"]) == 50
    for feature in large.json["features"]:  # audits, expiries and reports all made it
        props = feature["properties"]
        assert props["audit"]["profile"] == "qigeyi_haikou"
        assert {w["kind"] for w in props["warnings"]} == {"locked", "expired"}
    assert len(many) == len(few) <= 6, many


@pytest.mark.parametrize("fmt", ["geojson", "csv"])
def test_a_list_page_of_100_runs_the_same_queries_as_one_of_10(busy_app, fmt):
    few, small = statements(busy_app, f"/api/v1/stations?limit=10&format={fmt}")
    many, large = statements(busy_app, f"/api/v1/stations?limit=100&format={fmt}")
    if fmt == "geojson":
        assert len(small.json["features"]) == 10 and len(large.json["features"]) == 100
        assert all(f["properties"]["audit"] for f in large.json["features"])
    else:
        assert large.data.decode("utf-8-sig").count("\n") == 101  # header and 100 rows
    assert len(many) == len(few) <= 6, many


def test_open_now_list_pages_in_batches_not_per_station(busy_app):
    queries, response = statements(busy_app, "/api/v1/stations?limit=100&open_now=1")
    assert len(response.json["features"]) == 100  # Friday 10:00: all open 08-20
    assert len(queries) <= 6, queries


def test_public_list_pages_run_the_same_queries_for_50_and_20_stations(busy_app):
    statements(busy_app, "/stations")  # the city chips' extents, kept until the registry moves
    full, first = statements(busy_app, "/stations?page=1")
    last_, last = statements(busy_app, "/stations?page=3")
    assert first.get_data(as_text=True).count('class="station"') == 50
    assert last.get_data(as_text=True).count('class="station"') == STATIONS - 100
    assert len(full) == len(last_) <= 6, full


def test_map_markers_and_exports_take_a_few_queries(busy_app):
    statements(busy_app, "/api/v1/map?bbox=117.19,31.79,117.26,31.86")  # builds the index
    for url, count, expected in (
        ("/api/v1/map?bbox=117.19,31.79,117.26,31.86", lambda r: len(r.json["markers"]), STATIONS),
        ("/api/v1/export/stations.geojson", lambda r: len(r.json["features"]), STATIONS),
        (
            "/api/v1/export/stations.csv",
            lambda r: r.data.decode("utf-8-sig").count("\n") - 1,
            STATIONS,
        ),
        (
            "/embed/list?lat=31.80&lon=117.20&k=20",
            lambda r: r.data.decode().count('class="result"'),
            20,
        ),
    ):
        queries, response = statements(busy_app, url)
        assert count(response) == expected, url
        assert len(queries) <= 4, (url, queries)


def test_nearest_needs_no_boundary_lookup_for_navigation_links(busy_app, monkeypatch):
    from stations.core import regions

    calls = []
    real = regions.in_mainland
    monkeypatch.setattr(regions, "in_mainland", lambda *a: calls.append(a) or real(*a))
    _, response = statements(busy_app, f"/api/v1/stations/nearest?{HEFEI}&k=50")
    assert len(response.json["features"]) == 50 and calls == []
    first = response.json["features"][0]
    assert first["geometry"]["coordinates"] == [117.2, 31.8]
    g_lat, g_lon = datum.gcj02_from_wgs84(31.8, 117.2)  # shifted to GCJ-02 all the same
    assert f"to={g_lon:.6f}%2C{g_lat:.6f}" in first["properties"]["navigation"]["amap_route"]


def test_links_from_the_adcode_equal_links_from_the_boundary(cli, store):
    """For every demo station (all over the mainland) the cheap decision gives the same links."""
    assert cli("seed").exit_code == 0
    stations = list(store.iter_stations())
    assert len(stations) > 400
    for s in stations:
        assert navigation.links(s.lat, s.lon, s.name, s.address, s.adcode) == navigation.links(
            s.lat, s.lon, s.name, s.address
        ), s.code


def test_a_station_cannot_carry_an_adcode_outside_the_mainland():
    """Futian's border crossing lies within the adcode slack of Hong Kong's Yuen Long: the
    adcode must still be a mainland one, since the map links trust it."""
    from stations.core.model import Invalid, validate

    base = {
        "code": "SZ-1",
        "name": "福田口岸驿站",
        "lat": 22.515,
        "lon": 114.04,
        "host_type": "other",
        "entry_method": "open_door",
    }
    assert validate(base).adcode == "440304"
    with pytest.raises(Invalid) as refused:
        validate({**base, "adcode": "810118"})
    assert [(e.field, "outside mainland China" in e.message) for e in refused.value.errors] == [
        ("adcode", True)
    ]


def test_expired_items_come_from_the_latest_audit_only(store, cli, sample_csv):
    assert cli("import", sample_csv).exit_code == 0
    store.create_user("auditor", "x", "auditor", "", NOW.isoformat())
    auditor = store.user_login("auditor")[0]
    profile = standards.profiles()["qigeyi_haikou"]

    def audit(station_id, expiry):
        answers = [
            audits.Answer(i.key, "pass", valid_until=expiry if i.expires else None)
            for i in profile.items
        ]
        station = store.get(station_id)
        audits.record(
            store, auditor, station, profile, answers, date(2026, 11, 1), "scheduled", {}, NOW
        )

    audit(1, "2026-01-01")  # superseded by the next audit: no longer counts
    audit(1, "2026-11-10")
    audit(2, "2027-06-30")  # still good
    audit(3, "")  # no date given
    expired = store.expired_items([1, 2, 3, 99], "2026-11-20")
    assert list(expired) == [1]
    assert [(i.item, i.valid_until) for i in expired[1]] == [("first_aid_kit", "2026-11-10")]
