"""What every HTML face shares: facility icons, the map's messages, template helpers, the
"busy" page and the error pages (public pages, staff pages and the embed all render through
these)."""

from urllib.parse import urlencode

from flask import Flask, Response, current_app, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.sansio.response import Response as AnyResponse

from stations.core import columns, hours, labels, words
from stations.core.vocab import FACILITIES, STATUSES
from stations.store import StoreBusy, StoreError, StoreFull, VersionConflict
from stations.store.errors import StoreReadOnly
from stations.web.context import now
from stations.web.i18n import requested_language

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


def map_strings() -> dict:
    """The map page's JavaScript messages in the current language (courier page and embed).

    Placeholders in braces ({n}, {time}, …) are filled in by the script."""
    return {
        "open": _("Open now"),
        "closed": _("Closed"),
        "unknown": _("Hours unknown"),
        "check_on_site": _("check on site"),
        "temporarily_closed": _("Temporarily closed"),
        "closes_at": _("until %(time)s", time="{time}"),
        "opens_today": _("opens %(time)s", time="{time}"),
        "opens_tomorrow": _("opens tomorrow %(time)s", time="{time}"),
        "opens_day": _("opens %(day)s %(time)s", day="{day}", time="{time}"),
        "closed_until": _("until %(date)s", date="{date}"),
        "date": _("%(month)s/%(day)s", month="{m}", day="{d}"),
        "weekdays": _("Mon,Tue,Wed,Thu,Fri,Sat,Sun").split(","),
        "metres": _("%(n)s m", n="{n}"),
        "km": _("%(n)s km", n="{n}"),
        "verified_today": _("verified today"),
        "verified_days": _("verified %(n)s days ago", n="{n}"),
        "never_verified": _("not verified yet"),
        "locating": _("Finding your location…"),
        "start": _(
            "Tap the red button to find the stations nearest you, or pick a city or search."
        ),
        "denied": _(
            "Could not get your location. Allow location for this site in your browser's "
            "settings and tap the button again — or pick a city or search for a place below it."
        ),
        "denied_map": _(
            "Could not get your location. Allow location for this site in your browser's "
            "settings and try again, or move the map to look around."
        ),
        "none": _("No station matches. Try fewer filters."),
        "none_nearby": _("No station within %(km)s km of you.", km="{km}"),
        "none_match": _("There are stations near you, but none with what you filtered for."),
        "clear_filters": _("Clear filters"),
        "go_city": _("Show %(city)s (%(n)s stations)", city="{city}", n="{n}"),
        "go_city_far": _(
            "Show %(city)s (%(n)s stations, %(distance)s away)",
            city="{city}",
            n="{n}",
            distance="{distance}",
        ),
        "early_wait": _("One moment, the map is still loading…"),
        "search_station_shown": _("%(name)s · %(where)s", name="{name}", where="{where}"),
        "anyway": _("None within reach; the nearest anyway:"),
        "results": _("%(n)s stations near you, open ones first", n="{n}"),
        "city_shown": _("%(city)s: %(n)s stations", city="{city}", n="{n}"),
        "error": _("Could not load stations. Check your connection."),
        "details": _("Details"),
        "go": _("Go"),
        "route": _("Route"),
        "other_apps": _("Other maps"),
        "apps": {
            "amap_route": _("Amap (ride)"),
            "apple": _("Apple Maps"),
            "baidu": _("Baidu Maps"),
            "tencent": _("Tencent Maps"),
            "geo": _("Another map app"),
        },
        "show_on_map": _("Show on map"),
        "facilities": _("Facilities"),
        "warning": _("Workers reported a problem"),
        "clusters": _("Zoom in to see stations"),
        "search_none": _("Nothing found for “%(q)s”.", q="{q}"),
        "search_city": _("%(n)s stations", n="{n}"),
        "scroll_left": _("More filters to the left"),
        "scroll_right": _("More filters to the right"),
    }


def _busy(exc):
    """A storage fault: a page in words and a Retry-After instead of a 500 — busy (a write lock
    held too long), full (507: nothing was saved), read-only (writes refused, reads work) or
    unavailable (the database is missing). A version conflict nothing else caught is a 409."""
    status, retry, message = store_fault(exc)
    try:
        body = render_template(
            "unavailable.html", status=status, message=message, back=request.path
        )
    except Exception:  # the page itself needs the database (a missing one, say)
        body = f"<!doctype html><title>{status}</title><p>{message}</p>"
    response = Response(body, status, mimetype="text/html")
    if retry:
        response.headers["Retry-After"] = str(retry)
    response.headers["Cache-Control"] = "no-store"
    return response


