import csv
import itertools
import sqlite3
from pathlib import Path

import pytest

from app import create_app
from stations.store import open_store

# Real places, chosen so that swapping lat and lon would be caught (lat 30-37, lon 101-120).
SAMPLE = [
    {
        "code": "XN-0001",
        "name": "城中区长江路工会驿站",
        "lat": "36.6171",
        "lon": "101.7782",
        "opening_hours": "Mo-Fr 08:00-18:00; PH off",
        "facilities": "饮用水、微波炉、卫生间",
        "manager_phone": "13800138000",
    },
    {
        "code": "HF-0001",
        "name": "蜀山区金寨路爱心驿站",
        "lat": "31.8206",
        "lon": "117.2272",
        "opening_hours": "24/7",
        "facilities": "drinking_water;toilet",
        "manager_phone": "",
    },
    {
        "code": "QD-0001",
        "name": "市南区香港中路骑手驿站",
        "lat": "36.0671",
        "lon": "120.3826",
        "opening_hours": "Mo-Su 22:00-06:00",
        "facilities": "",
        "manager_phone": "0532-12345678",
    },
]
HEADER = ["code", "name", "lat", "lon", "opening_hours", "facilities", "manager_phone"]


def write_csv(path: Path, rows, header=HEADER, encoding="utf-8", delimiter=",") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        out = csv.writer(f, delimiter=delimiter)
        out.writerow(header)
        for row in rows:
            out.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    return path


def snapshot(db_path) -> list[str]:
    """Everything in a database file, as SQL text: equal snapshots mean nothing changed."""
    conn = sqlite3.connect(db_path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "yizhan.db"


# -- which database: SQLite by default; a module runs against both stores by overriding
# `store_kind` with `@pytest.fixture(params=STORE_KINDS)` (see test_api.py, test_staff.py).

STORE_KINDS = ["sqlite", "postgis"]


@pytest.fixture(scope="session", autouse=True)
def _forget_search_counts_at_exit():
    """Search counts a test app kept in memory (SEARCH_LOG_FLUSH_SECONDS above 0) belong to
    databases the tests have dropped by the time the process exits: forget them rather than
    write them at exit (a real server's exit flush is tested with gunicorn, test_demand.py)."""
    yield
    from stations.web import searchlog

    searchlog._logs.clear()


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL + PostGIS server on loopback for the whole run (tests/pgserver.py;
    `make test` installs Debian's packages). Started only if a test asks for the PostGIS store."""
    from pgserver import PostgresServer

    server = PostgresServer()
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        pytest.fail(f"PostgreSQL could not start: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgis_template(postgres) -> str:
    """A database with the schema applied by the store's own migrations: each test copies it
    (CREATE DATABASE … TEMPLATE, a file copy) instead of migrating afresh."""
    import psycopg

    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute("create database yizhan_template")
    from stations.store.postgis.pool import close_pools

    migrated = open_store(postgres.url("yizhan_template"))
    migrated.migrate()
    migrated.close()
    close_pools(postgres.url("yizhan_template"))  # a template must have no connections
    return "yizhan_template"


_databases = itertools.count(1)


def new_postgis_database(postgres, template: str | None) -> str:
    """A new, empty database on the test server (migrated if copied from the template)."""
    import psycopg

    name = f"test_{next(_databases)}"
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"create database {name}" + (f" template {template}" if template else ""))
    return postgres.url(name)


def drop_postgis_database(postgres, url: str) -> None:
    """Close this process's pool of a test's database, then drop it (and any connection
    something else left open)."""
    import psycopg

    from stations.store.postgis.pool import close_pools

    close_pools(url)
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)")


def postgis_database(request) -> str:
    """A migrated PostGIS database of this test's own, dropped when the test ends."""
    postgres = request.getfixturevalue("postgres")
    url = new_postgis_database(postgres, request.getfixturevalue("postgis_template"))
    request.addfinalizer(lambda: drop_postgis_database(postgres, url))
    return url


@pytest.fixture
def store_kind(request) -> str:
    """SQLite unless a module overrides this fixture or a test parametrises it (indirect)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database_url(store_kind, db_path, request) -> str:
    """The DATABASE_URL of this test's own database, migrated, of `store_kind`."""
    if store_kind == "sqlite":
        url = f"sqlite:///{db_path}"
        with open_store(url) as created:  # as `init-db` does: a server never creates one
            created.migrate()
        return url
    return postgis_database(request)


@pytest.fixture
def store(database_url):
    store = open_store(database_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def sample_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "sample.csv", SAMPLE)


@pytest.fixture
def app(database_url, tmp_path):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "SEARCH_LOG_FLUSH_SECONDS": 0,  # every search written at once, where tests see it
        }
    )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=[str(a) for a in args])

    return invoke


@pytest.fixture
def seeded(cli, sample_csv, db_path):
    """The sample stations imported; the SQLite file (unused when store_kind is postgis)."""
    result = cli("import", sample_csv)
    assert result.exit_code == 0, result.output
    return db_path


# A fixed moment for everything that depends on the clock: Friday 2026-11-20, 10:00 in China.
FRIDAY_10 = (2026, 11, 20, 10, 0)


@pytest.fixture
def clock():
    from datetime import datetime

    from stations.core.hours import TZ

    moment = {"now": datetime(*FRIDAY_10, tzinfo=TZ)}

    def now():
        return moment["now"]

    now.set = lambda *parts: moment.update(now=datetime(*parts, tzinfo=TZ))
    return now


@pytest.fixture
def api(seeded, database_url, clock):
    """A test client on the three sample stations with the clock pinned."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "CLOCK": clock,
            "RATELIMIT_ENABLED": False,  # contract tests make many calls; test_partners checks limits
            "SEARCH_LOG_FLUSH_SECONDS": 0,
        }
    )
    return app.test_client()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A throwaway Redis server on loopback (Debian's redis-server, installed by make test)."""
    import os
    import socket
    import subprocess
    import time

    binary = os.environ.get("REDIS", "/usr/bin/redis-server")
    if not os.path.exists(binary):
        pytest.fail(f"{binary} is missing: `make test` installs Debian's redis-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:  # until it answers PING
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.05)  # a poll between connection attempts, not a measurement
    yield f"redis://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


# -- the staff app (staff_helpers.USERS on the seeded registry) ---------------------------------


@pytest.fixture
def staff_app(seeded, database_url, clock, store, tmp_path):
    """The app over the seeded registry with the staff users of staff_helpers; a test file
    that needs other users or settings defines its own."""
    from staff_helpers import make_users, staff_app_for

    make_users(store)
    return staff_app_for(database_url, clock, tmp_path)


@pytest.fixture
def xn(staff_app):
    """A client signed in as Xining's auditor."""
    from staff_helpers import signed_in

    return signed_in(staff_app, "xn-auditor")
