"""Parsing query parameters strictly: every bad value is an ApiError naming the parameter.

Fullwidth digits (１２３．５) are accepted, as in imports: Chinese input methods produce them.
"""

import math
import re
from typing import Literal, overload

from werkzeug.routing import IntegerConverter, ValidationError

from stations.core.geo import BBox
from stations.core.text import ascii_digits
from stations.core.vocab import DATUMS, FACILITIES

_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^\d+$")
MAX_QUERY_BYTES = 4096
MAX_ID = 2**63 - 1  # the largest id either store holds (SQLite INTEGER, PostgreSQL bigint)
ABSENT_ID = 0  # no row has it: ids start at 1 in both stores


def whole_number(value: str | None, low: int, high: int) -> int | None:
    """value as a whole number from low to high, or None: ASCII or full-width digits only
    ('²' and other digit-like characters are not), never more than high has, so a query like
    page=100000000000000000000 is refused before it reaches a database."""
    if value is None:
        return None
    value = value.strip()
    if not value.isdecimal():  # '²' is a digit to Python and to NFKC, but no number
        return None
    digits = ascii_digits(value)
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(high)):
        return None
    number = int(digits)
    return number if low <= number <= high else None


def beyond(value: str | None, high: int) -> bool:
    """Whether value is a whole number (ASCII or full-width digits) greater than high, however
    many digits it has: a page past any end, not a malformed one."""
    if value is None or not value.strip().isdecimal():
        return False
    digits = ascii_digits(value.strip())
    if not (digits.isascii() and digits.isdigit()):
        return False
    digits = digits.lstrip("0")
    return len(digits) > len(str(high)) or (digits != "" and int(digits) > high)


class BoundedInt(IntegerConverter):
    """`<int:…>` in routes, bounded to what a store holds: /admin/reports/18446744073709551616
    is a 404 like any id that does not exist, not an integer overflow in the database."""

    # Any number of digits matches, so an id too large for a store reaches the same view, for
    # every method, as an id that does not exist: that view answers (404, or the CSRF or sign-in
    # refusal it gives first), and a method the path does not allow is a 405 with Allow. A rule
    # refused by to_python would leave the other rules to answer for the path instead.
    regex = r"\d+"

    def to_python(self, value: str) -> int:
        number = whole_number(value, 0, MAX_ID)
        if number is not None:
            return number
        if beyond(value, MAX_ID):
            return ABSENT_ID  # beyond any store: no such row, never sent to a database as is
        raise ValidationError()


class ApiError(Exception):
    etag: str | None = None  # the current version's ETag, sent with a version conflict

    def __init__(
        self,
        message: str,
        field: str | None = None,
        code: str = "invalid_parameter",
        status: int = 400,
    ):
        self.message, self.field, self.code, self.status = message, field, code, status
        super().__init__(message)

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


@overload
def _one(args, name: str, required: Literal[True]) -> str: ...
@overload
def _one(args, name: str, required: bool = False) -> str | None: ...
def _one(args, name: str, required: bool = False) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise ApiError(f"give {name} once, not {len(values)} times", name)
    value = ascii_digits(values[0]) if values else ""
    if not value:
        if required:
            raise ApiError(f"{name} is required", name)
        return None
    return value


@overload
def decimal(args, name: str, low: float, high: float, required: Literal[True]) -> float: ...
@overload
def decimal(args, name: str, low: float, high: float, required: bool = False) -> float | None: ...
def decimal(args, name: str, low: float, high: float, required: bool = False) -> float | None:
    value = _one(args, name, required)
    if value is None:
        return None
    if len(value) > 32 or not _DECIMAL.match(value):
        raise ApiError(f"{name} must be a decimal number", name)
    number = float(value)
    if not math.isfinite(number):
        raise ApiError(f"{name} must be a finite number", name)
    if not low <= number <= high:
        raise ApiError(f"{name} must be between {low:g} and {high:g}", name)
    return number


@overload
def integer(args, name: str, low: int, high: int, default: int) -> int: ...
@overload
def integer(args, name: str, low: int, high: int, default: None = None) -> int | None: ...
def integer(args, name: str, low: int, high: int, default: int | None = None) -> int | None:
    value = _one(args, name)
    if value is None:
        return default
    if len(value) > 12 or not _INTEGER.match(value):
        raise ApiError(f"{name} must be a whole number from {low} to {high}", name)
    number = int(value)
    if not low <= number <= high:
        raise ApiError(f"{name} must be a whole number from {low} to {high}", name)
    return number


def flag(args, name: str) -> bool:
    value = _one(args, name)
    if value is None:
        return False
    lowered = value.lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise ApiError(f"{name} must be 1 or 0", name)


def facilities(args, name: str = "facilities") -> tuple[str, ...]:
    value = _one(args, name)
    if value is None:
        return ()
    keys: list[str] = []
    unknown: list[str] = []
    for item in filter(None, (v.strip() for v in re.split(r"[,，、]", value))):
        key = FACILITIES.parse(item)
        (keys if key else unknown).append(key or item)
    if unknown:
        raise ApiError(
            f"unknown facilities: {', '.join(unknown[:5])[:200]}; known: {', '.join(FACILITIES.keys())}",
            name,
        )
    return tuple(dict.fromkeys(keys))


def crs(args, name: str = "crs") -> str:
    value = _one(args, name)
    if value is None:
        return "wgs84"
    key = DATUMS.parse(value)
    if key is None:
        raise ApiError(f"{name} must be wgs84, gcj02 or bd09", name)
    return key


@overload
def bbox(args, name: str = "bbox", required: Literal[True] = True) -> BBox: ...
@overload
def bbox(args, name: str = "bbox", *, required: bool) -> BBox | None: ...
def bbox(args, name: str = "bbox", required: bool = True) -> BBox | None:
    value = _one(args, name, required)
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) != 4 or not all(_DECIMAL.match(p.strip()) for p in parts):
        raise ApiError(f"{name} must be min_lon,min_lat,max_lon,max_lat", name)
    min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
        raise ApiError(f"{name} must hold finite numbers", name)
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise ApiError(
            f"{name} must be min_lon,min_lat,max_lon,max_lat with min <= max, lon in ±180, lat in ±90",
            name,
        )
    return BBox(min_lat, min_lon, max_lat, max_lon)


def choice(args, name: str, allowed: tuple[str, ...]) -> str:
    """One of allowed; the first when absent."""
    value = _one(args, name)
    if value is None:
        return allowed[0]
    if value not in allowed:
        raise ApiError(f"{name} must be one of {', '.join(allowed)}", name)
    return value


def text(args, name: str, longest: int) -> str:
    """A required piece of free text, trimmed, 1 to longest characters."""
    values = args.getlist(name)
    if len(values) > 1:
        raise ApiError(f"give {name} once, not {len(values)} times", name)
    value = " ".join((values[0] if values else "").split())
    if not value:
        raise ApiError(f"{name} is required", name)
    if len(value) > longest:
        raise ApiError(f"{name} must be at most {longest} characters", name)
    return value
