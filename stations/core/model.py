"""The station record and its validation (pure: no Flask, no SQL).

`validate(record)` turns loosely typed input (a form, a spreadsheet row, a JSON body) into a
`Station` whose every field is checked, or raises `Invalid` listing one `FieldError` per bad
field, each naming the field. Each error also carries a `code` and `params` (see `FieldError`), so a
face can say it in the page's language; `message` is the English sentence the API returns.
Coordinates leave here in WGS-84 only; the input values and their
datum are kept as provenance.
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from datetime import date, datetime

from stations.core import datum, hours, regions
from stations.core.text import ascii_digits, clean, control_character, unneutralise_formula
from stations.core.vocab import DATUMS, ENTRY_METHODS, FACILITIES, HOST_TYPES, STATUSES

MAX_NUMBER_DIGITS = 15
MAX_NUMBER = 10**MAX_NUMBER_DIGITS  # no coordinate comes near; float() of 10**400 overflows
LIMITS = {"code": 32, "name": 100, "address": 200, "brand": 40, "manager_name": 50}
# How far (degrees, ~3 km) a point may lie outside the district its adcode names: boundaries
# are simplified and stations sit on district edges.
ADCODE_SLACK_DEG = 0.03
_CODE = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff][0-9A-Za-z\u4e00-\u9fff._/-]*$")
_FACILITY_SPLIT = re.compile(r"[,，、;；|/]+")  # not spaces: English labels have them
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0\d{2,3})-?(\d{7,8})(?:-(\d{1,6}))?$")
_SERVICE = re.compile(r"^([48]00)-?(\d{3})-?(\d{4})$")


@dataclass(frozen=True)
class FieldError:
    """One bad field. code names the problem for translation, params fill its blanks:
    'required', 'code_chars', 'control_character' (char), 'too_long' (length, limit),
    'not_number' (value), 'not_finite' (value), 'bad_date' (value), 'bad_timestamp' (value),
    'bad_phone' (value), 'unknown_facilities' (items), 'not_a_choice' (value), 'swapped'
    (lat, lon), 'lat_range' (value), 'lon_range' (value), 'outside_china' (lat, lon),
    'outside_mainland' (lat, lon, place), 'adcode_format' (value), 'adcode_unknown' (value),
    'adcode_outside_mainland' (value, place), 'adcode_mismatch' (value, place, here,
    here_code), 'closed_until_required', 'in_future', 'hours_invalid' (value, reason); and from
    core/editing 'code_taken' (value), 'not_editable'.
    An empty code: only the English message is known (callers outside validate())."""

    field: str
    message: str
    code: str = ""
    params: Mapping[str, str | int] = dataclass_field(
        default_factory=dict, compare=False, hash=False
    )

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class Invalid(ValueError):
    """One or more fields are wrong; .errors names each."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass(frozen=True, slots=True)
class Station:
    code: str
    name: str
    lat: float  # WGS-84
    lon: float  # WGS-84
    adcode: str
    province: str
    city: str
    district: str
    address: str = ""
    host_type: str = "other"
    brand: str = ""
    coord_source: str = "wgs84"  # datum the coordinates were given in
    source_lat: float | None = None  # the coordinates as given, in that datum
    source_lon: float | None = None
    opening_hours: str = ""
    facilities: tuple[str, ...] = ()
    entry_method: str = "open_door"
    status: str = "open"
    closed_until: str | None = None  # ISO date, only while temporarily_closed
    manager_name: str = ""  # staff-only
    manager_phone: str = ""  # staff-only
    verified_at: str | None = None  # ISO 8601, +08:00
    id: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    version: int = 0

    def as_dict(self) -> dict:
        # Shallow on purpose: every field is immutable, and dataclasses.asdict deep-copies.
        return {name: getattr(self, name) for name in _FIELD_NAMES}

    def content(self) -> dict:
        """The fields a person edits or imports: what decides 'changed' vs 'unchanged'."""
        return {name: getattr(self, name) for name in _CONTENT_NAMES}


def stored_id(station: Station) -> int:
    """The id of a station read from the store (every one has an id; a new one has not yet)."""
    if station.id is None:
        raise ValueError(f"station {station.code} has not been stored yet")
    return station.id


def diff(before: Station, after: Station) -> tuple[dict, dict]:
    """The edited fields that differ: (old values, new values)."""
    a, b = before.content(), after.content()
    changed = [k for k in a if a[k] != b[k]]
    return {k: a[k] for k in changed}, {k: b[k] for k in changed}


