"""Serving benchmark: the real app under gunicorn on loopback, driven by wrk.

Builds a SQLite registry of N synthetic stations (default 1,000,000; cached under bench/.cache/
by N, seed and schema, copied to a temporary folder for each run), serves it with gunicorn
(2 workers x 4 gthread threads; the app plus a hello-world route, bench/serve_app.py) and
measures in one run:

1. nearest req/s as a share of hello-world req/s under the same server (goal >= 0.75);
2. nearest p99 while riders check in 2/s and staff edit one station a second, against idle
   (goal <= 2x);
3. seconds until an edit made through one worker is answered by the other (goal <= 2 s);
4. resident memory per worker after the load (goal <= 400 MB at 1M).

wrk -t2 -c16 runs interleaved: hello, nearest, nearest with writes, three times; req/s are
medians. Nearest is asked like the courier page asks it (k=5, radius 5 km) from 2,000 points
beside the synthetic cities, so no cache sees the same question often. The p99 figure comes
from a probe beside wrk that times every request, however late (wrk's own p99 leaves out the
requests a stall holds up; it is printed too). Rate limits stay on but are raised through
RATELIMIT_* so they never refuse; check-ins go through the station page's form with its CSRF
token, edits through the staff API with a token made by the CLI.

--store postgis serves the same stations from PostgreSQL + PostGIS instead: a throwaway server
(bench/pg.py: durable writes, 1 GB shared buffers, settings printed with the figures), the
stations loaded through the store's save_many once, cached as a pg_dump archive beside the
SQLite file and restored for each run. --store both runs SQLite, then PostGIS, and prints the
two side by side with PostGIS / SQLite ratios.

Needs wrk (Debian: apt-get install wrk; `make bench-serve` installs it). The machine should be
otherwise idle: the run prints the load average it met. Cached databases take 1.2 GB at 1M
(SQLite) and a few hundred MB (pg_dump); delete bench/.cache/ freely.
Run: python bench/serve.py [--stations N] [--store sqlite|postgis|both] [--quick] [--no-cache]
"""

import argparse
import hashlib
import http.client
import itertools
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import pg  # noqa: E402  (bench/pg.py: the throwaway PostgreSQL server)

# The one direct use of the package: filling the database. The rest goes through HTTP and CLI.
from stations.store import open_store  # noqa: E402

import synthetic  # noqa: E402

WORKERS, THREADS = 2, 4
WRK_THREADS, WRK_CONNECTIONS = 2, 16
CHECKINS_PER_S, EDITS_PER_S = 2, 1
NO_LIMIT = "1000000 per minute"  # limits stay on (their cost is real) but never refuse
SEED = 7
QUERY_POINTS = 2000
PROBE_PER_S, PROBE_TIMEOUT = 5, 60
CONFIRM = 3  # consecutive fresh answers a worker must give before an edit counts as seen there
CACHE = HERE / ".cache"
NEAREST = "/api/v1/stations/nearest?lat={:.6f}&lon={:.6f}&k=5&radius_m=5000"  # as courier.js
PROFILES = {
    "full": {"stations": 1_000_000, "seconds": 10, "rounds": 3, "trials": 3},
    "quick": {"stations": 20_000, "seconds": 3, "rounds": 3, "trials": 2},
}
GOALS = {"share": 0.75, "p99": 2.0, "visible_s": 2.0, "rss_mb": 400}


# -- the database ------------------------------------------------------------------------------


def fingerprint() -> str:
    """Changes with the schema or the generator, so a stale cached database is not reused."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/empty.db")
        store.migrate()
        store.close()
        conn = sqlite3.connect(f"{tmp}/empty.db")
        schema = [
            row[0] or "" for row in conn.execute("select sql from sqlite_master order by name")
        ]
        conn.close()
    digest = hashlib.sha256("\n".join(schema).encode())
    digest.update(Path(synthetic.__file__).read_bytes())
    return digest.hexdigest()[:12]


def build(n: int, url: str) -> None:
    """n synthetic stations through the store's own bulk write (history rows included)."""
    store = open_store(url)
    store.migrate()
    done, start = 0, time.monotonic()
    for batch in synthetic.stations(n, seed=SEED):
        store.save_many(batch, [], "2026-11-01T00:00:00+08:00")
        done += len(batch)
        print(f"  {done:,} stations written ({time.monotonic() - start:.0f} s)")
    store.close()  # SQLite: the last connection folds the WAL back into the file


