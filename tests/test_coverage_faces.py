"""Coverage and planning through every face: the staff page, its exports (GeoPackage through
GDAL, XLSX, GeoJSON), the API and the command line — the same numbers as the core's report."""

import io
import json
import re
from datetime import date

import openpyxl
import pyogrio
import pytest
import shapely
from staff_helpers import make_users, sign_in

from app import create_app
from stations.core import coverage_report, regions
from stations.core.demand import DemandPoint

from conftest import STORE_KINDS, write_csv
from helpers import inside, moved

NOW = "2026-11-20T10:00:00+08:00"
HEADER = ["code", "name", "lat", "lon", "opening_hours", "facilities", "status", "closed_until"]


SHUSHAN = inside("340104")  # Hefei, 蜀山区: the stations
BAOHE = inside("340111")  # Hefei, 包河区: a cluster of workers no station reaches


def stations_csv(tmp_path):
    lat, lon = SHUSHAN
    rows = [
        ["HF-C1", "蜀山一号驿站", lat, lon, "24/7", "toilet;drinking_water", "open"],
        [
            "HF-C2",
            "蜀山二号驿站",
            *moved(lat, lon, 0, 150),
            "Mo-Fr 08:00-18:00",
            "toilet",
            "open",
        ],
        ["HF-C3", "蜀山三号驿站", *moved(lat, lon, 90, 2500), "24/7", "drinking_water", "open"],
        [
            "HF-C4",
            "暂停驿站",
            *moved(lat, lon, 180, 2500),
            "24/7",
            "",
            "temporarily_closed",
            "2027-01-31",
        ],
        ["HF-C5", "筹建驿站", *moved(lat, lon, 270, 2500), "24/7", "", "planned"],
    ]
    rows = [row + [""] * (len(HEADER) - len(row)) for row in rows]
    return write_csv(tmp_path / "coverage.csv", rows, header=HEADER)


def demand_points() -> list[DemandPoint]:
    lat, lon = SHUSHAN
    near = [DemandPoint(*moved(lat, lon, 0, 300 * i), 5.0, f"近{i}", "340104") for i in range(3)]
    b_lat, b_lon = BAOHE
    far = [
        DemandPoint(*moved(b_lat, b_lon, 0, 100 * i), 10.0, f"远{i}", "340111") for i in range(3)
    ]
    return near + far


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    """The page, the API and the CLI answer the same on the SQLite and the PostGIS store."""
    return request.param


@pytest.fixture
def coverage_app(database_url, store, clock, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "coverage",
            "CLOCK": clock,
            "RATELIMIT_ENABLED": False,
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
        }
    )
    result = app.test_cli_runner().invoke(args=["import", str(stations_csv(tmp_path))])
    assert result.exit_code == 0, result.output
    store.replace_demand_layer("骑手", "demand", demand_points(), NOW, False)
    make_users(store)
    return app


@pytest.fixture
def hefei(coverage_app):
    client = coverage_app.test_client()
    assert sign_in(client, "hf-admin").status_code == 302
    return client


def expected(store, **values):
    query, options = coverage_report.parse({"region": "3401", **values})
    return coverage_report.build(
        store,
        query,
        today=date(2026, 11, 20),
        demand=options.demand,
        candidates=options.candidates,
        suggest=options.suggest,
        target=coverage_report.DEFAULT_TARGET,
    )


def percent(share: float) -> str:
    return f"{round(share * 100, 1)}%"


def test_the_page_shows_the_cores_figures_and_three_suggested_sites(hefei, store):
    page = hefei.get("/admin/coverage?region=3401&suggest=3")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    want = expected(store, suggest=3)
    total = want.coverage.total
    area_card = re.search(r'id="area-share"><strong>([^<]+)</strong>', html).group(1)
    assert area_card == percent(total.covered_share)
    demand_card = re.search(r'id="demand-share"><strong>([^<]+)</strong>', html).group(1)
    assert demand_card == "33.3%"  # 15 of 45: the three near points, not the 包河 cluster
    assert total.stations == 3  # open ones only: not the temporarily closed, not the planned
    rows = re.findall(r'<tr data-adcode="(\d+)"><td>([^<]+)</td><td class="num">([^<]+)</td>', html)
    assert [r[0] for r in rows] == [d.adcode for d in want.coverage.districts]
    assert [r[2] for r in rows] == [percent(d.covered_share) for d in want.coverage.districts]
    # The first site goes to the uncovered cluster in 包河区 and adds all of its demand.
    first = want.suggestions[0]
    assert first.adcode == "340111" and first.adds == pytest.approx(30.0)
    table = re.search(r'<table class="grid" id="suggestions">(.*?)</table>', html, re.S).group(1)
    assert re.search(r"<td>1</td><td>包河区</td><td class=\"num\">30</td>", table)
    assert "骑手" in html


