"""What the PostGIS store adds to the contract: the same where-answers as the SQLite store over
thousands of stations, busy rows as StoreBusy, migrations that race safely, pooled connections
given back."""

import random
import threading
import time
from datetime import datetime

import psycopg
import pytest

from stations.core.geo import BBox
from stations.core.hours import TZ
from stations.core.model import Station
from stations.core.vocab import FACILITIES
from stations.store import StoreBusy, StoreError, open_store
from stations.store.postgis.migrate import migration_files
from stations.store.postgis.pool import close_pools, pool_for

from conftest import drop_postgis_database, new_postgis_database, postgis_database

NOW = "2026-11-20T08:00:00+08:00"
KEYS = list(FACILITIES.keys())[:5]
HOURS = ["24/7", "Mo-Su 08:00-18:00", "Mo-Su 20:00-23:00", "Mo-Fr 09:00-17:00; PH off", ""]
STATUSES = ["open", "open", "open", "temporarily_closed", "planned", "closed"]
PLACES = [  # (adcode, province, city, district, lat, lon): clusters of stations round cities
    ("630102", "青海省", "西宁市", "城东区", 36.62, 101.78),
    ("630105", "青海省", "西宁市", "城北区", 36.66, 101.75),
    ("340104", "安徽省", "合肥市", "蜀山区", 31.82, 117.23),
    ("370202", "山东省", "青岛市", "市南区", 36.07, 120.38),
]


def random_stations(count: int, seed: int) -> list[Station]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        adcode, province, city, district, lat, lon = rng.choice(PLACES)
        spread = rng.choice([0.02, 0.2, 2.0])
        status = rng.choice(STATUSES)
        out.append(
            Station(
                code=f"R-{i:05d}",
                name=f"随机驿站 {i}",
                lat=round(lat + rng.gauss(0, spread), 6),
                lon=round(lon + rng.gauss(0, spread), 6),
                adcode=adcode,
                province=province,
                city=city,
                district=district,
                opening_hours=rng.choice(HOURS),
                facilities=tuple(k for k in KEYS if rng.random() < 0.4),
                status=status,
                closed_until="2026-12-01" if status == "temporarily_closed" else None,
            )
        )
    return out


@pytest.fixture(scope="module")
def both_stores(tmp_path_factory, postgres, postgis_template):
    """The same 3,000 stations in a SQLite store (its index warm) and a PostGIS store."""
    stations = random_stations(3000, 11)
    sqlite = open_store(f"sqlite:///{tmp_path_factory.mktemp('cmp') / 'cmp.db'}")
    sqlite.migrate()
    url = new_postgis_database(postgres, postgis_template)
    postgis = open_store(url)
    for store in (sqlite, postgis):
        store.save_many(stations, [], NOW)
    deadline = time.monotonic() + 60
    while not sqlite.spatial_ready():
        assert time.monotonic() < deadline, "the SQLite store's index never became ready"
        threading.Event().wait(0.05)
    yield sqlite, postgis
    sqlite.close()
    postgis.close()
    drop_postgis_database(postgres, url)


def test_both_stores_hold_the_same_stations(both_stores):
    sqlite, postgis = both_stores
    assert list(sqlite.iter_stations()) == list(postgis.iter_stations())
    assert sqlite.summary() == postgis.summary()
    assert sqlite.published_summary() == postgis.published_summary()
    assert sqlite.region_summary("63") == postgis.region_summary("63")
    assert sqlite.centre() == postgis.centre()
    assert sqlite.page(100, 50) == postgis.page(100, 50)
    assert sqlite.stations_in_region("6301", q="驿站 1") == postgis.stations_in_region(
        "6301", q="驿站 1"
    )
    assert sqlite.stations_in_region("", q="r-0001") == postgis.stations_in_region("", q="r-0001")
    assert sqlite.stations_in_region("", q="_") == postgis.stations_in_region("", q="_")


def test_nearest_is_the_same_in_both_stores(both_stores):
    sqlite, postgis = both_stores
    rng = random.Random(5)
    moments = [datetime(2026, 11, 20, 12, tzinfo=TZ), datetime(2026, 11, 21, 21, tzinfo=TZ)]
    for _ in range(150):
        lat, lon = rng.choice(PLACES)[4:]
        lat, lon = lat + rng.gauss(0, 1), lon + rng.gauss(0, 1)
        query = {
            "k": rng.choice([1, 5, 20, 60]),
            "radius_m": rng.choice([None, 300.0, 5_000.0, 100_000.0]),
            "facilities": rng.choice([(), (KEYS[0],), (KEYS[1], KEYS[2])]),
            "open_now": rng.random() < 0.4,
            "at": rng.choice(moments),
            "region": rng.choice(["", "63", "630105", "34"]),
        }
        assert sqlite.nearest(lat, lon, **query) == postgis.nearest(lat, lon, **query), query


