"""The CLI as a user runs it: help, export formats, round trips, and a kill mid-import."""

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pyogrio
import pytest
from rawdb import RawDB

from stations.cli import COMMANDS

from conftest import STORE_KINDS, write_csv
from helpers import station_rows

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_command_has_help_with_an_example(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output and f"flask --app app {command}" in result.output


def test_init_db_is_idempotent(cli, db_path):
    assert cli("init-db").exit_code == 0
    assert "0 stations" in cli("init-db").output
    assert db_path.exists()


def test_missing_file_is_one_clear_line(cli, tmp_path):
    result = cli("import", tmp_path / "nope.csv")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path / 'nope.csv'}: no such file"


@pytest.mark.parametrize("command", ["init-db", "stats", "export"])
def test_a_file_that_is_not_a_database_is_one_clear_line(tmp_path, command):
    from app import create_app

    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n" * 100)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{bogus}", "SECRET_KEY": "x"})
    args = [command] + ([str(tmp_path / "o.csv")] if command == "export" else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert "is not a usable SQLite database" in result.output and "Traceback" not in result.output
    assert bogus.read_text().startswith("these are my notes")


def test_a_bad_database_url_is_one_clear_line(tmp_path):
    from app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": "mysql://somewhere/db", "SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=["stats"])
    assert result.exit_code == 1 and "DATABASE_URL must look like sqlite:///" in result.output


def test_unknown_export_format(cli, seeded, tmp_path):
    result = cli("export", tmp_path / "out.pdf")
    assert result.exit_code == 1 and "use one of .csv, .xlsx, .geojson, .gpkg" in result.output


def test_stats(cli, seeded):
    out = cli("stats").output
    assert "3 stations" in out and "青海省西宁市: 1 (1 open)" in out


def test_seed_loads_demo_once(cli, db_path):
    first = cli("seed", "--if-empty")
    assert first.exit_code == 0, first.output
    assert "420 new" in first.output and "六有（A）" in first.output
    assert "not seeding" in cli("seed", "--if-empty").output
    conn = sqlite3.connect(db_path)
    assert conn.execute("select count(*), count(distinct city) from stations").fetchone() == (
        420,
        4,
    )
    all_day = conn.execute("select avg(opening_hours = '24/7') from stations").fetchone()[0]
    conn.close()
    assert 0.04 < all_day < 0.09


def test_seed_loads_the_fictitious_demo_demand_once(cli, store):
    first = cli("seed")
    assert first.exit_code == 0, first.output
    assert "Demo demand (FICTITIOUS): 1200 points as layer 演示需求（虚构）" in first.output
    (layer,) = store.demand_layers()
    assert (layer.name, layer.kind, layer.points, layer.fictitious) == (
        "演示需求（虚构）",
        "demand",
        1200,
        True,
    )
    for city in ("6301", "3401", "3702", "4101"):
        assert len(store.demand_points(layer.name, city)) == 300
    again = cli("seed", "--if-empty")
    assert "not seeding" in again.output and "Demo demand" not in again.output
    assert store.demand_layers() == [layer]
    # A demo registry seeded before the demo demand existed gets it on the next start.
    assert store.delete_demand_layer(layer.name)
    assert "Demo demand (FICTITIOUS): 1200" in cli("seed", "--if-empty").output


def test_database_url_is_honoured_by_a_real_process(tmp_path, sample_csv):
    from servers import flask_cli

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'elsewhere.db'}"}

    def flask(*args):
        return flask_cli(env, *args)

    # A mistyped DATABASE_URL or a lost file: the command says so, and makes no empty database.
    missing = flask("stats")
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "Error: the database file is missing; restore it from a backup or create it with"
        " `flask --app app init-db`"
    )
    assert not (tmp_path / "elsewhere.db").exists()
    assert flask("init-db").returncode == 0
    run = flask("import", str(sample_csv))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "elsewhere.db").exists()


# -- exports ----------------------------------------------------------------------------------


def test_csv_export_is_excel_friendly(cli, seeded, tmp_path):
    path = tmp_path / "out.csv"
    assert cli("export", path, "--lang", "zh").exit_code == 0
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM makes Excel read UTF-8
    header = raw[3:].decode("utf-8").splitlines()[0].split(",")
    assert header[:4] == ["编号", "名称", "地址", "行政区划代码"]


