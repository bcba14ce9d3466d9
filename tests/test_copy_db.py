"""`flask --app app copy-db --to postgresql://…`: a SQLite registry moved up to PostgreSQL.

The registry is built through the app's own paths (CLI import, staff pages and API, store
methods); the copy goes to a real throwaway PostgreSQL + PostGIS server, and the target is read
back with plain psycopg queries, value by value.
"""

import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from PIL import Image
from staff_helpers import csrf, make_users, sign_in

from app import create_app
from stations.core import standards
from stations.store import copy as copy_module

from conftest import new_postgis_database, write_csv

XN, HF, QD = 1, 2, 3  # station ids of the sample: Xining, Hefei, Qingdao
TABLES = [t for t, _ in copy_module.TABLES]
# How a SQLite value reads in the common form PostgreSQL hands back (text[] -> list, jsonb ->
# dict, boolean -> bool); every other column must be equal as it is.
COMMON = {
    ("stations", "facilities"): json.loads,
    ("station_changes", "before"): lambda v: None if v is None else json.loads(v),
    ("station_changes", "after"): lambda v: None if v is None else json.loads(v),
    ("audits", "passed"): lambda v: {0: False, 1: True}[v],
    ("demand_layers", "fictitious"): lambda v: {0: False, 1: True}[v],
    ("checkins", "pending"): lambda v: {0: False, 1: True}[v],
}
ORDER = {"region_profiles": "region", "search_cells": "day, cell_row, cell_col"}


@pytest.fixture
def target(postgres) -> str:
    return new_postgis_database(postgres, None)  # empty: copy-db creates the schema


@pytest.fixture
def staff_app(seeded, db_path, clock, store):
    make_users(store)
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{db_path}",
            "SECRET_KEY": "copy",
            "CLOCK": clock,
            "RATELIMIT_ENABLED": False,
            "SEARCH_LOG_FLUSH_SECONDS": 0,
        }
    )


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def registry(staff_app, cli, store, db_path):
    """A registry with a row in every table copy-db copies, made the way the app makes them."""
    # an edit with history, through the staff API with a token made by the CLI
    token = cli("user", "token", "boss").output.strip()
    client = staff_app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    edited = client.patch(
        f"/api/v1/stations/{HF}",
        json={"name": "蜀山区金寨路爱心驿站（新址）", "facilities": ["toilet", "microwave"]},
        headers={**auth, "If-Match": '"v1"'},
    )
    assert edited.status_code == 200, edited.json
    # a failed audit with a note, through the API
    profile = standards.profiles()["siyou"]
    items = {i.key: {"result": "pass"} for i in profile.items}
    items[profile.items[0].key] = {"result": "fail", "note": "标识被广告遮挡"}
    failed = client.post(
        f"/api/v1/stations/{HF}/audits",
        json={
            "profile": "siyou",
            "visited_on": "2026-11-18",
            "visit_kind": "scheduled",
            "items": items,
        },
        headers=auth,
    )
    assert failed.status_code == 201 and failed.json["passed"] is False
    # an audit with a photo and a use-by date, through the staff pages (a session row)
    xn = staff_app.test_client()
    assert sign_in(xn, "xn-auditor").status_code == 302
    haikou = standards.profiles()["qigeyi_haikou"]
    form = {
        "csrf_token": csrf(xn, f"/admin/stations/{XN}/audit"),
        "profile": "qigeyi_haikou",
        "visited_on": "2026-11-19",
        "visit_kind": "unannounced",
        "valid_until_first_aid_kit": "2026-12-31",
        f"photo_{haikou.items[0].key}": (io.BytesIO(_jpeg()), "site.jpg"),
        **{f"result_{i.key}": "pass" for i in haikou.items},
    }
    audited = xn.post(f"/admin/stations/{XN}/audit", data=form, content_type="multipart/form-data")
    assert audited.status_code == 303
    # a problem report handled with a note, and a worker's verifying check-in
    store.add_checkin(XN, "locked", None, "c1", "2026-11-20T08:00:00+08:00", False)
    report = store.reports("6301", ("new",))[0]
    token_form = csrf(xn, "/admin/reports")
    xn.post(f"/admin/reports/{report.id}", data={"csrf_token": token_form, "action": "acknowledge"})
    xn.post(
        f"/admin/reports/{report.id}",
        data={"csrf_token": token_form, "action": "resolve", "note": "已联系加油站开门"},
    )
    assert store.report(report.id).status == "resolved"
    store.add_checkin(QD, "ok", None, "c2", "2026-11-20T09:30:00+08:00", True)
    # a report from one device while the station was closed by its hours: pending
    store.add_checkin(
        XN,
        "not_found",
        None,
        "device-3",
        "2026-11-20T22:00:00+08:00",
        False,
        address_hash="address-3",
        submission="one-time-token-0003",
        pending=True,
    )
    # a partner's key, a region's profile, a disabled user, a failed sign-in
    assert cli("key", "create", "hefei-portal", "--region", "3401").exit_code == 0
    store.set_region_profile("63", "liuyou_b")
    assert cli("user", "disable", "viewer").exit_code == 0
    sign_in(staff_app.test_client(), "boss", "wrong password")
    # riders' searches (the search log), a demand layer and a fictitious demo one
    for query in ("lat=34.7466&lon=113.6253", "lat=36.6171&lon=101.7782"):
        assert client.get(f"/api/v1/stations/nearest?{query}").status_code == 200
    store.record_searches({("2026-11-19", 8000, 26000): (4, 1)})
    riders = write_csv(
        db_path.parent / "riders.csv",
        [["36.6171", "101.7782", "30", "城中区"]],
        ["纬度", "经度", "人数", "名称"],
    )
    assert cli("import-demand", riders, "--layer", "骑手").exit_code == 0
    store.replace_demand_layer(
        "演示需求（虚构）", "demand", store.demand_points("骑手"), "now", True
    )
    return db_path


