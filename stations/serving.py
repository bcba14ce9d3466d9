"""Serving glue for gunicorn: a gthread worker that sheds overload early.

gunicorn's gthread worker hands every accepted connection to its thread pool, whose queue has
no bound: past capacity, requests wait there for seconds while each client's own timeout runs
out, and everyone's latency grows together. SheddingWorker keeps count of the connections
handed to the pool and not yet finished; when more than threads + MAX_QUEUE are pending, a new
one gets at once a minimal `503 Service Unavailable` with `Retry-After` (JSON for /api/ paths,
plain text otherwise) and is closed, without reaching the app. A refusal costs a few
microseconds of the worker's main thread, so the requests already queued keep their turn and
the client learns within milliseconds to come back, instead of after seconds of waiting.

Configured in gunicorn.conf.py (worker_class), which reads MAX_QUEUE (requests that may wait
per worker process beyond those being served) and RETRY_AFTER_SECONDS from the environment and
sets them here (configure) in the master, before the workers are forked.
"""

import json
import socket

from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]

API_PREFIXES = (b"/api/",)
SETTINGS = {"max_queue": 16, "retry_after": 1}


def configure(max_queue: int, retry_after: int) -> None:
    """Set the queue bound and the Retry-After for workers forked from now on."""
    SETTINGS.update(max_queue=max_queue, retry_after=max(1, retry_after))


def refusal(first_bytes: bytes, retry_after: int) -> bytes:
    """The whole 503 answer for a request that begins with first_bytes (possibly nothing)."""
    target = first_bytes.split(b" ", 2)[1] if first_bytes.count(b" ") >= 2 else b""
    if target.startswith(API_PREFIXES):
        body = json.dumps(
            {
                "error": {
                    "code": "overloaded",
                    "message": f"the server is busy; try again in {retry_after} s",
                }
            }
        ).encode()
        kind = b"application/json"
    else:
        body = f"The server is busy. Try again in {retry_after} seconds.\n".encode()
        kind = b"text/plain; charset=utf-8"
    head = (
        b"HTTP/1.1 503 Service Unavailable\r\n"
        b"Retry-After: " + str(retry_after).encode() + b"\r\n"
        b"Content-Type: " + kind + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Cache-Control: no-store\r\n"
        b"Connection: close\r\n\r\n"
    )
    return head + body


class SheddingWorker(ThreadWorker):
    """gthread, with a bounded queue: see the module's docstring."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_queue = SETTINGS["max_queue"]
        self.retry_after = SETTINGS["retry_after"]
        self.pending = 0  # handed to the pool, not finished (main thread only)
        self.shed = 0

    def enqueue_req(self, conn):
        if self.pending >= self.cfg.threads + self.max_queue:
            self._refuse(conn)
            return
        self.pending += 1
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.pending -= 1  # called on the main thread through the method queue
        super().finish_request(conn, fs)

    def _refuse(self, conn) -> None:
        sock = conn.sock
        self.shed += 1
        try:
            sock.setblocking(False)
            try:
                first = sock.recv(65536)  # what has arrived: read so that closing sends no RST
            except (BlockingIOError, InterruptedError):
                first = b""
            sock.sendall(refusal(first, self.retry_after))
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            self.nr_conns -= 1
            try:
                sock.close()
            except OSError:
                pass
