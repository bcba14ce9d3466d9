"""Demand for coverage planning: the search log's grid and buffer, searches counted through the
real API without keeping a point, and demand files checked row by row."""

import json
import os

import pytest
from rawdb import RawDB
from servers import AppServer, flask_cli, http

from stations.core import datum, demand, geo
from stations.core.demand import (
    CELL_M,
    MET_WITHIN_M,
    MIN_CELL_SEARCHES,
    DemandPoint,
    SearchCell,
    SearchLog,
    cell_centre,
    cell_of,
    cell_polygon,
)
from stations.core.demand_files import DemandRejected, read_demand
from stations.core.geo import BBox
from stations.core.locator import Hit

from conftest import SAMPLE, STORE_KINDS, write_csv

XINING = (36.6171, 101.7782)  # XN-0001 of the sample stands here
ZHENGZHOU = (34.7466, 113.6253)  # no sample station within hundreds of km
DAY = "2026-11-20"  # the `clock` fixture's day
CHINA = BBox(18, 73, 54, 136)


# -- the grid ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lat", [20.0, 45.0])
def test_cells_are_about_500_m_squares_measured_on_the_ellipsoid(lat):
    row, col = cell_of(lat, 110.0)
    ring = cell_polygon(row, col)
    (west, south), (east, _), (_, north) = ring[0], ring[1], ring[2]
    assert ring[0] == ring[-1] and len(ring) == 5
    mid = (south + north) / 2
    width = geo.distance_m(mid, west, mid, east)
    height = geo.distance_m(south, west, north, west)
    assert width == pytest.approx(CELL_M, rel=0.01)
    assert height == pytest.approx(CELL_M, rel=0.01)
    c_lat, c_lon = cell_centre(row, col)
    assert south < c_lat < north and west < c_lon < east
    assert south <= lat < north and west <= 110.0 < east


def test_every_point_falls_in_the_cell_whose_outline_holds_it():
    for lat, lon in [XINING, ZHENGZHOU, (18.25, 109.5), (53.4, 122.3), (-33.9, 151.2)]:
        row, col = cell_of(lat, lon)
        (west, south), _, (east, north), *_ = cell_polygon(row, col)
        assert south <= lat < north and west <= lon < east
        assert cell_of(*cell_centre(row, col)) == (row, col)
    # Neighbours share edges: a step of ~600 m lands in the next row or column.
    row, col = cell_of(*XINING)
    assert cell_of(XINING[0] + 600 / 111_000, XINING[1])[0] == row + 1
    assert cell_of(XINING[0], XINING[1] + 600 / 89_000)[1] in (col + 1, col + 2)


def test_a_search_is_met_by_a_station_it_returned_within_a_kilometre():
    near, far = Hit(1, MET_WITHIN_M - 1, 0), Hit(2, MET_WITHIN_M + 1, 0)
    assert demand.is_met([near, far], {1, 2})
    assert not demand.is_met([far], {1, 2})
    assert not demand.is_met([near], {2})  # not shown (unpublished since): it found nothing
    assert not demand.is_met([], {})


# -- the buffer -------------------------------------------------------------------------------


def test_the_buffer_counts_per_cell_and_keeps_no_point():
    log = SearchLog(flush_seconds=30)
    log.record(*XINING, True, DAY)
    log.record(XINING[0] + 0.0001, XINING[1], False, DAY)  # 11 m away: the same cell
    log.record(*XINING, False, "2026-11-21")
    log.record(*ZHENGZHOU, False, DAY)
    counts = log.take()
    assert counts == {
        (DAY, *cell_of(*XINING)): (2, 1),
        ("2026-11-21", *cell_of(*XINING)): (1, 1),
        (DAY, *cell_of(*ZHENGZHOU)): (1, 1),
    }
    assert all(isinstance(v, int) for key in counts for v in key[1:])  # cells, not coordinates
    assert len(log) == 0 and log.take() == {}
    assert not any(isinstance(v, float) for v in vars(log).values())


def test_the_buffer_is_due_when_old_or_full():
    log = SearchLog(flush_seconds=30, max_cells=3)
    assert not log.due(100.0)  # empty: never due
    log.record(*XINING, True, DAY)
    assert not log.due(100.0)  # its age counts from here
    assert not log.due(129.9)
    assert log.due(130.0)
    log.take()
    assert not log.due(500.0)
    for lat in (20.0, 30.0, 40.0):
        log.record(lat, 110.0, True, DAY)
    assert log.due(500.0)  # three cells: full, however young
    every_search = SearchLog(flush_seconds=0)
    every_search.record(*XINING, True, DAY)
    assert every_search.due(7.0)


