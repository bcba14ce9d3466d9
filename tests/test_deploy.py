"""The deployment of docs/deploy.md on loopback: PostgreSQL/PostGIS with a streaming replica,
one Redis, and two gunicorn app servers on them. What one server writes, the other serves;
a budget spent on one is spent on both; a pg_dump restores into a working registry."""

import json
import os
import subprocess
import time

import psycopg
import pytest
from pgserver import PG_BIN
from servers import AppServer, flask_cli, http
from staff_helpers import PASSWORD

from stations.store import open_store

from conftest import SAMPLE, new_postgis_database, write_csv

XINING = "lat=36.6171&lon=101.7782"  # exactly at XN-0001
XN, HF = 1, 2


@pytest.fixture(scope="module")
def deployment(postgres, postgis_template, redis_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deploy")
    primary = new_postgis_database(postgres, postgis_template)
    env = {**os.environ, "DATABASE_URL": primary, "SECRET_KEY": "one secret for all servers"}
    for args, given in [
        (("import", str(write_csv(tmp / "s.csv", SAMPLE))), None),
        (("user", "create", "xn", "--role", "auditor", "--region", "6301", "--password-stdin"),
         PASSWORD + "\n"),
    ]:  # fmt: skip
        done = flask_cli(env, *args, input=given)
        assert done.returncode == 0, done.stdout + done.stderr
    token = flask_cli(env, "user", "token", "xn").stdout.strip()
    replica_server = postgres.replica()
    replica = replica_server.url(primary.rsplit("/", 1)[1])
    shared = {
        "DATABASE_URL": primary,
        "SECRET_KEY": env["SECRET_KEY"],
        "RATELIMIT_STORAGE_URL": redis_url,
        "RATELIMIT_CLIENT": "30 per minute",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "2",
    }
    one = AppServer(shared, tmp / "one.log")
    other = AppServer({**shared, "DATABASE_READ_URL": replica}, tmp / "other.log")
    try:
        one.start()
        other.start()
        yield {
            "one": one.base,
            "other": other.base,
            "primary": primary,
            "replica": replica,
            "token": token,
            "env": env,
        }
    finally:
        one.stop()
        other.stop()
        replica_server.stop()


def caught_up(primary: str, replica: str, seconds: float = 30) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    with psycopg.connect(primary, autocommit=True) as conn:
        lsn = conn.execute("select pg_current_wal_insert_lsn()").fetchone()[0]
    deadline = time.monotonic() + seconds
    with psycopg.connect(replica, autocommit=True) as conn:
        query = "select pg_last_wal_replay_lsn() >= %s::pg_lsn"
        while not conn.execute(query, [lsn]).fetchone()[0]:
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)  # a poll interval, not a measurement


def get_json(url: str, headers: dict | None = None) -> dict:
    status, _, body = http(url, headers=headers)
    assert status == 200, body
    return json.loads(body)


def test_both_app_servers_are_healthy_on_postgis(deployment):
    for base in (deployment["one"], deployment["other"]):
        health = get_json(base + "/healthz")
        assert health["status"] == "ok" and health["index"] == "ready"


def test_a_write_through_one_server_is_served_by_the_other(deployment):
    staff = {"Authorization": f"Bearer {deployment['token']}"}
    one, other = deployment["one"], deployment["other"]
    status, headers, _ = http(f"{one}/api/v1/stations/{XN}", headers=staff)
    assert status == 200
    status, _, body = http(
        f"{one}/api/v1/stations/{XN}",
        "PATCH",
        {"address": "长江路 88 号", "status": "temporarily_closed", "closed_until": "2026-12-31"},
        {**staff, "If-Match": headers["ETag"]},
    )
    assert status == 200, body

    # Staff on the other server read the primary: their own write, at once.
    mine = get_json(f"{other}/api/v1/stations/{XN}", staff)["properties"]
    assert (mine["address"], mine["status"]) == ("长江路 88 号", "temporarily_closed")
    # The public on the other server read the replica: the same, once it has replayed.
    caught_up(deployment["primary"], deployment["replica"])
    public = get_json(f"{other}/api/v1/stations/{XN}")["properties"]
    assert (public["address"], public["status"]) == ("长江路 88 号", "temporarily_closed")
    first = get_json(f"{other}/api/v1/stations/nearest?{XINING}&k=1")["features"][0]
    assert first["properties"]["code"] == "XN-0001"
    assert first["properties"]["status"] == "temporarily_closed"


def test_one_rate_limit_budget_across_both_servers(deployment):
    """30 per minute for one client, kept in Redis: 15 calls on each server spend it all."""
    headers = {"User-Agent": "budget-test", "Accept-Language": "zh"}
    statuses = [
        http(f"{base}/api/v1/stations/nearest?{XINING}", headers=headers)[0]
        for _ in range(15)
        for base in (deployment["one"], deployment["other"])
    ]
    assert statuses == [200] * 30
    assert (
        http(f"{deployment['other']}/api/v1/stations/nearest?{XINING}", headers=headers)[0] == 429
    )
    assert http(f"{deployment['one']}/api/v1/stations/nearest?{XINING}", headers=headers)[0] == 429


def test_a_pg_dump_restores_into_a_working_registry(deployment, postgres, tmp_path):
    dump = tmp_path / "yizhan.dump"
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    with open(dump, "wb") as out:  # the dump is written by us, the tools run as the server user
        subprocess.run(
            [*as_postgres, str(PG_BIN / "pg_dump"), "-Fc", deployment["primary"]],
            stdout=out,
            check=True,
        )
    restored = new_postgis_database(postgres, None)  # empty: no schema, no PostGIS yet
    with open(dump, "rb") as source:
        subprocess.run(
            [*as_postgres, str(PG_BIN / "pg_restore"), "--exit-on-error", "-d", restored],
            stdin=source,
            check=True,
        )
    original, copy = open_store(deployment["primary"]), open_store(restored)
    try:
        copy.migrate()  # up to date already: nothing to apply
        assert list(copy.iter_stations()) == list(original.iter_stations())
        assert copy.history(XN) == original.history(XN)
        assert copy.users() == original.users()
        assert copy.nearest(36.6171, 101.7782, 3) == original.nearest(36.6171, 101.7782, 3)
        assert copy.revision() == original.revision()
    finally:
        original.close()
        copy.close()
