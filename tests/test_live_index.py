"""The spatial index follows writes: patched snapshots answer exactly as a fresh build would,
check-ins never move it, and a request is never made to wait for a full build."""

import threading
from dataclasses import replace

import numpy as np
import pytest

from stations.core import live_index
from stations.core.live_index import LiveIndex, StoreLocator
from stations.core.locator import IndexRow, Locator, clusters
from stations.core.model import Station
from stations.core.vocab import FACILITIES
from stations.store import open_store

NOW = "2026-11-20T10:00:00+08:00"
HOURS = ["24/7", "Mo-Fr 08:00-18:00", "Mo-Su 22:00-06:00", ""]
STATUSES = ["open", "open", "open", "temporarily_closed", "planned", "closed"]
CITIES = [(36.62, 101.78, "630102"), (31.82, 117.23, "340104"), (36.07, 120.38, "370202")]


def random_rows(rng, n, first_id=1) -> list[IndexRow]:
    keys = FACILITIES.keys()
    rows = []
    for i in range(n):
        lat, lon, adcode = CITIES[rng.integers(0, len(CITIES))]
        rows.append(
            IndexRow(
                first_id + i,
                float(lat + rng.normal(0, 0.05)),
                float(lon + rng.normal(0, 0.06)),
                tuple(k for k in keys if rng.random() < 0.4),
                str(rng.choice(STATUSES)),
                str(rng.choice(HOURS)),
                adcode,
            )
        )
    return rows


def answers(locator, rng, queries=40):
    """What riders and the map would be told, for comparing two indexes."""
    from datetime import datetime

    from stations.core.hours import TZ

    at = datetime(2026, 11, 20, 23, 0, tzinfo=TZ)
    out = []
    for q in range(queries):
        lat, lon, _ = CITIES[q % len(CITIES)]
        lat, lon = lat + rng.normal(0, 0.05), lon + rng.normal(0, 0.05)
        for kwargs in (
            {},
            {"facilities": ["toilet"]},
            {"open_now": True, "at": at},
            {"region": "3401"},
        ):
            hits = locator.nearest(lat, lon, 7, **kwargs)
            out.append([(h.id, round(h.distance_m, 3)) for h in hits])
        view = locator.in_box(lat - 0.05, lon - 0.05, lat + 0.05, lon + 0.05)
        out.append(sorted(view.ids.tolist()))
    return out


def test_a_patched_snapshot_answers_as_a_fresh_build():
    rng = np.random.default_rng(8)
    rows = {r.id: r for r in random_rows(rng, 3000)}
    locator = Locator.from_rows(rows.values(), seq=1)
    for step in range(2, 40):  # moves, status and facility changes, new and deleted stations
        changed = []
        for station_id in rng.choice(list(rows), 25, replace=False):
            r = rows[int(station_id)]
            changed.append(
                r._replace(
                    lat=r.lat + rng.normal(0, 0.02),
                    status=str(rng.choice(STATUSES)),
                    facilities=tuple(k for k in FACILITIES.keys() if rng.random() < 0.5),
                )
            )
        changed += random_rows(rng, 5, first_id=max(rows) + 1)
        gone = [int(i) for i in rng.choice(list(rows), 3, replace=False)]
        changed = [r for r in changed if r.id not in gone]
        rows.update((r.id, r) for r in changed)
        for station_id in gone:
            rows.pop(station_id)
        locator = locator.patched(changed, gone, seq=step)
    fresh = Locator.from_rows(rows.values(), seq=39)
    assert locator.overlay_size > 500  # the comparison really went through the overlay
    assert len(locator) == len(fresh) == len(rows)
    assert answers(locator, np.random.default_rng(1)) == answers(fresh, np.random.default_rng(1))


def test_the_store_answers_as_the_index_does_while_it_is_built():
    rng = np.random.default_rng(9)
    rows = random_rows(rng, 2000)

    def rows_in_box(min_lat, min_lon, max_lat, max_lon):
        return [r for r in rows if min_lat <= r.lat <= max_lat and min_lon <= r.lon <= max_lon]

    fallback, index = StoreLocator(rows_in_box), Locator.from_rows(rows)
    assert answers(fallback, np.random.default_rng(2)) == answers(index, np.random.default_rng(2))
    # far from every station the boxes grow until they find some
    far = fallback.nearest(45.0, 90.0, 3)
    assert [h.id for h in far] == [h.id for h in index.nearest(45.0, 90.0, 3)]
    assert far[0].distance_m > 1_000_000


def test_clusters_count_what_the_grid_finds():
    rows = random_rows(np.random.default_rng(3), 2000)
    view = Locator.from_rows(rows).in_box(30, 100, 40, 125)
    visible = [r for r in rows if r.status in ("open", "temporarily_closed")]
    assert len(view) == len(visible)
    assert sum(c.count for c in clusters(view, 30, 100, 40, 125)) == len(visible)


# -- against a real SQLite file ---------------------------------------------------------------


def station(code, lat, lon, **fields):
    return Station(
        code=code,
        name=f"驿站 {code}",
        lat=lat,
        lon=lon,
        adcode="630102",
        province="青海省",
        city="西宁市",
        district="城中区",
        opening_hours="24/7",
        **fields,
    )


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'index.db'}"
    store = open_store(url)
    store.migrate()
    store.save_many([station(f"S{i:03d}", 36.60 + i * 0.001, 101.77) for i in range(200)], [], NOW)
    store.close()
    return url


