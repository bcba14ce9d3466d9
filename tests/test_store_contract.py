"""What every store must do, whatever database is underneath: the protocols' behaviour.

Each test uses only methods of the protocols in stations/store/protocols.py, against a real
database. The `store` fixture is parametrised by store kind: a PostGIS store joins by adding its
kind to STORE_KINDS and a way to open it in `_open`; every test here then runs against it too.
"""

import inspect
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from stations.core.accounts import ApiKey, StaffSession, User
from stations.core.audits import Audit, AuditItem
from stations.core.checkins import Report, ReportCount
from stations.core.demand import DemandLayer, DemandPoint, SearchCell, cell_centre, cell_of
from stations.core.editing import Change
from stations.core.geo import BBox
from stations.core.hours import TZ
from stations.core.locator import Cluster, Hit
from stations.core.model import Station, validate
from stations.store import VersionConflict, open_store
from stations.store.protocols import Store

from conftest import postgis_database

STORE_KINDS = ["sqlite", "postgis"]
NOW = "2026-11-20T08:00:00+08:00"
LATER = "2026-11-21T09:30:00+08:00"

# Real places (lat 30-37, lon 101-121, so a swapped pair would be caught).
XINING = (36.6171, 101.7782)
HEFEI = (31.8206, 117.2272)
QINGDAO = (36.0671, 120.3826)


def _open(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    """A store on this test's own database (the same one each time within a test)."""
    if kind == "sqlite":
        return open_store(f"sqlite:///{tmp_path / 'contract.db'}")
    if kind == "postgis":
        url = getattr(request.node, "postgis_url", None)
        if url is None:
            url = request.node.postgis_url = postgis_database(request)
        return open_store(url)
    raise ValueError(f"no way to open a {kind} store")


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path) -> Iterator[Store]:
    opened = _open(request.param, tmp_path, request)
    opened.migrate()
    yield opened
    opened.close()


def station(code: str, at: tuple[float, float], **fields) -> Station:
    lat, lon = at
    record = {"code": code, "name": f"{code} 驿站", "lat": lat, "lon": lon, **fields}
    return validate(record, now=datetime(2026, 11, 20, 8, tzinfo=TZ))


def near(at: tuple[float, float], metres_north: float) -> tuple[float, float]:
    return round(at[0] + metres_north / 111_000, 7), at[1]


def load(store: Store, *stations: Station) -> dict[str, Station]:
    """Save new stations; the stored versions by code."""
    store.save_many(list(stations), [], NOW)
    return store.by_codes(s.code for s in stations)


def make_user(store: Store, name: str = "xn-auditor", role: str = "auditor") -> User:
    user_id = store.create_user(name, "argon2-hash", role, "6301", NOW)
    found = store.user(user_id)
    assert found is not None
    return found


# -- stations ---------------------------------------------------------------------------------


def test_stations_come_back_as_saved(store):
    saved = load(
        store,
        station("XN-1", XINING, facilities="drinking_water;toilet", opening_hours="24/7"),
        station("HF-1", HEFEI, status="temporarily_closed", closed_until="2026-12-01"),
    )
    xn = saved["XN-1"]
    assert (xn.lat, xn.lon) == XINING
    assert xn.facilities == ("drinking_water", "toilet")  # a tuple of keys, never JSON text
    assert xn.opening_hours == "24/7" and xn.adcode.startswith("63")
    assert (xn.version, xn.created_at, xn.updated_at) == (1, NOW, NOW)
    assert saved["HF-1"].status == "temporarily_closed"
    assert saved["HF-1"].closed_until == "2026-12-01"
    assert store.get(xn.id) == xn and store.get_by_code("XN-1") == xn
    assert store.by_ids([xn.id, saved["HF-1"].id]) == {xn.id: xn, saved["HF-1"].id: saved["HF-1"]}
    assert store.get(999_999) is None and store.get(0) is None and store.get(2**63) is None
    assert store.get_by_code("NOPE") is None and store.by_codes(["NOPE"]) == {}
    assert [s.code for s in store.iter_stations()] == ["HF-1", "XN-1"]
    assert store.count() == 2


def test_pages_and_lists(store):
    load(store, station("QD-1", QINGDAO), station("HF-1", HEFEI), station("XN-1", XINING))
    # Paging walks one stable order (province, city, district, code) without gaps or repeats.
    everything = [s.code for s in store.page(0, 10)]
    assert sorted(everything) == ["HF-1", "QD-1", "XN-1"]
    assert [s.code for s in store.page(0, 2) + store.page(2, 2)] == everything
    assert store.page(3, 10) == []
    assert [s.code for s in store.stations_in_region("63")] == ["XN-1"]
    assert [s.code for s in store.stations_in_region("", q="HF")] == ["HF-1"]
    matching = [s.code for s in store.stations_in_region("", q="驿站")]
    assert sorted(matching) == ["HF-1", "QD-1", "XN-1"]
    assert [s.code for s in store.stations_in_region("", q="驿站", limit=1, offset=1)] == [
        matching[1]
    ]


