"""Public pages. For now: the station list (the courier's map replaces / in a later issue)."""

from flask import Blueprint, abort, render_template, request

from . import hours
from .storage import get_store
from .vocab import FACILITIES, STATUSES

bp = Blueprint("web", __name__)
PAGE_SIZE = 50


@bp.get("/")
def index():
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        abort(400)
    store = get_store()
    summary = store.summary()
    stations = store.page((page - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, -(-summary["total"] // PAGE_SIZE))
    return render_template(
        "index.html",
        summary=summary,
        stations=stations,
        page=page,
        pages=pages,
        demo=any(s.code.startswith("DEMO-") for s in stations),
        describe=hours.describe,
        state=hours.state,
        facility_label=FACILITIES.label,
        status_label=STATUSES.label,
    )