def store_fault(exc: StoreError) -> tuple[int, int, str]:
    """(status, Retry-After seconds or 0, message in the page's language) of a StoreError."""
    if isinstance(exc, StoreBusy):
        return 503, 2, _("The system is busy. Try again in a moment.")
    if isinstance(exc, StoreFull):
        return (
            507,
            300,
            _(
                "Storage is full: your change was not saved. Try again later; looking up stations"
                " still works."
            ),
        )
    if isinstance(exc, StoreReadOnly):
        return (
            503,
            300,
            _(
                "Changes cannot be saved at the moment (the database is read-only); your change"
                " was not saved. Try again later; looking up stations still works."
            ),
        )
    if isinstance(exc, VersionConflict):
        return 409, 0, _("Someone else changed this in the meantime. Reload and try again.")
    return 503, 30, _("The service is unavailable at the moment. Try again later.")


def _error_text(status: int) -> tuple[str, str]:
    """The title and the sentence of an error page, in the page's language."""
    if status == 404:
        return _("Page not found"), _(
            "There is no page at this address. The station may have moved or been closed."
        )
    if status == 400:
        return _("Something in the address is not right"), _(
            "Check the link, or start again from the map."
        )
    if status == 405:
        return _("This page cannot do that"), _("Start again from the map.")
    if status == 429:
        return _("Too many requests"), _("Wait a moment, then try again.")
    if status >= 500:
        return _("Something went wrong on our side"), _(
            "We have noted it. Try again in a moment, or find a station on the map."
        )
    return _("This page cannot be shown"), _("Start again from the map.")


def error_page(exc: HTTPException) -> AnyResponse:
    """A friendly page for an HTTP error on an HTML page: what happened in words, a way back
    to the map, never a traceback. A message the app wrote itself for a 400 (abort(400,
    description=…)) is shown; Werkzeug's stock English descriptions are not."""
    if exc.response is not None:  # abort(response): the response is the answer
        return exc.response
    status = exc.code or 500
    title, message = _error_text(status)
    if status == 400 and exc.description != type(exc).description:
        message = str(exc.description)
    try:
        body = render_template("error.html", status=status, title=title, message=message)
    except Exception:  # the page itself failed (the database behind the header, say)
        current_app.logger.exception("error page failed")
        body = f"<!doctype html><title>{status}</title><p>{status}</p><p><a href='/'>/</a></p>"
    response = Response(body, status, mimetype="text/html")
    for name, value in exc.get_headers():
        if name.lower() in ("allow", "retry-after"):  # what a 405 or 429 must still say
            response.headers[name] = value
    return response


def _helpers():
    return {
        "lang": requested_language(),
        "icons": ICONS,
        "facility_label": FACILITIES.label,
        "status_label": STATUSES.label,
        # Staff pages and exports never show a key or an ISO timestamp (see core/words, vocab)
        "field_label": columns.label,
        "term": _term,
        "when": _when,
        "other_language": _other_language,
        "hours_words": lambda expr: hours.describe(expr, requested_language()),
        "day": lambda value: words.day(value, requested_language(), now().date()),
    }


def _other_language() -> str:
    """The query string of this page in the other language: the list's search, filters and
    page stay as they are."""
    args = request.args.to_dict(flat=False)
    args["lang"] = ["zh" if requested_language() == "en" else "en"]
    return urlencode(args, doseq=True)


def _when(value, relative: bool = True) -> str:
    """A stored moment for this page: relative within the hour unless relative=False; the
    year only when it is not this year."""
    moment = now()
    return words.when(value, requested_language(), moment, relative=relative)


def _term(vocabulary: str, key: str, lang: str | None = None) -> str:
    """A stored key's label in the page language: term('report_state', 'new') -> '待处理'."""
    return labels.VOCABULARIES[vocabulary].label(key, lang or requested_language())


def init_app(app: Flask) -> None:
    """The shared helpers and error pages. The API registers its JSON errors after this: its
    blueprint's handlers come first for its routes, and its app-wide 404/405 handlers hand
    anything outside /api/v1 back to error_page."""
    app.register_error_handler(StoreError, _busy)
    app.register_error_handler(HTTPException, error_page)
    # An exception nothing handled: Flask has logged its traceback and hands us a 500.
    app.register_error_handler(InternalServerError, error_page)
    app.context_processor(_helpers)
