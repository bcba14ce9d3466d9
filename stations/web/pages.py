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
