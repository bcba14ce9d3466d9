"""Storage faults answered clearly (issue 13, point 5), each from the red team's example: a full
disk (a 3 MB tmpfs) is 507 with Retry-After while reads go on; a read-only filesystem keeps
reads working and refuses writes with 503; the database file deleted while gunicorn serves is
503 everywhere, and neither that server nor a restarted one creates a new empty database.
PostgreSQL gives the same answers from its own SQLSTATEs: a database set read-only (25006, as a
standby answers) and a tablespace on a full 3 MB tmpfs (53100).

The disks are real: a tmpfs mounted for the test and remounted read-only, which needs root
(the machine and CI run the tests as root; chmod would not stop root, a read-only mount does).
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from servers import AppServer, flask_cli, http
from staff_helpers import make_users, token_for

from app import create_app
from stations.store import open_store

from conftest import SAMPLE, write_csv

XN_ID = 1  # XN-0001, as imported from SAMPLE
ITEM = f"/api/v1/stations/{XN_ID}"


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs of the test's own, unmounted at the end (whatever the test did to it)."""
    if os.geteuid() != 0:
        pytest.fail("these tests mount a tmpfs and need root (as on the CI machine)")
    where = tmp_path / "disk"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def _prepared(folder: Path, tmp_path: Path) -> tuple[str, str]:
    """A database with the sample stations and staff users in folder, made the way an operator
    makes one (init-db, import, in processes of their own); (its URL, a bearer token)."""
    url = f"sqlite:///{folder / 'yizhan.db'}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "faults"}
    for args in (["init-db"], ["import", str(write_csv(tmp_path / "s.csv", SAMPLE))]):
        done = flask_cli(env, *args)
        assert done.returncode == 0, done.stderr
    with open_store(url) as store:
        make_users(store)
        token = token_for(store, "xn-auditor")
    return url, token


def _app(url: str):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "faults",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "SEARCH_LOG_FLUSH_SECONDS": 0,
        }
    )


def _fill(disk: Path, leave: int) -> None:
    """Take all but `leave` bytes of the disk with a file of ballast."""
    free = shutil.disk_usage(disk).free
    with open(disk / "ballast", "wb") as f:
        f.write(b"\0" * max(0, free - leave))


def _edit_until_refused(client, auth: dict):
    """Edit one station's brand until the store refuses: (the brands acknowledged, in order;
    the first answer that was not 200). Each edit adds a version and a history record, so a
    nearly full disk fills."""
    acknowledged: list[str] = []
    for n in range(5000):
        brand = (f"驿站品牌 {n} " + "长" * 40)[:40]  # the longest brand a station may have
        answer = client.patch(ITEM, json={"brand": brand}, headers=auth)
        if answer.status_code != 200:
            return acknowledged, answer
        acknowledged.append(brand)
    pytest.fail("5000 edits fitted on a full disk")


