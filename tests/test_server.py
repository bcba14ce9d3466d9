"""The real server: gunicorn with this repository's gunicorn.conf.py, /healthz, and settings that
come from the environment (rate limits, workers, bind address)."""

import json
import os
import runpy
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from servers import CONF, AppServer, flask_cli, http

from app import create_app
from stations.store import open_store

from conftest import SAMPLE, write_csv

XINING = "lat=36.6171&lon=101.7782"  # exactly at XN-0001


def _get(url: str, headers: dict | None = None):
    return http(url, headers=headers)


def _children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split()}


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """gunicorn, started as `make run` starts it, on a free loopback port, with the sample
    stations in a temporary database; stopped (SIGTERM, then SIGKILL) at the end."""
    tmp = tmp_path_factory.mktemp("gunicorn")
    db = tmp / "served.db"
    env = {
        "DATABASE_URL": f"sqlite:///{db}",
        "SECRET_KEY": "served",
        "WEB_CONCURRENCY": "3",  # not the default, so the test sees the variable take effect
        "GUNICORN_THREADS": "2",
    }
    imported = flask_cli({**os.environ, **env}, "import", str(write_csv(tmp / "s.csv", SAMPLE)))
    assert imported.returncode == 0, imported.stderr
    with AppServer(env, tmp / "gunicorn.log") as server:
        yield {
            "base": server.base,
            "proc": server.proc,
            "log": server.log,
            "db": db,
            "server": server,
        }


def test_gunicorn_answers_healthz_and_the_nearest_station(gunicorn):
    status, headers, body = _get(gunicorn["base"] + "/healthz")
    assert status == 200, body
    assert headers["Server"].startswith("gunicorn")
    health = json.loads(body)
    assert health["status"] == "ok" and health["revision"] > 0  # three stations imported

    status, _, body = _get(f"{gunicorn['base']}/api/v1/stations/nearest?{XINING}&k=2")
    assert status == 200, body
    first = json.loads(body)["features"][0]["properties"]
    assert (first["code"], first["distance_m"]) == ("XN-0001", 0)


def test_workers_follow_web_concurrency_and_the_master_holds_no_database(gunicorn):
    proc = gunicorn["proc"]
    gunicorn["server"].wait_for(lambda: len(_children(proc.pid)) == 3, "3 workers")
    for _ in range(6):  # spread over the workers: each opens the database in its own process
        assert _get(gunicorn["base"] + "/healthz")[0] == 200
    # preload_app: the master imported the app before forking; it must never have opened the
    # database, or its connection would be shared by every worker after the fork.
    db = str(gunicorn["db"])
    open_files = {os.readlink(fd) for fd in Path(f"/proc/{proc.pid}/fd").iterdir()}
    assert not any(path.startswith(db) for path in open_files), open_files


def test_a_long_query_string_reaches_the_apis_own_414(gunicorn):
    status, _, body = _get(f"{gunicorn['base']}/api/v1/stations/nearest?{XINING}&x={'9' * 5000}")
    assert status == 414
    assert json.loads(body)["error"]["code"]  # the API's JSON error, not gunicorn's plain text


# -- /healthz through the app ------------------------------------------------------------------


def _client(url: str, **config):
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "h", **config})
    return app.test_client()


def test_healthz_is_cheap_uncached_cookieless_and_never_rate_limited(seeded):
    client = _client(f"sqlite:///{seeded}", RATELIMIT_CLIENT="1 per minute")
    for _ in range(4):
        response = client.get("/healthz?lang=en")
        assert response.status_code == 200
        assert response.json["status"] == "ok" and set(response.json) == {
            "status",
            "revision",
            "index",
        }
        assert response.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in response.headers
    assert client.get(f"/api/v1/stations/nearest?{XINING}").status_code == 200
    assert client.get(f"/api/v1/stations/nearest?{XINING}").status_code == 429  # the API is


def test_healthz_on_a_missing_database_is_503_and_creates_none(tmp_path):
    """The server never creates a database (only `init-db` does): health names the problem,
    pages say the service is unavailable, and no file appears."""
    path = tmp_path / "new.db"
    client = _client(f"sqlite:///{path}")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert (response.json["status"], response.json["problem"]) == ("unavailable", "missing")
    assert "init-db" in response.json["error"] and str(tmp_path) not in response.json["error"]
    assert client.get("/?lang=en").status_code == 503
    assert not path.exists()