def test_staff_station_pages(store):
    """The staff list pages in the store: filters, search, sorts, and the total that matches."""
    xn = [
        station(
            "XN-3", near(XINING, 0), name="城中区丙站", verified_at="2026-11-01T10:00:00+08:00"
        ),
        station("XN-1", near(XINING, 50), name="城中区乙站", address="长江路 5 号"),
        station(
            "XN-2",
            near(XINING, 100),
            name="城中区甲站",
            status="planned",
            verified_at="2026-10-01T10:00:00+08:00",
        ),
        station("XN-4", near(XINING, 150), name="50%_站", status="closed"),
    ]
    saved = load(store, *xn, station("HF-1", HEFEI, name="合肥站"))
    adcode = saved["XN-1"].adcode

    def page(**kw):
        rows, total = store.stations_page("63", **kw)
        return [s.code for s in rows], total

    assert page() == (["XN-4", "XN-3", "XN-1", "XN-2"], 4)  # by name in code-point order
    assert page(sort="code") == (["XN-1", "XN-2", "XN-3", "XN-4"], 4)
    assert page(sort="code", descending=True) == (["XN-4", "XN-3", "XN-2", "XN-1"], 4)
    # never verified counts as oldest: first going up, last going down (ties by code)
    assert page(sort="verified")[0] == ["XN-1", "XN-4", "XN-2", "XN-3"]
    assert page(sort="verified", descending=True)[0] == ["XN-3", "XN-2", "XN-1", "XN-4"]
    # status in the vocabulary's order: planned, open, temporarily closed, closed
    assert page(sort="status")[0] == ["XN-2", "XN-1", "XN-3", "XN-4"]
    assert page(sort="district")[0] == ["XN-1", "XN-2", "XN-3", "XN-4"]
    # paging: the same order in slices, the total of every match each time
    assert page(sort="code", offset=1, limit=2) == (["XN-2", "XN-3"], 4)
    assert page(sort="code", offset=4, limit=2) == ([], 4)
    # search in name, code, address and district; % and _ are literal
    assert page(q="长江路") == (["XN-1"], 1)
    assert page(q="xn-3") == (["XN-3"], 1)  # ASCII case-insensitive
    assert page(q=saved["XN-1"].district, sort="code")[1] == 4
    assert page(q="%_") == (["XN-4"], 1) and page(q="_")[1] == 1 and page(q="%")[1] == 1
    assert page(status="planned") == (["XN-2"], 1)
    assert page(adcode=adcode, sort="code")[1] == 4 and page(adcode="340104") == ([], 0)
    assert page(q="合肥") == ([], 0)  # another region's station never shows
    assert store.stations_page("", q="合肥")[1] == 1
    with pytest.raises(ValueError):
        store.stations_page("63", sort="name; drop table stations")
    with pytest.raises(ValueError):
        store.stations_page("63", limit=0)
    assert store.region_districts("63") == [(adcode, saved["XN-1"].city, saved["XN-1"].district)]
    assert [d[0] for d in store.region_districts("")] == sorted({saved["HF-1"].adcode, adcode})


def test_published_filters(store):
    stored = load(
        store,
        station("XN-OPEN", XINING, facilities="drinking_water;toilet"),
        station(
            "XN-TEMP",
            near(XINING, 300),
            status="temporarily_closed",
            closed_until="2026-12-01",
            facilities="toilet",
        ),
        station("XN-PLAN", near(XINING, 600), status="planned", facilities="drinking_water;toilet"),
        station("XN-SHUT", near(XINING, 900), status="closed"),
        station("HF-OPEN", HEFEI, facilities="drinking_water"),
    )

    def codes(**filters) -> list[str]:
        return sorted(s.code for s in store.public_page(**filters))

    assert codes() == ["HF-OPEN", "XN-OPEN", "XN-TEMP"]  # never a planned or closed station
    assert codes(region="63") == ["XN-OPEN", "XN-TEMP"]
    assert codes(statuses=["open"]) == ["HF-OPEN", "XN-OPEN"]
    assert codes(facilities=["drinking_water", "toilet"]) == ["XN-OPEN"]  # every one of them
    box = BBox(XINING[0] - 0.01, XINING[1] - 0.01, XINING[0] + 0.01, XINING[1] + 0.01)
    assert codes(box=box) == ["XN-OPEN", "XN-TEMP"]
    assert codes(updated_since=NOW) == []  # strictly after
    assert codes(updated_since="2026-11-19T00:00:00+08:00") == codes()
    # A cursor walks by id: pages of one follow each other with nothing missed.
    walked, after = [], 0
    while page := store.public_page(after_id=after, limit=1):
        walked.append(page[0].code)
        after = page[0].id
    assert sorted(walked) == codes()
    assert [s.id for s in store.public_page()] == sorted(
        stored[c].id for c in ("HF-OPEN", "XN-OPEN", "XN-TEMP")
    )
    # The one rule, through every published read.
    public = {"HF-OPEN", "XN-OPEN", "XN-TEMP"}
    for code, s in stored.items():
        shown = code in public
        assert (store.published(s.id) is not None) is shown, code
        assert (store.published_by_code(code) is not None) is shown, code
    found = store.published_by_ids(s.id for s in stored.values())
    assert {s.code for s in found.values()} == public
    assert [s.code for s in store.iter_published()] == sorted(public)
    assert [s.code for s in store.iter_published("63")] == ["XN-OPEN", "XN-TEMP"]
    listed = store.published_list(0, 2) + store.published_list(2, 2)
    assert sorted(s.code for s in listed) == sorted(public)
    summary = store.published_summary()
    assert summary["total"] == 3 and summary["by_status"] == {"open": 2, "temporarily_closed": 1}
    assert store.summary()["total"] == 5  # staff counts see every station


def test_published_extent_bounds_a_regions_published_stations(store):
    east_of_xining = (XINING[0] - 0.02, XINING[1] + 0.05)
    stored = load(
        store,
        station("XN-A", XINING),
        station("XN-B", east_of_xining, status="temporarily_closed", closed_until="2026-12-01"),
        station("XN-PLAN", (XINING[0] + 0.03, XINING[1] - 0.04), status="planned"),
        station("XN-SHUT", (XINING[0] - 0.05, XINING[1]), status="closed"),
        station("HF-1", HEFEI),
    )
    south, west, north, east, count = store.published_extent("63")
    assert count == 2  # the planned and the closed station are not the public's
    assert (south, west, north, east) == (
        east_of_xining[0],
        XINING[1],
        XINING[0],
        east_of_xining[1],
    )
    assert store.published_extent("6301") == store.published_extent("63")
    assert store.published_extent(stored["XN-A"].adcode)[4] >= 1
    assert store.published_extent("34") == (HEFEI[0], HEFEI[1], HEFEI[0], HEFEI[1], 1)
    assert store.published_extent("37") is None  # Shandong: no station at all
    assert store.published_extent("")[4] == 3  # everywhere