def test_districts_add_up_to_the_region(hefei, store):
    body = hefei.get("/api/v1/regions/3401/coverage").json
    districts, total = body["districts"], body["total"]
    assert sum(d["area_km2"] for d in districts) == pytest.approx(total["area_km2"], abs=0.01)
    assert sum(d["covered_km2"] for d in districts) == pytest.approx(total["covered_km2"], abs=0.01)
    assert sum(d["stations"] for d in districts) == total["stations"] == 3
    # The union of the three circles: two overlap (150 m apart), the third stands alone.
    covered = sum(d["covered_km2"] for d in districts)
    assert 2 * 3.1416 < covered < 3 * 3.1416


def test_filters_change_which_stations_count(hefei, store):
    all_open = hefei.get("/api/v1/regions/3401/coverage").json["total"]["stations"]
    only_24h = hefei.get("/api/v1/regions/3401/coverage?only_24h=1").json["total"]["stations"]
    toilets = hefei.get("/api/v1/regions/3401/coverage?facilities=toilet").json["total"]
    walk = hefei.get("/api/v1/regions/3401/coverage?preset=walk15").json
    assert (all_open, only_24h, toilets["stations"]) == (3, 2, 2)
    assert walk["query"]["radius_m"] == 865
    assert (
        walk["total"]["covered_km2"]
        < hefei.get("/api/v1/regions/3401/coverage").json["total"]["covered_km2"]
    )


def test_exports_open_in_gdal_and_excel(hefei, store, tmp_path):
    want = expected(store, suggest=3)
    gpkg = hefei.get("/admin/coverage.gpkg?region=3401&suggest=3")
    assert gpkg.status_code == 200
    path = tmp_path / "coverage.gpkg"
    path.write_bytes(gpkg.data)
    names = {name for name, _ in pyogrio.list_layers(path)}
    assert {"circles", "gaps", "suggestions", "demand", "districts"} <= names
    sites = pyogrio.read_dataframe(path, layer="suggestions")
    assert list(sites["rank"]) == [s.rank for s in want.suggestions]
    assert sites.geometry.iloc[0].x == pytest.approx(want.suggestions[0].lon, abs=1e-6)
    demand = pyogrio.read_dataframe(path, layer="demand")
    assert sorted(demand["weight"]) == [5.0] * 3 + [10.0] * 3
    circles = pyogrio.read_dataframe(path, layer="circles")
    assert set(circles["adcode"]) <= {d.adcode for d in want.coverage.districts}

    xlsx = hefei.get("/admin/coverage.xlsx?region=3401&suggest=3")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data), read_only=True)
    assert book.sheetnames == ["区县覆盖", "建议选址", "覆盖缺口", "过近站点", "说明"]
    sheet = list(book["建议选址"].values)
    assert sheet[0][:4] == ("序号", "纬度", "经度", "新增覆盖需求")
    assert sheet[1][3] == pytest.approx(30.0) and sheet[1][5] == "包河区"
    districts = list(book["区县覆盖"].values)
    assert districts[-1][0] == "3401"  # the total row last

    geojson = json.loads(hefei.get("/admin/coverage.geojson?region=3401&suggest=3").data)
    layers = {f["properties"]["layer"] for f in geojson["features"]}
    assert {"circles", "suggestions", "demand", "stations"} <= layers


def test_staff_see_only_their_region(coverage_app):
    client = coverage_app.test_client()
    assert sign_in(client, "xn-auditor").status_code == 302
    assert client.get("/admin/coverage?region=3401").status_code == 403
    page = client.get("/admin/coverage").get_data(as_text=True)  # defaults to their own city
    assert "西宁市" in page and "合肥市" not in page


@pytest.mark.parametrize(
    "query, field",
    [
        ("radius_m=abc", "radius_m"),
        ("radius_m=20", "radius_m"),
        ("region=99", "region"),
        ("facilities=jacuzzi", "facilities"),
        ("suggest=500", "suggest"),
        ("demand=nosuchlayer", "demand"),
    ],
)
def test_bad_parameters_are_named(hefei, query, field):
    url = (
        f"/admin/coverage?{query}"
        if query.startswith("region=")
        else f"/admin/coverage?region=3401&{query}"
    )
    page = hefei.get(url)
    assert page.status_code == 400
    assert f"<li>{field}: " in page.get_data(as_text=True)


def test_the_api_names_bad_parameters_and_unknown_regions(coverage_app):
    client = coverage_app.test_client()
    assert client.get("/api/v1/regions/99/coverage").status_code == 404
    bad = client.get("/api/v1/regions/3401/coverage?radius_m=-5")
    assert bad.status_code == 400 and bad.json["error"]["field"] == "radius_m"
    assert client.get("/api/v1/regions/3401/coverage?suggest=11").status_code == 400


