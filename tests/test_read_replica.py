"""DATABASE_READ_URL: the public's reads come from the replica, staff and writes from the
primary. The "replica" here is a second database holding other stations, so every answer
shows which database it came from (a real streaming replica is in test_deploy.py)."""

from datetime import datetime

import pytest
from staff_helpers import make_users, token_for

from app import create_app
from stations.core.hours import TZ
from stations.core.model import validate
from stations.store import open_store

from conftest import STORE_KINDS, new_postgis_database


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    return request.param


@pytest.fixture
def read_url(store_kind, tmp_path, request) -> str:
    if store_kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'replica.db'}"
    else:
        url = new_postgis_database(
            request.getfixturevalue("postgres"), request.getfixturevalue("postgis_template")
        )
    replica = open_store(url)
    replica.migrate()
    only_there = validate(
        {"code": "RO-0001", "name": "只在副本的驿站", "lat": 36.6189, "lon": 101.7782},
        now=datetime(2026, 11, 20, 8, tzinfo=TZ),
    )
    replica.save_many([only_there], [], "2026-11-20T08:00:00+08:00")
    replica.close()
    return url


def test_public_reads_come_from_the_replica_staff_and_writes_go_to_the_primary(
    seeded, store, database_url, read_url, clock
):
    make_users(store)
    token = token_for(store, "xn-auditor")
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "DATABASE_READ_URL": read_url,
            "SECRET_KEY": "r",
            "CLOCK": clock,
            "RATELIMIT_ENABLED": False,
        }
    )
    client = app.test_client()

    nearest = client.get("/api/v1/stations/nearest?lat=36.6171&lon=101.7782&k=5").get_json()
    assert [f["properties"]["code"] for f in nearest["features"]] == ["RO-0001"]
    assert "只在副本的驿站" in client.get("/stations").get_data(as_text=True)
    assert client.get("/api/v1/stations/1").get_json()["properties"]["code"] == "RO-0001"
    listed = client.get("/api/v1/stations").get_json()
    assert [f["properties"]["code"] for f in listed["features"]] == ["RO-0001"]

    staff = {"Authorization": f"Bearer {token}"}
    mine = client.get("/api/v1/stations/1", headers=staff)  # staff read the primary
    assert mine.get_json()["properties"]["code"] == "XN-0001"
    edited = client.patch(
        "/api/v1/stations/1",
        json={"address": "长江路 1 号"},
        headers={**staff, "If-Match": mine.headers["ETag"]},
    )
    assert edited.status_code == 200
    assert store.get(1).address == "长江路 1 号"  # written to the primary …
    replica = open_store(read_url)
    try:
        assert replica.get(1).code == "RO-0001" and replica.get(1).address == ""  # … not there
    finally:
        replica.close()