def test_boxes_centre_and_counts(store):
    load(
        store,
        station("XN-1", XINING),
        station("XN-2", near(XINING, 200), status="planned"),
        station("XN-3", near(XINING, 400)),
        station("HF-1", HEFEI),
        station("DEMO-1", QINGDAO),
    )
    box = BBox(XINING[0] - 0.01, XINING[1] - 0.01, XINING[0] + 0.01, XINING[1] + 0.01)
    assert sorted(s.code for s in store.in_box(box)) == ["XN-1", "XN-2", "XN-3"]  # any status
    assert store.count_in_box(box) == 3
    assert store.count_in_box(BBox(0, 0, 1, 1)) == 0
    lat, lon = store.centre()  # the city with the most stations: Xining
    assert abs(lat - (XINING[0] + 200 / 111_000)) < 1e-6 and abs(lon - XINING[1]) < 1e-9
    assert store.demo_count() == 1
    summary = store.summary()
    assert summary["total"] == 5
    assert summary["by_status"] == {"open": 4, "planned": 1}
    assert summary["by_city"][0]["stations"] == 3 and summary["by_city"][0]["open"] == 2
    assert summary["updated_at"] == NOW
    region = store.region_summary("63")
    assert region["by_status"] == {"open": 2}  # the planned one is not public
    assert region["verified"] == 0 and region["updated_at"] == NOW


def test_empty_registry(store):
    assert store.count() == 0 and store.centre() is None and store.iter_stations() is not None
    assert store.summary() == {"total": 0, "by_status": {}, "by_city": [], "updated_at": None}
    assert store.nearest(*XINING) == [] and store.public_page() == []


def test_region_summary_counts_facilities_of_open_stations(store):
    load(
        store,
        station("XN-1", XINING, facilities="drinking_water;toilet"),
        station("XN-2", near(XINING, 300), facilities="toilet"),
        station(
            "XN-3",
            near(XINING, 600),
            facilities="toilet",
            status="temporarily_closed",
            closed_until="2026-12-01",
        ),
    )
    assert store.region_summary("63")["facilities"] == {"drinking_water": 1, "toilet": 2}
    assert store.region_summary("34")["by_status"] == {}


def test_updates_move_the_version_and_refuse_stale_ones(store):
    xn = load(store, station("XN-1", XINING))["XN-1"]
    with store.transaction():
        assert store.update_station(replace(xn, name="新名字驿站"), 1, LATER)
    moved = store.get(xn.id)
    assert (moved.name, moved.version, moved.updated_at) == ("新名字驿站", 2, LATER)
    with store.transaction():
        assert not store.update_station(replace(xn, name="过时的"), 1, LATER)  # stale
    assert store.get(xn.id).name == "新名字驿站"


def test_save_many_refuses_a_stale_change_and_writes_nothing(store):
    xn = load(store, station("XN-1", XINING))["XN-1"]
    store.save_many([], [replace(xn, name="第一次")], LATER)
    revision = store.revision()
    with pytest.raises(VersionConflict):
        store.save_many([station("HF-1", HEFEI)], [replace(xn, name="第二次")], LATER)  # v1 seen
    assert store.get(xn.id).name == "第一次" and store.get(xn.id).version == 2
    assert store.get_by_code("HF-1") is None  # the new one in the same call is not kept either
    assert store.revision() == revision


def test_a_failed_transaction_leaves_nothing(store):
    before = store.count()
    with pytest.raises(RuntimeError), store.transaction():
        station_id = store.insert_station(station("XN-1", XINING), NOW)
        store.add_change(station_id, None, NOW, "create", None, {"name": "XN-1 驿站"})
        raise RuntimeError("the editor's browser went away")
    assert store.count() == before and store.get_by_code("XN-1") is None
    assert store.history(station_id) == [] and store.last_change(station_id) is None


def test_history_comes_back_as_changes(store):
    user = make_user(store)
    with store.transaction():
        station_id = store.insert_station(station("XN-1", XINING), NOW)
        store.add_change(station_id, user, NOW, "create", None, {"name": "XN-1 驿站"})
    with store.transaction():
        store.add_change(
            station_id, None, LATER, "update", {"name": "XN-1 驿站"}, {"name": "新名字"}
        )
    newest, oldest = store.history(station_id)
    assert newest == store.last_change(station_id)
    assert isinstance(newest, Change) and (newest.actor, newest.user_id) == ("command line", None)
    assert (newest.before, newest.after) == ({"name": "XN-1 驿站"}, {"name": "新名字"})
    assert (oldest.actor, oldest.user_id, oldest.action) == (user.name, user.id, "create")
    assert oldest.before is None and oldest.after == {"name": "XN-1 驿站"}


def test_imports_write_history_with_the_actor(store):
    user = make_user(store, "importer", "admin")
    xn = load(store, station("XN-1", XINING))["XN-1"]
    store.save_many([], [replace(xn, name="改名")], LATER, actor=user, previous={xn.id: xn})
    change = store.last_change(xn.id)
    assert (change.action, change.actor) == ("import", "importer")
    assert (change.before, change.after) == ({"name": "XN-1 驿站"}, {"name": "改名"})
    ticks = []
    store.save_many([station("HF-1", HEFEI)], [], LATER, progress=ticks.append)
    assert sum(ticks) == 1