def test_a_partner_key_reaches_only_its_region(coverage_app):
    runner = coverage_app.test_cli_runner()
    key = runner.invoke(args=["key", "create", "hefei-portal", "--region", "3401"]).output.strip()
    client = coverage_app.test_client()
    assert (
        client.get("/api/v1/regions/3401/coverage", headers={"X-API-Key": key}).status_code == 200
    )
    assert (
        client.get("/api/v1/regions/6301/coverage", headers={"X-API-Key": key}).status_code == 403
    )


def test_the_api_returns_layers_on_request(coverage_app):
    body = coverage_app.test_client().get("/api/v1/regions/3401/coverage?geometry=1&suggest=1").json
    gaps = body["layers"]["gaps"]["features"]
    assert len(gaps) == body["gaps"] > 0
    shape = shapely.geometry.shape(body["layers"]["suggestions"]["features"][0]["geometry"])
    assert regions.locate(shape.y, shape.x).adcode == "340111"


def test_the_cli_prints_and_writes_the_report(coverage_app, store, tmp_path):
    runner = coverage_app.test_cli_runner()
    out = tmp_path / "hefei.gpkg"
    result = runner.invoke(args=["coverage", "3401", "--suggest", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    want = expected(store, suggest=3)
    assert percent(want.coverage.total.covered_share) in result.output
    assert "Suggested site 1:" in result.output and "包河区 adds 30" in result.output
    assert {"circles", "gaps", "suggestions", "demand"} <= {n for n, _ in pyogrio.list_layers(out)}
    xlsx = tmp_path / "hefei.xlsx"
    assert (
        runner.invoke(args=["coverage", "3401", "--out", str(xlsx), "--lang", "en"]).exit_code == 0
    )
    assert openpyxl.load_workbook(xlsx, read_only=True).sheetnames[0] == "districts"
    bad = runner.invoke(args=["coverage", "3401", "--out", str(tmp_path / "x.pdf")])
    assert bad.exit_code != 0 and ".gpkg" in bad.output
    bad = runner.invoke(args=["coverage", "3401", "--radius", "5"])
    assert bad.exit_code != 0 and "radius_m" in bad.output


def upload(client, path, name, **form):
    from staff_helpers import csrf

    token = csrf(client, "/admin/coverage")
    with open(path, "rb") as f:
        return client.post(
            "/admin/coverage/layers",
            data={
                "csrf_token": token,
                "name": name,
                "kind": "demand",
                **form,
                "file": (f, path.name),
            },
            content_type="multipart/form-data",
        )


def test_staff_import_a_demand_layer_in_their_region_whole_or_not_at_all(hefei, store, tmp_path):
    lat, lon = BAOHE
    good = write_csv(
        tmp_path / "good.csv", [[lat, lon, 12, "工地"]], header=["纬度", "经度", "人数", "名称"]
    )
    done = upload(hefei, good, "工地")
    assert done.status_code == 303
    assert [
        (x.name, x.points, x.total_weight) for x in store.demand_layers() if x.name == "工地"
    ] == [("工地", 1, 12.0)]
    # A second upload of the same name without "replace" is refused, and keeps the first.
    again = upload(hefei, good, "工地")
    assert again.status_code == 400 and "工地" in again.get_data(as_text=True)
    # Any bad row: nothing is stored, and every bad row is named.
    xining = (36.62, 101.78)
    bad = write_csv(
        tmp_path / "bad.csv",
        [[lat, lon, 3, ""], [lat, lon, "many", ""], [*xining, 4, ""]],
        header=["纬度", "经度", "人数", "名称"],
    )
    refused = upload(hefei, bad, "混合")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "row 3" in html and "人数" in html
    assert "混合" not in {x.name for x in store.demand_layers()}
    outside = write_csv(
        tmp_path / "xn.csv", [[*xining, 4, ""]], header=["纬度", "经度", "人数", "名称"]
    )
    refused = upload(hefei, outside, "西宁")
    assert refused.status_code == 400 and "outside your region (3401)" in refused.get_data(
        as_text=True
    )
    assert "西宁" not in {x.name for x in store.demand_layers()}


def test_a_viewer_cannot_import_or_delete_layers(coverage_app, store, tmp_path):
    from staff_helpers import csrf

    client = coverage_app.test_client()
    assert sign_in(client, "viewer").status_code == 302
    path = write_csv(tmp_path / "v.csv", [[*BAOHE, 1, ""]], header=["纬度", "经度", "人数", "名称"])
    assert upload(client, path, "v").status_code == 403
    token = csrf(client, "/admin/coverage?region=3401")
    gone = client.post("/admin/coverage/layers/delete", data={"csrf_token": token, "name": "骑手"})
    assert gone.status_code == 403 and "骑手" in {x.name for x in store.demand_layers()}


def test_every_ticked_facility_counts_on_the_page(hefei):
    both = hefei.get("/admin/coverage?region=3401&facilities=toilet&facilities=drinking_water")
    html = both.get_data(as_text=True)
    # Only 蜀山一号 offers both a toilet and drinking water.
    assert re.search(r'<div class="card"><strong>1</strong>', html)