def database(n: int, workdir: Path, use_cache: bool) -> Path:
    """A fresh copy of an n-station database in workdir: runs write to it, the cache stays clean."""
    path = workdir / "bench.db"
    if not use_cache:
        build(n, f"sqlite:///{path}")
        return path
    cached = CACHE / f"stations-{n}-seed{SEED}-{fingerprint()}.db"
    if not cached.exists():
        print(f"building {cached.relative_to(ROOT)} (once per size and schema)")
        CACHE.mkdir(exist_ok=True)
        partial = cached.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        build(n, f"sqlite:///{partial}")
        os.replace(partial, cached)
    shutil.copyfile(cached, path)
    return path


def pg_database(n: int, server, use_cache: bool) -> str:
    """An n-station database on the throwaway server, the same stations as database() holds,
    loaded through the store (save_many) once and cached as a pg_dump archive keyed like the
    SQLite file, then restored for each run; vacuumed and analysed. Its URL."""
    empty = pg.create_database(server, "fingerprint")
    store = open_store(empty)
    store.migrate()
    store.close()
    digest = hashlib.sha256(pg.schema(empty).encode())
    digest.update(Path(synthetic.__file__).read_bytes())
    url = pg.create_database(server, "bench")
    cached = CACHE / f"stations-{n}-seed{SEED}-{digest.hexdigest()[:12]}.pgdump"
    if use_cache and cached.exists():
        pg.restore(url, cached)
    else:
        build(n, url)
    pg.vacuum_analyze(url)
    if use_cache and not cached.exists():
        CACHE.mkdir(exist_ok=True)
        partial = cached.with_suffix(".partial")
        pg.dump(url, partial)
        os.replace(partial, cached)
    return url


# -- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def staff_token(env: dict) -> str:
    """An admin account and its API token, made the way the README says: with the CLI."""
    flask = [sys.executable, "-m", "flask", "--app", "app", "user"]
    run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 300}
    password = secrets.token_urlsafe(24)
    made = subprocess.run(
        [*flask, "create", "bench-editor", "--role", "admin", "--password-stdin"],
        input=password + "\n",
        **run,
    )
    if made.returncode:
        sys.exit(f"user create failed:\n{made.stdout}{made.stderr}")
    token = subprocess.run([*flask, "token", "bench-editor"], **run)
    if token.returncode:
        sys.exit(f"user token failed:\n{token.stdout}{token.stderr}")
    return token.stdout.strip().splitlines()[-1]


def serve(env: dict, port: int, log) -> subprocess.Popen:
    # The product's own server settings (gunicorn.conf.py: gthread, preloaded app), with the
    # bench app (the real one plus a hello-world route) in its place.
    command = [
        *(sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py")),
        *("--pythonpath", str(HERE), "serve_app:app"),
    ]
    env = {
        **env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(WORKERS),
        "GUNICORN_THREADS": str(THREADS),
    }
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def print_log_tail(log_path: Path) -> None:
    """The last lines of gunicorn's log, for a run that failed."""
    print("gunicorn's log, last lines:\n" + "".join(log_path.read_text().splitlines(True)[-30:]))


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)  # gunicorn's graceful stop: the master ends its workers
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def worker_pids(master: int) -> set[int]:
    """gunicorn's workers: the master's children, from /proc."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:  # field 4, after "(name)"
            pids.add(int(entry.name))
    return pids


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM): resident now and at its peak, in MB."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


# -- HTTP ------------------------------------------------------------------------------------


def call(port: int, method: str, path: str, body=None, headers=None, timeout: float = 60):
    """One request on a fresh connection (so the kernel may hand it to either worker)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def first_id(body: bytes) -> int | None:
    features = json.loads(body)["features"]
    return features[0]["properties"]["id"] if features else None