def test_revision_moves_with_what_spatial_indexes_use_and_nothing_else(store):
    start = store.revision()
    xn = load(store, station("XN-1", XINING))["XN-1"]
    after_insert = store.revision()
    assert after_insert != start
    store.get(xn.id), store.summary()  # reads leave it alone
    assert store.revision() == after_insert
    store.save_many([], [replace(xn, name="改名")], LATER)  # a name is not indexed
    store.add_checkin(xn.id, "ok", None, "client", LATER, True)  # nor is verified_at
    assert store.revision() == after_insert
    renamed = store.get(xn.id)
    store.save_many([], [replace(renamed, opening_hours="24/7")], LATER)
    assert store.revision() != after_insert


# -- where-questions ---------------------------------------------------------------------------


def test_where_questions_are_answered_before_and_after_the_index_is_warm(store):
    xn = load(store, station("XN-1", XINING), station("HF-1", HEFEI))["XN-1"]
    before = store.nearest(*near(XINING, 50), 1)  # whatever the index's state: the right answer
    deadline = time.monotonic() + 30
    while not store.spatial_ready():
        assert time.monotonic() < deadline, "the spatial index never became ready"
        threading.Event().wait(0.05)
    after = store.nearest(*near(XINING, 50), 1)
    assert [h.id for h in before] == [h.id for h in after] == [xn.id]
    assert after[0].distance_m == pytest.approx(before[0].distance_m, abs=0.01)


def test_nearest_ranks_by_distance_and_shows_only_published(store):
    stored = load(
        store,
        station("N-100", near(XINING, 100), facilities="toilet"),
        station("N-300", near(XINING, 300), facilities="drinking_water;toilet"),
        station("N-50-PLAN", near(XINING, 50), status="planned"),
        station("N-60-SHUT", near(XINING, 60), status="closed"),
        station(
            "N-500-TEMP", near(XINING, 500), status="temporarily_closed", closed_until="2026-12-01"
        ),
        station("HF-1", HEFEI),
    )
    ids = {s.id: code for code, s in stored.items()}
    hits = store.nearest(*XINING, k=3)
    assert all(isinstance(h, Hit) for h in hits)
    assert [ids[h.id] for h in hits] == ["N-100", "N-300", "N-500-TEMP"]
    assert abs(hits[0].distance_m - 100) < 1 and round(hits[0].bearing_deg) % 360 == 0
    with_water = store.nearest(*XINING, k=5, facilities=["drinking_water"])
    assert [ids[h.id] for h in with_water] == ["N-300"]  # HF-1 lists none
    assert [ids[h.id] for h in store.nearest(*XINING, k=5, region="34")] == ["HF-1"]
    inside = store.nearest(*XINING, k=5, radius_m=200)
    assert [ids[h.id] for h in inside] == ["N-100"] and not inside[0].beyond_radius
    anyway = store.nearest(*HEFEI, k=1, radius_m=10, region="63")
    assert [ids[h.id] for h in anyway] == ["N-100"] and anyway[0].beyond_radius


def test_nearest_open_now_reads_the_hours_at_the_moment_given(store):
    stored = load(
        store,
        station("DAY", near(XINING, 100), opening_hours="Mo-Su 08:00-18:00"),
        station("NIGHT", near(XINING, 200), opening_hours="Mo-Su 20:00-23:00"),
    )
    ids = {s.id: code for code, s in stored.items()}
    noon = datetime(2026, 11, 20, 12, tzinfo=TZ)
    evening = datetime(2026, 11, 20, 21, tzinfo=TZ)
    assert [ids[h.id] for h in store.nearest(*XINING, open_now=True, at=noon)] == ["DAY"]
    assert [ids[h.id] for h in store.nearest(*XINING, open_now=True, at=evening)] == ["NIGHT"]


def test_the_map_view_and_its_clusters(store):
    load(
        store,
        *(station(f"XN-{i}", near(XINING, 100 * i), facilities="toilet") for i in range(1, 6)),
        station("XN-PLAN", near(XINING, 50), status="planned"),
        station("HF-1", HEFEI),
    )
    box = BBox(XINING[0] - 0.02, XINING[1] - 0.02, XINING[0] + 0.02, XINING[1] + 0.02)
    visible = store.visible_in_box(box)
    assert sorted(s.code for s in store.by_ids(visible).values()) == [
        f"XN-{i}" for i in range(1, 6)
    ]
    assert store.visible_in_box(box, facilities=["drinking_water"]) == []
    assert store.visible_in_box(box, region="34") == []
    clusters = store.clusters(box, cells=2)
    assert all(isinstance(c, Cluster) for c in clusters)
    assert sum(c.count for c in clusters) == 5
    assert all(box.min_lat <= c.lat <= box.max_lat for c in clusters)


def test_where_questions_follow_writes(store):
    xn = load(store, station("XN-1", XINING))["XN-1"]
    assert [h.id for h in store.nearest(*XINING)] == [xn.id]
    store.save_many([], [replace(xn, status="closed")], LATER)
    assert store.nearest(*XINING) == []
    assert store.visible_in_box(BBox(36, 101, 37, 102)) == []


def test_reset_rolls_back_what_a_failed_request_left_open_and_ping_answers(store):
    before = store.ping()
    assert before == store.revision()
    left_open = store.transaction()  # a request that died inside its transaction
    left_open.__enter__()
    store.insert_station(station("XN-1", XINING), NOW)
    store.reset()
    assert store.get_by_code("XN-1") is None and store.ping() == before
    load(store, station("XN-2", XINING))  # the connection serves the next request
    assert store.get_by_code("XN-2") is not None


# -- check-ins --------------------------------------------------------------------------------


