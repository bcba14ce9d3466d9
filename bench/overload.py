"""Overload benchmark: what one abusive address does to everyone else, before and after the limits.

Issue 13, point 6: a client rotating its User-Agent escaped the per-client API limit (4,757 x
200, 0 x 429 in 60 s) and the per-address ceiling (6,000 a minute) was above what the server
can serve, so other clients' p99 rose to 524 ms. This measures, in one run, on one SQLite
registry of N synthetic stations (default 200,000; built once and cached by bench/serve.py's
helpers, which this reuses for the database, the server and wrk):

1. capacity: nearest req/s of the server with the limits raised out of the way (wrk -t2 -c16
   on loopback, as bench/serve.py measures it; median of the rounds);
2. for two configurations, each on a freshly started server:
   - BEFORE, the old defaults: RATELIMIT_ADDRESS 6000 per minute, no bound on the identities
     of one address (RATELIMIT_IDENTITIES 1000000 per minute), gunicorn's plain gthread worker
     (GUNICORN_CMD_ARGS="--worker-class gthread", which overrides gunicorn.conf.py);
   - AFTER, the defaults as shipped (app.py RATE_LIMITS, gunicorn.conf.py's SheddingWorker with
     MAX_QUEUE 16);
   "other clients" (20 phones, each its own User-Agent, from source address 127.0.0.2) ask
   nearest at a steady 10/s on fresh connections, first alone (idle baseline), then while an
   abuser on 127.0.0.1 floods nearest with a new User-Agent on every request (wrk with a Lua
   script, several keep-alive connections, flat out). Printed: the abuser's answers by status
   and its 200s against the most the limits allow it; the others' p50/p99/max over their 200
   answers (every request timed, however late) and their failures; AFTER/BEFORE ratios.

Without TRUSTED_PROXIES the server counts an address by the peer address, so binding the
others' sockets to 127.0.0.2 makes them a different address (Linux routes all of 127/8 to
loopback). Limits use memory:// storage, so each of the 2 workers counts alone: the ceilings
printed are per worker times 2, over the fixed windows the run touches. wrk, the others and the
server share the machine's CPUs: the load average is printed at the start and the end.

Needs wrk (Debian: apt-get install wrk). Run:
python bench/overload.py [--stations N] [--quick] [--connections C]
"""

import argparse
import http.client
import json
import math
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from threading import Lock, Thread

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))
import serve  # noqa: E402  (bench/serve.py: database, server, wrk and probe helpers)
from limits import parse  # noqa: E402

from app import RATE_LIMITS  # noqa: E402  (the limits as shipped)

import synthetic  # noqa: E402

OTHERS_ADDRESS, OTHERS_PER_S, OTHERS_PHONES = "127.0.0.2", 10, 20
ABUSER_THREADS = 2
PROFILES = {
    "full": {"capacity_s": 10, "rounds": 3, "idle_s": 20, "abuse_s": 60},
    "quick": {"capacity_s": 5, "rounds": 1, "idle_s": 10, "abuse_s": 20},
}
LIMIT_NAMES = ("RATELIMIT_CLIENT", "RATELIMIT_IDENTITIES", "RATELIMIT_ADDRESS")
CONFIGS = {
    "before": {
        "RATELIMIT_CLIENT": "120 per minute",
        "RATELIMIT_IDENTITIES": "1000000 per minute",  # every identity its own budget
        "RATELIMIT_ADDRESS": "6000 per minute",
        "GUNICORN_CMD_ARGS": "--worker-class gthread",  # no bounded queue
    },
    "after": {name: RATE_LIMITS[name] for name in LIMIT_NAMES},  # and gunicorn.conf.py as is
}

# Appended to bench/serve.py's nearest script (same points, same Accept-Encoding): a new
# User-Agent on every request, and the answers counted by status, summed over wrk's threads.
ROTATE_LUA = """
local common_setup, common_done, plain_request = setup, done, request
local every = {}
function setup(thread) common_setup(thread); table.insert(every, thread) end
sent, counts = 0, {}
function request()
  sent = sent + 1
  wrk.headers["User-Agent"] = string.format("Mozilla/5.0 (rotating %d-%d)", seed, sent)
  return plain_request()
end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  common_done(summary, latency, requests)
  local total, parts = {}, {}
  for _, t in ipairs(every) do
    for status, n in pairs(t:get("counts")) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do table.insert(parts, string.format('"%d": %d', status, n)) end
  io.write("STATUS {" .. table.concat(parts, ", ") .. "}\\n")
end
"""


