"""Importing files through the CLI: all or nothing, every bad row named by row and column."""

import json
import re
import sqlite3
import zipfile

import pytest

from stations.core import importer
from stations.store import StoreFull

from conftest import HEADER, SAMPLE, STORE_KINDS, snapshot, write_csv
from helpers import rewrite_zip, station_rows, write_xlsx


def lines(result):
    return result.output.strip().splitlines()


def assert_refused(cli, db_path, path, *expected, args=()):
    """Import path, expect failure with each expected text in the output, and no change."""
    before = snapshot(db_path)
    result = cli("import", path, *args)
    assert result.exit_code == 1, result.output
    for text in expected:
        assert text in result.output, result.output
    assert "nothing was imported" in result.output
    assert snapshot(db_path) == before
    return result


# -- the happy path ---------------------------------------------------------------------------


def test_import_adds_stations(cli, sample_csv, db_path):
    result = cli("import", sample_csv)
    assert result.exit_code == 0, result.output
    assert "3 new, 0 updated, 0 unchanged" in result.output
    conn = sqlite3.connect(db_path)
    names = [r[0] for r in conn.execute("select name from stations order by code")]
    conn.close()
    assert names == ["蜀山区金寨路爱心驿站", "市南区香港中路骑手驿站", "城中区长江路工会驿站"]


def test_same_file_twice_changes_nothing(cli, sample_csv, seeded):
    before = snapshot(seeded)
    result = cli("import", sample_csv)
    assert "0 new, 0 updated, 3 unchanged" in result.output
    assert snapshot(seeded) == before


def test_upsert_by_code_updates_only_given_columns(cli, tmp_path, seeded, store):
    path = write_csv(
        tmp_path / "rename.csv",
        [["XN-0001", "城中区长江路工会驿站（新）"]],
        header=["编号", "名称"],
    )
    result = cli("import", path)
    assert "0 new, 1 updated, 0 unchanged" in result.output, result.output
    s = store.get_by_code("XN-0001")
    assert s.name == "城中区长江路工会驿站（新）"
    assert s.version == 2
    assert s.opening_hours == "Mo-Fr 08:00-18:00; PH off" and s.manager_phone == "13800138000"


def test_dry_run_checks_but_writes_nothing(cli, sample_csv, db_path):
    cli("init-db")
    before = snapshot(db_path)
    result = cli("import", sample_csv, "--dry-run")
    assert result.exit_code == 0
    assert "would import 3 new" in result.output
    assert snapshot(db_path) == before


def test_crs_option_converts_gcj02_to_wgs84(cli, tmp_path, store):
    path = write_csv(
        tmp_path / "amap.csv",
        [["XN-1", "驿站", "36.6170183390", "101.7801324664"]],
        header=["code", "name", "lat", "lon"],
    )
    assert cli("import", path, "--crs", "gcj02").exit_code == 0
    s = store.get_by_code("XN-1")
    assert (s.lat, s.lon, s.coord_source) == (36.6171, 101.7782, "gcj02")


def test_crs_column_per_row(cli, tmp_path, store):
    rows = [
        ["A1", "甲驿站", "36.6170183390", "101.7801324664", "高德"],
        ["A2", "乙驿站", "31.8206", "117.2272", "WGS84"],
    ]
    path = write_csv(
        tmp_path / "mixed.csv", rows, header=["编号", "名称", "纬度", "经度", "坐标系"]
    )
    assert cli("import", path).exit_code == 0
    assert (store.get_by_code("A1").lat, store.get_by_code("A2").lat) == (36.6171, 31.8206)


# -- every bad row, by row number and column --------------------------------------------------


def test_all_bad_rows_are_listed_by_row_and_column(cli, tmp_path, seeded):
    rows = [
        dict(SAMPLE[0], code="N1"),
        dict(SAMPLE[1], code="N2", lat="nan"),
        dict(SAMPLE[1], code="N3", lat="117.2", lon="31.8"),
        dict(SAMPLE[2], code="N4", facilities="sauna"),
    ]
    header = ["编号", "名称", "纬度", "经度", "开放时间", "设施", "联系电话"]
    path = write_csv(tmp_path / "bad.csv", [[r[h] for h in HEADER] for r in rows], header=header)
    result = assert_refused(cli, seeded, path, "2 bad rows" if False else "3 bad rows")
    assert "row 3, column 纬度: must be a finite number, not nan" in result.output
    assert "row 4, column 纬度: lat=117.2 and lon=31.8 look swapped" in result.output
    assert "row 5, column 设施: unknown 'sauna'" in result.output


