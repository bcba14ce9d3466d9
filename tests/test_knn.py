"""KnnLocator: nearest from a database's spherical KNN order, checked without a database against
a Locator holding every station (the in-process index's answer)."""

import math
import random
from datetime import datetime

import pytest

from stations.core import geo
from stations.core.hours import TZ
from stations.core.knn import KnnLocator
from stations.core.locator import IndexRow, Locator
from stations.core.published import PUBLIC_STATUSES
from stations.core.vocab import FACILITIES

KEYS = list(FACILITIES.keys())[:5]
HOURS = ["24/7", "Mo-Su 08:00-18:00", "Mo-Su 20:00-23:00", ""]
STATUSES = ["open", "open", "open", "temporarily_closed", "planned", "closed"]
ADCODES = ["630102", "630103", "340104", "370202"]


def sphere_m(lat: float, lon: float, row: IndexRow) -> float:
    chord = float(
        math.dist(geo.unit_vectors([lat], [lon])[0], geo.unit_vectors([row.lat], [row.lon])[0])
    )
    return 2 * geo.MEAN_RADIUS * math.asin(min(1.0, chord / 2))


class FakeDatabase:
    """What the PostGIS store's candidates query does: published, region and facilities
    filtered, nearest first on the sphere, at most n; it counts the queries."""

    def __init__(self, rows: list[IndexRow]):
        self.rows = rows
        self.queries: list[int] = []

    def candidates(self, lat, lon, n, facilities, region):
        self.queries.append(n)
        found = [
            (r, sphere_m(lat, lon, r))
            for r in self.rows
            if r.status in PUBLIC_STATUSES
            and r.adcode.startswith(region)
            and set(facilities) <= set(r.facilities)
        ]
        found.sort(key=lambda pair: pair[1])
        return found[:n]


def random_rows(count: int, seed: int) -> list[IndexRow]:
    rng = random.Random(seed)
    return [
        IndexRow(
            i,
            rng.uniform(30, 37),
            rng.uniform(101, 121),
            tuple(k for k in KEYS if rng.random() < 0.4),
            rng.choice(STATUSES),
            rng.choice(HOURS),
            rng.choice(ADCODES),
        )
        for i in range(1, count + 1)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_same_answer_as_a_locator_over_every_station(seed):
    rows = random_rows(1500, seed)
    everything = Locator.from_rows(rows)
    knn = KnnLocator(FakeDatabase(rows).candidates)
    rng = random.Random(seed)
    evening = datetime(2026, 11, 20, 21, tzinfo=TZ)
    for _ in range(40):
        lat, lon = rng.uniform(29, 38), rng.uniform(100, 122)
        query = {
            "k": rng.choice([1, 3, 10, 40]),
            "radius_m": rng.choice([None, 500.0, 20_000.0, 200_000.0]),
            "facilities": rng.choice([(), (KEYS[0],), (KEYS[1], KEYS[2])]),
            "open_now": rng.random() < 0.4,
            "at": evening,
            "region": rng.choice(["", "63", "6301", "340104"]),
        }
        assert knn.nearest(lat, lon, **query) == everything.nearest(lat, lon, **query), query


def test_it_fetches_more_until_enough_are_open():
    # 200 stations closed in the evening around the rider, 3 open ones further out.
    rows = [
        IndexRow(i, 36.0 + i * 1e-4, 120.0, (), "open", "Mo-Su 08:00-18:00", "370202")
        for i in range(1, 201)
    ]
    rows += [
        IndexRow(300 + i, 36.5 + i * 0.01, 120.0, (), "open", "24/7", "370202") for i in range(3)
    ]
    db = FakeDatabase(rows)
    evening = datetime(2026, 11, 20, 21, tzinfo=TZ)
    hits = KnnLocator(db.candidates).nearest(36.0, 120.0, 3, open_now=True, at=evening)
    assert [h.id for h in hits] == [300, 301, 302]
    assert db.queries == [16, 64, 256]  # grown x4 until the candidates ran out


def test_it_stops_once_nothing_unfetched_can_be_nearer():
    rows = random_rows(5000, 7)
    db = FakeDatabase(rows)
    KnnLocator(db.candidates).nearest(33.0, 110.0, 5)
    assert db.queries == [20]  # one round: the 5th is well inside the 20th on the sphere


def test_no_stations_and_no_k():
    db = FakeDatabase([])
    assert KnnLocator(db.candidates).nearest(33.0, 110.0, 5, radius_m=100) == []
    assert KnnLocator(db.candidates).nearest(33.0, 110.0, 0) == [] and db.queries == [
        20
    ]  # k=0 asks nothing
