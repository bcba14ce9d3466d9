"""`/healthz` for load balancers and process supervisors: does this worker's database answer?

One O(1) read per call (never a count over the registry), no rate limit (it is not on the API
blueprint), no caching, no cookies. 200 with the newest change number the spatial index
follows and whether this worker's spatial index is built yet ("building": nearest is answered
through the database's R*Tree meanwhile, correct but slower); 503 with the reason when the database cannot be
opened or read: "missing" (the database file is gone: the server never creates a new one),
"read_only" (reads work, writes are refused), or "error" — with a message that names the problem
but never a server path.
"""

from flask import Blueprint, Flask, jsonify

from stations.store import StoreError
from stations.store.errors import StoreMissing
from stations.web.context import get_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        # The same store a real request gets.
        store = get_store()
        revision = store.ping()
        index = "ready" if store.spatial_ready() else "building"
    except StoreMissing as exc:
        response = _unavailable("missing", str(exc))
    except (StoreError, OSError) as exc:
        message = str(exc) if isinstance(exc, StoreError) else "the database cannot be read"
        response = _unavailable("error", message)
    else:
        body = {"status": "ok", "revision": revision, "index": index}
        if getattr(store, "read_only", False):  # reads work; writes get 503 until it is writable
            body["storage"] = "read_only"
        response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _unavailable(problem: str, message: str):
    response = jsonify({"status": "unavailable", "problem": problem, "error": message})
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
