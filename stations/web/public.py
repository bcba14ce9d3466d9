"""Public pages: the courier map, station pages with navigation and check-ins, the list."""

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
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from stations.core import checkins, hours, navigation, present, standards
from stations.core.checkins import CheckinRefused
from stations.core.vocab import ENTRY_METHODS, FACILITIES, HOST_TYPES
from stations.web import maps, pages
from stations.web.context import get_read_store, get_store, map_centre, now

bp = Blueprint("web", __name__)
PAGE_SIZE = 50
# The anonymous device id: 128 random bits, in a first-party cookie sent only to station pages
# and their check-ins; the server stores a keyed hash of it, never the id.
DEVICE_COOKIE = "yz_device"
DEVICE_COOKIE_PATH = "/stations/"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600


def _lang() -> str:
    from stations.web.i18n import requested_language

    return requested_language()


def _tiles() -> maps.Tiles:
    return maps.configured_tiles(current_app.config)


@bp.get("/")
def courier():
    store = get_read_store()
    centre = map_centre()
    tiles = _tiles()
    leaflet = (
        url_for("assets.vendor", filename="leaflet.js"),
        url_for("assets.vendor", filename="leaflet.css"),
    )
    parts = maps.station_map(centre, 13, tiles, *leaflet)
    lang = _lang()
    config = {
        "map": parts["name"],
        "datum": tiles.datum,
        "lang": lang,
        "api": {"map": url_for("api.map_view"), "nearest": url_for("api.nearest")},
        "chips": [
            {"key": k, "label": FACILITIES.label(k, lang), "icon": pages.ICONS[k]}
            for k in pages.CHIPS
        ],
        "labels": {k: FACILITIES.label(k, lang) for k in FACILITIES.keys()},
        "icons": pages.ICONS,
        "t": pages.map_strings(),
    }
    return render_template("courier.html", map=parts, config=config, demo=store.demo_count() > 0)


@bp.get("/stations")
def station_list():
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        abort(400)
    store = get_read_store()
    summary = store.published_summary()
    stations = store.published_list((page - 1) * PAGE_SIZE, PAGE_SIZE)
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
    """The published station, or 404: planned and closed stations have no public page."""
    station = get_read_store().published(station_id)
    if station is None:
        abort(404)
    return station


@bp.get("/stations/<int:station_id>")
def station(station_id: int):
    s = _station_or_404(station_id)
    moment = now()
    live = present.live_state(s, moment)
    store = get_read_store()
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
        nav=navigation.links(s.lat, s.lon, s.name, s.address, s.adcode),
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


@bp.get("/s/<code>")
def short(code: str):
    s = get_read_store().published_by_code(code)
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


# -- check-ins --------------------------------------------------------------------------------


def _device_id() -> str | None:
    """The browser's anonymous device id, if it sent a well-formed one."""
    value = request.cookies.get(DEVICE_COOKIE)
    return value if checkins.valid_device_id(value) else None


@bp.after_request
def _give_device_id(response: Response) -> Response:
    """A station page (it carries the check-in form) or a check-in gives a browser without a
    device id a fresh one; an existing id is left as it is (and expires a year after it was
    made)."""
    if request.endpoint in ("web.station", "web.checkin") and _device_id() is None:
        response.set_cookie(
            DEVICE_COOKIE,
            checkins.new_device_id(),
            max_age=DEVICE_COOKIE_MAX_AGE,
            path=DEVICE_COOKIE_PATH,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


@bp.app_template_global()
def checkin_submission() -> str:
    """A fresh one-time token for the check-in form: the form sent twice is one report."""
    return checkins.new_submission()


def _thank(message: str) -> None:
    """Flash a thank-you unless one is already waiting to be shown: a double tap whose first
    answer reached the browser must not say thank you twice."""
    if not any(category == "ok" for category, _text in session.get("_flashes", [])):
        flash(message, "ok")


def _refused_page(message: str, status: int, back: str) -> Response:
    """A refusal as a page of its own, the message said once (nothing flashed as well)."""
    return Response(render_template("message.html", message=message, back=back), status)


@bp.errorhandler(CSRFError)
def _stale_form(exc: CSRFError) -> Response:
    """A check-in without a valid form token: the page is too old, or the browser keeps no
    cookies (the form's token lives in the session cookie)."""
    station_id = (request.view_args or {}).get("station_id")
    back = url_for("web.station", station_id=station_id) if station_id else url_for("web.courier")
    message = _(
        "Your report was not sent: the page is too old, or your browser blocks cookies. "
        "Reload the page and tap again (reports need cookies for this site)."
    )
    return _refused_page(message, 400, back)


@bp.post("/stations/<int:station_id>/checkins")
def checkin(station_id: int):
    s = _station_or_404(station_id)
    back = url_for("web.station", station_id=s.id)
    client = checkins.identify(
        current_app.config["SECRET_KEY"],
        _device_id(),
        request.remote_addr or "",
        request.user_agent.string,
    )
    try:
        kind, facility = checkins.parse(
            request.form.get("kind", ""), request.form.get("facility") or None
        )
        submission = checkins.parse_submission(request.form.get("submission"))
        done = checkins.record(get_store(), client, s, kind, facility, now(), submission)
    except CheckinRefused as exc:
        if exc.retry_after:
            messages = {
                "device": _("You sent many reports in the last hour. Please try again later."),
                "address": _(
                    "Many reports came from your network in the last hour. Please try again later."
                ),
            }
            message = messages.get(
                exc.reason or "", _("You reported on this station a moment ago. Thank you!")
            )
            response = _refused_page(message, 429, back)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if exc.field == "submission":
            return _refused_page(_("This form is out of date. Reload the page."), 400, back)
        flash(_("Please choose what you found."), "error")
        return redirect(back, 303)
    if done.repeat:
        _thank(_("Thank you, your report was received."))
    elif done.pending:
        _thank(
            _(
                "Thank you! The station is closed by its hours now, so your report goes to staff "
                "first; others are warned once a second rider reports the same."
            )
        )
    else:
        _thank(_("Thank you! Your report helps the next worker."))
    return redirect(back, 303)
