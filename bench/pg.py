"""The benchmarks' throwaway PostgreSQL + PostGIS server: the tests' own (tests/pgserver.py) with
settings for measuring instead of the tests' fsync=off, and a few helpers around it.

Writes are durable (fsync, synchronous_commit and full_page_writes on), so write and import
figures are what a real server would see; memory is sized for a 1M-station registry on a small
machine. SETTINGS is printed with every figure table that used it.
"""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "tests"))  # after bench/: its modules win any name clash

import psycopg  # noqa: E402
from pgserver import PG_BIN, PostgresServer  # noqa: E402

SETTINGS = {
    "fsync": "on",  # durable commits: the honest cost of every write and of the import
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "1GB",  # the 1M registry and its indexes fit (~0.6 GB)
    "effective_cache_size": "4GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "512MB",  # index builds at restore time
    "max_wal_size": "8GB",  # a bulk load is not interrupted by checkpoints every 1 GB of WAL
    "checkpoint_timeout": "30min",
}


def describe() -> str:
    return "PostgreSQL 15 + PostGIS: " + ", ".join(f"{k}={v}" for k, v in SETTINGS.items())


def start() -> PostgresServer:
    server = PostgresServer(settings=SETTINGS)
    try:
        return server.start()
    except Exception:
        print(server.log()[-3000:])
        server.stop()
        raise


def create_database(server: PostgresServer, name: str) -> str:
    """An empty database on server; its URL."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"create database {name}")
    return server.url(name)


def vacuum_analyze(url: str) -> None:
    """Planner statistics and the visibility map, as autovacuum would give them in time: a bulk
    load or a restore leaves neither, and the first queries would be planned blind."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum (analyze)")


def tool(name: str) -> str:
    """A PostgreSQL client program, from the server's own bin folder first."""
    found = PG_BIN / name
    return str(found) if found.exists() else shutil.which(name) or name


def dump(url: str, path: Path) -> None:
    """The database as a custom-format archive (pg_dump -Fc): restored by restore() below."""
    subprocess.run([tool("pg_dump"), "-Fc", "-Z1", "-f", str(path), "-d", url], check=True)


def restore(url: str, path: Path) -> None:
    """Tables, then indexes built two at a time (-j 2, this machine's cores)."""
    subprocess.run(
        [tool("pg_restore"), "-j", "2", "--no-owner", "-d", url, str(path)],
        check=True,
    )


def schema(url: str) -> str:
    """The schema as pg_dump prints it: a cache key that changes with any migration."""
    out = subprocess.run(
        [tool("pg_dump"), "--schema-only", "-d", url], capture_output=True, text=True, check=True
    )
    return "\n".join(line for line in out.stdout.splitlines() if not line.startswith("--"))
