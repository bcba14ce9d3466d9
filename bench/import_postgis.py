"""Import speed of both stores against a bare COPY of the same rows, measured in the same run.

N stations (bench/import_speed.py's rows: three cities, half given in GCJ-02) are imported the
way staff do it, `flask --app app import FILE`, into an empty migrated database; the app takes
at most 200,000 rows a file (readers.MAX_ROWS), so a larger N is split into files of that size
imported one after the other (each later one checked against the stations already stored):
PostgreSQL + PostGIS (a throwaway server, bench/pg.py, durable writes) and SQLite. Baselines,
on the same server and disk, in the same run:

- bare COPY: the files' bytes through `COPY stations_bare FROM STDIN (FORMAT csv)` into an
  unindexed table of the file's columns, typed, no checks: what PostgreSQL needs to take the
  rows in at all (the goal: the import within 2x of it);
- sqlite-utils insert_all of the same rows as dicts (bench/import_speed.py's SQLite baseline).

Then the PostGIS import once more in-process, to split its time: plan_import (read, validate,
compare with the database, near duplicates) and save_many (the store's write), the latter
against a bare COPY of exactly the rows it wrote (stations and their history, taken back out
of the database) into unindexed tables of the same columns.

Run: python bench/import_postgis.py [--rows N]   (default 100,000; the issue's figure: 1000000)
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import pg  # noqa: E402  (bench/pg.py: the throwaway PostgreSQL server)
import psycopg  # noqa: E402
import sqlite_utils  # noqa: E402
from import_speed import rows  # noqa: E402

from stations.core import importer  # noqa: E402
from stations.core.readers import MAX_ROWS  # noqa: E402
from stations.store import open_store  # noqa: E402
from stations.store.postgis.rows import INSERT_COLUMNS  # noqa: E402

CHANGE_COLUMNS = "id, station_id, user_id, actor, at, action, before, after"


def write_csvs(folder: Path, n: int) -> tuple[list[Path], list[dict]]:
    """n rows in CSV files of at most readers.MAX_ROWS rows each, as the app accepts them."""
    data = list(rows(n))
    paths = []
    for start in range(0, n, MAX_ROWS):
        paths.append(folder / f"stations-{len(paths) + 1}.csv")
        with open(paths[-1], "w", encoding="utf-8", newline="") as f:
            out = csv.DictWriter(f, fieldnames=list(data[0]))
            out.writeheader()
            out.writerows(data[start : start + MAX_ROWS])
    return paths, data


def migrated(url: str) -> str:
    store = open_store(url)
    store.migrate()
    store.close()
    return url


def cli_import(url: str, paths: list[Path]) -> tuple[float, int]:
    """Seconds for `flask --app app import FILE`, file after file (interpreter start-up
    included, ~1 s each), and how many warnings they printed. The database is migrated
    beforehand: the schema is not timed."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
    env.pop("DATABASE_READ_URL", None)
    took, warned = 0.0, 0
    for path in paths:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "import", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        took += time.perf_counter() - start
        if done.returncode:
            sys.exit(f"import into {url.split(':')[0]} failed:\n{done.stdout}{done.stderr[-3000:]}")
        warned += done.stderr.count("warning: ")
    return took, warned


