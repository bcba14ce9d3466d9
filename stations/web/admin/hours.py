"""The opening-hours editor's preview, /admin/hours/preview: the one rule for turning what staff
type or tick into OSM syntax is core/hours_input; the page's script only asks it.

GET ?text=周一至周五 8点到18点 — a phrase (or OSM text);
GET ?form={"groups": [{"days": ["Mo", …], "ranges": [["08:00", "18:00"]]}], "holidays": "off"}
— the editor's rows. Answers {"ok": true, "osm", "words", "rows"} (rows: the editor's rows for
the result, or null when it is richer than rows can show) or 400 {"ok": false, "error"} in the
page's language.
"""

import json

from flask import jsonify, request
from flask_babel import gettext as _

from stations.core import hours, hours_input
from stations.web.admin.base import bp
from stations.web.admin.field_errors import hours_message
from stations.web.i18n import requested_language

MAX_FORM = 4000


def _form_groups(raw: str):
    """(groups, holidays) from the editor's JSON; ValueError when it is not that shape."""
    if len(raw) > MAX_FORM:
        raise ValueError("too long")
    form = json.loads(raw)
    if not isinstance(form, dict) or not isinstance(form.get("groups", []), list):
        raise ValueError("not an object with groups")
    groups = []
    for row in form.get("groups", []):
        days, ranges = row.get("days", []), row.get("ranges", [])
        if not isinstance(days, list) or not isinstance(ranges, list):
            raise ValueError("days and ranges must be lists")
        if not all(isinstance(r, list) and len(r) == 2 for r in ranges):
            raise ValueError("a range is [start, end]")
        groups.append(([str(d) for d in days], [(str(a), str(b)) for a, b in ranges]))
    holidays = form.get("holidays") or None
    return groups, (str(holidays) if holidays else None)


@bp.get("/hours/preview")
def hours_preview():
    lang = requested_language()
    text = request.args.get("text")
    raw_form = request.args.get("form")
    try:
        if raw_form is not None:
            try:
                groups, holidays = _form_groups(raw_form)
            except (ValueError, AttributeError, TypeError):
                return jsonify(ok=False, error=_("The editor sent something unreadable.")), 400
            osm = hours_input.compose(groups, holidays=holidays)
        elif text is not None:
            osm = hours_input.to_osm(text)
        else:
            return jsonify(ok=False, error=_("Give text or form.")), 400
    except hours_input.HoursInputError as exc:
        return jsonify(ok=False, error=hours_message(exc, text or "")), 400
    rows = None
    if osm:
        try:
            rows = hours_input.parse(osm).groups()
        except hours_input.HoursInputError:
            rows = None  # richer than rows: comments, months, sunset…
    words = hours.describe(osm, lang) if osm else ""
    return jsonify(ok=True, osm=osm, words=words, rows=rows)