def test_unterminated_quote_in_row_3_of_10000(cli, tmp_path, seeded):
    path = write_csv(tmp_path / "quote.csv", station_rows(10_000))
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    text[2] = text[2].replace("测试驿站1,", '"测试驿站1,', 1)  # row 3 opens a quote it never closes
    path.write_text("".join(text), encoding="utf-8")
    assert_refused(cli, seeded, path, "row 3: a quoted field opened in this row is never closed")


def test_wrong_column_count(cli, tmp_path, seeded):
    path = write_csv(
        tmp_path / "cols.csv",
        [SAMPLE[0], list(SAMPLE[1].values()) + ["extra"], list(SAMPLE[2].values())[:3]],
    )
    assert_refused(
        cli,
        seeded,
        path,
        "row 3: has 8 cells but the header has 7",
        "row 4: has 3 cells but the header has 7",
    )


def test_nul_bytes(cli, tmp_path, seeded):
    path = write_csv(tmp_path / "nul.csv", [SAMPLE[0], dict(SAMPLE[1], name="蜀山\x00驿站")])
    assert_refused(cli, seeded, path, "row 3: contains a NUL byte")


def test_a_200_kb_field(cli, tmp_path, seeded):
    path = write_csv(tmp_path / "big.csv", [dict(SAMPLE[0], address="x")], header=HEADER)
    path = write_csv(tmp_path / "big.csv", [dict(SAMPLE[0], name="驿" * 200_000)])
    assert_refused(cli, seeded, path, "row 2, column name: cell is 200,000 characters")


def test_duplicate_code_in_one_file(cli, tmp_path, seeded):
    path = write_csv(tmp_path / "dup.csv", [dict(SAMPLE[0], code="D1"), dict(SAMPLE[1], code="D1")])
    assert_refused(cli, seeded, path, "row 3, column code: D1 already appears in row 2")


def test_missing_code_column(cli, tmp_path, seeded):
    path = write_csv(
        tmp_path / "nocode.csv", [["驿站", "30", "120"]], header=["名称", "纬度", "经度"]
    )
    assert_refused(cli, seeded, path, "no code column")


# -- encodings --------------------------------------------------------------------------------

ZH_HEADER = ["编号", "名称", "纬度", "经度", "开放时间", "设施", "联系电话"]


def zh_rows():
    return [[r[h] for h in HEADER] for r in SAMPLE]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_chinese_spreadsheet_encodings_import(cli, tmp_path, store, encoding):
    path = write_csv(tmp_path / f"{encoding}.csv", zh_rows(), header=ZH_HEADER, encoding=encoding)
    result = cli("import", path)
    assert result.exit_code == 0, result.output  # a BOM left on 编号 would lose the code column
    assert store.get_by_code("XN-0001").name == "城中区长江路工会驿站"


def test_excel_unicode_text_utf16_tab_separated_imports(cli, tmp_path, store):
    path = write_csv(
        tmp_path / "unicode.txt", zh_rows(), header=ZH_HEADER, encoding="utf-16", delimiter="\t"
    )
    assert cli("import", path).exit_code == 0
    assert store.get_by_code("QD-0001").name == "市南区香港中路骑手驿站"


def test_utf16_without_bom_is_refused(cli, tmp_path, seeded):
    path = tmp_path / "nobom.csv"
    path.write_bytes("编号,名称\nA,B\n".encode("utf-16-le"))
    assert_refused(cli, seeded, path, "UTF-16 without a byte-order mark")


def test_undecodable_bytes_are_refused_with_a_line(cli, tmp_path, seeded):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"code,name\nA,ok\n" + b"B,\x81\xff\xfe\n")
    assert_refused(cli, seeded, path, "line 3: the file is neither UTF-8 nor GB18030")


# -- GeoJSON ----------------------------------------------------------------------------------


def geojson(tmp_path, features, name="in.geojson", raw=None):
    path = tmp_path / name
    path.write_text(
        raw or json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def point(coords, **props):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": coords},
        "properties": {"code": "G1", "name": "驿站", **props},
    }


def test_geojson_lat_lon_order_is_caught(cli, tmp_path, seeded):
    path = geojson(tmp_path, [point([31.8206, 117.2272])])
    assert_refused(
        cli,
        seeded,
        path,
        "feature 1, column geometry: coordinates [31.8206, 117.2272] are in [lat, lon] order",
    )