def test_a_full_disk_is_507_with_retry_after_nothing_half_written_and_reads_go_on(
    small_disk, tmp_path
):
    url, token = _prepared(small_disk, tmp_path)
    client = _app(url).test_client()
    auth = {"Authorization": f"Bearer {token}", "If-Match": "*"}
    assert client.get(ITEM).status_code == 200
    _fill(small_disk, 64 * 1024)

    acknowledged, answer = _edit_until_refused(client, auth)
    assert len(acknowledged) >= 1, (answer.status_code, answer.get_data(as_text=True))
    assert answer.status_code == 507, answer.get_data(as_text=True)
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.json["error"]["code"] == "storage_full"
    assert "没有保存" in answer.json["error"]["message"]  # Chinese, the default

    # Nothing half-written: the station is exactly the last acknowledged edit, and reads work.
    read = client.get(ITEM)
    assert read.status_code == 200
    assert read.json["properties"]["brand"] == acknowledged[-1]
    assert client.get("/?lang=en").status_code == 200
    assert client.get(f"/stations/{XN_ID}?lang=en").status_code == 200
    assert client.get("/healthz").status_code == 200

    # A rider's report through the page: a report that still fits the space the refused edit
    # left is saved (303); the first that does not is a translated page, 507, Retry-After.
    app = client.application
    for rider in range(40):  # riders of their own (a rider's second report is not written)
        page = app.test_client().post(
            f"/stations/{XN_ID}/checkins?lang=en",
            data={"kind": "ok"},
            headers={"User-Agent": f"rider {rider}"},
        )
        if page.status_code != 303:
            break
    assert page.status_code == 507 and int(page.headers["Retry-After"]) > 0
    assert "Storage is full: your change was not saved" in page.get_data(as_text=True)
    page = app.test_client().post(
        f"/stations/{XN_ID}/checkins?lang=zh", data={"kind": "ok"}, headers={"User-Agent": "zh"}
    )
    assert page.status_code == 507 and "存储空间已满" in page.get_data(as_text=True)
    assert client.get(f"/stations/{XN_ID}?lang=en").status_code == 200

    # Room again: the next write is accepted, the store was left consistent.
    os.remove(small_disk / "ballast")
    again = client.patch(ITEM, json={"brand": "有空间了"}, headers=auth)
    assert again.status_code == 200
    assert client.get(ITEM).json["properties"]["brand"] == "有空间了"


def test_a_read_only_filesystem_keeps_reads_and_refuses_writes_with_503(small_disk, tmp_path):
    url, token = _prepared(small_disk, tmp_path)
    # Every connection closed: SQLite removed the WAL's -shm file, so a read-only reader has
    # none to share (the hard case), and the mount can turn read-only.
    assert not (small_disk / "yizhan.db-shm").exists()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)

    client = _app(url).test_client()
    for path in ("/?lang=en", f"/stations/{XN_ID}?lang=en", ITEM, "/stations?lang=en"):
        assert client.get(path).status_code == 200, path
    assert client.get(ITEM).json["properties"]["code"] == "XN-0001"
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["storage"] == "read_only"

    auth = {"Authorization": f"Bearer {token}", "If-Match": "*"}
    refused = client.patch(ITEM, json={"brand": "不会保存"}, headers=auth)
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json["error"]["code"] == "read_only"
    assert "read-only" in refused.json["error"]["message"]  # the language the pages chose
    page = client.post(f"/stations/{XN_ID}/checkins?lang=zh", data={"kind": "ok"})
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
    assert "只读" in page.get_data(as_text=True)
    assert client.get(ITEM).json["properties"].get("brand") != "不会保存"


def test_the_database_deleted_while_serving_is_503_and_never_recreated(tmp_path):
    """The example: gunicorn serving, the file deleted. Every page, the API and /healthz say
    503 (not 500, not an empty registry), no file appears, and a restart still refuses."""
    url, _token = _prepared(tmp_path, tmp_path)
    db = tmp_path / "yizhan.db"
    env = {"DATABASE_URL": url, "SECRET_KEY": "faults", "WEB_CONCURRENCY": "2"}
    with AppServer(env, tmp_path / "gunicorn.log") as server:
        for _ in range(8):  # every worker thread opens its connection
            assert http(server.base + "/?lang=en")[0] == 200
            assert http(server.base + ITEM)[0] == 200
        db.unlink()
        _assert_unavailable(server.base, str(tmp_path))
        assert not db.exists()
    assert not db.exists()
    with AppServer(env, tmp_path / "restarted.log") as server:
        _assert_unavailable(server.base, str(tmp_path))
    assert not db.exists()


def _assert_unavailable(base: str, folder: str) -> None:
    for _ in range(8):  # each worker and thread answers the same
        status, headers, body = http(base + "/healthz")
        assert status == 503, body
        assert b'"status":"unavailable"' in body.replace(b" ", b"")
        assert b"missing" in body and folder.encode() not in body
        status, headers, body = http(base + "/?lang=en")
        assert status == 503 and int(headers["Retry-After"]) > 0
        assert b"service is unavailable" in body and folder.encode() not in body
        status, headers, body = http(base + "/?lang=zh")
        assert status == 503 and "服务暂时不可用".encode() in body
        status, headers, body = http(base + ITEM)
        assert status == 503 and b'"code":"unavailable"' in body.replace(b" ", b"")