def _sqlite_rows(db_path, table: str, columns: list[str]) -> list[dict]:
    conn = sqlite3.connect(db_path)
    try:
        select = ", ".join(
            "rowid as id" if (table, c) == ("audit_items", "id") else c for c in columns
        )
        order = ORDER.get(table, "id" if table != "audit_items" else "rowid")
        rows = conn.execute(f"select {select} from {table} order by {order}").fetchall()
    finally:
        conn.close()
    return [
        {c: COMMON.get((table, c), lambda v: v)(v) for c, v in zip(columns, row, strict=True)}
        for row in rows
    ]


def _target_rows(url: str, table: str) -> tuple[list[str], list[dict]]:
    with psycopg.connect(url) as conn:
        cursor = conn.execute(f"select * from {table} order by {ORDER.get(table, 'id')}")
        columns = [d.name for d in cursor.description if d.name != "geog"]
        rows = [dict(zip([d.name for d in cursor.description], r, strict=True)) for r in cursor]
    return columns, [{c: r[c] for c in columns} for r in rows]


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}


def _sqlite_counts(db_path) -> dict[str, int]:
    conn = sqlite3.connect(db_path)
    try:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


def test_every_row_and_value_comes_across(registry, cli, target):
    result = cli("copy-db", "--to", target)
    assert result.exit_code == 0, result.output
    assert "Every table's count matches" in result.output
    assert re.search(r"^stations\s+3\s+3$", result.output, re.M)
    assert re.search(r"^audit_items\s+(\d+)\s+\1$", result.output, re.M)
    assert "Not copied: login_attempts (3 rows)" in result.output  # pair, name and address
    assert re.search(r"1 audit item\(s\) name a file in \S+/instance/evidence/", result.output)
    assert "Traceback" not in result.output

    for table in TABLES:
        columns, copied = _target_rows(target, table)
        source = _sqlite_rows(registry, table, columns)
        assert copied == source, table
    # The fixture reached every kind of value that needs converting or is easy to lose.
    _, changes = _target_rows(target, "station_changes")
    edit = [c for c in changes if c["action"] != "import"]
    assert edit and edit[0]["before"]["name"] == "蜀山区金寨路爱心驿站"
    assert sorted(edit[0]["after"]["facilities"]) == ["microwave", "toilet"]
    _, stations = _target_rows(target, "stations")
    assert sorted(stations[HF - 1]["facilities"]) == ["microwave", "toilet"]
    assert stations[QD - 1]["verified_at"] == "2026-11-20T09:30:00+08:00"
    _, audits = _target_rows(target, "audits")
    assert {a["passed"] for a in audits} == {True, False}
    _, items = _target_rows(target, "audit_items")
    assert any(i["photo"] for i in items) and any(i["valid_until"] == "2026-12-31" for i in items)
    assert any(i["note"] == "标识被广告遮挡" for i in items)
    _, checkins = _target_rows(target, "checkins")
    assert any(c["resolution"] == "已联系加油站开门" and c["handled_by"] for c in checkins)
    assert any(
        c["pending"] is True
        and c["submission"] == "one-time-token-0003"
        and c["address_hash"] == "address-3"
        for c in checkins
    )
    for table in ("users", "staff_sessions", "api_tokens", "api_keys"):
        assert _target_rows(target, table)[1], table
    _, profiles = _target_rows(target, "region_profiles")
    assert {(p["region"], p["profile"]) for p in profiles} == {("", "liuyou_a"), ("63", "liuyou_b")}

    with psycopg.connect(target) as conn:
        # the generated geography matches lon/lat, and the triggers logged every station
        assert conn.execute(
            "select count(*) from stations where not ST_Equals(geog::geometry, ST_SetSRID(ST_MakePoint(lon, lat), 4326))"
        ).fetchone() == (0,)
        assert conn.execute("select count(distinct station_id) from index_changes").fetchone() == (
            3,
        )
        # every identity sequence moved past the copied ids: new rows get fresh ones
        new_user = conn.execute(
            "insert into users (name, password_hash, role, region, created_at) values ('new', 'x', 'viewer', '', 'now') returning id"
        ).fetchone()[0]
        assert new_user == max(u["id"] for u in _sqlite_rows(registry, "users", ["id"])) + 1
        new_station = conn.execute(
            """insert into stations (code, name, name_key, adcode, province, city, district,
               host_type, lat, lon, coord_source, entry_method, status, created_at, updated_at)
               values ('NEW', 'n', 'n', '340104', '安徽省', '合肥市', '蜀山区', 'other', 31.8, 117.2,
               'wgs84', 'open_door', 'open', 'now', 'now') returning id"""
        ).fetchone()[0]
        assert new_station == 4
        for table in TABLES:
            if table in ("staff_sessions", "region_profiles", "search_cells"):
                continue
            top = conn.execute(f"select max(id) from {table}").fetchone()[0]
            following = conn.execute(
                "select nextval(pg_get_serial_sequence(%s, 'id'))", [table]
            ).fetchone()[0]
            assert following > top, table


