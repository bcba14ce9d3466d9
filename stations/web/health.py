"""`/healthz` for load balancers and process supervisors: does this worker's database answer?

One O(1) read per call (never a count over the registry), no rate limit (it is not on the API
blueprint), no caching, no cookies. 200 with the newest change number the spatial index
follows and whether this worker's spatial index is built yet ("building": nearest is answered
through the database's R*Tree meanwhile, correct but slower); 503 with the reason when the database cannot be
opened or read.
"""

from flask import Blueprint, Flask, jsonify

from stations.store import StoreError
from stations.web.context import get_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        # The same store a real request gets, so a fresh database is migrated here too and a
        # supervisor waiting for "healthy" never waits on a step only a page view would take.
        store = get_store()
        revision = store.ping()
        index = "ready" if store.spatial_ready() else "building"
    except (StoreError, OSError) as exc:
        response = jsonify({"status": "unavailable", "error": str(exc)})
        response.status_code = 503
        response.headers["Retry-After"] = "5"
    else:
        response = jsonify({"status": "ok", "revision": revision, "index": index})
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