def test_geojson_polygon_is_not_a_station(cli, tmp_path, seeded):
    poly = {
        "type": "Feature",
        "properties": {"code": "G1", "name": "x"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[117, 31], [117.1, 31], [117.1, 31.1], [117, 31]]],
        },
    }
    assert_refused(
        cli,
        seeded,
        geojson(tmp_path, [poly]),
        "feature 1, column geometry: is Polygon; a station must be a Point",
    )


def test_geojson_duplicate_keys_are_caught(cli, tmp_path, seeded):
    raw = '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [117.2272, 31.8206]}, "properties": {"code": "G1", "name": "甲", "name": "乙"}}]}'
    assert_refused(
        cli,
        seeded,
        geojson(tmp_path, None, raw=raw),
        "feature 1, column name: the key 'name' appears twice",
    )


def test_geojson_nan_is_not_json(cli, tmp_path, seeded):
    raw = '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [NaN, 31.8]}, "properties": {"code": "G1", "name": "x"}}]}'
    assert_refused(cli, seeded, geojson(tmp_path, None, raw=raw), "NaN is not valid JSON")


def test_geojson_altitude_is_accepted_and_dropped(cli, tmp_path, store):
    result = cli("import", geojson(tmp_path, [point([117.2272, 31.8206, 35.0])]))
    assert result.exit_code == 0
    assert "altitude ignored on 1 feature" in result.output
    assert (store.get_by_code("G1").lon, store.get_by_code("G1").lat) == (117.2272, 31.8206)


# -- hostile workbooks ------------------------------------------------------------------------


@pytest.fixture
def good_xlsx(tmp_path):
    return write_xlsx(tmp_path / "good.xlsx", ZH_HEADER, zh_rows())


def test_xlsx_imports(cli, good_xlsx, store):
    assert cli("import", good_xlsx).exit_code == 0
    assert store.get_by_code("HF-0001").opening_hours == "24/7"


def test_xlsx_numeric_cells_become_text(cli, tmp_path, store):
    path = write_xlsx(
        tmp_path / "n.xlsx",
        ["编号", "名称", "纬度", "经度", "行政区划代码"],
        [[1001, "驿站", 31.8206, 117.2272, 340104]],
    )
    assert cli("import", path).exit_code == 0
    assert store.get_by_code("1001").adcode == "340104"


def test_legacy_xls_renamed_is_refused(cli, tmp_path, seeded):
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000)
    assert_refused(cli, seeded, path, "legacy Excel 97-2003")


def test_macro_workbook_is_refused(cli, tmp_path, good_xlsx, seeded):
    path = rewrite_zip(good_xlsx, tmp_path / "macro.xlsx", add={"xl/vbaProject.bin": b"\x00" * 100})
    assert_refused(cli, seeded, path, "macro-enabled workbooks")
    xlsm = rewrite_zip(good_xlsx, tmp_path / "plain.xlsm")
    assert_refused(cli, seeded, xlsm, "macro-enabled workbooks")


def test_decompression_bomb_is_refused_from_zip_metadata(cli, tmp_path, good_xlsx, seeded):
    bomb = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b" " * 50_000_000
        + b"</sst>"
    )
    path = rewrite_zip(good_xlsx, tmp_path / "bomb.xlsx", add={"xl/sharedStrings.xml": bomb})
    assert zipfile.ZipFile(path).getinfo("xl/sharedStrings.xml").compress_size < 200_000
    assert_refused(cli, seeded, path, "a decompression bomb?")


def test_million_row_sheet_is_refused_before_parsing(cli, tmp_path, good_xlsx, seeded):
    sheet = zipfile.ZipFile(good_xlsx).read("xl/worksheets/sheet1.xml")
    big = re.sub(rb'<dimension ref="A1:G4"\s*/>', b'<dimension ref="A1:G1500000"/>', sheet)
    assert big != sheet
    path = rewrite_zip(good_xlsx, tmp_path / "long.xlsx", replace={"xl/worksheets/sheet1.xml": big})
    assert_refused(cli, seeded, path, "the sheet has 1,500,000 rows; the limit is 200,000")


def test_xml_entity_bomb_is_refused(cli, tmp_path, good_xlsx, seeded):
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol2;</t></si></sst>'
    )
    path = rewrite_zip(good_xlsx, tmp_path / "lol.xlsx", add={"xl/sharedStrings.xml": laughs})
    assert_refused(cli, seeded, path, "declares XML entities")


