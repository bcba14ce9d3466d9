"""A map view as a query string: where the map is, what it filters, which station is open and
where the nearest stations were asked from.

The courier page writes these keys into its address as the rider pans, filters and taps, and the
server reads them back on `/`, so a reload, the back button and a shared link all open the same
view with the same chips pressed. Any face may parse them (the embed takes the same switches):

    ?center=31.82,117.23&zoom=15&facilities=toilet,microwave&open_now=1&station=12&near=31.82,117.23

Coordinates are WGS-84 whatever the tiles are drawn in. Only these keys are read; any other
(lang, utm_…) is left alone. A bad value is a ViewError naming the key, for a clear 400.
"""

import math
import re
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from stations.core.text import ascii_digits
from stations.web import params

MIN_ZOOM = 3
MAX_ZOOM = 19
KEYS = ("center", "zoom", "facilities", "open_now", "station", "near")
_PAIR = re.compile(r"^\s*([+-]?\d{1,3}(?:\.\d{1,10})?)\s*,\s*([+-]?\d{1,3}(?:\.\d{1,10})?)\s*$")


class ViewError(ValueError):
    """A key of the view that cannot be read: `key` names it, the message says why."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


@dataclass(frozen=True)
class MapView:
    centre: tuple[float, float] | None = None  # (lat, lon)
    zoom: int | None = None
    facilities: tuple[str, ...] = ()
    open_now: bool = False
    station: int | None = None  # the selected station's id
    near: tuple[float, float] | None = None  # where the nearest list was asked from (lat, lon)

    @property
    def empty(self) -> bool:
        return self == MapView()

    def query(self) -> dict[str, str]:
        """The same view as query parameters, in the form parse() reads."""
        out: dict[str, str] = {}
        if self.centre:
            out["center"] = _pair(self.centre)
        if self.zoom is not None:
            out["zoom"] = str(self.zoom)
        if self.facilities:
            out["facilities"] = ",".join(self.facilities)
        if self.open_now:
            out["open_now"] = "1"
        if self.station is not None:
            out["station"] = str(self.station)
        if self.near:
            out["near"] = _pair(self.near)
        return out


def _pair(point: tuple[float, float]) -> str:
    return f"{round(point[0], 5)},{round(point[1], 5)}"


def _point(args: MultiDict[str, str], key: str) -> tuple[float, float] | None:
    values = [v for v in args.getlist(key) if v]
    if not values:
        return None
    if len(values) > 1:
        raise ViewError(key, f"give {key} once, not {len(values)} times")
    match = _PAIR.match(ascii_digits(values[0]))
    if not match:
        raise ViewError(key, f"{key} must be latitude,longitude in decimal degrees")
    lat, lon = float(match[1]), float(match[2])
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ViewError(key, f"{key} must hold finite numbers")
    if not -90 <= lat <= 90:
        raise ViewError(key, f"{key}: the latitude must be between -90 and 90")
    if not -180 <= lon <= 180:
        raise ViewError(key, f"{key}: the longitude must be between -180 and 180")
    return lat, lon


def parse(args: MultiDict[str, str]) -> MapView:
    """The view a query string asks for; raises ViewError on the first bad key."""
    try:
        zoom = params.integer(args, "zoom", MIN_ZOOM, MAX_ZOOM)
    except params.ApiError as exc:
        raise ViewError("zoom", exc.message) from None
    try:
        facilities = params.facilities(args)
    except params.ApiError as exc:
        raise ViewError("facilities", exc.message) from None
    try:
        open_now = params.flag(args, "open_now")
    except params.ApiError as exc:
        raise ViewError("open_now", exc.message) from None
    try:
        station = params.integer(args, "station", 1, 2**62)
    except params.ApiError as exc:
        raise ViewError("station", exc.message) from None
    centre = _point(args, "center") or _point(args, "centre")
    return MapView(
        centre=centre,
        zoom=zoom,
        facilities=facilities,
        open_now=open_now,
        station=station,
        near=_point(args, "near"),
    )


def without(args: MultiDict[str, str], key: str) -> dict[str, str]:
    """The query string less one key (and its British spelling): the link that opens the
    rest of a view when one of its keys is bad."""
    drop = {key, "centre"} if key in ("center", "centre") else {key}
    return {k: v for k, v in args.items() if k not in drop}
