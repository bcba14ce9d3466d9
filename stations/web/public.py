"""Public pages: the courier map, station pages with navigation and check-ins, the list."""

from datetime import date, datetime
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
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from stations.core import checkins, hours, navigation, present, standards, words
from stations.core.checkins import CheckinRefused
from stations.core.vocab import ENTRY_METHODS, FACILITIES, HOST_TYPES, STATUSES
from stations.web import cities_cache, maps, pages, params, view_state
from stations.web.context import get_read_store, get_store, map_centre, now

bp = Blueprint("web", __name__)
PAGE_SIZE = 50
MAX_PAGE = 1_000_000  # 50 million stations: far beyond any registry
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
    parts = maps.page_map(centre or map_centre(), zoom or 13, tiles)
    config = {
        "map": parts["name"],
        "datum": tiles.datum,
        "lang": lang,
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
        # the query this page was drawn for: a page kept offline by the service worker for "/"
        # and shown for "/?…" reads the view from the address instead
        "search": "?" + request.query_string.decode("latin-1") if request.query_string else "",
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
    raw_page = request.args.get("page", "1")
    page = params.whole_number(raw_page, 1, MAX_PAGE)
    if page is None and params.beyond(raw_page, MAX_PAGE):
        page = MAX_PAGE + 1  # a page past any end there is: the last page, as for page=99
    if page is None:
        abort(
            400,
            description=_("The page must be a whole number from 1 to %(most)s.", most=MAX_PAGE),
        )
    city = request.args.get("city", "").strip()
    if city and not (len(city) == 4 and city.isascii() and city.isdigit()):
        abort(400, description=_("The city must be a 4-digit area code, e.g. 3401 for Hefei."))
    store = get_read_store()
    # Busiest city first; the extents are kept per process until the registry moves.
    cities = sorted(cities_cache.city_extents(store), key=lambda c: (-c["stations"], c["adcode"]))
    chosen = next((c for c in cities if c["adcode"] == city), None)
    total = sum(c["stations"] for c in cities)
    # Several county-level cities share a 4-digit prefix (4690 in Hainan): count them all.
    count = sum(c["stations"] for c in cities if c["adcode"] == city) if city else total
    last = max(1, -(-count // PAGE_SIZE))
    if page > last:  # past the end (an old link, a typed number): the last page there is
        return redirect(url_for("web.station_list", page=last, city=city or None), 302)
    stations = store.published_list((page - 1) * PAGE_SIZE, PAGE_SIZE, city) if count else []
    # The map's search box without JavaScript lands here: its matches, one page of them.
    query = " ".join(request.args.get("q", "").split())[:50]
    if query:
        stations = store.search_published(query, PAGE_SIZE, city)
        count, page, last = len(stations), 1, 1
    if chosen:
        city_name = chosen["city"] or chosen["province"]
    else:
        # A well-formed code with no published station: name the city if it is one.
        from stations.core import regions

        city_name = regions.prefix_name(city) if city else ""
    moment = now()
    return render_template(
        "list.html",
        total=total,
        cities=cities,
        city=city,
        city_name=city_name,
        count=count,
        stations=stations,
        page=page,
        pages=last,
        query=query,
        demo=store.demo_count() > 0,
        describe=hours.describe,
        state_of=lambda s: state_view(s, moment),
        page_size=PAGE_SIZE,
    )


def _day(d: date) -> str:
    """A date in the page's language: 12月1日, 1 Dec."""
    return f"{d.month}月{d.day}日" if _lang() == "zh" else f"{d.day} {d:%b}"


def _weekday(index: int) -> str:
    return (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))[index]


def opens_text(opens_next: str, moment: datetime) -> str:
    """When a station closed by its hours opens, as a rider reads it: "07:00 开门",
    "明天 07:00 开门", "周一 07:00 开门", "12月1日 07:00 开门" (en: "Opens 07:00", …)."""
    days, time = words.days_and_time(opens_next, moment.astimezone(hours.TZ).date())
    if days <= 0:
        return _("Opens %(time)s", time=time)
    if days == 1:
        return _("Opens tomorrow %(time)s", time=time)
    at = datetime.fromisoformat(opens_next).astimezone(hours.TZ)
    day = _weekday(at.weekday()) if days < 7 else _day(at.date())
    return _("Opens %(day)s %(time)s", day=day, time=time)


def state_view(station, moment: datetime) -> dict:
    """What a station's state says now, in words and a colour class: open (until when), closed
    by its hours (and when it opens), hours unknown, or temporarily closed (until when)."""
    live = present.live_state(station, moment)
    if station.status != "open":
        if station.status == "temporarily_closed" and station.closed_until:
            until = date.fromisoformat(station.closed_until)
            text = _("Temporarily closed until %(date)s", date=_day(until))
        else:
            text = STATUSES.label(station.status, _lang())
        return {"kind": "paused", "label": text, "detail": "", "live": live}
    if live["open_now"]:
        closes = live["closes_at"]
        detail = _("until %(time)s", time=closes[11:16]) if closes else ""
        return {"kind": "open", "label": _("Open now"), "detail": detail, "live": live}
    if live["open_now"] is None:
        detail = _("check on site")
        return {"kind": "unknown", "label": _("Hours unknown"), "detail": detail, "live": live}
    detail = opens_text(live["opens_next"], moment) if live["opens_next"] else ""
    return {"kind": "closed", "label": _("Closed"), "detail": detail, "live": live}


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
    state = state_view(s, moment)
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
        verified_days = max(0, (moment - datetime.fromisoformat(s.verified_at)).days)
    lang = _lang()
    facilities = [FACILITIES.label(f, lang) for f in s.facilities]
    description = " · ".join(
        part
        for part in (
            " ".join(p for p in (state["label"], state["detail"]) if p),
            _("Facilities: %(list)s", list=("、" if lang == "zh" else ", ").join(facilities))
            if facilities
            else "",
            s.address,
        )
        if part
    )
    small = _small_map(s)
    return render_template(
        "station.html",
        s=s,
        live=state["live"],
        state=state,
        reports=reports,
        verified_days=verified_days,
        hours_text=hours.describe(s.opening_hours, lang),
        nav=navigation.links(s.lat, s.lon, s.name, s.address, s.adcode),
        kinds=checkins.KINDS,
        host=HOST_TYPES.label(s.host_type, lang),
        entry=ENTRY_METHODS.label(s.entry_method, lang),
        kind_label=lambda key: checkins.KINDS.label(key, lang),
        audit=audit,
        profile=profile,
        expired=expired,
        item_labels=item_labels,
        resolve_hours=resolve_hours,
        map=small,
        share_url=_public_url(s),
        og_description=description,
        config={
            "map": small["name"],
            "at": small["at"],  # where the marker goes, in the datum of the tiles
            "lat": s.lat,  # WGS-84, for the distance from the rider
            "lon": s.lon,
            "name": s.name,
            "url": _public_url(s),
            "t": {
                "m": _("About %(n)s m from you", n="{n}"),
                "km": _("About %(n)s km from you", n="{n}"),
                "copied": _("Link copied: %(url)s", url="{url}"),
                "copy_failed": _("Copy this link: %(url)s", url="{url}"),
            },
        },
    )


def _small_map(s) -> dict:
    """The station on a small map: one marker, drawn in the datum of the tiles."""
    from stations.core import datum, regions

    tiles = _tiles()
    at = datum.from_wgs84(s.lat, s.lon, tiles.datum, mainland=regions.mainland_adcode(s.adcode))
    parts = maps.page_map(at, 16, tiles)
    parts["at"] = list(at)
    return parts


@bp.get("/s/<path:code>")
def short(code: str):
    """A code's short link. Codes may hold "/" (SEC/SLASH-1): the path converter takes the
    rest of the path, so /s/SEC/SLASH-1 and /s/SEC%2FSLASH-1 (decoded before routing) both
    find it."""
    s = get_read_store().published_by_code(code)
    if s is None:
        abort(404)
    return redirect(url_for("web.station", station_id=s.id), 301)


def _survives_a_path(code: str) -> bool:
    """Whether /s/<code> reaches us unchanged: browsers and proxies resolve "." and ".."
    segments and may merge "//", so a code with such a part gets the station's own address."""
    return all(part not in ("", ".", "..") for part in code.split("/"))


def _public_url(station) -> str:
    base = current_app.config.get("PUBLIC_URL")
    if _survives_a_path(station.code):
        endpoint, values = "web.short", {"code": station.code}
    else:
        endpoint, values = "web.station", {"station_id": station.id}
    path = url_for(endpoint, **values)
    return base.rstrip("/") + path if base else url_for(endpoint, **values, _external=True)


def _qr_svg(url: str, scale: int) -> str:
    """A QR code as SVG that scales to any width (a viewBox, no fixed size), on white with the
    standard quiet zone of four modules, so it scans on a phone's screen and in print."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(scale=scale, border=4, light="#fff", omitsize=True)
    return svg.replace("<svg ", '<svg shape-rendering="crispEdges" ', 1)


@bp.get("/stations/<int:station_id>/qr.svg")
def qr(station_id: int):
    s = _station_or_404(station_id)
    svg = _qr_svg(_public_url(s), 8)
    width, height = segno.make(_public_url(s), error="m").symbol_size(scale=8, border=4)
    # A file of its own: an intrinsic size as well, for programs that place it as it comes.
    svg = svg.replace(
        "<svg ", f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" ', 1
    )
    return Response(svg, mimetype="image/svg+xml")


@bp.get("/stations/<int:station_id>/poster")
def poster(station_id: int):
    s = _station_or_404(station_id)
    url = _public_url(s)
    return render_template("poster.html", s=s, qr_svg=_qr_svg(url, 10), url=url)


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
            if exc.reason not in messages:  # this station, a moment ago: nothing is wrong
                _thank(_("You reported on this station a moment ago. Thank you!"))
                return redirect(back, 303)
            response = _refused_page(messages[exc.reason or ""], 429, back)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if exc.field == "submission":
            return _refused_page(_("This form is out of date. Reload the page."), 400, back)
        if exc.field == "facility":
            flash(_("Choose what is broken first."), "error")
        else:
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