def test_not_a_zip_is_refused(cli, tmp_path, seeded):
    path = tmp_path / "fake.xlsx"
    path.write_text("code,name\n", encoding="utf-8")
    assert_refused(cli, seeded, path, "not an .xlsx workbook")


def test_too_many_rows_without_dimension_are_caught_while_streaming(tmp_path):
    from stations.core import readers

    path = write_xlsx(
        tmp_path / "many.xlsx",
        ["code", "name", "lat", "lon"],
        [[f"C{i}", "x", 31.8, 117.2] for i in range(30)],
    )
    with pytest.raises(readers.FileRejected, match="rows; the limit is 20|more than 20 rows"):
        readers.read(path, max_rows=20)


# -- names that only look different -----------------------------------------------------------


@pytest.mark.parametrize(
    "second",
    ["金寨路\u200b爱心驿站", "金寨路\u202e爱心驿站", "ＪＺ金寨路爱心驿站", "jz金寨路爱心驿站 "],
    ids=["zero-width", "bidi-override", "fullwidth", "case-and-space"],
)
def test_lookalike_names_within_10_m_are_reported(cli, tmp_path, second):
    first = "JZ金寨路爱心驿站" if "Ｊ" in second or "jz" in second else "金寨路爱心驿站"
    rows = [["L1", first, "31.8206", "117.2272"], ["L2", second, "31.82063", "117.22722"]]
    result = cli(
        "import", write_csv(tmp_path / "look.csv", rows, header=["code", "name", "lat", "lon"])
    )
    assert result.exit_code == 0
    assert (
        "row 2 (L1" in result.output
        and "row 3 (L2" in result.output
        and "the same station twice?" in result.output
    )


def test_nfd_and_nfc_names_compare_equal(cli, tmp_path):
    import unicodedata

    rows = [
        ["E1", "Café 驿站", "31.8206", "117.2272"],
        ["E2", unicodedata.normalize("NFD", "Café 驿站"), "31.82062", "117.2272"],
    ]
    result = cli(
        "import", write_csv(tmp_path / "nfd.csv", rows, header=["code", "name", "lat", "lon"])
    )
    assert "the same station twice?" in result.output


def test_near_duplicate_of_a_stored_station_is_reported(cli, tmp_path, seeded, store):
    """A warning, not a refusal: the row is imported (staff decide) and the stored station
    it resembles is left as it was."""
    stored = store.get_by_code("HF-0001")
    rows = [["NEW-1", "蜀山区 金寨路 爱心驿站", "31.82063", "117.2272"]]
    path = write_csv(tmp_path / "near.csv", rows, header=["code", "name", "lat", "lon"])
    result = cli("import", path)
    assert result.exit_code == 0, result.output
    assert lines(result)[0] == (
        "warning: row 2 (NEW-1 蜀山区 金寨路 爱心驿站) is 3 m from the stored station HF-0001 "
        "蜀山区金寨路爱心驿站 with a similar name: the same station twice?"
    )
    assert lines(result)[-1] == f"{path}: 1 new, 0 updated, 0 unchanged"
    new = store.get_by_code("NEW-1")
    assert (new.name, new.lat, new.lon, new.district) == (
        "蜀山区 金寨路 爱心驿站",
        31.82063,
        117.2272,
        "蜀山区",
    )
    assert store.get_by_code("HF-0001") == stored and store.count() == 4


def test_different_names_or_far_apart_are_not_duplicates(cli, tmp_path):
    rows = [
        ["F1", "金寨路爱心驿站", "31.8206", "117.2272"],
        ["F2", "望江路骑手驿站", "31.82062", "117.2272"],
        ["F3", "金寨路爱心驿站", "31.8306", "117.2272"],
    ]
    result = cli(
        "import", write_csv(tmp_path / "far.csv", rows, header=["code", "name", "lat", "lon"])
    )
    assert "twice?" not in result.output


# -- the database survives failures -----------------------------------------------------------


def test_full_disk_gives_a_clear_error_and_keeps_earlier_data(store, db_path, tmp_path, sample_csv):
    importer.apply_plan(store, importer.plan_import(store, sample_csv))
    before = snapshot(db_path)
    pages = store.db.execute("pragma page_count").fetchone()[0]
    store.set_max_pages(pages + 3)
    path = write_csv(tmp_path / "many.csv", station_rows(3000))
    plan = importer.plan_import(store, path)
    with pytest.raises(StoreFull, match="the database is full .*nothing was written"):
        importer.apply_plan(store, plan)
    assert store.count() == 3
    assert snapshot(db_path) == before


