"""Validation errors in the page's language: the core names each problem with a code and its
params (model.FieldError, hours_input.HoursInputError); these are the sentences for them. The
field itself is named by its label in the template (field_label), never by its key."""

from collections.abc import Iterable, Mapping

from flask_babel import gettext as _

from stations.core.hours_input import HoursInputError
from stations.core.model import FieldError

HOURS_HINT_ZH = "每天8:00-22:00"  # examples are Chinese on both pages: staff type them so


def _field_message(code: str, p: Mapping) -> str | None:
    """The sentence for a FieldError code, or None for a code this page does not know."""
    p = dict(p)
    if code == "required":
        return _("is required")
    if code == "code_chars":
        return _("may hold letters, digits, Chinese characters and . _ / - only, no spaces")
    if code == "control_character":
        return _("contains an invisible control character (%(char)s)", char=p.get("char", ""))
    if code == "too_long":
        return _(
            "is %(length)s characters long; the limit is %(limit)s",
            length=p.get("length", ""),
            limit=p.get("limit", ""),
        )
    if code in ("not_number", "not_finite"):
        return _("must be a number, not “%(value)s”", value=p.get("value", ""))
    if code == "bad_date":
        return _("must be a date like 2026-12-31, not “%(value)s”", value=p.get("value", ""))
    if code == "bad_timestamp":
        return _(
            "must be a date and time like 2026-11-01 09:30, not “%(value)s”",
            value=p.get("value", ""),
        )
    if code == "bad_phone":
        return _(
            "“%(value)s” is not a mobile (11 digits), landline (0971-1234567) or 400 number",
            value=p.get("value", ""),
        )
    if code == "unknown_facilities":
        return _("unknown facilities: %(items)s", items=p.get("items", ""))
    if code == "not_a_choice":
        return _("“%(value)s” is not one of the choices", value=p.get("value", ""))
    if code == "swapped":
        return _(
            "latitude %(lat)s and longitude %(lon)s look swapped: did you mean latitude "
            "%(lon)s, longitude %(lat)s?",
            lat=p.get("lat", ""),
            lon=p.get("lon", ""),
        )
    if code == "lat_range":
        return _("must be between -90 and 90, not %(value)s", value=p.get("value", ""))
    if code == "lon_range":
        return _("must be between -180 and 180, not %(value)s", value=p.get("value", ""))
    if code == "outside_china":
        return _(
            "(%(lat)s, %(lon)s) lies outside China", lat=p.get("lat", ""), lon=p.get("lon", "")
        )
    if code == "outside_mainland":
        return _(
            "(%(lat)s, %(lon)s) lies in %(place)s, outside mainland China",
            lat=p.get("lat", ""),
            lon=p.get("lon", ""),
            place=p.get("place", ""),
        )
    if code == "adcode_format":
        return _("must be 6 digits, not “%(value)s”", value=p.get("value", ""))
    if code == "adcode_unknown":
        return _("%(value)s is not a current county-level area code", value=p.get("value", ""))
    if code == "adcode_outside_mainland":
        return _(
            "%(value)s is %(place)s, outside mainland China",
            value=p.get("value", ""),
            place=p.get("place", ""),
        )
    if code == "adcode_mismatch":
        return _(
            "%(value)s is %(place)s, but the point lies in %(here)s (%(here_code)s); check the "
            "coordinates, their datum or the area code",
            value=p.get("value", ""),
            place=p.get("place", ""),
            here=p.get("here", ""),
            here_code=p.get("here_code", ""),
        )
    if code == "closed_until_required":
        return _("is required while the station is temporarily closed (the reopening date)")
    if code == "code_taken":
        return _("%(value)s is already used by another station", value=p.get("value", ""))
    if code == "not_editable":
        return _("cannot be set here")
    if code == "in_future":
        return _("is in the future")
    if code == "hours_invalid":
        return _(
            "cannot read “%(value)s”. Write for example “%(example)s”, “周一至周五 8点到18点” "
            "or “24小时”",
            value=p.get("value", ""),
            example=HOURS_HINT_ZH,
        )
    return None


def hours_message(exc: HoursInputError, text: str) -> str:
    """What was not understood in an opening-hours phrase, in the page's language."""
    p = dict(exc.params)
    text = text.strip()[:40]
    if exc.code == "not_understood":
        part = str(p.get("part", ""))
        if part and part != text:
            return _("cannot read “%(part)s” in “%(value)s”", part=part, value=text)
        return _(
            "cannot read “%(value)s”. Write for example “%(example)s”, “周一至周五 8点到18点” "
            "or “24小时”",
            value=text,
            example=HOURS_HINT_ZH,
        )
    if exc.code == "incomplete":
        return _(
            "“%(part)s” is incomplete: give a start and an end time, e.g. 周一至周五 8:00-18:00",
            part=p.get("part", ""),
        )
    if exc.code == "bad_time":
        return _("“%(time)s” is not a time of day", time=p.get("time", ""))
    if exc.code == "bad_range":
        return _("%(range)s starts and ends at the same time", range=p.get("part", ""))
    if exc.code == "no_hours":
        return _("gives no day on which the station is open")
    if exc.code == "too_long":
        return _("is longer than %(limit)s characters", limit=p.get("limit", ""))
    return _("cannot be written as opening hours: “%(value)s”", value=p.get("value", text))


def messages(errors: Iterable[FieldError]) -> dict[str, str]:
    """field -> its problem in the page's language (the first problem per field)."""
    out: dict[str, str] = {}
    for error in errors:
        if error.field in out:
            continue
        said = _field_message(error.code, error.params)
        out[error.field] = said if said is not None else _("is not valid")
    return out
