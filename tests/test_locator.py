"""The ranking core against brute force over exact ellipsoidal geodesic distances."""

from datetime import datetime

import numpy as np
import pytest
from pyproj import Geod

from stations.core.hours import TZ
from stations.core.locator import STATUS_CODES, Locator, clusters, facility_mask
from stations.core.vocab import FACILITIES

GEOD = Geod(ellps="WGS84")
N = 2000


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(20261121)
    # Mostly clustered in a few cities, some spread over the country: near and far queries.
    centres = np.array([[36.62, 101.78], [31.82, 117.23], [36.07, 120.38], [34.75, 113.63]])
    pick = rng.integers(0, 4, N)
    lats = np.where(
        rng.random(N) < 0.8, centres[pick, 0] + rng.normal(0, 0.05, N), rng.uniform(20, 48, N)
    )
    lons = np.where(
        rng.random(N) < 0.8, centres[pick, 1] + rng.normal(0, 0.06, N), rng.uniform(80, 130, N)
    )
    keys = FACILITIES.keys()
    masks = [facility_mask([k for k in keys if rng.random() < 0.4]) for _ in range(N)]
    statuses = rng.choice([1, 1, 1, 1, 2, 3, 4], N)
    hours = rng.choice(["24/7", "Mo-Fr 08:00-18:00", "Mo-Su 22:00-06:00", ""], N)
    return Locator(np.arange(1, N + 1), lats, lons, masks, statuses, list(hours)), rng


def brute(locator, lat, lon, k, keep):
    idx = np.flatnonzero(keep)
    _, _, dist = GEOD.inv(
        np.full(len(idx), lon), np.full(len(idx), lat), locator.lons[idx], locator.lats[idx]
    )
    order = np.lexsort((locator.ids[idx], dist))[:k]
    return [(int(locator.ids[idx[i]]), float(dist[i])) for i in order]


def same_ranking(got, want):
    """Identical order, except that stations whose distances differ by under 1 m may swap."""
    assert len(got) == len(want)
    for (g_id, g_d), (w_id, w_d) in zip(got, want, strict=True):
        assert g_id == w_id or abs(g_d - w_d) < 1.0, (got, want)
        assert abs(g_d - w_d) < 0.01


def query_points(rng, locator, count):
    for q in range(count):
        if q % 2:  # far: anywhere over China and beyond
            yield rng.uniform(15, 50), rng.uniform(75, 135)
        else:  # near: beside a station
            i = rng.integers(0, len(locator))
            yield locator.lats[i] + rng.normal(0, 0.01), locator.lons[i] + rng.normal(0, 0.01)


def test_ranking_equals_geodesic_brute_force(world):
    locator, rng = world
    visible = np.isin(locator.statuses, (STATUS_CODES["open"], STATUS_CODES["temporarily_closed"]))
    for lat, lon in query_points(rng, locator, 200):
        k = int(rng.integers(1, 51))
        hits = locator.nearest(lat, lon, k)
        same_ranking([(h.id, h.distance_m) for h in hits], brute(locator, lat, lon, k, visible))


def test_facility_filter_keeps_the_k_nearest_that_pass(world):
    locator, rng = world
    need = facility_mask(
        ["toilet", "microwave", "ebike_charging"]
    )  # ~6 % of stations have all three
    keep = np.isin(locator.statuses, (1, 2)) & ((locator.masks & need) == need)
    for lat, lon in query_points(rng, locator, 50):
        hits = locator.nearest(lat, lon, 10, facilities=["toilet", "microwave", "ebike_charging"])
        same_ranking([(h.id, h.distance_m) for h in hits], brute(locator, lat, lon, 10, keep))


def test_open_now_filter(world):
    locator, rng = world
    at = datetime(2026, 11, 21, 23, 0, tzinfo=TZ)  # Saturday night: only 24/7 and the night shift
    hours = np.array(locator.hours)
    keep = (locator.statuses == 1) & np.isin(hours, ["24/7", "Mo-Su 22:00-06:00"])
    for lat, lon in query_points(rng, locator, 30):
        hits = locator.nearest(lat, lon, 8, open_now=True, at=at)
        same_ranking([(h.id, h.distance_m) for h in hits], brute(locator, lat, lon, 8, keep))


def test_radius_and_nearest_anyway(world):
    locator, _ = world
    lat, lon = 36.62, 101.78
    inside = locator.nearest(lat, lon, 5, radius_m=3000)
    assert inside and all(h.distance_m <= 3000 and not h.beyond_radius for h in inside)
    far = locator.nearest(30.0, 90.0, 3, radius_m=1000)  # Tibet: nothing within 1 km
    assert len(far) == 3 and all(h.beyond_radius and h.distance_m > 1000 for h in far)


def test_bearing_points_at_the_station():
    one = Locator([7], [36.6171], [101.7782], [0], [1], ["24/7"])
    assert one.nearest(36.6071, 101.7782, 1)[0].bearing_deg == pytest.approx(
        0, abs=0.01
    )  # from the south
    assert one.nearest(36.6171, 101.7682, 1)[0].bearing_deg == pytest.approx(
        90, abs=0.1
    )  # from the west
    assert one.nearest(36.6271, 101.7782, 1)[0].bearing_deg == pytest.approx(180, abs=0.01)


def test_planned_and_closed_stations_are_never_offered(world):
    locator, rng = world
    status_of = dict(zip(locator.ids.tolist(), locator.statuses.tolist(), strict=True))
    for lat, lon in query_points(rng, locator, 20):
        for h in locator.nearest(lat, lon, 20):
            assert status_of[h.id] in (1, 2)


def test_empty_registry():
    assert Locator([], [], [], [], [], []).nearest(30, 120, 5) == []


def test_clusters_count_every_station_in_view(world):
    locator, _ = world
    box = (36.4, 101.5, 36.9, 102.1)
    view = locator.in_box(*box)
    groups = clusters(view, *box)
    assert sum(c.count for c in groups) == len(view) > 100
    assert len(groups) <= 13 * 13


def test_open_now_with_sun_hours_depends_on_where_the_station_is():
    # Same hours, same moment: after sunset in Harbin, still daylight in Xining (China keeps one
    # clock: Harbin's sun sets 16:49, Xining's 18:37 on 2026-10-15).
    lats, lons = [45.80, 36.62, 45.81], [126.53, 101.78, 126.54]
    hours = ["sunrise-sunset", "sunrise-sunset", "24/7"]
    locator = Locator([1, 2, 3], lats, lons, [0, 0, 0], [1, 1, 1], hours)
    at = datetime(2026, 10, 15, 17, 30, tzinfo=TZ)
    assert [h.id for h in locator.nearest(45.80, 126.53, 3, open_now=True, at=at)] == [3, 2]
    noon = datetime(2026, 10, 15, 12, 0, tzinfo=TZ)
    assert [h.id for h in locator.nearest(45.80, 126.53, 3, open_now=True, at=noon)] == [1, 3, 2]
    box = locator.in_box(30, 100, 50, 130, open_now=True, at=at)
    assert sorted(box.ids.tolist()) == [2, 3]
