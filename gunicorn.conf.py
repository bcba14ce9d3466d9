"""gunicorn settings for `make run` and any deployment: `gunicorn` in this folder reads this file.

Kept in a file rather than as flags in the Makefile so that systemd, a container or a person
typing `gunicorn` gets the same server as `make run`. Tunables come from the environment:
HOST and PORT (bind address), WEB_CONCURRENCY (processes, default 2) and GUNICORN_THREADS
(threads per process, default 4), MAX_QUEUE (requests that may wait per process before new
ones get 503, default 16). Anything else: GUNICORN_CMD_ARGS, e.g.
GUNICORN_CMD_ARGS="--access-logfile -" to log every request.
"""

import os

from stations import serving


def _whole(name: str, default: int, minimum: int) -> int:
    text = os.environ.get(name, "").strip() or str(default)
    if not (text.isascii() and text.isdigit()) or int(text) < minimum:
        raise ValueError(
            f"{name} must be a whole number ≥ {minimum}, e.g. '{default}', not {text!r}"
        )
    return int(text)


wsgi_app = "app:create_app()"

_host = os.environ.get("HOST", "").strip() or "127.0.0.1"
_port = _whole("PORT", 5000, 0)
bind = [f"[{_host}]:{_port}" if ":" in _host else f"{_host}:{_port}"]

# Threads suit this app: a request mostly waits on SQLite, which releases the GIL, and threads
# in one process share its spatial index instead of holding a copy each.
worker_class = "gthread"
workers = _whole("WEB_CONCURRENCY", 2, 1)
threads = _whole("GUNICORN_THREADS", 4, 1)

# Overload is shed early: gthread with a bounded queue (stations/serving.py). Past threads +
# MAX_QUEUE requests in one worker, a new one gets 503 with Retry-After at once instead of
# waiting seconds. Default 16: at the measured ~113 nearest req/s a worker serves (bench/serve.py,
# 2 cores), a full queue is ~0.15 s of waiting.
worker_class = "stations.serving.SheddingWorker"
serving.configure(_whole("MAX_QUEUE", 16, 0), _whole("RETRY_AFTER_SECONDS", 1, 1))

# Import the app once in the master and fork: workers start at once and share the imported
# libraries' memory. Safe because create_app() only reads configuration: the store opens its
# SQLite connections per request, inside a worker, never before the fork (a connection must not
# cross a fork), and the spatial index is built on first use. Keep it so: anything that opens a
# connection or starts a thread belongs in a request or in a post_fork hook, not in create_app().
preload_app = True

# A worker is not recycled after N requests: a new one would rebuild the spatial index.
max_requests = 0

# On SIGTERM or a reload, requests in flight (a whole-registry export) get this long to finish.
graceful_timeout = 20
# Behind a reverse proxy that keeps connections open, a little longer than gunicorn's 2 s.
keepalive = 5

# The API answers a query string over 4 KB with its own JSON 414 naming the parameter; let such
# lines reach it (gunicorn's own limit, 4094 bytes, would answer first in plain text).
limit_request_line = 8190

# One line per request at thousands of requests a second costs throughput and buries the demo
# passwords `make run` prints; the reverse proxy in front keeps the access log. Errors: stderr.
accesslog = None
errorlog = "-"
loglevel = "info"

# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl), so two
# servers on one machine (a test and `make run`) would fight over it; nothing here uses it.
control_socket_disable = True

# The workers' heartbeat files on tmpfs: a slow disk must not make healthy workers look hung.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def when_ready(server) -> None:
    """Once the workers are up, below gunicorn's start-up lines: where the demo accounts'
    passwords are kept (`seed` printed them above, where the log soon buries them)."""
    app = server.app.wsgi()  # loaded before the fork (preload_app)
    path = app.config.get("DEMO_PASSWORDS_FILE", "")
    if path and os.path.exists(path):
        server.log.info("Demo staff passwords: %s (readable by you only)", path)
