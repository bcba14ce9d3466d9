"""copy-db speed: N synthetic stations (and their history) from SQLite into PostgreSQL.

Builds the SQLite registry once per size under bench/.cache/ (bench/synthetic.py, written
straight to the store), starts a throwaway PostgreSQL + PostGIS server (tests/pgserver.py:
fsync off, as in the tests), and times `flask --app app copy-db --to …` as a user runs it.
Run: python bench/copy_speed.py [N]  (default 1,000,000)
"""

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import psycopg  # noqa: E402
from pgserver import PostgresServer  # noqa: E402

from stations.store import open_store  # noqa: E402

import synthetic  # noqa: E402


def registry(n: int) -> Path:
    path = ROOT / "bench" / ".cache" / f"copy-{n}.db"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    store = open_store(f"sqlite:///{partial}")
    store.migrate()
    start = time.perf_counter()
    synthetic.fill(store, n)
    store.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    partial.rename(path)
    print(f"built {path.name} in {time.perf_counter() - start:.0f} s")
    return path


def main(n: int) -> None:
    source = registry(n)
    with PostgresServer() as pg:
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            conn.execute("create database copy_target")
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{source}", "SECRET_KEY": "bench"}
        start = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "app",
                "copy-db",
                "--to",
                pg.url("copy_target"),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        took = time.perf_counter() - start
        print(result.stdout, end="")
        if result.returncode:
            sys.exit(f"copy-db failed: {result.stderr}")
        with psycopg.connect(pg.url("copy_target")) as conn:
            size = conn.execute("select pg_size_pretty(pg_database_size('copy_target'))").fetchone()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"stations: {n:,} (+ {n:,} history rows)")
    print(f"copy-db: {took:.1f} s = {n / took:,.0f} stations/s")
    print(f"copy-db peak RSS: {peak:,.0f} MB; target database {size[0] if size else '?'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