def test_a_target_that_is_not_empty_is_refused_and_untouched(registry, cli, target):
    assert cli("copy-db", "--to", target).exit_code == 0
    before = {t: _target_rows(target, t)[1] for t in TABLES}
    result = cli("copy-db", "--to", target)
    assert result.exit_code == 1
    assert "is not empty: 4 users, 3 stations," in result.output
    assert "Traceback" not in result.output
    assert {t: _target_rows(target, t)[1] for t in TABLES} == before


def test_bad_targets_are_refused_in_one_line(registry, cli, postgres):
    for url, says in [
        ("sqlite:///elsewhere.db", "--to must be a postgresql://"),
        ("https://example.org/db", "--to must be a postgresql://"),
        (
            "postgresql://postgres@127.0.0.1:1/yizhan",
            "cannot connect to PostgreSQL at 127.0.0.1:1/yizhan",
        ),
        (postgres.url("no_such_database"), "cannot connect to PostgreSQL"),
    ]:
        result = cli("copy-db", "--to", url)
        assert result.exit_code == 1, url
        assert says in result.output, result.output
        assert "Traceback" not in result.output
    # the password never reaches the output
    result = cli("copy-db", "--to", "postgresql://u:s3cret@127.0.0.1:1/db")
    assert result.exit_code == 1 and "s3cret" not in result.output


def test_a_source_that_is_not_sqlite_is_refused(postgres, target, tmp_path):
    for source, says in [
        (postgres.url(), "must be a SQLite registry"),
        (f"sqlite:///{tmp_path / 'missing.db'}", "no SQLite database at"),
    ]:
        app = create_app({"TESTING": True, "DATABASE_URL": source, "SECRET_KEY": "x"})
        result = app.test_cli_runner().invoke(args=["copy-db", "--to", target])
        assert result.exit_code == 1 and says in result.output, result.output
    assert not (tmp_path / "missing.db").exists()
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("not a database")
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{not_sqlite}", "SECRET_KEY": "x"}
    )
    result = app.test_cli_runner().invoke(args=["copy-db", "--to", target])
    assert result.exit_code == 1 and "not a usable SQLite database" in result.output