def test_healthz_after_init_db_is_healthy_and_builds_the_index(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    with open_store(url) as store:
        store.migrate()
    client = _client(url)
    response = client.get("/healthz")
    # Healthy at once; the spatial index starts building in the background on first use.
    assert (response.status_code, response.json) == (
        200,
        {"status": "ok", "revision": 0, "index": "building"},
    )
    deadline = time.monotonic() + 30
    while client.get("/healthz").json["index"] != "ready":
        assert time.monotonic() < deadline, "the index of an empty registry was never built"
        threading.Event().wait(0.05)


@pytest.mark.parametrize("kind", ["directory", "garbage", "another app's database"])
def test_healthz_is_503_with_json_when_the_database_is_unusable(tmp_path, kind):
    path = tmp_path / "broken.db"
    if kind == "directory":
        path.mkdir()
    elif kind == "garbage":
        path.write_bytes(b"this is not a database " * 400)
    else:  # a real SQLite file whose `stations` table is not ours: the schema cannot be made
        conn = sqlite3.connect(path)
        conn.execute("create table stations (something_else text)")
        conn.commit()
        conn.close()
    response = _client(f"sqlite:///{path}").get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["error"] and str(tmp_path) not in response.json["error"]  # no server path
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_an_unreachable_postgresql_is_503_everywhere_never_500(tmp_path):
    """No server listens on the port: health says so without the password, and a rider's
    page, the API and the embed answer 503 with Retry-After."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        client = _client(f"postgresql://yizhan:s3cret-pw@127.0.0.1:{port}/yizhan")
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json["status"] == "unavailable"
        assert "s3cret-pw" not in health.get_data(as_text=True)
        for path in (
            "/",
            "/stations/1",
            "/api/v1/stations/nearest?lat=36.6&lon=101.7",
            "/embed/list?lat=36.6&lon=101.7",
        ):
            response = client.get(path)
            assert response.status_code == 503, path
            assert int(response.headers["Retry-After"]) > 0, path
            assert "s3cret-pw" not in response.get_data(as_text=True), path


# -- settings from the environment ---------------------------------------------------------------


def test_create_app_opens_no_database(tmp_path):
    """What makes preload_app safe: building the app touches no database file."""
    path = tmp_path / "later" / "yizhan.db"
    _client(f"sqlite:///{path}")
    assert not path.parent.exists()


def test_ratelimit_client_from_the_environment(seeded, monkeypatch):
    monkeypatch.setenv("RATELIMIT_CLIENT", "2 per minute")
    client = _client(f"sqlite:///{seeded}")
    statuses = [client.get(f"/api/v1/stations/nearest?{XINING}").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_ratelimit_address_from_the_environment(seeded, monkeypatch):
    monkeypatch.setenv("RATELIMIT_ADDRESS", "3 per minute")
    client = _client(f"sqlite:///{seeded}")
    statuses = [
        client.get(
            f"/api/v1/stations/nearest?{XINING}", headers={"User-Agent": f"rider {i}"}
        ).status_code
        for i in range(4)  # four clients behind one address
    ]
    assert statuses == [200, 200, 200, 429]


def test_ratelimit_key_from_the_environment(seeded, monkeypatch):
    monkeypatch.setenv("RATELIMIT_CLIENT", "1 per minute")
    monkeypatch.setenv("RATELIMIT_KEY", "3 per minute")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{seeded}", "SECRET_KEY": "k"})
    made = app.test_cli_runner().invoke(args=["key", "create", "partner"])
    assert made.exit_code == 0, made.output
    key = {"X-API-Key": made.output.strip()}
    client = app.test_client()
    url = f"/api/v1/stations/nearest?{XINING}"
    assert [client.get(url).status_code for _ in range(2)] == [200, 429]
    assert [client.get(url, headers=key).status_code for _ in range(4)] == [200, 200, 200, 429]


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("RATELIMIT_CLIENT", "lots", "RATELIMIT_CLIENT must look like '120 per minute'"),
        (
            "RATELIMIT_ADDRESS",
            "6000 a minute",
            "RATELIMIT_ADDRESS must look like '1800 per minute'",
        ),
        ("RATELIMIT_KEY", "per minute", "RATELIMIT_KEY must look like '1200 per minute'"),
        ("TRUSTED_PROXIES", "one", "TRUSTED_PROXIES must be a whole number"),
        ("AUDIT_INTERVAL_DAYS", "-5", "AUDIT_INTERVAL_DAYS must be a whole number"),
    ],
)
def test_a_malformed_setting_stops_start_up_naming_the_variable(
    tmp_path, monkeypatch, name, value, message
):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        _client(f"sqlite:///{tmp_path / 'y.db'}")


def _gunicorn_settings(monkeypatch, **env) -> dict:
    for name in ("HOST", "PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_gunicorn_defaults(monkeypatch):
    conf = _gunicorn_settings(monkeypatch)
    assert conf["bind"] == ["127.0.0.1:5000"]
    assert (conf["worker_class"], conf["workers"], conf["threads"]) == (
        "stations.serving.SheddingWorker",  # gthread with a bounded queue
        2,
        4,
    )
    assert conf["preload_app"] is True and conf["wsgi_app"] == "app:create_app()"


def test_gunicorn_settings_from_the_environment(monkeypatch):
    conf = _gunicorn_settings(
        monkeypatch, HOST="::1", PORT="8080", WEB_CONCURRENCY="8", GUNICORN_THREADS="16"
    )
    assert (conf["bind"], conf["workers"], conf["threads"]) == (["[::1]:8080"], 8, 16)
    with pytest.raises(ValueError, match="WEB_CONCURRENCY must be a whole number ≥ 1"):
        _gunicorn_settings(monkeypatch, WEB_CONCURRENCY="0")
