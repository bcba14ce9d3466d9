"""One rule for what is public: planned and closed stations are on no public route.

Every public detail route answers 404 for them and every public list, map, nearest answer,
summary, export and embed leaves them out (and does not count them), while the same routes show
the open and the temporarily closed stations beside them.
"""

import csv
import io
import re
from datetime import datetime

import pytest

from app import create_app
from stations.core.hours import TZ
from stations.store import open_store

from conftest import SAMPLE, write_csv
from helpers import station_rows

HEADER = ["code", "name", "lat", "lon", "opening_hours", "status", "closed_until"]
EXTRA = [
    {"code": "XN-0002", "name": "西宁第二驿站", "lat": "36.6200", "lon": "101.7800"},
    {"code": "XN-0003", "name": "西宁第三驿站", "lat": "36.6250", "lon": "101.7750"},
    {
        "code": "T-1",
        "name": "暂停开放的驿站",
        "lat": "31.8300",
        "lon": "117.2400",
        "status": "temporarily_closed",
        "closed_until": "2026-12-31",
    },
    {
        "code": "C-1",
        "name": "已撤销的驿站",
        "lat": "31.8210",
        "lon": "117.2280",
        "status": "closed",
    },
]
# 60 planned stations in Hefei: more than a page of the public list, and more than Xining has.
PLANNED = [
    {**row, "name": f"筹建驿站{i}", "status": "planned"}
    for i, row in enumerate(station_rows(60, "P"))
]
PUBLISHED = ["HF-0001", "QD-0001", "T-1", "XN-0001", "XN-0002", "XN-0003"]
HIDDEN = ["C-1", "P000000", "P000059"]  # the closed one, and planned ones
HEFEI_BOX = "117.19,31.79,117.26,31.86"  # min_lon,min_lat,max_lon,max_lat
HEFEI = "lat=31.8206&lon=117.2272"  # HF-0001 stands here; C-1 is 80 m away


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A registry of published, closed and planned stations, and the stations' ids by code."""
    folder = tmp_path_factory.mktemp("published")
    url = f"sqlite:///{folder / 'yizhan.db'}"
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test"})
    rows = [*SAMPLE, *EXTRA, *PLANNED]
    result = app.test_cli_runner().invoke(
        args=["import", str(write_csv(folder / "all.csv", rows, header=HEADER))]
    )
    assert result.exit_code == 0, result.output
    with open_store(url) as store:
        ids = {s.code: s.id for s in store.iter_stations()}
        assert (
            store.get(ids["C-1"]).status == "closed"
            and store.get(ids["P000000"]).status == "planned"
        )
    return url, ids, folder


@pytest.fixture(scope="module")
def public_app(registry):
    url, _, _ = registry
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test",
            "CLOCK": lambda: datetime(2026, 11, 20, 10, 0, tzinfo=TZ),
            "RATELIMIT_ENABLED": False,
        }
    )


@pytest.fixture
def public(public_app):
    return public_app.test_client()


@pytest.fixture
def ids(registry):
    return registry[1]


def names_of(codes):
    by_code = {r["code"]: r["name"] for r in [*SAMPLE, *EXTRA, *PLANNED]}
    return [by_code[c] for c in codes]