def test_searches_become_demand_only_in_cells_with_enough_searches():
    few = SearchCell(10, 20, MIN_CELL_SEARCHES - 1, 4)
    enough = SearchCell(7000, 26000, MIN_CELL_SEARCHES, 3)
    all_met = SearchCell(7001, 26000, 40, 0)
    (point,) = demand.searches_as_demand([few, enough, all_met])
    assert point == DemandPoint(*cell_centre(7000, 26000), 3.0, adcode="")  # in the sea
    (zz,) = demand.searches_as_demand([SearchCell(*cell_of(*ZHENGZHOU), 9, 2)])
    assert (zz.weight, zz.adcode[:4]) == (2.0, "4101")


# -- through the API, on both stores ----------------------------------------------------------


def _search(api, lat: float, lon: float) -> None:
    response = api.get(f"/api/v1/stations/nearest?lat={lat}&lon={lon}")
    assert response.status_code == 200, response.json


def _in_cell(lat: float, lon: float, n: int) -> list[tuple[float, float]]:
    """n points a few dozen metres apart around the centre of the cell holding (lat, lon)."""
    c_lat, c_lon = cell_centre(*cell_of(lat, lon))
    return [
        (round(c_lat + 0.0003 * (i - n // 2), 6), round(c_lon + 0.0002 * i, 6)) for i in range(n)
    ]


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_searches_through_the_api_are_counted_per_cell(api, store):
    for lat, lon in _in_cell(*ZHENGZHOU, MIN_CELL_SEARCHES):  # nothing within 1 km
        _search(api, lat, lon)
    for lat, lon in _in_cell(XINING[0] + 0.002, XINING[1], MIN_CELL_SEARCHES):  # XN-0001 near
        _search(api, lat, lon)
    for lat, lon in _in_cell(31.0, 121.4, MIN_CELL_SEARCHES - 1):  # too few to show
        _search(api, lat, lon)
    api.get("/api/v1/stations/nearest?lat=91&lon=0")  # refused: not a search
    cells = demand.search_cells(store, CHINA, DAY)
    zz, xn = cell_of(*ZHENGZHOU), cell_of(XINING[0] + 0.002, XINING[1])
    assert cells == [SearchCell(*zz, 5, 5), SearchCell(*xn, 5, 0)]
    assert demand.search_cells(store, CHINA, "2026-11-21") == []
    (point,) = demand.searches_as_demand(cells)
    assert (point.lat, point.lon, point.weight) == (*cell_centre(*zz), 5.0)


def _columns(raw: RawDB, table: str) -> list[str]:
    if raw.postgres:
        sql = "select column_name from information_schema.columns where table_name = ? order by ordinal_position"
        return [name for (name,) in raw.rows(sql, [table])]
    return [row[1] for row in raw.rows(f"pragma table_info({table})")]


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_the_database_keeps_no_coordinate_of_a_search(api, database_url):
    raw = RawDB(database_url)
    before = raw.snapshot()
    searched = _in_cell(*ZHENGZHOU, 3) + _in_cell(XINING[0] + 0.01, XINING[1] + 0.01, 3)
    for lat, lon in searched:
        _search(api, lat, lon)
    after = raw.snapshot()
    # Only the search log changed, and only by whole cells and counts.
    assert {t: rows for t, rows in after.items() if t != "search_cells"} == {
        t: rows for t, rows in before.items() if t != "search_cells"
    }
    assert _columns(raw, "search_cells") == ["day", "cell_row", "cell_col", "searches", "unmet"]
    rows = after["search_cells"]
    assert sorted(rows) == sorted(
        [
            (DAY, *cell_of(*ZHENGZHOU), 3, 3),
            (DAY, *cell_of(XINING[0] + 0.01, XINING[1] + 0.01), 3, 3),
        ]
    )
    for row in rows:
        for value in row:  # every column of every row
            assert not isinstance(value, float)
            for lat, lon in searched:
                assert str(lat)[:6] not in str(value) and str(lon)[:6] not in str(value)


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_a_store_that_cannot_write_never_fails_the_search(api, database_url, caplog):
    raw = RawDB(database_url)
    raw.execute("drop table search_cells")  # every flush now fails
    for lat, lon in _in_cell(*ZHENGZHOU, 2):
        response = api.get(f"/api/v1/stations/nearest?lat={lat}&lon={lon}")
        assert response.status_code == 200 and response.json["features"]
    assert "search log" in caplog.text


def test_a_server_writes_what_it_counted_when_it_stops(tmp_path):
    db = tmp_path / "served.db"
    env = {
        "DATABASE_URL": f"sqlite:///{db}",
        "SECRET_KEY": "served",
        "WEB_CONCURRENCY": "1",
        "SEARCH_LOG_FLUSH_SECONDS": "3600",  # nothing is due while it runs
    }
    assert flask_cli({**os.environ, **env}, "init-db").returncode == 0
    imported = flask_cli(
        {**os.environ, **env}, "import", str(write_csv(tmp_path / "s.csv", SAMPLE))
    )
    assert imported.returncode == 0, imported.stderr
    raw = RawDB(f"sqlite:///{db}")
    with AppServer(env, tmp_path / "gunicorn.log") as server:
        for lat, lon in _in_cell(*ZHENGZHOU, MIN_CELL_SEARCHES):
            status, _, body = http(f"{server.base}/api/v1/stations/nearest?lat={lat}&lon={lon}")
            assert status == 200, body
        assert raw.rows("select * from search_cells") == []  # still in the worker's memory
    # SIGTERM: the worker finished and wrote its counts on the way out.
    cell = cell_of(*ZHENGZHOU)
    assert raw.rows("select cell_row, cell_col, searches, unmet from search_cells") == [
        (*cell, 5, 5)
    ], (tmp_path / "gunicorn.log").read_text()


# -- demand files -----------------------------------------------------------------------------

HEADER = ["纬度", "经度", "人数", "名称"]


def test_a_csv_in_chinese_is_read_with_districts(tmp_path):
    path = write_csv(
        tmp_path / "d.csv",
        [["36.6171", "101.7782", "30", "城中区骑手"], ["31.8206", "117.2272", "１２．５", ""]],
        header=HEADER,
        encoding="gbk",
    )
    assert read_demand(path) == [
        DemandPoint(36.6171, 101.7782, 30.0, "城中区骑手", "630103"),
        DemandPoint(31.8206, 117.2272, 12.5, "", "340104"),
    ]


def test_every_bad_row_is_named_with_its_column(tmp_path):
    rows = [
        ["36.6171", "101.7782", "30", "好的"],  # row 2
        ["北纬36", "101.7782", "30", ""],  # row 3
        ["36.6171", "101.7782", "0", ""],  # row 4
        ["36.6171", "101.7782", "nan", ""],  # row 5
        ["101.7782", "36.6171", "3", ""],  # row 6: swapped
        ["22.3", "114.17", "3", ""],  # row 7: Hong Kong
        ["48.85", "2.35", "3", ""],  # row 8: Paris
        ["36.6171", "181", "", ""],  # row 9: two problems
        ["36.6171", "101.7782", "3", "x\x07"],  # row 10
    ]
    with pytest.raises(DemandRejected) as caught:
        read_demand(write_csv(tmp_path / "bad.csv", rows, header=HEADER))
    problems = caught.value.problems
    assert caught.value.bad_rows == 8
    assert problems[0] == "row 3, column 纬度: must be a decimal number, not '北纬36'"
    assert problems[1] == "row 4, column 人数: must be more than 0, not 0"
    assert problems[2].startswith("row 5, column 人数: must be a finite number")
    assert problems[3].startswith("row 6, column 纬度:") and "look swapped" in problems[3]
    assert problems[4].startswith("row 7, column 纬度:") and "outside mainland China" in problems[4]
    assert problems[5] == "row 8, column 纬度: (48.85, 2.35) lies outside China"
    assert problems[6:8] == [
        "row 9, column 人数: is required",
        "row 9, column 经度: must be between -180 and 180, not 181",
    ]
    assert problems[8].startswith("row 10, column 名称: contains the control character U+0007")
    assert len(problems) == 9


@pytest.mark.parametrize(
    "header, rows, says",
    [
        (["lat", "lon"], [["36.6", "101.7"]], "no weight column"),
        (["纬度", "weight"], [["36.6", "3"]], "no lon column"),
        (["lat", "lon", "人数", "weight"], [], "columns '人数' and 'weight' both give the weight"),
        (HEADER, [], "the file has no points"),
    ],
)
def test_a_whole_file_problem_is_one_line(tmp_path, header, rows, says):
    with pytest.raises(DemandRejected) as caught:
        read_demand(write_csv(tmp_path / "f.csv", rows, header=header))
    assert caught.value.bad_rows == 0 and len(caught.value.problems) == 1
    assert says in caught.value.problems[0]


def test_unknown_formats_and_hostile_json_are_refused(tmp_path):
    (tmp_path / "d.pdf").write_bytes(b"%PDF")
    (tmp_path / "nan.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"weight": 1},'
        ' "geometry": {"type": "Point", "coordinates": [NaN, 36.6]}}]}'
    )
    (tmp_path / "twice.geojson").write_text('{"type": "FeatureCollection", "type": "x"}')
    for name, says in [
        ("d.pdf", "unknown file type .pdf"),
        ("nan.geojson", "NaN is not valid JSON"),
        ("twice.geojson", "expected a GeoJSON FeatureCollection"),
        ("missing.csv", "cannot read"),
    ]:
        with pytest.raises(DemandRejected, match=says):
            read_demand(tmp_path / name)


def _geojson(path, features) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return str(path)


def _feature(lon, lat, **props) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def test_a_gcj02_file_is_shifted_back_to_wgs84(tmp_path):
    wgs = [(36.6171, 101.7782), (34.7466, 113.6253)]
    shifted = [datum.gcj02_from_wgs84(lat, lon) for lat, lon in wgs]
    rows = [[f"{lat:.9f}", f"{lon:.9f}", "5", ""] for lat, lon in shifted]
    points = read_demand(write_csv(tmp_path / "gcj.csv", rows, header=HEADER), crs="gcj02")
    for point, (lat, lon) in zip(points, wgs, strict=True):
        assert point.lat == pytest.approx(lat, abs=1e-6) and point.lon == pytest.approx(
            lon, abs=1e-6
        )
    # A per-row crs wins over the file's; GeoJSON's properties name it the same way.
    path = _geojson(
        tmp_path / "mixed.geojson",
        [
            _feature(shifted[0][1], shifted[0][0], 权重=2, 坐标系="高德"),
            _feature(wgs[1][1], wgs[1][0], weight=3, crs="wgs84"),
        ],
    )
    first, second = read_demand(path, crs="bd09")
    assert first.lat == pytest.approx(wgs[0][0], abs=1e-6) and first.weight == 2.0
    assert (second.lat, second.lon) == wgs[1]


def test_geojson_features_are_checked_one_by_one(tmp_path):
    path = _geojson(
        tmp_path / "d.geojson",
        [
            _feature(101.7782, 36.6171, weight=4, label="西宁"),
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": []},
                "properties": {},
            },
            _feature(101.7782, 36.6171, weight=-2),
            _feature(36.6171, 101.7782, weight=1),  # [lat, lon]
        ],
    )
    with pytest.raises(DemandRejected) as caught:
        read_demand(path)
    assert caught.value.problems[:2] == [
        "feature 2: its geometry is LineString; a demand point must be a Point",
        "feature 3, column weight: must be more than 0, not -2",
    ]
    assert caught.value.problems[2].startswith("feature 4, column geometry:")
    assert "look swapped" in caught.value.problems[2]


def test_candidate_sites_need_no_weight(tmp_path):
    path = write_csv(
        tmp_path / "sites.csv",
        [["36.6171", "101.7782", "加油站"], ["31.8206", "117.2272", ""]],
        header=["lat", "lng", "label"],
    )
    points = read_demand(path, kind="candidates")
    assert [(p.weight, p.label) for p in points] == [(1.0, "加油站"), (1.0, "")]
    with pytest.raises(DemandRejected, match="no weight column"):
        read_demand(path)


def test_an_xlsx_workbook_is_read(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(["latitude", "longitude", "population", "name"])
    sheet.append([36.6171, 101.7782, 120, "城中区"])
    sheet.append([None, None, None, None])  # blank rows are skipped
    sheet.append([31.8206, 117.2272, "abc", None])
    wb.save(tmp_path / "d.xlsx")
    with pytest.raises(DemandRejected) as caught:
        read_demand(tmp_path / "d.xlsx")
    assert caught.value.problems == [
        "row 4, column population: must be a decimal number, not 'abc'"
    ]
