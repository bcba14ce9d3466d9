"""What a rider near a point is offered: the reach of "nearest anyway", open first, why empty."""

import math
from datetime import datetime

from stations.core import nearby
from stations.core.hours import TZ
from stations.core.locator import Hit
from stations.core.model import Station

NIGHT = datetime(2026, 11, 20, 23, 0, tzinfo=TZ)  # a Friday


def station(i: int, hours: str, status: str = "open") -> Station:
    return Station(
        code=f"S{i}", name=f"S{i}", lat=31.8, lon=117.2, adcode="340104", province="安徽省",
        city="合肥市", district="蜀山区", opening_hours=hours, status=status, id=i,
        closed_until="2026-11-30" if status == "temporarily_closed" else None,
    )  # fmt: skip


def test_usefulness_orders_open_then_unknown_then_closed_then_temporarily_closed():
    stations = {
        1: station(1, "Mo-Su 08:00-18:00"),  # closed at 23:00
        2: station(2, "24/7", "temporarily_closed"),
        3: station(3, ""),  # no hours given: unknown
        4: station(4, "24/7"),
        5: station(5, "Mo-Su 20:00-02:00"),  # open at 23:00, further than 4
    }
    hits = [Hit(i, 100.0 * i, 0.0) for i in (1, 2, 3, 4, 5)]
    assert [h.id for h in nearby.by_usefulness(hits, stations, NIGHT)] == [4, 5, 3, 1, 2]


def test_the_reach_of_nearest_anyway():
    assert nearby.reach(1_000, 50_000) == 50_000
    assert nearby.reach(80_000, 50_000) == 80_000  # never less than the asked radius
    assert nearby.reach(None, 50_000) == math.inf  # k nearest, wherever they are
    hits = [Hit(1, 49_999.0, 0.0), Hit(2, 50_001.0, 0.0)]
    assert [h.id for h in nearby.within(hits, 50_000)] == [1]


def test_why_a_list_is_empty():
    assert nearby.empty_reason(None, 50_000) == "none_nearby"  # an empty registry
    assert nearby.empty_reason(1_248_000.0, 50_000) == "none_nearby"  # from Lhasa
    assert nearby.empty_reason(9_000.0, 50_000) == "none_match"  # one nearby, filtered out