def test_modules_open_no_database_when_imported(tmp_path):
    import subprocess
    import sys

    code = (
        "import sqlite3\n"
        "def refuse(*a, **k): raise SystemExit('a database was opened at import time')\n"
        "sqlite3.connect = refuse\n"
        "import app, stations.cli, stations.web.public, stations.core.importer, stations.core.readers, stations.core.writers\n"
        "import stations.store.sqlite.store, stations.core.regions, stations.core.hours, stations.web.context\n"
        "print('clean')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path.parent if False else None,
    )
    assert out.stdout.strip() == "clean", out.stderr


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
@pytest.mark.parametrize("corner", [(31.99999, 117.99999), (32.00001, 118.00001)])
def test_a_stored_near_duplicate_is_found_across_the_checks_tile_edges(store, corner):
    """The file-vs-database check asks the store once per ~1 km tile: a stored station a few
    metres away on the other side of a tile's edge (here the corner at 32°N 118°E) still counts."""
    from datetime import datetime

    from stations.core.hours import TZ
    from stations.core.importer import near_duplicates
    from stations.core.model import validate

    def station(code, name, lat, lon):
        record = {"code": code, "name": name, "lat": lat, "lon": lon}
        return validate(record, now=datetime(2026, 11, 20, 8, tzinfo=TZ))

    store.save_many(
        [
            station("S-1", "南京路工会驿站", *corner),
            station("S-2", "南京路工会驿站", 32.0009, 118.0009),  # ~130 m away: not a duplicate
            station("S-3", "完全不同的名字", 32.0, 118.0),  # 1 m away, another name
        ],
        [],
        "2026-11-20T08:00:00+08:00",
    )
    row = station("F-1", "南京路工会驿站", 32.0, 118.0)  # on the corner itself
    assert near_duplicates(store, [("row 2", row)]) == [
        "row 2 (F-1 南京路工会驿站) is 1 m from the stored station S-1 南京路工会驿站"
        " with a similar name: the same station twice?"
    ]


def _stations_on_one_spot(names):
    from datetime import datetime

    from stations.core.hours import TZ
    from stations.core.model import validate

    now = datetime(2026, 11, 20, 8, tzinfo=TZ)
    return [
        (
            f"row {n + 2}",
            validate({"code": f"D-{n:05d}", "name": name, "lat": 31.82, "lon": 117.22}, now=now),
        )
        for n, name in enumerate(names)
    ]


def test_a_file_full_of_duplicates_lists_the_first_hundred_pairs_and_says_there_are_more(store):
    # 300 stations with one name on one spot: 44,850 pairs. Listing them all took 600 MB at
    # 200,000 rows; nobody reads past the first screenful.
    from stations.core.importer import MAX_DUPLICATE_WARNINGS, near_duplicates

    warnings = near_duplicates(store, _stations_on_one_spot(["金寨路工会驿站"] * 300))
    assert len(warnings) == MAX_DUPLICATE_WARNINGS + 1 == 101
    assert warnings[0] == (
        "row 2 (D-00000 金寨路工会驿站) and row 3 (D-00001 金寨路工会驿站) are 0 m apart"
        " with similar names: the same station twice?"
    )
    assert warnings[-1] == (
        "more stations look like duplicates; only the first 100 pairs are listed"
    )


def test_stations_piled_on_one_spot_are_compared_a_bounded_number_of_times(store, monkeypatch):
    # Every pair on one spot is a candidate: 200,000 rows there would be 2 x 10^10 name
    # comparisons. Names unlike each other find nothing, so only the bound stops the work.
    from stations.core import importer

    monkeypatch.setattr(importer, "MAX_PAIRS_COMPARED", 5_000)
    calls = []
    monkeypatch.setattr(importer, "similar_names", lambda a, b: calls.append(1) or False)
    warnings = importer.near_duplicates(
        store, _stations_on_one_spot([f"驿站{n}号" for n in range(400)])
    )
    assert warnings == [
        "so many stations lie within 10 m of each other that not every pair was checked"
        " for duplicates (5,000 pairs were)"
    ]
    assert len(calls) == 5_000