def feature_codes(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(f["properties"]["code"] for f in response.json["features"])


def csv_codes(response):
    assert response.status_code == 200
    return sorted(r["code"] for r in csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


# -- detail routes ------------------------------------------------------------------------------

DETAIL_ROUTES = [
    "/stations/{id}",
    "/s/{code}",
    "/stations/{id}/qr.svg",
    "/stations/{id}/poster",
    "/api/v1/stations/{id}",
]


@pytest.mark.parametrize("route", DETAIL_ROUTES)
@pytest.mark.parametrize("code", HIDDEN)
def test_unpublished_station_is_404_on_every_detail_route(public, ids, route, code):
    response = public.get(route.format(id=ids[code], code=code))
    assert response.status_code == 404
    assert names_of([code])[0] not in response.get_data(as_text=True)


@pytest.mark.parametrize("route", DETAIL_ROUTES)
@pytest.mark.parametrize("code", ["HF-0001", "T-1"])
def test_published_station_is_on_every_detail_route(public, ids, route, code):
    response = public.get(route.format(id=ids[code], code=code))
    body = response.get_data(as_text=True)
    if route.startswith("/s/"):
        assert response.status_code == 301
        assert response.headers["Location"].endswith(f"/stations/{ids[code]}")
    elif route.endswith("qr.svg"):
        assert response.status_code == 200 and body.startswith("<svg")
    elif route.startswith("/api/"):
        assert response.status_code == 200 and response.json["properties"]["code"] == code
    else:
        assert response.status_code == 200 and names_of([code])[0] in body


# -- lists, map, nearest, summaries, exports ---------------------------------------------------


def test_public_list_counts_and_shows_published_stations_only(public):
    body = public.get("/stations").get_data(as_text=True)
    assert "6 个站点" in body
    cities = dict(re.findall(r'class="city-chip" href="[^"]+"[^>]*>(\S+) <b>(\d+)</b></a>', body))
    # 60 planned in Hefei uncounted
    assert cities == {"全部": "6", "西宁市": "3", "合肥市": "2", "青岛市": "1"}
    assert "1 / 1" in body  # 6 stations are one page; 66 would be two
    assert all(name in body for name in names_of(PUBLISHED))
    assert "筹建驿站" not in body and "已撤销的驿站" not in body
    assert public.get("/stations?page=2").get_data(as_text=True).count('class="station"') == 0


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", PUBLISHED),
        ("?region=34", ["HF-0001", "T-1"]),
        (f"?bbox={HEFEI_BOX}", ["HF-0001", "T-1"]),
        ("?limit=500", PUBLISHED),
        ("?status=open,temporarily_closed", PUBLISHED),
    ],
)
def test_api_list_has_published_stations_only(public, query, expected):
    assert feature_codes(public.get("/api/v1/stations" + query)) == expected
    separator = "&" if query else "?"
    assert csv_codes(public.get(f"/api/v1/stations{query}{separator}format=csv")) == expected


@pytest.mark.parametrize("status", ["planned", "closed"])
def test_api_list_refuses_to_filter_for_unpublished_statuses(public, status):
    response = public.get(f"/api/v1/stations?status={status}")
    assert response.status_code == 400 and response.json["error"]["field"] == "status"


def test_map_markers_are_published_stations_only(public, ids):
    body = public.get(f"/api/v1/map?bbox={HEFEI_BOX}").json
    assert body["clusters"] == []
    assert sorted(m[0] for m in body["markers"]) == sorted([ids["HF-0001"], ids["T-1"]])


def test_nearest_offers_published_stations_only(public):
    assert feature_codes(public.get(f"/api/v1/stations/nearest?{HEFEI}&k=50")) == PUBLISHED
    nearest = public.get(f"/api/v1/stations/nearest?{HEFEI}&k=1").json["features"]
    assert [f["properties"]["code"] for f in nearest] == ["HF-0001"]


@pytest.mark.parametrize("adcode", ["34", "3401", "340104"])
def test_region_summary_counts_published_stations_only(public, adcode):
    body = public.get(f"/api/v1/regions/{adcode}/summary").json
    assert body["stations"] == 2 and body["by_status"] == {"open": 1, "temporarily_closed": 1}


def test_bulk_exports_hold_published_stations_only(public):
    assert feature_codes(public.get("/api/v1/export/stations.geojson")) == PUBLISHED
    assert csv_codes(public.get("/api/v1/export/stations.csv")) == PUBLISHED


def test_embed_list_offers_published_stations_only(public, ids):
    body = public.get(f"/embed/list?{HEFEI}&k=20").get_data(as_text=True)
    linked = sorted(int(i) for i in re.findall(r"/stations/(\d+)\"", body))
    # the published ones within the list's 50 km cap: Hefei's, not Xining's or Qingdao's
    assert linked == sorted(ids[c] for c in ("HF-0001", "T-1"))
    assert "筹建驿站" not in body and "已撤销的驿站" not in body