@pytest.fixture
def store(url):
    store = open_store(url)
    yield store
    store.close()


def ready(index: LiveIndex, store) -> Locator:
    index.locator(store)  # starts the build
    assert index.wait_for_build(30)
    located = index.locator(store)
    assert isinstance(located, Locator)
    return located


def test_check_ins_and_name_edits_do_not_move_the_index(store):
    before = store.index_seq()
    first = store.get_by_code("S000")
    store.add_checkin(first.id, "ok", None, "client", NOW, True)  # stamps verified_at
    first = store.get(first.id)
    with store.transaction():
        assert store.update_station(
            replace(first, name="新名字", manager_phone="13800000000"), first.version, NOW
        )
    assert store.get(first.id).verified_at == NOW
    assert store.index_seq() == before
    moved = store.get(first.id)
    with store.transaction():
        assert store.update_station(replace(moved, lat=36.5), moved.version, NOW)
    assert store.index_seq() == before + 1


def test_a_write_is_answered_at_once_without_a_rebuild(url, store):
    index = LiveIndex(lambda: open_store(url))
    located = ready(index, store)
    assert located.nearest(36.85, 101.77, 1)[0].id == store.get_by_code("S199").id
    # another process moves a station next to the query point
    other = open_store(url)
    s = other.get_by_code("S005")
    with other.transaction():
        other.update_station(replace(s, lat=36.9), s.version, NOW)
    other.close()
    assert index.locator(store).nearest(36.9, 101.77, 1)[0].id == s.id
    # and closes another: it is no longer offered
    with store.transaction():
        s = store.get(s.id)
        store.update_station(replace(s, status="closed"), s.version, NOW)
    assert s.id not in [h.id for h in index.locator(store).nearest(36.9, 101.77, 3)]
    assert index.builds == 1  # patched, never rebuilt


def test_bulk_changes_rebuild_in_the_background_and_the_store_answers_meanwhile(
    url, store, monkeypatch
):
    index = LiveIndex(lambda: open_store(url), overlay_max=50)
    ready(index, store)
    gate = threading.Event()
    real_build = live_index.build

    def slow_build(source):  # hold the rebuild until the test has asked its question
        gate.wait(30)
        return real_build(source)

    monkeypatch.setattr(live_index, "build", slow_build)
    try:
        store.save_many(
            [station(f"N{i:03d}", 30.0 + i * 0.001, 120.0) for i in range(120)], [], NOW
        )
        during = index.locator(store)
        assert isinstance(during, StoreLocator)  # too many to patch: never a stale answer
        hit = during.nearest(30.0, 120.0, 1)[0]
        assert hit.id == store.get_by_code("N000").id
        gate.set()
        assert index.wait_for_build(30)
    finally:
        gate.set()
    after = index.locator(store)
    assert isinstance(after, Locator) and index.builds == 2
    assert after.nearest(30.0, 120.0, 1)[0].id == hit.id


def test_the_change_log_is_bounded_and_a_process_behind_it_rebuilds(store):
    seq = store.index_seq()
    assert store.index_changes(seq, 10) == (seq, [], [])
    assert store.index_changes(-5, 10) is None  # older than the log reaches: rebuild
    assert store.index_changes(seq + 10, 10) is None  # the database went back: rebuild


class HeldCatchUp:
    """The builder's store, held just before it catches up with writes made during the build."""

    def __init__(self, store, entered: threading.Event, release: threading.Event):
        self.store, self.entered, self.release = store, entered, release

    def __getattr__(self, name):
        return getattr(self.store, name)

    def index_changes(self, since, limit):
        self.entered.set()
        assert self.release.wait(30)
        return self.store.index_changes(since, limit)


def test_a_fresh_build_is_never_served_before_it_has_caught_up(url, store):
    entered, release = threading.Event(), threading.Event()
    index = LiveIndex(lambda: HeldCatchUp(open_store(url), entered, release))
    s = store.get_by_code("S010")
    index.locator(store)  # starts the build
    try:
        assert entered.wait(30)  # the build has read every station; now a rider closes one
        with store.transaction():
            store.update_station(replace(s, status="closed"), s.version, NOW)
        during: list = []

        # A request now neither waits for the build nor sees the snapshot without the write.
        def ask():  # a request on another server thread, with its own connection
            own = open_store(url)
            try:
                during.extend(index.locator(own).nearest(s.lat, s.lon, 3))
            finally:
                own.close()

        asking = threading.Thread(target=ask)
        asking.start()
        asking.join(10)
        assert not asking.is_alive(), "a request waited for the build to catch up"
        assert during and s.id not in [h.id for h in during]
    finally:
        release.set()
    assert index.wait_for_build(30)
    after = index.locator(store).nearest(s.lat, s.lon, 3)
    assert isinstance(index.locator(store), Locator) and s.id not in [h.id for h in after]


def test_what_a_write_sees_inside_its_transaction_never_reaches_the_shared_index(url, store):
    s = store.get_by_code("S020")
    assert store.nearest(s.lat, s.lon, 1)[0].id == s.id
    with pytest.raises(RuntimeError), store.transaction():
        store.update_station(replace(s, status="closed"), s.version, NOW)
        assert store.nearest(s.lat, s.lon, 1)[0].id != s.id  # its own uncommitted view
        raise RuntimeError("rolled back")
    other = open_store(url)
    try:
        assert other.nearest(s.lat, s.lon, 1)[0].id == s.id  # still open for everyone
    finally:
        other.close()