def test_checkins_are_counted_per_client(store):
    stored = load(store, station("XN-1", XINING), station("HF-1", HEFEI))
    xn, hf = stored["XN-1"].id, stored["HF-1"].id
    store.add_checkin(xn, "locked", None, "client-a", NOW, False)
    store.add_checkin(hf, "ok", None, "client-a", LATER, True)
    store.add_checkin(xn, "ok", None, "client-b", LATER, True)
    assert store.checkins_since("client-a", NOW) == 2
    assert store.checkins_since("client-a", LATER) == 1  # from that moment on
    assert store.checkins_since("client-a", NOW, station_id=xn) == 1
    assert store.checkins_since("client-c", NOW) == 0


def test_a_positive_checkin_verifies_without_moving_the_version(store):
    xn = load(store, station("XN-1", XINING))["XN-1"]
    checkin_id = store.add_checkin(xn.id, "ok", None, "client-a", LATER, True)
    assert checkin_id > 0
    after = store.get(xn.id)
    assert after.verified_at == LATER and after.version == xn.version
    store.add_checkin(xn.id, "locked", None, "client-b", NOW, False)
    assert store.get(xn.id).verified_at == LATER  # a problem report verifies nothing


def test_inserts_inside_the_callers_transaction_roll_back_with_it(store):
    xn = load(store, station("XN-1", XINING))["XN-1"]
    with pytest.raises(RuntimeError), store.transaction():
        store.insert_checkin(xn.id, "ok", None, "client-a", LATER, True)
        store.insert_user("late", "argon2-hash", "viewer", "", LATER)
        raise RuntimeError("the rate check failed after the insert")
    assert store.checkins_since("client-a", NOW) == 0 and store.user_login("late") is None
    assert store.get(xn.id).verified_at is None
    with store.transaction():
        store.insert_checkin(xn.id, "ok", None, "client-a", LATER, True)
        user_id = store.insert_user("late", "argon2-hash", "viewer", "", LATER)
    assert store.checkins_since("client-a", NOW) == 1 and store.user(user_id).name == "late"


def test_open_reports_are_grouped_for_workers(store):
    stored = load(store, station("XN-1", XINING), station("HF-1", HEFEI))
    xn, hf = stored["XN-1"].id, stored["HF-1"].id
    store.add_checkin(xn, "locked", None, "a", NOW, False)
    store.add_checkin(xn, "locked", None, "b", LATER, False)
    store.add_checkin(xn, "broken", "toilet", "c", NOW, False)
    store.add_checkin(xn, "ok", None, "d", LATER, True)
    store.add_checkin(hf, "locked", None, "a", "2026-10-01T08:00:00+08:00", False)  # too old
    found = store.open_reports([xn, hf], since="2026-11-01T00:00:00+08:00")
    assert found == {
        xn: [
            ReportCount(kind="locked", facility="", count=2, last_at=LATER),
            ReportCount(kind="broken", facility="toilet", count=1, last_at=NOW),
        ]
    }


# -- accounts ---------------------------------------------------------------------------------


def test_users_and_sign_in(store):
    user = make_user(store)
    assert user == User(user.id, "xn-auditor", "auditor", "6301", None)
    assert store.user_login("xn-auditor") == (user, "argon2-hash")
    assert store.user_login("nobody") is None and store.user(user.id + 100) is None
    viewer = make_user(store, "hf-viewer", "viewer")
    assert [u.name for u in store.users()] == ["hf-viewer", "xn-auditor"]
    assert store.disable_user("xn-auditor", LATER)
    assert store.user(user.id).disabled_at == LATER
    assert not store.disable_user("xn-auditor", LATER)  # already disabled
    assert store.user(viewer.id).disabled_at is None


def test_sessions_end_and_end_with_their_user(store):
    user = make_user(store)
    store.create_session("session-1", user.id, NOW)
    assert store.session("session-1") == StaffSession(user, NOW, NOW, None)
    store.touch_session("session-1", LATER)
    assert store.session("session-1").last_seen == LATER
    assert store.session("session-1").created_at == NOW  # the session's, not the user's
    store.end_session("session-1", LATER)
    assert store.session("session-1").ended_at == LATER
    store.create_session("session-2", user.id, NOW)
    store.disable_user(user.name, LATER)
    assert store.session("session-2").ended_at == LATER
    assert store.session("no-such-session") is None


def test_tokens_name_their_active_user(store):
    user = make_user(store)
    store.add_token(user.id, "hash-1", NOW)
    store.add_token(user.id, "hash-2", NOW)
    assert store.token_user("hash-1") == user
    assert store.token_user("unknown") is None
    assert store.revoke_tokens(user.id, LATER) == 2
    assert store.token_user("hash-1") is None and store.revoke_tokens(user.id, LATER) == 0
    store.add_token(user.id, "hash-3", LATER)
    store.disable_user(user.name, LATER)
    assert store.token_user("hash-3") is None


def test_login_failures_are_counted_per_key_since_a_moment(store):
    store.add_login_failure(["client-key", "name-key"], NOW)
    store.add_login_failure(["client-key"], LATER)
    assert store.login_failures("client-key", NOW) == 2
    assert store.login_failures("client-key", LATER) == 1
    assert store.login_failures("name-key", LATER) == 0
    # the newest failure of a key since a moment: where a sign-in backoff counts from
    assert store.last_login_failure("client-key", NOW) == LATER
    assert store.last_login_failure("name-key", NOW) == NOW
    assert store.last_login_failure("name-key", LATER) is None


# -- audits and reports -----------------------------------------------------------------------


def _audit(store: Store, station_id: int, user: User, visited_on: str, items) -> int:
    audit = Audit(station_id, user.id, "liuyou_a", visited_on, "scheduled", 0.5, False, NOW)
    with store.transaction():
        return store.add_audit(audit, items)


