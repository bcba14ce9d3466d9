"""Public pages: the courier map, station pages with navigation and check-ins, the list."""

from datetime import timedelta

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _

from . import checkins, hours, maps, navigation, present, standards
from .checkins import CheckinRefused
from .storage import get_store, map_centre, now
from .store import StoreBusy
from .vocab import ENTRY_METHODS, FACILITIES, HOST_TYPES, STATUSES

bp = Blueprint("web", __name__)
PAGE_SIZE = 50
# Emoji need no icon font to download; every phone has them.
ICONS = {
    "drinking_water": "💧",
    "hot_water": "♨️",
    "microwave": "🍱",
    "toilet": "🚻",
    "rest_seating": "🪑",
    "air_conditioning": "❄️",
    "heating": "🔥",
    "phone_charging": "🔌",
    "ebike_charging": "🛵",
    "battery_swap": "🔋",
    "first_aid_kit": "🩹",
    "wifi": "📶",
    "reading_corner": "📚",
    "mother_baby_room": "🍼",
    "aed": "❤️",
}
CHIPS = (
    "drinking_water",
    "toilet",
    "microwave",
    "ebike_charging",
    "hot_water",
    "phone_charging",
    "air_conditioning",
)


def _lang() -> str:
    from .i18n import requested_language

    return requested_language()


@bp.app_errorhandler(StoreBusy)
def _busy(exc):
    """A write lock held too long: ask the browser to retry instead of failing with a 500."""
    response = Response(
        render_template(
            "message.html",
            message=_("The system is busy. Try again in a moment."),
            back=request.path,
        ),
        503,
    )
    response.headers["Retry-After"] = "2"
    return response


@bp.app_context_processor
def _helpers():
    return {
        "lang": _lang(),
        "icons": ICONS,
        "facility_label": FACILITIES.label,
        "status_label": STATUSES.label,
    }


def _tiles() -> maps.Tiles:
    return maps.configured_tiles(current_app.config)


def map_strings() -> dict:
    """The map page's JavaScript messages in the current language (courier page and embed)."""
    return {
        "open": _("Open now"),
        "closed": _("Closed"),
        "unknown": _("Hours unknown"),
        "temporarily_closed": _("Temporarily closed"),
        "verified_today": _("verified today"),
        "verified_days": _("verified %(n)s days ago", n="{n}"),
        "never_verified": _("not verified yet"),
        "locating": _("Finding your location…"),
        "denied": _("Location is off. Allow it, or move the map to look around."),
        "none": _("No station matches. Try fewer filters."),
        "anyway": _("None within reach; the nearest anyway:"),
        "error": _("Could not load stations. Check your connection."),
        "details": _("Details"),
        "go": _("Go"),
        "warning": _("Workers reported a problem"),
        "clusters": _("Zoom in to see stations"),
    }


@bp.get("/")
def courier():
    store = get_store()
    centre = map_centre()
    tiles = _tiles()
    leaflet = (
        url_for("web.vendor", filename="leaflet.js"),
        url_for("web.vendor", filename="leaflet.css"),
    )
    parts = maps.station_map(centre, 13, tiles, *leaflet)
    lang = _lang()
    config = {
        "map": parts["name"],
        "datum": tiles.datum,
        "lang": lang,
        "api": {"map": url_for("api.map_view"), "nearest": url_for("api.nearest")},
        "chips": [{"key": k, "label": FACILITIES.label(k, lang), "icon": ICONS[k]} for k in CHIPS],
        "labels": {k: FACILITIES.label(k, lang) for k in FACILITIES.keys()},
        "icons": ICONS,
        "t": map_strings(),
    }
    return render_template("courier.html", map=parts, config=config, demo=store.demo_count() > 0)