def test_public_export_has_no_staff_fields(cli, seeded, tmp_path):
    path = tmp_path / "public.geojson"
    cli("export", path, "--public")
    text = path.read_text(encoding="utf-8")
    assert "13800138000" not in text and "manager_phone" not in text


def test_geojson_export_is_rfc7946(cli, seeded, tmp_path):
    path = tmp_path / "out.geojson"
    cli("export", path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    xn = next(f for f in doc["features"] if f["properties"]["code"] == "XN-0001")
    assert xn["geometry"] == {"type": "Point", "coordinates": [101.7782, 36.6171]}  # [lon, lat]
    assert {"code", "name", "address", "adcode", "opening_hours", "facilities"} <= xn[
        "properties"
    ].keys()
    assert xn["properties"]["facilities"] == ["drinking_water", "microwave", "toilet"]


def test_geopackage_opens_in_gdal(cli, seeded, tmp_path):
    path = tmp_path / "out.gpkg"
    assert cli("export", path).exit_code == 0
    info = pyogrio.read_info(path, layer="stations")
    assert info["features"] == 3 and info["crs"] == "EPSG:4326" and info["geometry_type"] == "Point"
    frame = pyogrio.read_dataframe(path, layer="stations")
    row = frame[frame["code"] == "HF-0001"].iloc[0]
    assert (row.geometry.x, row.geometry.y) == (117.2272, 31.8206)  # x is longitude


FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "@SUM(1)", "+86 驿站", "-1 驿站"]


@pytest.fixture
def formula_db(cli, tmp_path):
    rows = [
        [f"FX{i}", name, "31.8206", str(117.2272 + i * 0.01)] for i, name in enumerate(FORMULAS)
    ]
    result = cli(
        "import", write_csv(tmp_path / "formula.csv", rows, header=["code", "name", "lat", "lon"])
    )
    assert result.exit_code == 0, result.output


def test_formula_cells_are_neutralised_in_csv(cli, formula_db, tmp_path, store):
    assert store.get_by_code("FX0").name == FORMULAS[0]  # stored as the text it is
    path = tmp_path / "out.csv"
    cli("export", path)
    with open(path, encoding="utf-8-sig", newline="") as f:
        names = [r["name"] for r in csv.DictReader(f)]
    assert sorted(names) == sorted("'" + n for n in FORMULAS)


def test_formula_cells_are_text_in_xlsx(cli, formula_db, tmp_path):
    path = tmp_path / "out.xlsx"
    cli("export", path)
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no live formula
    assert (
        "HYPERLINK" in sheet
        and 'quotePrefix="1"' in zipfile.ZipFile(path).read("xl/styles.xml").decode()
    )


@pytest.mark.parametrize(
    "ext, lang", [("csv", "en"), ("csv", "zh"), ("xlsx", "en"), ("xlsx", "zh"), ("geojson", "en")]
)
def test_export_then_import_gives_the_same_stations(app, cli, tmp_path, ext, lang):
    from app import create_app
    from stations.store import open_store

    assert cli("seed").exit_code == 0
    path = tmp_path / f"out.{ext}"
    assert cli("export", path, "--lang", lang).exit_code == 0
    copy = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'copy.db'}", "SECRET_KEY": "x"}
    )
    assert copy.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    result = copy.test_cli_runner().invoke(args=["import", str(path)])
    assert "420 new" in result.output, result.output
    with open_store(app.config["DATABASE_URL"]) as a, open_store(copy.config["DATABASE_URL"]) as b:
        original = [s.content() for s in a.iter_stations()]
        copied = [s.content() for s in b.iter_stations()]
    assert copied == original
    assert any(s["coord_source"] == "bd09" for s in copied)  # provenance survived the trip


# -- demand layers ----------------------------------------------------------------------------