_FIELD_NAMES = tuple(f.name for f in fields(Station))
_CONTENT_NAMES = tuple(
    n for n in _FIELD_NAMES if n not in {"id", "created_at", "updated_at", "version"}
)
EDITABLE = tuple(
    f.name
    for f in fields(Station)
    if f.name not in {"id", "created_at", "updated_at", "version", "province", "city", "district"}
)
STAFF_ONLY = ("manager_name", "manager_phone")


# -- field parsers: each returns the clean value or raises ValueError with the reason -------


class Problem(ValueError):
    """A parser's refusal: the English reason, and its code and params (see FieldError)."""

    def __init__(self, code: str, message: str, **params: str | int):
        self.code = code
        self.params = params
        super().__init__(message)


def _error(name: str, exc: ValueError) -> FieldError:
    return FieldError(name, str(exc), getattr(exc, "code", ""), getattr(exc, "params", {}))


def _text(value, limit: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    value = unneutralise_formula(clean(str(value)))
    bad = control_character(value)
    if bad:
        raise Problem("control_character", f"contains the control character {bad}", char=bad)
    if limit and len(value) > limit:
        raise Problem(
            "too_long",
            f"is {len(value):,} characters long; the limit is {limit}",
            length=len(value),
            limit=limit,
        )
    return value


def _number(value, name: str) -> float:
    if isinstance(value, bool):
        raise Problem("not_number", "must be a number", value=str(value))
    if isinstance(value, int) and abs(value) > MAX_NUMBER:
        shown = f"{'-' if value < 0 else ''}1e{MAX_NUMBER_DIGITS}+"  # str() of 5,000 digits fails
        raise Problem("not_finite", f"must be a finite number, not {shown}", value=shown)
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = ascii_digits(str(value or ""))
        if not text:
            raise Problem("required", "is required")
        try:
            if len(text) > 40:  # no real coordinate has that many digits
                raise ValueError(text)
            number = float(text)
        except ValueError:
            raise Problem(
                "not_number", f"must be a decimal number, not {text[:20]!r}", value=text[:20]
            ) from None
    if not math.isfinite(number):
        raise Problem("not_finite", f"must be a finite number, not {number}", value=str(number))
    return number


# The years a date or timestamp may name: wide enough for any real record, narrow enough that
# shifting it by a time zone or a few days can never leave what datetime holds (year 1 to 9999).
MIN_YEAR, MAX_YEAR = 1900, 2999


def parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = ascii_digits(str(value)[:40])
    text = re.sub(r"[年月/.]", "-", text).rstrip("日")
    try:
        y, m, d = (int(p) for p in text.split("-"))
        if not MIN_YEAR <= y <= MAX_YEAR:  # 3000000000-01-01 overflowed date() itself
            raise ValueError(y)
        return date(y, m, d)
    except (ValueError, OverflowError):
        raise Problem(
            "bad_date",
            f"must be a date like 2026-12-31, not {str(value)[:20]!r}",
            value=str(value)[:20],
        ) from None


def parse_timestamp(value) -> str:
    """ISO 8601 with the +08:00 offset; a bare date means midnight China time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = ascii_digits(str(value)[:40]).replace("/", "-")
        try:
            moment = datetime.fromisoformat(text)
            if not MIN_YEAR <= moment.year <= MAX_YEAR:  # 0001-01-01T00:00+14:00 overflowed
                raise ValueError(moment.year)
        except ValueError:
            raise Problem(
                "bad_timestamp",
                f"must be a date or date-time like 2026-11-01 09:30, not {text[:25]!r}",
                value=text[:25],
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=hours.TZ)
    return moment.astimezone(hours.TZ).isoformat(timespec="seconds")


def parse_phone(value) -> str:
    text = re.sub(r"[\s()（）]", "", ascii_digits(str(value)))
    text = re.sub(r"^(\+86|0086)-?", "", text)
    if _MOBILE.match(text.replace("-", "")):
        return text.replace("-", "")
    if m := _LANDLINE.match(text):
        return f"{m[1]}-{m[2]}" + (f"-{m[3]}" if m[3] else "")
    if m := _SERVICE.match(text):
        return f"{m[1]}-{m[2]}-{m[3]}"
    raise Problem(
        "bad_phone",
        f"{str(value)[:20]!r} is not a Chinese mobile (11 digits), landline (0971-1234567) or 400 number",
        value=str(value)[:20],
    )


def parse_facilities(value) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = _FACILITY_SPLIT.split(str(value or ""))
    keys, unknown = set(), []
    for item in filter(None, (i.strip() for i in items)):
        key = FACILITIES.parse(item)
        if key:
            keys.add(key)
        else:
            unknown.append(item)
    if unknown:
        raise Problem(
            "unknown_facilities",
            f"unknown {', '.join(repr(u) for u in unknown[:5])}; use any of {FACILITIES.choices()}",
            items="、".join(unknown[:5]),
        )
    order = FACILITIES.keys()
    return tuple(sorted(keys, key=order.index))


def _term(vocab, value, default: str) -> str:
    text = _text(value)
    if not text:
        return default
    key = vocab.parse(text)
    if key is None:
        raise Problem(
            "not_a_choice", f"{text[:30]!r} is not one of {vocab.choices()}", value=text[:30]
        )
    return key


# -- coordinates ------------------------------------------------------------------------------


def check_point(lat: float, lon: float) -> regions.Region:
    """The mainland region a WGS-84 point lies in; a _CoordError says what is wrong otherwise."""
    check_range(lat, lon)
    return _mainland_region(lat, lon, regions.locate(lat, lon))


def check_range(lat: float, lon: float) -> None:
    """Swapped pairs and impossible values, which need no boundary to spot."""
    if regions.in_extent(lon, lat) and not regions.in_extent(lat, lon):
        raise _CoordError(
            "lat",
            f"lat={lat:g} and lon={lon:g} look swapped: {lat:g} is not a latitude in China. "
            f"Did you mean lat={lon:g}, lon={lat:g}?",
            "swapped",
            lat=f"{lat:g}",
            lon=f"{lon:g}",
        )
    if not -90 <= lat <= 90:
        raise _CoordError(
            "lat", f"must be between -90 and 90, not {lat:g}", "lat_range", value=f"{lat:g}"
        )
    if not -180 <= lon <= 180:
        raise _CoordError(
            "lon", f"must be between -180 and 180, not {lon:g}", "lon_range", value=f"{lon:g}"
        )


def _mainland_region(lat: float, lon: float, found: regions.Region | None) -> regions.Region:
    if found is None:
        raise _CoordError(
            "lat",
            f"({lat:g}, {lon:g}) lies outside China's boundary",
            "outside_china",
            lat=f"{lat:g}",
            lon=f"{lon:g}",
        )
    if not found.mainland:
        raise _CoordError(
            "lat",
            f"({lat:g}, {lon:g}) lies in {found.province}, outside mainland China",
            "outside_mainland",
            lat=f"{lat:g}",
            lon=f"{lon:g}",
            place=found.province,
        )
    return found


class _CoordError(Problem):
    def __init__(self, field: str, message: str, code: str, **params: str | int):
        self.field = field
        super().__init__(code, message, **params)


def _coordinates(record: Mapping, default_crs: str, errors: list[FieldError]):
    """(lat, lon, coord_source, source_lat, source_lon, region) in WGS-84, or None after an error."""
    try:
        crs = _term(DATUMS, record.get("crs"), default_crs)
    except ValueError as exc:
        errors.append(_error("crs", exc))
        return None
    values = {}
    for name in ("lat", "lon"):
        try:
            values[name] = _number(record.get(name), name)
        except ValueError as exc:
            errors.append(_error(name, exc))
    if len(values) < 2:
        return None
    in_lat, in_lon = values["lat"], values["lon"]
    try:
        check_range(in_lat, in_lon)
        # Whether to un-shift is decided on the WGS-84 origin, not on the point as given: a
        # mainland point near Hong Kong or Macao is shifted across the border (datum.to_wgs84).
        lat, lon = datum.to_wgs84(in_lat, in_lon, crs) if crs != "wgs84" else (in_lat, in_lon)
        lat, lon = round(lat, 7), round(lon, 7)
        here = _mainland_region(lat, lon, regions.locate(lat, lon))
    except _CoordError as exc:
        errors.append(_error(exc.field, exc))
        return None
    if crs != "wgs84":
        return lat, lon, crs, in_lat, in_lon, here
    # Our own exports carry WGS-84 plus the original datum and values: keep that provenance
    # when it still agrees with the WGS-84 point.
    try:
        src = _term(DATUMS, record.get("coord_source"), "wgs84")
        s_lat, s_lon = _number(record.get("source_lat"), ""), _number(record.get("source_lon"), "")
        back = datum.shift_to_wgs84(s_lat, s_lon, src) if src != "wgs84" else (s_lat, s_lon)
        if abs(back[0] - lat) < 2e-7 and abs(back[1] - lon) < 2e-7:
            return lat, lon, src, s_lat, s_lon, here
    except ValueError:
        pass
    return lat, lon, "wgs84", in_lat, in_lon, here


def _region(
    record: Mapping, lat: float, lon: float, here: regions.Region, errors: list[FieldError]
):
    given = ascii_digits(str(record.get("adcode") or ""))
    if given.endswith(".0"):
        given = given[:-2]
    if not given or given == here.adcode:
        return here
    if not re.fullmatch(r"\d{6}", given):
        errors.append(
            FieldError(
                "adcode",
                f"must be 6 digits, not {given[:20]!r}",
                "adcode_format",
                {"value": given[:20]},
            )
        )
        return None
    named = regions.region(given)
    if named is None:
        errors.append(
            FieldError(
                "adcode",
                f"{given} is not a current county-level adcode",
                "adcode_unknown",
                {"value": given},
            )
        )
        return None
    if not named.mainland:  # stations are in the mainland; the map links rely on the adcode
        errors.append(
            FieldError(
                "adcode",
                f"{given} is {named.label()}, outside mainland China",
                "adcode_outside_mainland",
                {"value": given, "place": named.label()},
            )
        )
        return None
    gap = regions.distance_to_district_deg(lat, lon, given)
    if gap is not None and gap > ADCODE_SLACK_DEG:
        errors.append(
            FieldError(
                "adcode",
                f"{given} is {named.label()}, but the point lies in {here.label()}"
                f" ({here.adcode}); check the coordinates, their datum, or the adcode",
                "adcode_mismatch",
                {
                    "value": given,
                    "place": named.label(),
                    "here": here.label(),
                    "here_code": here.adcode,
                },
            )
        )
        return None
    return named


# -- the whole record -------------------------------------------------------------------------


def validate(
    record: Mapping, *, default_crs: str = "wgs84", now: datetime | None = None
) -> Station:
    """A Station from loosely typed input, or Invalid naming every bad field."""
    errors: list[FieldError] = []
    out: dict = {}

    def take(name, parse):
        try:
            out[name] = parse(record.get(name))
        except hours.HoursError as exc:
            text = _text(record.get(name))
            errors.append(
                FieldError(
                    name, str(exc), "hours_invalid", {"value": text[:40], "reason": str(exc)}
                )
            )
        except ValueError as exc:
            errors.append(_error(name, exc))

    take("code", lambda v: ascii_digits(_text(v, LIMITS["code"])))
    if "code" in out:
        if not out["code"]:
            errors.append(FieldError("code", "is required", "required"))
        elif not _CODE.match(out["code"]):
            errors.append(
                FieldError(
                    "code",
                    "may hold letters, digits, Chinese characters and . _ / - only, no spaces",
                    "code_chars",
                )
            )
    take("name", lambda v: _text(v, LIMITS["name"]))
    if out.get("name") == "" and "name" not in {e.field for e in errors}:
        errors.append(FieldError("name", "is required", "required"))
    take("address", lambda v: _text(v, LIMITS["address"]))
    take("brand", lambda v: _text(v, LIMITS["brand"]))
    take("manager_name", lambda v: _text(v, LIMITS["manager_name"]))
    take("host_type", lambda v: _term(HOST_TYPES, v, "other"))
    take("entry_method", lambda v: _term(ENTRY_METHODS, v, "open_door"))
    take("status", lambda v: _term(STATUSES, v, "open"))
    take("facilities", parse_facilities)
    take("opening_hours", lambda v: hours.validate(_text(v)) if _text(v) else "")
    take("manager_phone", lambda v: parse_phone(v) if _text(v) else "")
    take("closed_until", lambda v: parse_date(v).isoformat() if _text(v) else None)
    take("verified_at", lambda v: parse_timestamp(v) if _text(v) else None)

    if out.get("status") == "temporarily_closed" and not out.get("closed_until"):
        if "closed_until" not in {e.field for e in errors}:
            errors.append(
                FieldError(
                    "closed_until",
                    "is required when the status is temporarily_closed (the reopening date)",
                    "closed_until_required",
                )
            )
    elif out.get("status") in ("open", "planned", "closed"):
        out["closed_until"] = None
    now = now or datetime.now(hours.TZ)
    if out.get("verified_at") and out["verified_at"] > now.astimezone(hours.TZ).isoformat(
        timespec="seconds"
    ):
        errors.append(FieldError("verified_at", "is in the future", "in_future"))

    point = _coordinates(record, default_crs, errors)
    found = _region(record, point[0], point[1], point[5], errors) if point else None
    if errors or point is None or found is None:  # each None came with an error
        raise Invalid(errors)
    lat, lon, source, s_lat, s_lon, _ = point
    return Station(
        lat=lat,
        lon=lon,
        coord_source=source,
        source_lat=s_lat,
        source_lon=s_lon,
        adcode=found.adcode,
        province=found.province,
        city=found.city,
        district=found.district,
        **out,
    )
