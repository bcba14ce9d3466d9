"""The backup drill in figures: gunicorn acknowledging edits while `flask --app app backup` runs,
then `restore` into a fresh place.

Prints the registry's size, the backup's time, the edits acknowledged during it, the edits'
p99 latency before and during the backup, the restore's time, the integrity result and
whether the restored counts equal the backup's.

    .venv/bin/python bench/backup_drill.py [--stations 100000]
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from servers import AppServer, flask_cli, http  # noqa: E402
from staff_helpers import make_users, token_for  # noqa: E402

from stations.store import backup, open_store  # noqa: E402

from synthetic import fill  # noqa: E402


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] * 1000 if len(values) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url = f"sqlite:///{tmp / 'live.db'}"
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "drill"}
        done = flask_cli(env, "init-db")
        if done.returncode:
            sys.exit(done.stderr)
        with open_store(url) as store:
            fill(store, args.stations)
            make_users(store)
            token = token_for(store, "boss")
        auth = {"Authorization": f"Bearer {token}", "If-Match": "*"}
        size = os.path.getsize(tmp / "live.db")

        timings: list[tuple[float, float, int]] = []  # (start, seconds, status)
        stop = threading.Event()

        def edit(worker: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                started = time.monotonic()
                status = http(
                    f"{server.base}/api/v1/stations/{worker + 1}",
                    "PATCH",
                    {"brand": f"演练{worker}-{n}"},
                    auth,
                )[0]
                timings.append((started, time.monotonic() - started, status))

        lifted = "1000000 per minute"  # the drill measures the store, not the rate limits
        server_env = {"DATABASE_URL": url, "SECRET_KEY": "drill", "RATELIMIT_CLIENT": lifted,
                      "RATELIMIT_ADDRESS": lifted}  # fmt: skip
        with AppServer(server_env, tmp / "gunicorn.log") as server:
            server.wait_for(
                lambda: b'"ready"' in http(server.base + "/healthz")[2], "index ready", 300
            )
            writers = [threading.Thread(target=edit, args=(w,)) for w in range(4)]
            for w in writers:
                w.start()
            while sum(1 for _t, _s, code in timings if code == 200) < 200:  # a baseline
                time.sleep(0.1)
            time.sleep(3)  # warmed up (every worker's index built): the baseline window
            began = time.monotonic()
            done = flask_cli(env, "backup", str(tmp / "copy.db"))
            ended = time.monotonic()
            time.sleep(1)
            stop.set()
            for w in writers:
                w.join()
        if done.returncode:
            sys.exit(done.stderr)
        before = [s for t, s, code in timings if began - 3 <= t < began and code == 200]
        during = [s for t, s, code in timings if began <= t < ended and code == 200]
        refused = Counter(code for t, _s, code in timings if began <= t < ended and code != 200)
        copied = backup.counts_of(str(tmp / "copy.db"))

        (tmp / "fresh").mkdir()
        fresh = f"sqlite:///{tmp / 'fresh' / 'restored.db'}"
        started = time.monotonic()
        restored = backup.restore(fresh, str(tmp / "copy.db"))
        restore_s = time.monotonic() - started

        print(f"registry: {args.stations} stations, {size / 1e6:.1f} MB")
        print(f"backup (flask backup, whole command): {ended - began:.2f} s")
        print(
            f"edits acknowledged during the backup: {len(during)} (not acknowledged: {dict(refused) or 0})"
        )
        print(f"edit p99 in the 3 s before: {p99(before):.1f} ms ({len(before)} edits)")
        print(f"edit p99 during: {p99(during):.1f} ms ({len(during)} edits)")
        print(f"restore into a fresh place: {restore_s:.2f} s")
        print(f"integrity of the restored database: {restored.integrity}")
        print(f"counts equal to the backup's: {restored.counts == copied}")
        print(
            "counts: " + ", ".join(f"{k} {v}" for k, v in copied.items() if v),
        )


if __name__ == "__main__":
    main()