def test_audits_and_their_items_come_back_typed(store):
    user = make_user(store)
    xn = load(store, station("XN-1", XINING))["XN-1"]
    first = _audit(store, xn.id, user, "2026-05-01", [AuditItem("drinking_water", "pass")])
    items = [
        AuditItem("drinking_water", "pass", "", None, "photo-1.jpg"),
        AuditItem("first_aid_kit", "fail", "药品过期", "2026-11-01"),
        AuditItem("toilet", "na"),
    ]
    latest = _audit(store, xn.id, user, "2026-11-15", items)
    assert latest != first
    audits = store.audits_for(xn.id)
    assert [a.id for a in audits] == [latest, first]  # latest visit first
    expected = Audit(
        station_id=xn.id,
        user_id=user.id,
        profile="liuyou_a",
        visited_on="2026-11-15",
        visit_kind="scheduled",
        score=0.5,
        passed=False,
        created_at=NOW,
        id=latest,
        auditor="xn-auditor",
    )
    assert audits[0] == expected and store.latest_audits([xn.id]) == {xn.id: expected}
    assert store.audit_items(latest) == items
    assert store.expired_items([xn.id], "2026-11-20") == {xn.id: [items[1]]}
    assert store.expired_items([xn.id], "2026-11-01") == {}  # valid through that day
    assert store.photo_owner("photo-1.jpg") == xn.id and store.photo_owner("other.jpg") is None
    assert store.latest_audits([]) == {} and store.audits_for(xn.id + 100) == []
    rows = store.audit_rows("63")  # the staff export: one row per item, newest audit first
    assert [(r["code"], r["visited_on"], r["item"], r["result"]) for r in rows] == [
        ("XN-1", "2026-11-15", "drinking_water", "pass"),
        ("XN-1", "2026-11-15", "first_aid_kit", "fail"),
        ("XN-1", "2026-11-15", "toilet", "na"),
        ("XN-1", "2026-05-01", "drinking_water", "pass"),
    ]
    assert rows[0]["auditor"] == "xn-auditor" and store.audit_rows("34") == []


def test_a_failed_audit_write_leaves_nothing(store):
    user = make_user(store)
    xn = load(store, station("XN-1", XINING))["XN-1"]
    audit = Audit(xn.id, user.id, "liuyou_a", "2026-11-15", "scheduled", 1.0, True, NOW)
    with pytest.raises(RuntimeError), store.transaction():
        store.add_audit(audit, [AuditItem("drinking_water", "pass")])
        raise RuntimeError("the photo could not be stored")
    assert store.audits_for(xn.id) == [] and store.latest_audits([xn.id]) == {}


def test_region_profiles_take_the_longest_prefix(store):
    assert store.region_profile("630102") == "liuyou_a"  # the national default
    store.set_region_profile("63", "siyou")
    store.set_region_profile("6301", "bayou")
    assert store.region_profile("630102") == "bayou"
    assert store.region_profile("632100") == "siyou"
    assert store.region_profile("340104") == "liuyou_a"


def test_problem_reports_move_through_their_states(store):
    user = make_user(store)
    stored = load(store, station("XN-1", XINING), station("HF-1", HEFEI))
    xn = stored["XN-1"]
    store.add_checkin(xn.id, "broken", "toilet", "a", NOW, False)
    store.add_checkin(xn.id, "ok", None, "b", NOW, True)  # not a problem
    store.add_checkin(stored["HF-1"].id, "locked", None, "c", LATER, False)
    (report,) = store.reports("63", ["new"])
    assert isinstance(report, Report) and store.report(report.id) == report
    assert (report.station_id, report.kind, report.facility) == (xn.id, "broken", "toilet")
    assert (report.station_code, report.station_name) == ("XN-1", "XN-1 驿站")
    assert (report.adcode, report.district) == (xn.adcode, xn.district)
    assert (report.status, report.status_at, report.handled_by) == ("new", None, None)
    assert [r.kind for r in store.reports("", ["new", "acknowledged"])] == ["broken", "locked"]
    store.set_report_status(report.id, "resolved", user.id, LATER, "修好了")
    moved = store.report(report.id)
    assert (moved.status, moved.status_at, moved.handled_by, moved.resolution) == (
        "resolved",
        LATER,
        user.id,
        "修好了",
    )
    assert store.reports("63", ["new"]) == [] and store.report(report.id + 100) is None
    assert store.resolve_times(xn.id) == [(NOW, LATER)]


# -- partners ---------------------------------------------------------------------------------


def test_api_keys(store):
    store.add_api_key("hefei-portal", "key-hash-1", "3401", NOW)
    store.add_api_key("hefei-portal", "key-hash-2", "3401", NOW)
    store.add_api_key("national-map", "key-hash-3", "", NOW)
    key = store.api_key("key-hash-1")
    assert isinstance(key, ApiKey) and (key.partner, key.region, key.created_at) == (
        "hefei-portal",
        "3401",
        NOW,
    )
    assert key.revoked_at is None and store.api_key("unknown") is None
    assert store.revoke_api_keys("hefei-portal", LATER) == 2
    assert store.api_key("key-hash-1") is None and store.revoke_api_keys("hefei-portal", NOW) == 0
    listed = store.api_keys()
    assert [(k.partner, k.revoked_at) for k in listed] == [
        ("hefei-portal", LATER),
        ("hefei-portal", LATER),
        ("national-map", None),
    ]


# -- coverage planning ------------------------------------------------------------------------

DAY, NEXT_DAY = "2026-11-20", "2026-11-21"
CHINA = BBox(18, 73, 54, 136)