def test_boxes_and_clusters_are_the_same_in_both_stores(both_stores):
    sqlite, postgis = both_stores
    rng = random.Random(6)
    evening = datetime(2026, 11, 20, 21, tzinfo=TZ)
    for _ in range(60):
        lat, lon = rng.choice(PLACES)[4:]
        half = rng.choice([0.01, 0.1, 1.0, 5.0])
        box = BBox(lat - half, lon - half * 1.3, lat + half * 0.8, lon + half)
        filters = {
            "facilities": rng.choice([(), (KEYS[0],), (KEYS[1], KEYS[2])]),
            "open_now": rng.random() < 0.4,
            "at": evening,
            "region": rng.choice(["", "63", "370202"]),
        }
        assert sqlite.visible_in_box(box, **filters) == postgis.visible_in_box(box, **filters)
        cells = rng.choice([2, 12, 30])
        assert sqlite.clusters(box, cells=cells, **filters) == postgis.clusters(
            box, cells=cells, **filters
        )
        assert sqlite.count_in_box(box) == postgis.count_in_box(box)
        assert sqlite.in_box(box) == postgis.in_box(box)
        page = {"box": box, "region": filters["region"], "facilities": filters["facilities"]}
        assert sqlite.public_page(**page, limit=500) == postgis.public_page(**page, limit=500)


def test_a_box_edge_is_inside_and_a_hair_beyond_it_is_not(store_on_postgis):
    store = store_on_postgis
    edge = random_stations(1, 3)[0]
    store.save_many([Station(**{**edge.as_dict(), "lat": 36.5, "lon": 101.5})], [], NOW)
    assert store.count_in_box(BBox(36.5, 101.5, 37, 102)) == 1  # edges included
    assert store.count_in_box(BBox(36.5000001, 101.5, 37, 102)) == 0


@pytest.fixture
def store_on_postgis(request):
    store = open_store(postgis_database(request), busy_timeout_ms=300)
    yield store
    store.close()


def test_a_row_locked_by_another_writer_is_store_busy_within_the_timeout(store_on_postgis):
    store = store_on_postgis
    store.save_many(random_stations(1, 4), [], NOW)
    (stored,) = store.iter_stations()
    with psycopg.connect(store.url) as other:  # holds the row until its transaction ends
        other.execute("select id from stations where id = %s for update", [stored.id])
        started = time.monotonic()
        with pytest.raises(StoreBusy, match="busy"):
            store.save_many([], [stored], NOW)
        assert time.monotonic() - started < 3  # lock_timeout 300 ms, not forever
    store.reset()
    store.save_many([], [stored], NOW)  # once released, the same write goes through
    assert store.get(stored.id).version == 2


def test_an_unreachable_database_is_a_store_error_not_a_hang(postgres):
    url = f"{postgres.base_url.rsplit(':', 1)[0]}:1/nowhere"  # port 1: nothing listens
    store = open_store(url, busy_timeout_ms=300)
    try:
        with pytest.raises(StoreError):
            store.ping()
        with pytest.raises(StoreBusy):
            store.count()
    finally:
        store.close()
        close_pools(url)


def test_servers_migrating_at_once_apply_each_file_once(postgres):
    url = new_postgis_database(postgres, None)  # empty: no schema yet
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            with open_store(url) as store:
                store.migrate()
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=migrate) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with psycopg.connect(url) as conn:
            versions = [r[0] for r in conn.execute("select version from schema_migrations")]
        assert versions == [v for v, _ in migration_files()] == [1, 2, 3, 4]
    finally:
        drop_postgis_database(postgres, url)


def test_connections_go_back_to_the_pool_at_reset(store_on_postgis):
    store = store_on_postgis
    pool = pool_for(store.url)
    store.count()
    stats = pool.get_stats()
    assert stats["pool_available"] < stats["pool_size"]  # borrowed for the request
    store.reset()
    deadline = time.monotonic() + 10
    while (stats := pool.get_stats())["pool_available"] < stats["pool_size"]:
        # every one back (the pool may still be opening one it started when we borrowed)
        assert time.monotonic() < deadline, stats
        threading.Event().wait(0.02)
    with pytest.raises(RuntimeError), store.transaction():
        store.insert_station(random_stations(1, 9)[0], NOW)
        raise RuntimeError("a failed request")
    store.reset()
    assert store.count() == 0


def test_a_transaction_is_not_reentrant(store_on_postgis):
    store = store_on_postgis
    with store.transaction(), pytest.raises(StoreError), store.transaction():
        pass
