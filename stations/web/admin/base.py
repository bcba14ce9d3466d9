"""The staff blueprint, /admin, and what its pages share: sign-in, scoped station lookup, forms."""

from flask import (
    Blueprint,
    abort,
    current_app,
    request,
)

from stations.core.accounts import AccessDenied, require_read
from stations.core.vocab import DATUMS, ENTRY_METHODS, FACILITIES, HOST_TYPES, STATUSES
from stations.web import maps
from stations.web.auth import forbid, staff, staff_required
from stations.web.context import get_store

bp = Blueprint("admin", __name__, url_prefix="/admin")
FORM_META = ("csrf_token", "version")


@bp.before_request
@staff_required
def _signed_in():
    return None


def station_in_scope(station_id: int):
    s = get_store().get(station_id)
    if s is None:
        abort(404)
    try:
        require_read(staff(), s.adcode)
    except AccessDenied as exc:
        forbid(str(exc))
    return s


def form_data() -> dict:
    """The submitted station fields; facilities come as a list of checkboxes."""
    data: dict[str, str | list[str]] = {
        k: v for k, v in request.form.items() if k not in FORM_META and k != "facilities"
    }
    if "facilities_present" in data:
        data.pop("facilities_present")
        data["facilities"] = request.form.getlist("facilities")
    return data


def map_parts(centre):
    tiles = maps.configured_tiles(current_app.config)
    parts = maps.page_map(centre, 15, tiles)
    return parts, tiles.datum


def audit_interval():
    """AUDIT_INTERVAL_DAYS: how long an audit counts before the station is due again."""
    from datetime import timedelta

    return timedelta(days=int(current_app.config.get("AUDIT_INTERVAL_DAYS", 180)))


def vocab_choices():
    return {
        "host_types": HOST_TYPES,
        "entry_methods": ENTRY_METHODS,
        "statuses": STATUSES,
        "facilities": FACILITIES,
        "datums": DATUMS,
    }


# -- stations ---------------------------------------------------------------------------------