@bp.get("/stations")
def station_list():
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        abort(400)
    store = get_store()
    summary = store.summary()
    stations = store.page((page - 1) * PAGE_SIZE, PAGE_SIZE)
    return render_template(
        "list.html",
        summary=summary,
        stations=stations,
        page=page,
        pages=max(1, -(-summary["total"] // PAGE_SIZE)),
        demo=store.demo_count() > 0,
        describe=hours.describe,
        state=hours.state,
        page_size=PAGE_SIZE,
    )


def _station_or_404(station_id: int):
    station = get_store().get(station_id)
    if station is None:
        abort(404)
    return station


@bp.get("/stations/<int:station_id>")
def station(station_id: int):
    s = _station_or_404(station_id)
    moment = now()
    live = present.live_state(s, moment)
    store = get_store()
    reports = checkins.warnings_for(store, [s.id], moment).get(s.id, [])
    expired = store.expired_items([s.id], moment.date().isoformat()).get(s.id, [])
    audit = present.audit_badge(store.latest_audits([s.id]).get(s.id))
    profile = standards.profiles().get(audit["profile"]) if audit else None
    item_labels = {
        i.key: (i.zh if _lang() == "zh" else i.en)
        for p in standards.profiles().values()
        for i in p.items
    }
    resolve_hours = present.median_hours(store.resolve_times(s.id))
    verified_days = None
    if s.verified_at:
        from datetime import datetime

        verified_days = max(0, (moment - datetime.fromisoformat(s.verified_at)).days)
    return render_template(
        "station.html",
        s=s,
        live=live,
        reports=reports,
        verified_days=verified_days,
        hours_text=hours.describe(s.opening_hours, _lang()),
        nav=navigation.links(s.lat, s.lon, s.name, s.address),
        kinds=checkins.KINDS,
        host=HOST_TYPES.label(s.host_type, _lang()),
        entry=ENTRY_METHODS.label(s.entry_method, _lang()),
        kind_label=lambda key: checkins.KINDS.label(key, _lang()),
        audit=audit,
        profile=profile,
        expired=expired,
        item_labels=item_labels,
        resolve_hours=resolve_hours,
    )


@bp.get("/api/docs")
def api_docs():
    """The API for people: generated from the same OpenAPI document the tests validate."""
    from .openapi import document

    return render_template("api_docs.html", doc=document(request.host_url))


@bp.get("/s/<code>")
def short(code: str):
    s = get_store().get_by_code(code)
    if s is None:
        abort(404)
    return redirect(url_for("web.station", station_id=s.id), 301)


def _public_url(station) -> str:
    base = current_app.config.get("PUBLIC_URL")
    path = url_for("web.short", code=station.code)
    return (
        base.rstrip("/") + path if base else url_for("web.short", code=station.code, _external=True)
    )


@bp.get("/stations/<int:station_id>/qr.svg")
def qr(station_id: int):
    s = _station_or_404(station_id)
    svg = segno.make(_public_url(s), error="m").svg_inline(scale=8, border=2)
    return Response(svg, mimetype="image/svg+xml")


@bp.get("/stations/<int:station_id>/poster")
def poster(station_id: int):
    s = _station_or_404(station_id)
    svg = segno.make(_public_url(s), error="m").svg_inline(scale=10, border=2)
    return render_template("poster.html", s=s, qr_svg=svg, url=_public_url(s))


@bp.post("/stations/<int:station_id>/checkins")
def checkin(station_id: int):
    s = _station_or_404(station_id)
    store = get_store()
    client = checkins.client_hash(
        current_app.config["SECRET_KEY"], request.remote_addr or "", request.user_agent.string
    )
    moment = now()
    try:
        kind, facility = checkins.parse(
            request.form.get("kind", ""), request.form.get("facility") or None
        )
        checkins.check_rate(store, client, s.id, moment)
    except CheckinRefused as exc:
        status = 429 if exc.retry_after else 400
        message = (
            _("You reported on this station a moment ago. Thank you!")
            if exc.retry_after
            else _("Please choose what you found.")
        )
        flash(message, "error")
        response = redirect(url_for("web.station", station_id=s.id), 303)
        if status == 429:
            response = Response(
                render_template(
                    "message.html", message=message, back=url_for("web.station", station_id=s.id)
                ),
                429,
            )
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    store.add_checkin(
        s.id,
        kind,
        facility,
        client,
        moment.isoformat(timespec="seconds"),
        kind in checkins.POSITIVE,
    )
    flash(_("Thank you! Your report helps the next worker."), "ok")
    return redirect(url_for("web.station", station_id=s.id), 303)


@bp.get("/vendor/leaflet/<path:filename>")
def vendor(filename: str):
    """Leaflet from the xstatic-leaflet package: our server, not a CDN."""
    import xstatic.pkg.leaflet as leaflet

    if filename not in ("leaflet.js", "leaflet.css") and not filename.startswith("images/"):
        abort(404)
    return send_from_directory(
        leaflet.BASE_DIR, filename, max_age=int(timedelta(days=30).total_seconds())
    )