# -- servers -----------------------------------------------------------------------------------


@contextmanager
def running(env: dict, workdir: Path, name: str):
    """A gunicorn (bench/serve.py's settings) with env, both workers' spatial index warm; yields
    (port, the worker class gunicorn says it uses)."""
    port, log_path = serve.free_port(), workdir / f"gunicorn-{name}.log"
    with open(log_path, "w") as log:
        server = serve.serve(env, port, log)
        try:
            serve.until_up(port, server)
            deadline = time.monotonic() + 60
            while (
                len(workers := serve.worker_pids(server.pid)) < serve.WORKERS
                and time.monotonic() < deadline
            ):
                time.sleep(0.05)
            points = synthetic.query_points(serve.QUERY_POINTS, seed=serve.SEED)
            serve.each_worker_answers(port, workers, serve.NEAREST.format(*points[0]))
            serve.each_worker_warm(port, workers)
            used = re.search(r"Using worker: (\S+)", log_path.read_text())
            yield port, used.group(1) if used else "?"
        except Exception:
            serve.print_log_tail(log_path)
            raise
        finally:
            serve.stop(server)


# -- clients -----------------------------------------------------------------------------------


def others(port: int, points, seconds: float, seed: int) -> list[tuple[int, float]]:
    """OTHERS_PER_S nearest requests a second from OTHERS_ADDRESS, each on schedule in a thread
    of its own on a fresh connection, from OTHERS_PHONES phones in turn: (status, seconds) of
    each, 0 for no answer within serve.PROBE_TIMEOUT."""
    rng, got, lock = random.Random(seed), [], Lock()

    def one(i: int, path: str) -> None:
        start, status = time.monotonic(), 0
        conn = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=serve.PROBE_TIMEOUT, source_address=(OTHERS_ADDRESS, 0)
        )
        try:
            headers = {
                "Connection": "close",
                "User-Agent": f"Mozilla/5.0 (rider phone {i % OTHERS_PHONES})",
                "Accept-Encoding": "gzip",
            }
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except OSError:
            pass
        finally:
            conn.close()
        with lock:
            got.append((status, time.monotonic() - start))

    def send(i: int) -> Thread:
        thread = Thread(target=one, args=(i, serve.NEAREST.format(*rng.choice(points))))
        thread.start()
        return thread

    for thread in serve.paced(OTHERS_PER_S, seconds, send):
        thread.join()
    return got


