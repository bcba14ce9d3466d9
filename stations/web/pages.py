"""What every HTML face shares: facility icons, the map's messages, template helpers and the
"busy" page (public pages, staff pages and the embed all render through these)."""

from flask import Flask, Response, render_template, request
from flask_babel import gettext as _

from stations.core.vocab import FACILITIES, STATUSES
from stations.store import StoreBusy
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


def _helpers():
    return {
        "lang": requested_language(),
        "icons": ICONS,
        "facility_label": FACILITIES.label,
        "status_label": STATUSES.label,
    }


def init_app(app: Flask) -> None:
    app.register_error_handler(StoreBusy, _busy)
    app.context_processor(_helpers)
