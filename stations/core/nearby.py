"""What a rider near a point is offered (pure): how far "the nearest anyway" may reach, which
stations come first, and why a list is empty.

A station 1,500 km away is no answer to "where can I rest": past ANYWAY_MAX_M the honest
answer is that there is none nearby, with the nearest city that has stations as a way on.
"""

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal, Protocol, TypeVar

from stations.core import present
from stations.core.model import Station

ANYWAY_MAX_M = 50_000  # the default reach of "nearest anyway" (NEAREST_ANYWAY_MAX_M)
SORTS = ("distance", "useful")
Reason = Literal["none_nearby", "none_match"]


class Ranked(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def distance_m(self) -> float: ...


H = TypeVar("H", bound=Ranked)


def reach(radius_m: float | None, anyway_max_m: float) -> float:
    """The furthest a listed station may be. Asked for a radius, the nearest anyway may reach
    past it up to the cap (never less than the radius); asked for the k nearest with no
    radius, the caller wants them wherever they are."""
    return max(radius_m, anyway_max_m) if radius_m else math.inf


def within(hits: Sequence[H], limit_m: float) -> list[H]:
    return [h for h in hits if h.distance_m <= limit_m]


def usefulness(station: Station, now: datetime) -> int:
    """0 open now, 1 hours unknown, 2 closed by its hours, 3 temporarily closed or otherwise
    not open: a rider can use the first right away; the last not today."""
    if station.status != "open":
        return 3
    return {True: 0, None: 1, False: 2}[present.live_state(station, now)["open_now"]]


def by_usefulness(hits: Sequence[H], stations: Mapping[int, Station], now: datetime) -> list[H]:
    """Open stations first, then unknown, closed for now, temporarily closed; nearest first
    within each group (hits are already by distance, and the sort is stable)."""
    return sorted(hits, key=lambda h: usefulness(stations[h.id], now))


def empty_reason(nearest_any_m: float | None, limit_m: float) -> Reason:
    """Why nothing is listed: no published station within reach at all, or some within reach
    but none passing the filters (nearest_any_m: the nearest published station, unfiltered)."""
    if nearest_any_m is None or nearest_any_m > limit_m:
        return "none_nearby"
    return "none_match"