def abuser(wrk_bin: str, port: int, script: Path, seconds: int, connections: int) -> dict:
    """wrk flat out with a new User-Agent per request: wrk's summary plus answers by status."""
    command = [
        *(wrk_bin, f"-t{ABUSER_THREADS}", f"-c{connections}", f"-d{seconds}s"),
        *("--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{port}"),
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 90, check=True)
    lines = out.stdout.splitlines()
    result = json.loads(next(x for x in lines if x.startswith("RESULT ")).removeprefix("RESULT "))
    status = json.loads(next(x for x in lines if x.startswith("STATUS ")).removeprefix("STATUS "))
    result["status"] = {int(k): v for k, v in status.items()}
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def ceiling(limits: dict, seconds: float) -> int:
    """The most 200s one address rotating its User-Agent can get in seconds: per worker the
    lesser of its address budget and (identities with a budget + the pooled client budget),
    over the fixed windows the run may touch (a window starts at its first hit, which may be
    the warm-up's, so a run of seconds meets at most seconds // window + 1 of them); times the
    workers (memory:// counts per worker)."""

    def allowed(name: str) -> int:
        item = parse(limits[name])
        return item.amount * (int(seconds // item.get_expiry()) + 1)

    per_worker = min(
        allowed("RATELIMIT_ADDRESS"),
        allowed("RATELIMIT_IDENTITIES") + allowed("RATELIMIT_CLIENT"),
    )
    return per_worker * serve.WORKERS


# -- the run -----------------------------------------------------------------------------------


def latencies(got) -> dict:
    ok = [s for status, s in got if status == 200]
    failed = Counter(status for status, _ in got if status != 200)
    if not ok:
        return {"n": len(got), "p50": math.nan, "p99": math.nan, "max": math.nan, "failed": failed}
    return {
        "n": len(got),
        "p50": statistics.median(ok) * 1000,
        "p99": (serve.p99(ok) if len(ok) > 1 else ok[0]) * 1000,
        "max": max(ok) * 1000,
        "failed": failed,
    }


def describe(stats: dict) -> str:
    failed = sum(stats["failed"].values())
    kinds = ", ".join(
        f"{n} x {'no answer' if status == 0 else status}"
        for status, n in sorted(stats["failed"].items())
    )
    return (
        f"p50 {stats['p50']:,.0f} ms, p99 {stats['p99']:,.0f} ms, max {stats['max']:,.0f} ms;"
        f" {failed} of {stats['n']} failed" + (f" ({kinds})" if kinds else "")
    )


def run_config(name, env, workdir, points, profile, wrk_bin, script, connections) -> dict:
    with running(env, workdir, name) as (port, worker):
        print(f"{name}: server up, worker class {worker}")
        idle = latencies(others(port, points, profile["idle_s"], seed=1))
        print(f"{name}: others alone: {describe(idle)}")
        hit, took = serve.concurrently(
            partial(abuser, wrk_bin, port, script, profile["abuse_s"], connections),
            partial(others, port, points, profile["abuse_s"], seed=2),
        )
        loaded = latencies(took)
        print(
            f"{name}: abuser {hit['requests']:,} requests ({hit['rps']:,.0f}/s), by status"
            f" {dict(sorted(hit['status'].items()))}; others: {describe(loaded)}"
        )
    return {"worker": worker, "idle": idle, "loaded": loaded, "abuser": hit}


def report(stations, profile, connections, capacity, runs, limits, load) -> None:
    seconds = profile["abuse_s"]
    print()
    print(
        f"Overload, {stations:,} stations (SQLite), gunicorn {serve.WORKERS} workers x"
        f" {serve.THREADS} threads; abuser: wrk -t{ABUSER_THREADS} -c{connections} -d{seconds}s"
        f" from 127.0.0.1, a new User-Agent per request; others: {OTHERS_PER_S}/s nearest from"
        f" {OTHERS_ADDRESS}, {OTHERS_PHONES} phones, fresh connections"
    )
    print(
        f"capacity (limits raised, shipped worker, wrk -t{serve.WRK_THREADS}"
        f" -c{serve.WRK_CONNECTIONS}, median of {len(capacity)} x {profile['capacity_s']} s):"
        f" {statistics.median(capacity):,.0f} nearest req/s"
        f" (rounds: {', '.join(f'{c:,.0f}' for c in capacity)})"
    )
    for name in runs:
        settings = ", ".join(f"{k}={v!r}" for k, v in CONFIGS[name].items())
        print(f"{name}: {settings}; worker {runs[name]['worker']}")
    print()
    b, a = runs["before"], runs["after"]
    rows = []
    for name, r in (("before", b), ("after", a)):
        hit = r["abuser"]
        count = hit["status"]
        rows.append(
            (
                f"abuser 200 / 429 / 503 / other ({name})",
                f"{count.get(200, 0):,} / {count.get(429, 0):,} / {count.get(503, 0):,} /"
                f" {sum(v for k, v in count.items() if k not in (200, 429, 503)):,}"
                f"  (+{hit['socket_errors']} socket errors, {hit['timeouts']} timeouts)",
            )
        )
    for name, r in (("before", b), ("after", a)):
        ok, most = r["abuser"]["status"].get(200, 0), ceiling(limits[name], seconds)
        rows.append(
            (
                f"abuser 200s vs limit ceiling ({name})",
                f"{ok:,} of at most {most:,} ({ok / most:.2f}); {ok / seconds:,.1f}/s ="
                f" {ok / seconds / statistics.median(capacity):.0%} of capacity",
            )
        )
    print(f"{'figure':<42} value")
    for label, value in rows:
        print(f"{label:<42} {value}")
    print()
    print(
        f"{'others (their 200 answers, ms)':<34} {'before':>24} {'after':>24} {'after/before':>13}"
    )
    for key, label in (("idle", "alone"), ("loaded", "beside the abuser")):
        for stat in ("p50", "p99", "max"):
            x, y = b[key][stat], a[key][stat]
            ratio = f"{y / x:.2f}" if x else ""
            print(f"{label + ' ' + stat:<34} {x:>24,.0f} {y:>24,.0f} {ratio:>13}")
        failed = [sum(r[key]["failed"].values()) for r in (b, a)]
        total = [r[key]["n"] for r in (b, a)]
        print(
            f"{label + ' failed':<34} {f'{failed[0]} of {total[0]}':>24}"
            f" {f'{failed[1]} of {total[1]}':>24}"
        )
    slow = [r["loaded"]["p99"] / r["idle"]["p99"] for r in (b, a)]
    print(f"{'p99 beside the abuser / alone':<34} {slow[0]:>23.1f}x {slow[1]:>23.1f}x")
    print()
    print(
        f"ceiling: per worker min(RATELIMIT_ADDRESS, RATELIMIT_IDENTITIES + RATELIMIT_CLIENT) over"
        f" the fixed windows {seconds} s may touch ({seconds} s // window + 1 of each), x {serve.WORKERS}"
        " workers (memory:// storage)"
    )
    print(
        f"load average (1 min) at start / end: {load[0]:.2f} / {load[1]:.2f}"
        f" on {os.cpu_count()} CPUs"
    )


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress shows up when piped to a file
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=200_000, help="default 200,000")
    parser.add_argument("--quick", action="store_true", help="shorter runs (20 s of abuse)")
    parser.add_argument(
        "--connections", type=int, default=16, help="the abuser's connections (default 16)"
    )
    args = parser.parse_args()
    profile = PROFILES["quick" if args.quick else "full"]
    wrk_bin = shutil.which(os.environ.get("WRK", "wrk"))
    if not wrk_bin:
        sys.exit("wrk is missing: apt-get install wrk (or run make bench-serve)")
    start, load_start = time.monotonic(), os.getloadavg()[0]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="yizhan-overload-") as tmp:
        workdir = Path(tmp)
        path = serve.database(args.stations, workdir, use_cache=True)
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("RATELIMIT_")
            and k not in ("GUNICORN_CMD_ARGS", "MAX_QUEUE", "RETRY_AFTER_SECONDS")
            and k not in ("TRUSTED_PROXIES", "DATABASE_READ_URL")
        }
        base.update(DATABASE_URL=f"sqlite:///{path}", SECRET_KEY=secrets.token_hex(32))
        points = synthetic.query_points(serve.QUERY_POINTS, seed=serve.SEED)
        nearest_lua, rotate_lua = workdir / "nearest.lua", workdir / "rotate.lua"
        nearest_lua.write_text(serve.lua_nearest(points))
        rotate_lua.write_text(serve.lua_nearest(points) + ROTATE_LUA)

        unlimited = {**base, **dict.fromkeys((*LIMIT_NAMES, "RATELIMIT_KEY"), serve.NO_LIMIT)}
        with running(unlimited, workdir, "capacity") as (port, worker):
            capacity = []
            for _ in range(profile["rounds"]):
                got = serve.wrk(
                    wrk_bin, f"http://127.0.0.1:{port}", nearest_lua, profile["capacity_s"]
                )
                capacity.append(got["rps"])
                print(f"capacity: {got['rps']:,.0f} nearest req/s ({worker})")

        runs, limits = {}, {}
        for name, settings in CONFIGS.items():
            limits[name] = {n: settings.get(n, RATE_LIMITS[n]) for n in LIMIT_NAMES}
            runs[name] = run_config(
                name, {**base, **settings}, workdir, points, profile, wrk_bin, rotate_lua,
                args.connections,
            )  # fmt: skip
    report(
        args.stations, profile, args.connections, capacity, runs, limits,
        (load_start, os.getloadavg()[0]),
    )  # fmt: skip
    print(f"total {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