# -- PostgreSQL: the same faults, from the server's own SQLSTATEs -----------------------------


def _pg_prepared(request, tmp_path) -> tuple[str, str]:
    """A PostGIS database of this test's own with the sample stations and staff users."""
    from conftest import postgis_database

    url = postgis_database(request)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "faults"}
    done = flask_cli(env, "import", str(write_csv(tmp_path / "s.csv", SAMPLE)))
    assert done.returncode == 0, done.stderr
    with open_store(url) as store:
        make_users(store)
        token = token_for(store, "xn-auditor")
    return url, token


def test_a_read_only_postgresql_keeps_reads_and_refuses_writes_with_503(
    request, tmp_path, postgres
):
    import psycopg

    from stations.store.postgis.pool import close_pools

    url, token = _pg_prepared(request, tmp_path)
    name = url.rsplit("/", 1)[1]
    close_pools(url)
    with psycopg.connect(postgres.url(), autocommit=True) as conn:  # a standby's answer: 25006
        conn.execute(f"alter database {name} set default_transaction_read_only = on")
    client = _app(url).test_client()
    for path in ("/?lang=en", f"/stations/{XN_ID}?lang=en", ITEM, "/healthz"):
        assert client.get(path).status_code == 200, path
    auth = {"Authorization": f"Bearer {token}", "If-Match": "*"}
    refused = client.patch(ITEM, json={"brand": "不会保存"}, headers=auth)
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
    assert refused.json["error"]["code"] == "read_only"
    page = client.post(f"/stations/{XN_ID}/checkins?lang=zh", data={"kind": "ok"})
    assert page.status_code == 503 and "只读" in page.get_data(as_text=True)
    assert client.get(ITEM).json["properties"].get("brand") != "不会保存"


@pytest.fixture
def small_tablespace(request, postgres):
    """A 3 MB tmpfs as a PostgreSQL tablespace ("small"), dropped and unmounted at the end."""
    import pwd

    import psycopg

    if os.geteuid() != 0:
        pytest.fail("this test mounts a tmpfs and needs root (as on the CI machine)")
    where = postgres.folder / f"small-{request.node.name[-40:]}"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(where)], check=True)
    owner = pwd.getpwnam("postgres")
    (where / "ts").mkdir()
    os.chown(where / "ts", owner.pw_uid, owner.pw_gid)
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"create tablespace small location '{where / 'ts'}'")
    try:
        yield where
    finally:
        with psycopg.connect(postgres.url(), autocommit=True) as conn:
            conn.execute("drop tablespace if exists small")
        subprocess.run(["umount", "-l", str(where)], check=True)


def test_a_full_postgresql_disk_is_507_and_reads_go_on(small_tablespace, request, tmp_path):
    # The history table lives on the small disk: an edit's record of itself cannot be written
    # (could not extend file: No space left on device, SQLSTATE 53100).
    url, token = _pg_prepared(request, tmp_path)
    with open_store(url) as store:
        store._execute("alter table station_changes set tablespace small")  # noqa: SLF001
    client = _app(url).test_client()
    auth = {"Authorization": f"Bearer {token}", "If-Match": "*"}
    _fill(small_tablespace, 64 * 1024)
    acknowledged, answer = _edit_until_refused(client, auth)
    assert answer.status_code == 507, answer.get_data(as_text=True)
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.json["error"]["code"] == "storage_full"
    read = client.get(ITEM)
    assert read.status_code == 200
    assert read.json["properties"].get("brand") == (acknowledged[-1] if acknowledged else None)
    assert client.get("/?lang=en").status_code == 200
    os.remove(small_tablespace / "ballast")
    again = client.patch(ITEM, json={"brand": "有空间了"}, headers=auth)
    assert again.status_code == 200
    assert client.get(ITEM).json["properties"]["brand"] == "有空间了"