def test_search_counts_add_up_per_cell_and_day(store):
    xn, hf = cell_of(*XINING), cell_of(*HEFEI)
    store.record_searches({(DAY, *xn): (3, 1), (DAY, *hf): (5, 5)})
    store.record_searches({(DAY, *xn): (2, 2), (NEXT_DAY, *xn): (1, 0)})
    store.record_searches({})  # an empty flush writes nothing
    # By row (south first), summed over the days since the one given.
    assert store.search_cells(CHINA, DAY, 1) == [SearchCell(*hf, 5, 5), SearchCell(*xn, 6, 3)]
    assert store.search_cells(CHINA, NEXT_DAY, 1) == [SearchCell(*xn, 1, 0)]
    assert store.search_cells(CHINA, DAY, 6) == [SearchCell(*xn, 6, 3)]  # at least min_searches
    assert store.search_cells(CHINA, "2026-11-22", 1) == []
    # A box takes the cells whose centre lies in it.
    lat, lon = cell_centre(*xn)
    around = BBox(lat - 1e-6, lon - 1e-6, lat + 1e-6, lon + 1e-6)
    assert store.search_cells(around, DAY, 1) == [SearchCell(*xn, 6, 3)]
    beside = BBox(lat + 1e-6, lon - 1, lat + 1, lon + 1)  # holds the cell's north half only
    assert store.search_cells(beside, DAY, 1) == []


def test_search_counts_older_than_the_kept_days_are_dropped(store):
    xn = cell_of(*XINING)
    store.record_searches({("2025-10-15", *xn): (7, 7), ("2025-10-16", *xn): (1, 1)})
    store.record_searches({(DAY, *xn): (1, 0)})  # 400 days after 2025-10-16
    assert store.search_cells(CHINA, "2000-01-01", 1) == [SearchCell(*xn, 2, 1)]


def _points() -> list[DemandPoint]:
    return [
        DemandPoint(36.6171, 101.7782, 30.0, "城中区骑手", "630103"),
        DemandPoint(36.62, 101.75, 0.25, "", "630104"),
        DemandPoint(31.8206, 117.2272, 12.5, "蜀山区", "340104"),
    ]


def test_demand_layers_are_stored_and_listed(store):
    points = _points()
    assert store.replace_demand_layer("骑手", "demand", points, NOW, False) == 3
    assert store.replace_demand_layer("DEMO", "candidates", points[:1], LATER, True) == 1
    assert store.demand_layers() == [
        DemandLayer("DEMO", "candidates", 1, 30.0, LATER, True),
        DemandLayer("骑手", "demand", 3, 42.75, NOW, False),
    ]
    assert store.demand_points("骑手") == points  # in the order imported, values as given
    assert store.demand_points("骑手", "6301") == points[:2]
    assert store.demand_points("骑手", "630104") == points[1:2]
    assert store.demand_points("骑手", "44") == [] and store.demand_points("nope") == []


def test_a_demand_layer_is_replaced_whole_or_not_at_all(store):
    points = _points()
    store.replace_demand_layer("骑手", "demand", points, NOW, False)
    assert store.replace_demand_layer("骑手", "demand", points[2:], LATER, False) == 1
    assert store.demand_points("骑手") == points[2:]  # nothing of the old layer is left
    (layer,) = store.demand_layers()
    assert (layer.points, layer.total_weight, layer.imported_at) == (1, 12.5, LATER)
    refused = [points[0], DemandPoint(36.6, 101.7, 0.0)]  # the database refuses weight 0
    with pytest.raises(Exception):  # noqa: B017 - each database names it differently
        store.replace_demand_layer("骑手", "demand", refused, NOW, False)
    assert store.demand_points("骑手") == points[2:] and store.demand_layers() == [layer]
    assert store.delete_demand_layer("骑手")
    assert store.demand_layers() == [] and store.demand_points("骑手") == []
    assert not store.delete_demand_layer("骑手")


# -- lifecycle --------------------------------------------------------------------------------


def test_migrating_again_keeps_everything(store):
    load(store, station("XN-1", XINING))
    store.migrate()
    assert store.count() == 1


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_a_store_closes_at_the_end_of_a_with_block(kind, tmp_path, request):
    with _open(kind, tmp_path, request) as opened:
        opened.migrate()
        load(opened, station("XN-1", XINING))
    with _open(kind, tmp_path, request) as reopened:
        assert reopened.count() == 1  # committed, and readable by the next store


def test_every_protocol_method_has_a_contract_test():
    """A method added to a protocol needs its behaviour pinned here, for every store (the
    check-in rules' store methods are pinned, on every store, in test_checkins.py)."""
    here = Path(__file__).parent
    source = "".join(
        (here / name).read_text(encoding="utf-8")
        # accounts' store methods are pinned, on every store, in test_accounts.py
        for name in ("test_store_contract.py", "test_checkins.py", "test_accounts.py")
    )
    methods = [
        name
        for name, member in inspect.getmembers(Store)
        if callable(member) and not name.startswith("_")
    ]
    assert len(methods) > 50
    untested = [name for name in methods if f".{name}(" not in source]
    assert untested == []


# -- the public list's city filter ------------------------------------------------------------