def bare_copy(url: str, paths: list[Path]) -> float:
    """The files' bytes through COPY into an unindexed, unconstrained table of their columns."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "create table stations_bare (code text, name text, lat double precision,"
            " lon double precision, crs text, opening_hours text, facilities text, status text)"
        )
        conn.commit()
        start = time.perf_counter()
        for path in paths:
            with conn.cursor().copy("copy stations_bare from stdin (format csv, header)") as copy:
                with open(path, "rb") as f:
                    while block := f.read(1 << 20):
                        copy.write(block)
        conn.commit()  # durable, like the import's
        return time.perf_counter() - start


def copy_out(url: str, sql: str) -> list[bytes]:
    with psycopg.connect(url) as conn, conn.cursor().copy(f"copy ({sql}) to stdout") as copy:
        return [bytes(block) for block in copy]


def bare_copy_written(url: str) -> float:
    """The stations and history rows save_many wrote, COPYed into tables LIKE stations and
    station_changes (columns and types only: no index, check, trigger or generated column)."""
    cols = ", ".join(["id", *INSERT_COLUMNS])  # ids as the identity columns gave them
    stations = copy_out(url, f"select {cols} from stations order by id")
    changes = copy_out(url, f"select {CHANGE_COLUMNS} from station_changes order by id")
    with psycopg.connect(url) as conn:
        conn.execute("create table stations_rows (like stations)")
        conn.execute("create table changes_rows (like station_changes)")
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cursor:
            for table, columns, blocks in (
                ("stations_rows", cols, stations),
                ("changes_rows", CHANGE_COLUMNS, changes),
            ):
                with cursor.copy(f"copy {table} ({columns}) from stdin") as copy:
                    for block in blocks:
                        copy.write(block)
        conn.commit()
        return time.perf_counter() - start


def sqlite_baseline(path: Path, data: list[dict]) -> float:
    start = time.perf_counter()
    base = sqlite_utils.Database(path)
    base["stations"].insert_all(data, batch_size=1000)
    base.close()
    return time.perf_counter() - start


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="how many (default 100,000)")
    n = parser.parse_args().rows
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="yizhan-import-") as tmp:
        paths, data = write_csvs(Path(tmp), n)
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(f"{n:,} rows in {len(paths)} CSV file(s), {size:,.0f} MB; load average {load:.1f}")
        server = pg.start()
        try:
            bare = bare_copy(pg.create_database(server, "bare"), paths)
            print(f"bare COPY: {bare:.2f} s")
            url = migrated(pg.create_database(server, "cli"))
            pg_cli, warned = cli_import(url, paths)
            print(f"PostGIS CLI import: {pg_cli:.2f} s ({warned:,} near-duplicate warnings)")
            # The same import in-process, split into its two parts.
            url = migrated(pg.create_database(server, "parts"))
            store = open_store(url)
            planned = saved = 0.0
            for path in paths:
                start = time.perf_counter()
                plan = importer.plan_import(store, path)
                planned += time.perf_counter() - start
                assert plan.ok and not plan.changed, plan.errors[:3]
                start = time.perf_counter()
                importer.apply_plan(store, plan)
                saved += time.perf_counter() - start
                del plan
            store.close()
            print(f"PostGIS in-process: plan_import {planned:.2f} s, save_many {saved:.2f} s")
            written = bare_copy_written(url)
            print(f"bare COPY of the rows save_many wrote: {written:.2f} s")
        finally:
            server.stop()
        lite_cli, _ = cli_import(migrated(f"sqlite:///{tmp}/cli.db"), paths)
        print(f"SQLite CLI import: {lite_cli:.2f} s")
        lite_base = sqlite_baseline(Path(tmp) / "baseline.db", data)

    def line(name, seconds, baseline=None, of=""):
        ratio = f"{seconds / baseline:5.1f}x {of}" if baseline else ""
        print(f"{name:<52} {seconds:8.2f} s {n / seconds:10,.0f} rows/s  {ratio}")

    print()
    print(
        f"Import of {n:,} CSV rows (half GCJ-02) in {len(paths)} file(s) of at most {MAX_ROWS:,},"
        f" each all or nothing, with history; {pg.describe()}"
    )
    print(f"{'':<52} {'time':>10} {'rate':>17}  time / baseline")
    line("PostGIS: flask import (the goal: <= 2x bare COPY)", pg_cli, bare, "bare COPY")
    line("  in-process plan_import (read, check, compare)", planned, bare, "bare COPY")
    line("  in-process save_many (the store's write)", saved, written, "COPY of its rows")
    line("PostGIS baseline: bare COPY of the file", bare)
    line("  bare COPY of the rows save_many wrote", written)
    line("SQLite: flask import", lite_cli, lite_base, "sqlite-utils")
    line("SQLite baseline: sqlite-utils insert_all", lite_base)
    print(f"PostGIS import / SQLite import: {pg_cli / lite_cli:.2f}")
    print(
        f"load average before / after: {load:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