@pytest.mark.parametrize("page", ["/", "/embed"])
def test_maps_open_where_the_published_stations_are(public, page):
    """Hefei holds the most stations (62 of them unpublished); Xining the most published."""
    body = public.get(page).get_data(as_text=True)
    lat, lon = (float(v) for v in re.search(r"center: \[([\d.]+), ([\d.]+)\]", body).groups())
    assert abs(lat - 36.62) < 0.01 and abs(lon - 101.778) < 0.01


def test_public_export_on_the_command_line_leaves_unpublished_stations_out(public_app, registry):
    folder = registry[2]
    runner = public_app.test_cli_runner()
    for flags, expected in (
        (["--public"], PUBLISHED),
        ([], sorted([*PUBLISHED, "C-1", *(r["code"] for r in PLANNED)])),
    ):
        path = folder / f"export{len(flags)}.csv"
        result = runner.invoke(args=["export", str(path), *flags])
        assert result.exit_code == 0, result.output
        with open(path, encoding="utf-8-sig") as f:
            assert sorted(r["code"] for r in csv.DictReader(f)) == expected


# -- check-ins ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["planned", "closed"])
def test_no_checkin_on_an_unpublished_station(api, cli, tmp_path, db_path, status):
    path = write_csv(
        tmp_path / "hidden.csv",
        [
            {
                "code": "H-1",
                "name": "看不见的驿站",
                "lat": "31.85",
                "lon": "117.25",
                "status": status,
            }
        ],
        header=HEADER,
    )
    assert cli("import", path).exit_code == 0
    with open_store(f"sqlite:///{db_path}") as store:
        hidden = store.get_by_code("H-1").id
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', api.get("/stations/1").get_data(as_text=True)
        ).group(1)
        refused = api.post(
            f"/stations/{hidden}/checkins", data={"kind": "locked", "csrf_token": token}
        )
        assert refused.status_code == 404
        assert store.open_reports([hidden], "2000-01-01") == {}
        accepted = api.post("/stations/1/checkins", data={"kind": "locked", "csrf_token": token})
        assert accepted.status_code == 303 and len(store.open_reports([1], "2000-01-01")[1]) == 1


def test_staff_read_their_regions_unpublished_stations_through_the_api(api, cli, tmp_path, db_path):
    """Staff edit planned stations through the API, so their token reads them (for the ETag
    that If-Match needs), privately; the public still gets 404."""
    from staff_helpers import make_users, token_for

    rows = [
        {
            "code": "XN-P",
            "name": "西宁筹建驿站",
            "lat": "36.62",
            "lon": "101.78",
            "status": "planned",
        },
        {
            "code": "HF-P",
            "name": "合肥筹建驿站",
            "lat": "31.85",
            "lon": "117.25",
            "status": "planned",
        },
    ]
    assert cli("import", write_csv(tmp_path / "planned.csv", rows, header=HEADER)).exit_code == 0
    with open_store(f"sqlite:///{db_path}") as store:
        make_users(store)
        token = {"Authorization": f"Bearer {token_for(store, 'xn-auditor')}"}
        xining, hefei = store.get_by_code("XN-P").id, store.get_by_code("HF-P").id
    staff = api.get(f"/api/v1/stations/{xining}", headers=token)
    assert staff.status_code == 200 and staff.json["properties"]["status"] == "planned"
    assert staff.headers["ETag"] == '"v1"' and staff.headers["Cache-Control"].startswith("private")
    assert api.get(f"/api/v1/stations/{xining}").status_code == 404
    assert api.get(f"/api/v1/stations/{hefei}", headers=token).status_code == 404  # not theirs
    bad = api.get(f"/api/v1/stations/{xining}", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    opened = api.patch(
        f"/api/v1/stations/{xining}",
        json={"status": "open"},
        headers={**token, "If-Match": staff.headers["ETag"]},
    )
    assert opened.status_code == 200
    public = api.get(f"/api/v1/stations/{xining}")
    assert public.status_code == 200 and public.headers["Cache-Control"].startswith("public")