def _target_is_empty(url: str) -> None:
    counts = _counts(url)
    assert counts.pop("region_profiles") == 1  # the migration's default only
    assert set(counts.values()) == {0}


@pytest.mark.parametrize(
    "plant, says",
    [
        # a history row whose station is gone: SQLite allowed it with foreign keys off
        (
            "insert into station_changes (station_id, actor, at, action) values (999, 'x', 'now', 'import')",
            "station_changes row id={id}: PostgreSQL refused it: station_id 999 is not in stations",
        ),
        # a NUL character: SQLite keeps it, PostgreSQL text cannot hold it
        (
            "update audit_items set note = 'a' || char(0) || 'b' where rowid = 2",
            "audit_items row id=2: PostgreSQL refused it: invalid byte sequence",
        ),
        # not a boolean
        (
            "update audits set passed = 2 where id = 1",
            "audits row id=1, column passed: 2 is not 0 or 1",
        ),
        # not a JSON array
        (
            "update stations set facilities = 'toilet' where id = 3",
            "stations row id=3, column facilities: not a JSON array",
        ),
    ],
)
def test_a_copy_failing_half_way_keeps_nothing_and_names_the_row(
    registry, cli, target, plant, says
):
    conn = sqlite3.connect(registry)
    conn.execute("pragma foreign_keys = off")
    planted = conn.execute(plant).lastrowid
    conn.commit()
    conn.close()
    says = says.format(id=planted)
    result = cli("copy-db", "--to", target)
    assert result.exit_code == 1
    assert says in result.output, result.output
    assert "nothing was written" in result.output and "Traceback" not in result.output
    _target_is_empty(target)


def test_a_count_that_differs_is_not_kept(registry, cli, target):
    """A target that silently drops rows (here a trigger) is caught by the count check."""
    copy_module._migrate_target(target)
    with psycopg.connect(target) as conn:
        conn.execute(
            """create function drop_row() returns trigger language plpgsql as $$
               begin return null; end $$;
               create trigger drop_positive before insert on checkins
               for each row when (new.kind = 'ok') execute function drop_row();"""
        )
    result = cli("copy-db", "--to", target)
    assert result.exit_code == 1
    assert re.search(r"^checkins\s+3\s+2  <- differs$", result.output, re.M), result.output
    assert "checkins 3 in SQLite, 2 in PostgreSQL" in result.output
    _target_is_empty(target)


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def twenty_thousand(tmp_path_factory) -> str:
    """A registry of 20,000 synthetic stations with their history, built once for the module."""
    sys.path.insert(0, str(ROOT / "bench"))
    from stations.store import open_store

    import synthetic

    url = f"sqlite:///{tmp_path_factory.mktemp('big') / 'big.db'}"
    store = open_store(url)
    store.migrate()
    synthetic.fill(store, 20_000, cities=40)
    store.close()
    return url


def test_twenty_thousand_stations(twenty_thousand, target):
    app = create_app({"TESTING": True, "DATABASE_URL": twenty_thousand, "SECRET_KEY": "x"})
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["copy-db", "--to", target])
    took = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert re.search(r"^stations\s+20000\s+20000$", result.output, re.M)
    assert re.search(r"^station_changes\s+20000\s+20000$", result.output, re.M)
    with psycopg.connect(target) as conn:
        assert conn.execute("select count(*) from stations where geog is not null").fetchone() == (
            20_000,
        )
        assert conn.execute("select count(*) from station_changes").fetchone() == (20_000,)
    print(f"copied 20,000 stations and their history in {took:.1f} s")


def test_a_copy_killed_half_way_keeps_nothing(twenty_thousand, target):
    """SIGKILL once the stations are streaming: the open transaction dies with the process."""
    env = {**os.environ, "DATABASE_URL": twenty_thousand, "SECRET_KEY": "x"}
    command = [sys.executable, "-m", "flask", "--app", "app", "copy-db", "--to", target]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        for line in process.stderr:
            if re.match(r"stations: [1-9]\d*/20000", line):  # rows are on their way
                process.kill()
                break
    finally:
        process.kill()
        process.wait()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    _target_is_empty(target)