def poll(port: int, path: str, done, seconds: float, threads: int = 4, limit: int = 20_000):
    """GET a nearest path from a few threads until done(answers) holds, seconds pass or limit
    requests are made. answers: [(arrival time, worker pid, status, first station id)]."""
    answers, lock, stop_now = [], threading.Lock(), threading.Event()
    deadline = time.monotonic() + seconds

    def ask():
        while not stop_now.is_set() and time.monotonic() < deadline:
            try:
                status, headers, body = call(port, "GET", path, timeout=seconds)
                found = first_id(body) if status == 200 else None
            except OSError:
                status, headers, found = 0, {}, None
            with lock:
                answers.append(
                    (time.monotonic(), int(headers.get("X-Worker-Pid", 0)), status, found)
                )
                if done(answers) or len(answers) >= limit:
                    stop_now.set()
            stop_now.wait(0.02)

    pool = [threading.Thread(target=ask) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return answers, done(answers)


def until_up(port: int, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            if call(port, "GET", "/bench/hello", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {seconds} s")


def each_worker_answers(port: int, workers: set[int], path: str, seconds: float = 600) -> float:
    """Ask nearest until every worker has answered once from now on (so each holds an index in
    step with the last write); the seconds it took."""
    start = time.monotonic()
    _, ok = poll(port, path, lambda a: workers <= {pid for _, pid, s, _ in a if s == 200}, seconds)
    if not ok:
        raise RuntimeError(f"not every worker answered nearest within {seconds} s")
    return time.monotonic() - start


def each_worker_warm(port: int, workers: set[int], seconds: float = 600) -> float:
    """Ask /healthz until every worker says its spatial index is ready; the seconds it took."""
    start, ready = time.monotonic(), set()
    while not workers <= ready:
        if time.monotonic() - start > seconds:
            raise RuntimeError(f"not every worker's index was ready within {seconds} s")
        _, headers, body = call(port, "GET", "/healthz")
        if json.loads(body).get("index") == "ready":
            ready.add(int(headers.get("X-Worker-Pid", 0)))
        time.sleep(0.05)  # a poll, not a measurement: a short pause between asks
    return time.monotonic() - start


# -- load --------------------------------------------------------------------------------------

LUA_COMMON = """
wrk.headers["Accept-Encoding"] = "gzip"  -- what phones send; the app compresses JSON
local threads = 0
function setup(thread) threads = threads + 1; thread:set("seed", threads) end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "bad_status": %d, "timeouts": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.status, e.timeout, e.connect + e.read + e.write))
end
"""


def lua_nearest(points) -> str:
    table = ",".join(f"{{{lat:.6f},{lon:.6f}}}" for lat, lon in points)
    path = NEAREST.replace("{:.6f}", "%.6f")
    return f"""{LUA_COMMON}
local points = {{{table}}}
function init(args) math.randomseed(seed) end
function request()
  local p = points[math.random(#points)]
  return wrk.format("GET", string.format("{path}", p[1], p[2]))
end
"""


def wrk(binary: str, url: str, script: Path, seconds: int) -> dict:
    command = [
        *(binary, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s"),
        *("--timeout", "30s", "-s", str(script), url),  # slow answers counted, not dropped
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 90, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["none"] = not result["requests"]
    if result["none"]:  # nothing answered: every latency is at least the run (a lower bound)
        result.update(dict.fromkeys(("p50_us", "p99_us", "max_us"), result["duration_us"]))
    return result


def latency(runs: list, key: str, over=statistics.median) -> str:
    """A latency over runs (their median), in ms; ">=" when a run had no answer at all."""
    value = f"{over(r[key] for r in runs) / 1000:,.0f} ms"
    return (">= " if any(r["none"] for r in runs) else "") + value


def paced(rate: float, seconds: float, action) -> list:
    """action(i) rate times a second for seconds (at most rate x seconds calls); the results."""
    start, results = time.monotonic(), []
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        results.append(action(i))
    return results


def concurrently(*jobs) -> list:
    """Run the callables at once, each in a thread of its own; their results, in order."""
    results, errors = [None] * len(jobs), []

    def run(i):
        try:
            results[i] = jobs[i]()
        except Exception as exc:  # re-raised below, in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def probe(port: int, points, seconds: float, seed: int) -> list[float]:
    """Seconds taken by PROBE_PER_S nearest requests a second, each sent on schedule in a thread
    of its own, answered or not. wrk drops the answers still due when its run ends and sends
    no faster than it is answered, so under a stall its p99 sees only the lucky requests;
    here every request counts. Failed or unanswered after PROBE_TIMEOUT: PROBE_TIMEOUT."""
    rng, took = random.Random(seed), []

    def one(path):
        start = time.monotonic()
        try:
            ok = call(port, "GET", path, timeout=PROBE_TIMEOUT)[0] == 200
        except OSError:
            ok = False
        took.append(time.monotonic() - start if ok else PROBE_TIMEOUT)

    def send(_i):
        thread = threading.Thread(target=one, args=(NEAREST.format(*rng.choice(points)),))
        thread.start()
        return thread

    for thread in paced(PROBE_PER_S, seconds, send):
        thread.join()
    return took


def p99(samples) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


class Writers:
    """Riders checking in ("all fine") and staff editing opening hours, each at a fixed rate."""

    def __init__(self, port: int, stations: int, token: str):
        self.port, self.stations, self.token = port, stations, token
        self.rng = random.Random(SEED)
        self.riders = itertools.count()
        # A rider's browser: the station page sets the session cookie and the form's CSRF token.
        status, headers, body = call(port, "GET", "/stations/1")
        if status != 200:
            raise RuntimeError(f"station page answered {status}")
        self.cookie = "; ".join(c.split(";", 1)[0] for c in headers.get_all("Set-Cookie") or [])
        self.csrf = re.search(rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()

    def checkin(self, _i: int) -> bool:
        try:
            return self._checkin()
        except (OSError, ValueError):  # a failed write counts as such
            return False

    def edit(self, _i: int) -> bool:
        try:
            return self._edit()
        except (OSError, KeyError, TypeError, ValueError):
            return False

    def _checkin(self) -> bool:
        station = self.rng.randint(1, self.stations)
        headers = {
            "Cookie": self.cookie,
            "Content-Type": "application/x-www-form-urlencoded",
            # Each check-in from another phone: one phone may report a station once in 30 minutes.
            "User-Agent": f"bench-rider/{next(self.riders)}",
        }
        body = urlencode({"kind": "ok", "csrf_token": self.csrf})
        status = call(self.port, "POST", f"/stations/{station}/checkins", body, headers)[0]
        return status == 303

    def _edit(self) -> bool:
        station = self.rng.randint(1, self.stations)
        status, headers, body = call(self.port, "GET", f"/api/v1/stations/{station}")
        if status != 200:
            return False
        current = json.loads(body)["properties"]["opening_hours"]
        hours = [h for h in synthetic.HOURS if h != current][0]  # hours the index filters on
        status = self.patch(station, headers["ETag"], {"opening_hours": hours})[0]
        return status == 200

    def patch(self, station: int, etag: str, changes: dict):
        headers = {
            "Authorization": f"Bearer {self.token}",
            "If-Match": etag,
            "Content-Type": "application/json",
        }
        return call(self.port, "PATCH", f"/api/v1/stations/{station}", json.dumps(changes), headers)


def visibility(port: int, writers: Writers, workers: set[int], seconds: float) -> dict:
    """Move a station to a spot of its own, then ask nearest there on fresh connections until
    every worker has answered with it CONFIRM times in a row. Seconds from the edit's answer."""
    rng = writers.rng
    for _ in range(50):  # a station not already the nearest to its new spot
        station = rng.randint(1, writers.stations)
        status, headers, body = call(port, "GET", f"/api/v1/stations/{station}")
        if status != 200:
            continue
        lon, lat = json.loads(body)["geometry"]["coordinates"]
        spot = (round(lat + 0.003, 6), round(lon + 0.003, 6))  # ~400 m away
        path = NEAREST.format(*spot)
        if first_id(call(port, "GET", path)[2]) != station:
            break
    status, answer, _ = writers.patch(station, headers["ETag"], {"lat": spot[0], "lon": spot[1]})
    edited = time.monotonic()
    if status != 200:
        raise RuntimeError(f"moving station {station} answered {status}")

    def settled(answers, pid):
        """When pid began answering with the moved station for good (None: not yet)."""
        mine = [(t, found == station) for t, p, _, found in answers if p == pid]
        run = list(itertools.takewhile(lambda a: a[1], reversed(mine)))
        return run[-1][0] if len(run) >= CONFIRM else None

    answers, _ = poll(
        port, path, lambda a: all(settled(a, p) is not None for p in workers), seconds
    )
    seen = {pid: settled(answers, pid) for pid in workers}
    return {
        "via": int(answer.get("X-Worker-Pid", 0)),
        "seen": {pid: (t - edited if t else None) for pid, t in seen.items()},
        "asked": len(answers),
    }


# -- the run -----------------------------------------------------------------------------------


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def measure(port, server, stations, profile, wrk_bin, workdir, token) -> dict:
    load = os.getloadavg()[0]
    if load > 1:
        print(f"! load average {load:.1f} before the load: other work will share the CPUs")
    until_up(port, server)
    # The first worker may answer before the master has forked the second: wait for all.
    deadline = time.monotonic() + 60
    while len(workers := worker_pids(server.pid)) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.05)
    points = synthetic.query_points(QUERY_POINTS, seed=SEED)
    warm_path = NEAREST.format(*points[0])
    took = each_worker_answers(port, workers, warm_path)
    print(f"both workers answered nearest {took:.1f} s after start")
    # Each worker builds its spatial index in the background, answering through the
    # database's R*Tree meanwhile: measure serving once both are warm, and say how long it took.
    warm = each_worker_warm(port, workers)
    print(f"both workers' spatial index ready {took + warm:.1f} s after start")
    hello_lua, nearest_lua = workdir / "hello.lua", workdir / "nearest.lua"
    hello_lua.write_text(LUA_COMMON)
    nearest_lua.write_text(lua_nearest(points))
    base, seconds = f"http://127.0.0.1:{port}", profile["seconds"]
    writers = Writers(port, stations, token)
    hello, idle, loaded, checkins, edits, idle_took, loaded_took = [], [], [], [], [], [], []

    nearest = partial(wrk, wrk_bin, base, nearest_lua, seconds)
    for r in range(profile["rounds"]):
        hello.append(wrk(wrk_bin, base + "/bench/hello", hello_lua, seconds))
        run, calm = concurrently(nearest, partial(probe, port, points, seconds, seed=r))
        idle.append(run)
        idle_took += calm
        result, took, ins, eds = concurrently(
            nearest,
            partial(probe, port, points, seconds, seed=100 + r),
            partial(paced, CHECKINS_PER_S, seconds, writers.checkin),
            partial(paced, EDITS_PER_S, seconds, writers.edit),
        )
        loaded.append(result)
        loaded_took += took
        checkins += ins
        edits += eds
        # Until both workers answer again (backlog served, index current): the next idle run
        # must not pay for this one's writes.
        result["settle_s"] = each_worker_answers(port, workers, warm_path)
        print(
            f"round {r + 1}: hello {hello[-1]['rps']:,.0f} req/s | "
            f"nearest {run['rps']:,.0f} req/s, p99 {latency([run], 'p99_us')}"
            f" (probe {p99(calm) * 1000:,.0f} ms) | "
            f"with writes {result['rps']:,.1f} req/s, p99 {latency([result], 'p99_us')}"
            f" (probe {p99(took) * 1000:,.0f} ms); "
            f"{sum(ins)}/{len(ins)} check-ins, {sum(eds)}/{len(eds)} edits answered; "
            f"both workers answered again {result['settle_s']:.1f} s after"
        )
        for run in (hello[-1], idle[-1], result):
            if run["bad_status"] or run["socket_errors"]:
                print(
                    f"  ! {run['bad_status']} error answers, {run['socket_errors']} socket errors"
                )
    trials = []
    for t in range(profile["trials"]):
        trial = visibility(port, writers, workers, seconds=120)
        trials.append(trial)
        shown = ", ".join(
            f"{'took the edit' if pid == trial['via'] else 'other'} "
            + (f"{s:.2f} s" if s is not None else "never")
            for pid, s in sorted(trial["seen"].items())
        )
        print(f"edit {t + 1}: worker {shown} ({trial['asked']} answers polled)")
    memory = {pid: memory_mb(pid) for pid in worker_pids(server.pid)}
    if set(memory) != workers:
        print(f"! workers changed during the run: {sorted(workers)} -> {sorted(memory)}")
    return {
        "load": (load, os.getloadavg()[0]),
        "hello": hello,
        "idle": idle,
        "loaded": loaded,
        "idle_took": idle_took,
        "loaded_took": loaded_took,
        "checkins": checkins,
        "edits": edits,
        "trials": trials,
        "memory": memory,
    }


def figures(got: dict) -> dict:
    """The headline numbers of one store's run."""
    hello, idle, loaded = (median(got[k], "rps") for k in ("hello", "idle", "loaded"))
    # The probe's p99, not wrk's: wrk leaves out exactly the requests a stall holds up.
    p99_idle, p99_loaded = (p99(got[k]) * 1000 for k in ("idle_took", "loaded_took"))
    others = [
        s for t in got["trials"] for pid, s in t["seen"].items() if pid != t["via"] or s is None
    ]
    return {
        "hello": hello,
        "idle": idle,
        "loaded": loaded,
        "share": idle / hello,
        "p99_idle": p99_idle,
        "p99_loaded": p99_loaded,
        "at_least": ">= " if PROBE_TIMEOUT in got["loaded_took"] else "",
        "slowdown": p99_loaded / p99_idle if p99_idle else float("inf"),
        "visible": None if None in others or not others else max(others),
        "rss": max(m[0] for m in got["memory"].values()),
        "peak": max(m[1] for m in got["memory"].values()),
    }


def report(stations: int, profile: dict, got: dict) -> None:
    f = figures(got)
    at_least, visible = f["at_least"], f["visible"]
    rows = [
        (
            "nearest req/s / hello-world req/s",
            f"{f['share']:.2f}  ({f['idle']:,.0f} / {f['hello']:,.0f})",
            f">= {GOALS['share']}",
            f["share"] >= GOALS["share"],
        ),
        (
            "nearest p99 with writes / idle",
            f"{at_least}{f['slowdown']:.1f}x  ({at_least}{f['p99_loaded']:,.0f} / {f['p99_idle']:,.0f} ms)",
            f"<= {GOALS['p99']:.0f}x",
            f["slowdown"] <= GOALS["p99"] and not at_least,
        ),
        (
            "edit answered by the other worker",
            f"{visible:.2f} s  (max of {len(got['trials'])})"
            if visible is not None
            else "not within 120 s",
            f"<= {GOALS['visible_s']:.0f} s",
            visible is not None and visible <= GOALS["visible_s"],
        ),
        (
            "worker RSS after the load (max)",
            f"{f['rss']:,.0f} MB  (peak {f['peak']:,.0f} MB)",
            f"<= {GOALS['rss_mb']} MB at 1M",
            f["rss"] <= GOALS["rss_mb"],
        ),
    ]
    seconds = profile["seconds"]
    print()
    print(
        f"Serving {stations:,} stations from {got['store']}: gunicorn {WORKERS} workers x"
        f" {THREADS} threads (gthread), wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{seconds}s on"
        f" loopback, {len(got['idle'])} interleaved rounds, medians"
    )
    if got.get("server"):
        print(got["server"])
    print(f"{'figure':<36} {'value':<32} {'goal':<16} met")
    for name, value, goal, met in rows:
        print(f"{name:<36} {value:<32} {goal:<16} {'yes' if met else 'NO'}")
    print()
    print(
        f"hello-world          {f['hello']:9,.0f} req/s  p99 {median(got['hello'], 'p99_us') / 1000:7,.1f} ms"
    )
    for name, runs in (("nearest, idle", got["idle"]), ("nearest with writes", got["loaded"])):
        print(
            f"{name:<20} {median(runs, 'rps'):9,.1f} req/s  p50 {latency(runs, 'p50_us')}"
            f"  p99 {latency(runs, 'p99_us')}  max {latency(runs, 'max_us', max)}"
            f"  timeouts {sum(r['timeouts'] for r in runs)}"
        )
    for name, took in (("idle", got["idle_took"]), ("with writes", got["loaded_took"])):
        late = took.count(PROBE_TIMEOUT)
        print(
            f"probe, {name + ':':<12} {len(took)} requests at {PROBE_PER_S}/s beside wrk, every"
            f" one counted: p50 {statistics.median(took) * 1000:,.0f} ms, p99 {p99(took) * 1000:,.0f}"
            f" ms, max {max(took) * 1000:,.0f} ms"
            + (f", {late} failed or unanswered after {PROBE_TIMEOUT} s" if late else "")
        )
    settle = [r["settle_s"] for r in got["loaded"]]
    print(
        f"after each loaded run both workers answered again within {min(settle):.1f}"
        f"-{max(settle):.1f} s (the backlog it left)"
    )
    print(
        f"writes during the loaded runs: {sum(got['checkins'])}/{len(got['checkins'])} check-ins"
        f" ({CHECKINS_PER_S}/s), {sum(got['edits'])}/{len(got['edits'])} edits ({EDITS_PER_S}/s)"
        f" answered as expected"
    )
    memory = ", ".join(f"{rss:,.0f} MB (peak {hwm:,.0f})" for rss, hwm in got["memory"].values())
    print(f"worker memory: {memory}")
    before, after = got["load"]
    print(f"load average before / after: {before:.1f} / {after:.1f} on {os.cpu_count()} CPUs")
    print(
        "(wrk counts answered requests only: one still waiting when a run ends is not in its p99)"
    )


def side_by_side(stations: int, runs: dict) -> None:
    """The two stores' headline figures, each from its own server in this invocation, and
    PostGIS / SQLite: the store's cost is read off against the same hello-world baseline."""
    a, b = figures(runs["sqlite"]), figures(runs["postgis"])

    def ms(f, key):
        return f"{f['at_least'] if key == 'p99_loaded' else ''}{f[key]:,.0f} ms"

    def secs(f):
        return f"{f['visible']:.2f} s" if f["visible"] is not None else "never"

    lines = [
        ("hello-world req/s", f"{a['hello']:,.0f}", f"{b['hello']:,.0f}", b["hello"] / a["hello"]),
        ("nearest req/s, idle", f"{a['idle']:,.0f}", f"{b['idle']:,.0f}", b["idle"] / a["idle"]),
        ("nearest / hello-world", f"{a['share']:.2f}", f"{b['share']:.2f}", b["share"] / a["share"]),
        ("nearest req/s with writes", f"{a['loaded']:,.1f}", f"{b['loaded']:,.1f}", b["loaded"] / a["loaded"]),
        ("nearest p99 idle (probe)", ms(a, "p99_idle"), ms(b, "p99_idle"), b["p99_idle"] / a["p99_idle"]),
        ("nearest p99 with writes (probe)", ms(a, "p99_loaded"), ms(b, "p99_loaded"), b["p99_loaded"] / a["p99_loaded"]),
        ("p99 with writes / idle", f"{a['slowdown']:.1f}x", f"{b['slowdown']:.1f}x", b["slowdown"] / a["slowdown"]),
        ("edit seen by the other worker", secs(a), secs(b), None),
        ("worker RSS after the load", f"{a['rss']:,.0f} MB", f"{b['rss']:,.0f} MB", b["rss"] / a["rss"]),
    ]  # fmt: skip
    print()
    print(f"Side by side, {stations:,} stations (ratio: PostGIS / SQLite)")
    print(f"{'figure':<34} {'SQLite':>12} {'PostGIS':>12} {'ratio':>7}")
    for name, x, y, ratio in lines:
        print(f"{name:<34} {x:>12} {y:>12} {f'{ratio:.2f}' if ratio else '':>7}")
    print(runs["postgis"]["server"])


def run_store(kind: str, stations: int, profile: dict, wrk_bin: str, use_cache: bool) -> dict:
    """Build or restore the database, serve it, measure; the measurements, with the store's name."""
    with tempfile.TemporaryDirectory(prefix="yizhan-serve-") as tmp:
        workdir, postgres, start = Path(tmp), None, time.monotonic()
        try:
            if kind == "postgis":
                postgres = pg.start()
                url = pg_database(stations, postgres, use_cache)
            else:
                url = f"sqlite:///{database(stations, workdir, use_cache)}"  # absolute: sqlite:////tmp/…
            print(
                f"{kind}: database of {stations:,} stations ready in {time.monotonic() - start:.0f} s"
            )
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "SECRET_KEY": secrets.token_hex(32),
                **dict.fromkeys(
                    ("RATELIMIT_CLIENT", "RATELIMIT_ADDRESS", "RATELIMIT_KEY"), NO_LIMIT
                ),
            }
            env.pop("DATABASE_READ_URL", None)  # every read from the one database measured
            token = staff_token(env)
            port = free_port()
            log_path = workdir / "gunicorn.log"
            with open(log_path, "w") as log:
                server = serve(env, port, log)
                try:
                    got = measure(port, server, stations, profile, wrk_bin, workdir, token)
                except Exception:
                    print_log_tail(log_path)
                    raise
                finally:
                    stop(server)
            boots = log_path.read_text().count("Booting worker")
            if boots > WORKERS:
                print(f"! gunicorn booted {boots} workers for {WORKERS}: some were restarted")
        finally:
            if postgres:
                postgres.stop()
    got["store"] = {"sqlite": "SQLite", "postgis": "PostGIS"}[kind]
    got["server"] = pg.describe() if kind == "postgis" else ""
    return got


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress shows up when piped to a file
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, help="how many (default 1,000,000; quick 20,000)")
    parser.add_argument("--store", choices=("sqlite", "postgis", "both"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    parser.add_argument("--no-cache", action="store_true", help="build the database afresh")
    args = parser.parse_args()
    profile = PROFILES["quick" if args.quick else "full"]
    stations = args.stations or profile["stations"]
    wrk_bin = shutil.which(os.environ.get("WRK", "wrk"))
    if not wrk_bin:
        sys.exit("wrk is missing: apt-get install wrk (or run make bench-serve)")
    start = time.monotonic()
    kinds = ("sqlite", "postgis") if args.store == "both" else (args.store,)
    runs = {}
    for kind in kinds:  # one after the other: the two never share the CPUs
        runs[kind] = run_store(kind, stations, profile, wrk_bin, not args.no_cache)
        report(stations, profile, runs[kind])
        print()
    if len(runs) == 2:
        side_by_side(stations, runs)
    print(f"total {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