DEMAND_HEADER = ["纬度", "经度", "人数", "名称"]
DEMAND_ROWS = [["36.6171", "101.7782", "30", "城中区"], ["31.8206", "117.2272", "12.5", ""]]


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_import_demand_stores_a_layer_and_lists_it(cli, store, tmp_path):
    path = write_csv(tmp_path / "riders.csv", DEMAND_ROWS, header=DEMAND_HEADER)
    assert "No demand layers" in cli("demand-layers").output
    result = cli("import-demand", path, "--layer", "合肥骑手")
    assert result.exit_code == 0, result.output
    assert "2 points imported as demand layer 合肥骑手 (total weight 42.5)" in result.output
    assert [p.adcode for p in store.demand_points("合肥骑手")] == ["630103", "340104"]
    sites = write_csv(tmp_path / "sites.csv", [["36.62", "101.75"]], header=["lat", "lon"])
    assert cli("import-demand", sites, "--layer", "候选", "--kind", "candidates").exit_code == 0
    listed = cli("demand-layers").output.splitlines()
    assert listed[0].startswith("候选  candidates") and "1 points" in listed[0]
    assert listed[1].startswith("合肥骑手  demand") and "total weight 42.5" in listed[1]
    assert "FICTITIOUS" not in "".join(listed)
    assert cli("demand-layers", "--delete", "候选").output.strip() == "Deleted layer 候选"
    gone = cli("demand-layers", "--delete", "候选")
    assert gone.exit_code == 1 and "no layer 候选" in gone.output
    assert [layer.name for layer in store.demand_layers()] == ["合肥骑手"]


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_an_existing_layer_is_replaced_only_when_asked(cli, store, tmp_path):
    path = write_csv(tmp_path / "riders.csv", DEMAND_ROWS, header=DEMAND_HEADER)
    assert cli("import-demand", path, "--layer", "骑手").exit_code == 0
    smaller = write_csv(tmp_path / "one.csv", DEMAND_ROWS[:1], header=DEMAND_HEADER)
    refused = cli("import-demand", smaller, "--layer", "骑手")
    assert refused.exit_code == 1
    assert "layer 骑手 exists (2 points); add --replace" in refused.output
    assert len(store.demand_points("骑手")) == 2
    replaced = cli("import-demand", smaller, "--layer", "骑手", "--replace")
    assert replaced.exit_code == 0 and "1 points replaced" in replaced.output
    assert len(store.demand_points("骑手")) == 1


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_a_bad_demand_file_lists_every_problem_and_stores_nothing(
    cli, store, database_url, tmp_path
):
    good = write_csv(tmp_path / "good.csv", DEMAND_ROWS, header=DEMAND_HEADER)
    assert cli("import-demand", good, "--layer", "骑手").exit_code == 0
    before = RawDB(database_url).snapshot()
    rows = [*DEMAND_ROWS, ["abc", "117.2", "3", ""], ["31.8", "117.2", "-4", ""]]
    bad = write_csv(tmp_path / "bad.csv", rows, header=DEMAND_HEADER)
    for layer in ("骑手", "新的"):
        result = cli("import-demand", bad, "--layer", layer, "--replace")
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            "row 4, column 纬度: must be a decimal number, not 'abc'",
            "row 5, column 人数: must be more than 0, not -4",
            f"Error: {bad}: 2 bad rows; nothing was imported",
        ]
    assert RawDB(database_url).snapshot() == before
    whole = cli(
        "import-demand", write_csv(tmp_path / "w.csv", [], header=["lat", "lon"]), "--layer", "x"
    )
    assert (
        whole.exit_code == 1
        and "no weight column" in whole.output
        and "Traceback" not in whole.output
    )


def test_a_gcj02_demand_file_is_stored_in_wgs84(cli, store, tmp_path):
    from stations.core import datum

    lat, lon = datum.gcj02_from_wgs84(36.6171, 101.7782)
    path = write_csv(
        tmp_path / "amap.csv", [[f"{lat:.9f}", f"{lon:.9f}", "8", ""]], header=DEMAND_HEADER
    )
    assert cli("import-demand", path, "--layer", "高德", "--crs", "gcj02").exit_code == 0
    (point,) = store.demand_points("高德")
    assert point.lat == pytest.approx(36.6171, abs=1e-6) and point.lon == pytest.approx(
        101.7782, abs=1e-6
    )


# -- a kill in the middle of the write --------------------------------------------------------


@pytest.mark.parametrize("store_kind", STORE_KINDS, indirect=True)
def test_sigkill_mid_import_leaves_the_database_as_it_was(database_url, tmp_path, sample_csv):
    raw = RawDB(database_url)
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run(
        [*flask, "import", str(sample_csv)], cwd=ROOT, env=env, check=True, capture_output=True
    )
    before = raw.snapshot()
    big = write_csv(tmp_path / "big.csv", station_rows(20_000))
    proc = subprocess.Popen(
        [*flask, "import", str(big)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("Writing: ") and not line.startswith("Writing: 0/"):
            break  # some batches are written inside the open transaction
    assert proc.poll() is None, "".join(seen)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert raw.snapshot() == before
    if not raw.postgres:
        assert raw.rows("pragma integrity_check") == [("ok",)]
