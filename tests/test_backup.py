"""`flask --app app backup FILE` and `restore FILE`: the drill of issue 13 — a backup taken while
gunicorn acknowledges edits, restored into a fresh location, checked whole; refusals that
change nothing; the PostGIS store through pg_dump/pg_restore."""

import os
import threading
from pathlib import Path

from servers import AppServer, flask_cli, http
from staff_helpers import make_users, token_for

from stations.store import backup, open_store

from conftest import SAMPLE, new_postgis_database, write_csv

XN_ID = 1
ITEM = f"/api/v1/stations/{XN_ID}"


def _env(url: str) -> dict:
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "backup"}


def _prepared(url: str, tmp_path: Path) -> str:
    for args in (["init-db"], ["import", str(write_csv(tmp_path / "s.csv", SAMPLE))]):
        done = flask_cli(_env(url), *args)
        assert done.returncode == 0, done.stderr
    with open_store(url) as store:
        make_users(store)
        return token_for(store, "xn-auditor")


def test_drill_backup_under_concurrent_edits_then_restore_into_a_fresh_place(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    token = _prepared(url, tmp_path)
    auth = {"Authorization": f"Bearer {token}", "If-Match": "*"}
    with AppServer({"DATABASE_URL": url, "SECRET_KEY": "backup"}, tmp_path / "g.log") as server:
        acknowledged: list[int] = []  # edit numbers gunicorn answered 200
        stop = threading.Event()

        def edit() -> None:
            n = 0
            while not stop.is_set():
                status, _h, _b = http(server.base + ITEM, "PATCH", {"brand": f"品牌{n}"}, auth)
                if status == 200:
                    acknowledged.append(n)
                n += 1

        writer = threading.Thread(target=edit)
        writer.start()
        try:
            while len(acknowledged) < 20:  # edits are flowing before the backup starts
                assert writer.is_alive()
                threading.Event().wait(0.01)
            before = len(acknowledged)
            done = flask_cli(_env(url), "backup", str(tmp_path / "copy.db"))
            during = len(acknowledged) - before
        finally:
            stop.set()
            writer.join()
    assert done.returncode == 0, done.stderr
    assert "integrity ok" in done.stdout
    assert during >= 1, "no edit was acknowledged while the backup ran"

    # The backup's own counts; every edit acknowledged before it started is in it.
    copied = backup.counts_of(str(tmp_path / "copy.db"))
    assert copied["stations"] == 3
    edits_in_copy = copied["station_changes"] - 3  # three imported stations, one change each
    assert edits_in_copy >= before

    # Restore into a fresh location, as after losing the disk.
    fresh = f"sqlite:///{tmp_path / 'fresh' / 'restored.db'}"
    (tmp_path / "fresh").mkdir()
    restored = flask_cli(_env(fresh), "restore", "--yes", str(tmp_path / "copy.db"))
    assert restored.returncode == 0, restored.stderr
    assert "integrity ok" in restored.stdout and "Restart the servers" in restored.stdout
    assert backup.counts_of(fresh) == copied
    with open_store(fresh) as store:
        assert store.get(XN_ID).brand == f"品牌{acknowledged[edits_in_copy - 1]}"


def test_restore_over_a_serving_database_is_seen_at_once_and_refusals_change_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    token = _prepared(url, tmp_path)
    assert flask_cli(_env(url), "backup", str(tmp_path / "b.db")).returncode == 0
    again = flask_cli(_env(url), "backup", str(tmp_path / "b.db"))
    assert again.returncode == 1 and "--force" in again.stderr and "Traceback" not in again.stderr
    assert flask_cli(_env(url), "backup", "--force", str(tmp_path / "b.db")).returncode == 0

    auth = {"Authorization": f"Bearer {token}", "If-Match": "*"}
    with AppServer({"DATABASE_URL": url, "SECRET_KEY": "backup"}, tmp_path / "g.log") as server:
        assert http(server.base + ITEM, "PATCH", {"brand": "备份之后"}, auth)[0] == 200
        # Not a Yizhan database, or a damaged one: refused, the live one untouched.
        (tmp_path / "junk.db").write_bytes(b"not a database at all " * 300)
        refused = flask_cli(_env(url), "restore", "--yes", str(tmp_path / "junk.db"))
        assert refused.returncode == 1 and "nothing was changed" in refused.stderr
        assert b"\xe5\xa4\x87\xe4\xbb\xbd\xe4\xb9\x8b\xe5\x90\x8e" in http(server.base + ITEM)[2]
        # The backup restored over the live database: the server answers from it at once.
        done = flask_cli(_env(url), "restore", "--yes", str(tmp_path / "b.db"))
        assert done.returncode == 0, done.stderr
        status, _h, body = http(server.base + ITEM)
        assert status == 200 and "备份之后".encode() not in body
        assert http(server.base + "/healthz")[0] == 200


def test_postgis_backup_and_restore_into_a_fresh_database(postgres, postgis_template, tmp_path):
    url = new_postgis_database(postgres, postgis_template)
    _prepared(url, tmp_path)
    source_counts = backup.counts_of(url)
    done = flask_cli(_env(url), "backup", str(tmp_path / "pg.dump"))
    assert done.returncode == 0, done.stderr
    fresh = new_postgis_database(postgres, None)
    restored = flask_cli(
        _env(fresh),
        "restore",
        "--yes",
        str(tmp_path / "pg.dump"),
    )
    assert restored.returncode == 0, restored.stderr
    assert backup.counts_of(fresh) == source_counts
    assert source_counts["stations"] == 3
    with open_store(fresh) as store:
        assert store.get_by_code("XN-0001") is not None
