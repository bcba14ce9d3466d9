"""Public pages: the courier map, station pages with navigation and check-ins, the list."""

from urllib.parse import urlencode

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
    url_for,
)
from flask_babel import gettext as _

from stations.core import checkins, hours, navigation, present, standards
from stations.core.checkins import CheckinRefused
from stations.core.vocab import ENTRY_METHODS, FACILITIES, HOST_TYPES
from stations.web import maps, pages, view_state
from stations.web.context import get_read_store, get_store, map_centre, now

bp = Blueprint("web", __name__)
PAGE_SIZE = 50


def _lang() -> str:
    from stations.web.i18n import requested_language

    return requested_language()


def _tiles() -> maps.Tiles:
    return maps.configured_tiles(current_app.config)


def _why(exc: view_state.ViewError) -> str:
    """What is wrong with a key of a map link, in the page's language."""
    if exc.key in ("center", "centre", "near"):
        return _("give latitude,longitude, e.g. 31.82,117.23")
    if exc.key == "zoom":
        return _(
            "a whole number from %(low)s to %(high)s",
            low=view_state.MIN_ZOOM,
            high=view_state.MAX_ZOOM,
        )
    if exc.key == "facilities":
        return _("unknown facility; e.g. toilet,drinking_water")
    if exc.key == "open_now":
        return _("1 or 0")
    return _("a station number")


@bp.get("/")
def courier():
    """The rider's map. The query string holds the view (view_state): a reload, the back
    button and a shared link open the same place with the same filters pressed."""
    try:
        view = view_state.parse(request.args)
    except view_state.ViewError as exc:
        message = _(
            "This map link is not valid (%(key)s: %(reason)s).", key=exc.key, reason=_why(exc)
        )
        rest = view_state.without(request.args, exc.key)
        back = url_for("web.courier") + ("?" + urlencode(rest) if rest else "")
        return render_template("message.html", message=message, back=back), 400
    store = get_read_store()
    lang = _lang()
    selected = store.published(view.station) if view.station is not None else None
    centre, zoom = view.centre, view.zoom
    if centre is None and selected is not None:
        centre, zoom = (selected.lat, selected.lon), zoom or 16
    elif centre is None and view.near is not None:
        centre, zoom = view.near, zoom or 15
    tiles = _tiles()
    leaflet = (
        url_for("assets.vendor", filename="leaflet.js"),
        url_for("assets.vendor", filename="leaflet.css"),
    )
    parts = maps.station_map(centre or map_centre(), zoom or 13, tiles, *leaflet)
    config = {
        "map": parts["name"],
        "datum": tiles.datum,
        "lang": lang,
        "now": now().isoformat(timespec="seconds"),
        "api": {
            "map": url_for("api.map_view"),
            "nearest": url_for("api.nearest"),
            "station": url_for("api.station", station_id=0)[:-1],  # + id
            "cities": url_for("api.cities"),
            "search": url_for("api.search"),
        },
        "page": url_for("web.station", station_id=0)[:-1],  # + id
        "facilities": list(view.facilities),
        "openNow": view.open_now,
        "station": selected.id if selected is not None else None,
        "near": list(view.near) if view.near else None,
        "urlState": True,
        "labels": {k: FACILITIES.label(k, lang) for k in FACILITIES.keys()},
        "icons": pages.ICONS,
        "t": pages.map_strings(),
    }
    chips = [
        {"key": k, "label": FACILITIES.label(k, lang), "icon": pages.ICONS[k]} for k in pages.CHIPS
    ]
    return render_template(
        "courier.html",
        map=parts,
        config=config,
        chips=chips,
        view=view,
        demo=store.demo_count() > 0,
    )


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


@bp.post("/stations/<int:station_id>/checkins")
def checkin(station_id: int):
    s = _station_or_404(station_id)
    client = checkins.client_hash(
        current_app.config["SECRET_KEY"], request.remote_addr or "", request.user_agent.string
    )
    try:
        kind, facility = checkins.parse(
            request.form.get("kind", ""), request.form.get("facility") or None
        )
        checkins.record(get_store(), client, s.id, kind, facility, now())
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
    flash(_("Thank you! Your report helps the next worker."), "ok")
    return redirect(url_for("web.station", station_id=s.id), 303)