def test_the_public_list_by_city(store):
    load(
        store,
        station("XN-1", XINING),
        station("XN-2", near(XINING, 300), status="temporarily_closed", closed_until="2026-12-01"),
        station("XN-PLAN", near(XINING, 600), status="planned"),
        station("XN-SHUT", near(XINING, 900), status="closed"),
        station("HF-1", HEFEI),
        station("QD-1", QINGDAO),
        station("QD-2", near(QINGDAO, 300)),
        station("QD-3", near(QINGDAO, 600)),
        station("ZZ-1", (34.7466, 113.6253)),
    )
    # Published stations only, by adcode.
    assert [(c["adcode"], c["city"], c["stations"]) for c in store.city_extents()] == [
        ("3401", "合肥市", 1),
        ("3702", "青岛市", 3),
        ("4101", "郑州市", 1),
        ("6301", "西宁市", 2),
    ]
    assert [c["city"] for c in store.city_extents("37")] == ["青岛市"]
    xining = store.published_list(0, 10, region="6301")
    assert [s.code for s in xining] == ["XN-1", "XN-2"]
    pages = store.published_list(0, 2, region="3702") + store.published_list(2, 2, region="3702")
    assert [s.code for s in pages] == ["QD-1", "QD-2", "QD-3"]
    assert store.published_list(0, 10, region="1101") == []
    assert len(store.published_list(0, 10)) == 7


def test_searching_published_stations_by_text(store):
    load(
        store,
        station("XN-1", XINING, name="长江路工会驿站", address="城中区长江路 1 号"),
        station("XN-2", near(XINING, 300), name="西门 100%_驿站"),
        station("XN-PLAN", near(XINING, 600), name="长江路规划驿站", status="planned"),
        station("HF-1", HEFEI, name="金寨路爱心驿站", address="长江西路口"),
        station("QD-1", QINGDAO, name="Riders' Rest 长江"),
    )

    def codes(text, limit=10, region=""):
        return [s.code for s in store.search_published(text, limit, region)]

    # Name, address, city or district; published only; names starting with the text first.
    assert codes("长江") == ["XN-1", "HF-1", "QD-1"]
    assert codes("长江", region="34") == ["HF-1"]
    assert codes("长江", limit=1) == ["XN-1"]
    assert codes("西宁") == ["XN-1", "XN-2"]  # by its city
    assert codes("riders") == ["QD-1"]  # ASCII case ignored
    # Wildcards are text.
    assert codes("%") == ["XN-2"] and codes("_") == ["XN-2"] and codes("100%_") == ["XN-2"]
    assert codes("0%_驿") == ["XN-2"] and codes("%驿站%") == []


def test_report_queue_and_verification_in_the_store(store):
    """The staff's report queue as the store pages it (filters, search, orders, overdue, total),
    the districts it offers, and "last verified" only ever moving forward, version untouched."""
    saved = load(
        store,
        station("XN-1", near(XINING, 0), name="城中区甲站"),
        station("XN-2", near(XINING, 80), name="城中区乙站"),
        station("HF-1", HEFEI, name="合肥站"),
    )
    xn1, xn2, hf = saved["XN-1"].id, saved["XN-2"].id, saved["HF-1"].id
    at = "2026-11-{:02d}T09:00:00+08:00".format
    first = store.add_checkin(xn1, "locked", None, "a", at(10), False)
    store.add_checkin(xn2, "broken", "microwave", "b", at(12), False)
    third = store.add_checkin(xn1, "not_found", None, "c", at(14), False)
    store.add_checkin(hf, "locked", None, "d", at(15), False)
    store.set_report_status(third, "resolved", None, at(16), "已处理")

    def codes(**kw):
        page, total = store.find_reports("63", **({"statuses": ("new", "acknowledged")} | kw))
        return [(r.kind, r.station_id) for r in page], total

    assert codes() == ([("broken", xn2), ("locked", xn1)], 2)  # newest first, Hefei not here
    assert codes(order="oldest") == ([("locked", xn1), ("broken", xn2)], 2)
    assert codes(statuses=("resolved",)) == ([("not_found", xn1)], 1)
    assert codes(kinds=("broken",)) == ([("broken", xn2)], 1)
    assert codes(q="甲") == ([("locked", xn1)], 1)
    assert codes(q="XN-2") == ([("broken", xn2)], 1)
    assert codes(stale_before=at(11)) == ([("locked", xn1)], 1)  # waiting since the 10th
    assert codes(limit=1, offset=1) == ([("locked", xn1)], 2)  # a page, and the total
    assert codes(adcode=saved["HF-1"].adcode) == ([], 0)
    assert store.report_districts("63") == [(saved["XN-1"].adcode, saved["XN-1"].district)]
    assert [r.id for r in store.station_reports(xn1)] == [third, first]

    version = store.get(xn1).version
    assert store.set_verified(xn1, at(20)) is True
    assert store.get(xn1).verified_at == at(20)
    assert store.set_verified(xn1, at(18)) is False  # never back
    assert (store.get(xn1).verified_at, store.get(xn1).version) == (at(20), version)


# -- import jobs ------------------------------------------------------------------------------


def test_an_import_job_is_written_and_read_back_and_its_heartbeat_moves(store):
    from stations.core.accounts import hash_password

    owner = store.create_user("importer", hash_password("x" * 12), "auditor", "3401", NOW)
    job_id = store.add_import_job(owner, "3401", "站点.xlsx", True, NOW)
    job = store.import_job(job_id)
    assert (job.owner_id, job.region, job.file_name, job.apply) == (
        owner,
        "3401",
        "站点.xlsx",
        True,
    )
    assert (job.phase, job.done, job.total, job.heartbeat_at, job.result) == (
        "reading",
        0,
        None,
        NOW,
        {},
    )
    store.update_import_job(job_id, LATER, phase="checking", done=5, total=20)
    job = store.import_job(job_id)
    assert (job.phase, job.done, job.total, job.heartbeat_at, job.started_at) == (
        "checking",
        5,
        20,
        LATER,
        NOW,
    )
    store.update_import_job(job_id, LATER, phase="done", result='{"new": 20, "applied": 20}')
    job = store.import_job(job_id)
    assert (job.phase, job.done, job.result) == ("done", 5, {"new": 20, "applied": 20})
    assert store.import_job(job_id + 1) is None
