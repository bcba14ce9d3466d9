"""Check-ins told apart by device, sent once however often they are tapped, and warning workers
only when they can be believed: the core's rules, the store methods under them (both stores),
and the station page's form through Flask's test client (both stores)."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from rawdb import RawDB
from staff_helpers import make_users, sign_in

from stations.core import checkins
from stations.core.checkins import CheckinRefused, Client, ReportCount
from stations.core.hours import TZ
from stations.core.model import validate
from stations.store import open_store

from conftest import STORE_KINDS

XN, HF, QD = 1, 2, 3  # the sample: Xining "Mo-Fr 08:00-18:00; PH off", Hefei 24/7, Qingdao nights
FRIDAY_20 = datetime(2026, 11, 20, 20, 0, tzinfo=TZ)  # Xining closed by its hours
FRIDAY_10 = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)  # Xining open
THANKS = "谢谢！你的反馈能帮到下一位劳动者。"
RECEIVED = "谢谢，已收到你的反馈。"
WAITS = "再有一位骑手反映同样的问题后"


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    """Every test here that touches a database runs on SQLite and on PostGIS."""
    return request.param


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


# -- who: pure -------------------------------------------------------------------------------


def test_a_device_is_its_keyed_hash_never_its_id():
    device = checkins.new_device_id()
    assert re.fullmatch(r"[0-9a-f]{32}", device) and checkins.valid_device_id(device)
    a = checkins.identify("secret", device, "10.1.2.3", "Mozilla/5.0 (iPhone)")
    assert device not in a.device and "10.1.2.3" not in a.address
    # the same phone on another network is the same device; the address is another
    moved = checkins.identify("secret", device, "10.9.9.9", "Mozilla/5.0 (iPhone)")
    assert moved.device == a.device and moved.address != a.address
    # another secret, other hashes: useless without the server's key
    assert checkins.identify("other", device, "10.1.2.3", "Mozilla/5.0 (iPhone)") != a


def test_two_phones_of_one_model_behind_one_address_are_two_clients():
    ua = "Mozilla/5.0 (Linux; Android 14; 23127PN0CC)"
    a = checkins.identify("s", checkins.new_device_id(), "100.64.0.7", ua)
    b = checkins.identify("s", checkins.new_device_id(), "100.64.0.7", ua)
    assert a.device != b.device and a.address == b.address


def test_without_a_device_id_the_client_is_address_and_browser():
    ua = "Mozilla/5.0 (iPhone)"
    for missing in (None, "", "not-hex", "A" * 32, "0" * 31):
        fallback = checkins.identify("s", missing, "100.64.0.7", ua)
        assert fallback == checkins.identify("s", None, "100.64.0.7", ua)
    # one budget for identical browsers behind one address; another browser is another client
    assert checkins.identify("s", None, "100.64.0.7", "Other").device != fallback.device
    assert checkins.identify("s", None, "100.64.0.8", ua).device != fallback.device


def test_an_ipv6_phone_counts_by_its_64():
    one = checkins.identify("s", None, "2409:8a1e:6c31:1a20::1", "ua")
    other = checkins.identify("s", None, "2409:8a1e:6c31:1a20:8d2c:11ff:fe00:7", "ua")
    assert one.address == other.address and one.device == other.device
    assert checkins.network("::ffff:10.1.2.3") == "10.1.2.3"
    assert checkins.network("2409:8a1e:6c31:1a21::1") == "2409:8a1e:6c31:1a21::/64"


def test_submission_tokens():
    token = checkins.new_submission()
    assert checkins.parse_submission(token) == token and token != checkins.new_submission()
    assert checkins.parse_submission("") is None and checkins.parse_submission(None) is None
    for bad in ("short", "x" * 65, "has spaces in it!!", "<script>alert(1)</script>"):
        with pytest.raises(CheckinRefused) as refused:
            checkins.parse_submission(bad)
        assert refused.value.field == "submission"


def _station(hours: str, status: str = "open", **extra):
    return validate(
        {
            "code": "T-1",
            "name": "驿站",
            "lat": 36.6,
            "lon": 101.7,
            "opening_hours": hours,
            "status": status,
            **extra,
        },
        now=FRIDAY_10,
    )


def test_only_a_problem_at_a_station_closed_by_its_hours_needs_corroboration():
    day = _station("Mo-Fr 08:00-18:00")
    assert checkins.needs_corroboration(day, "locked", FRIDAY_20)
    assert checkins.needs_corroboration(day, "broken", FRIDAY_20)
    assert not checkins.needs_corroboration(day, "ok", FRIDAY_20)  # praise is no warning
    assert not checkins.needs_corroboration(day, "locked", FRIDAY_10)  # open: believed
    assert not checkins.needs_corroboration(_station("24/7"), "locked", FRIDAY_20)
    assert not checkins.needs_corroboration(_station(""), "locked", FRIDAY_20)  # hours unknown


# -- the store methods under the rules (both stores) ----------------------------------------


def test_one_submission_is_stored_once_per_client(seeded, store):
    first = store.add_checkin(
        XN,
        "locked",
        None,
        "dev-a",
        "2026-11-20T10:00:00+08:00",
        False,
        address_hash="net",
        submission="token-0000000000001",
    )
    assert first and store.submitted("dev-a", "token-0000000000001")
    again = store.add_checkin(
        XN,
        "locked",
        None,
        "dev-a",
        "2026-11-20T10:00:05+08:00",
        False,
        address_hash="net",
        submission="token-0000000000001",
    )
    assert again is None and store.checkins_since("dev-a", "2000-01-01") == 1
    # the same token from another client (a page copied to another phone) is its report
    assert store.add_checkin(
        XN,
        "locked",
        None,
        "dev-b",
        "2026-11-20T10:00:05+08:00",
        False,
        address_hash="net",
        submission="token-0000000000001",
    )
    assert not store.submitted("dev-c", "token-0000000000001")
    # check-ins without a token never collide
    for _ in range(2):
        assert store.add_checkin(HF, "ok", None, "dev-a", "2026-11-20T10:01:00+08:00", True)
    assert store.address_checkins_since("net", "2026-11-20T10:00:00+08:00") == 2
    assert store.address_checkins_since("net", "2026-11-20T10:00:01+08:00") == 1
    assert store.address_checkins_since("elsewhere", "2000-01-01") == 0


def test_pending_reports_wait_out_of_the_warnings_until_corroborated(seeded, store):
    t = "2026-11-20T20:00:00+08:00"
    mine = store.add_checkin(XN, "locked", None, "dev-a", t, False, pending=True)
    other = store.add_checkin(XN, "locked", None, "dev-b", t, False, pending=True)
    store.add_checkin(XN, "broken", "toilet", "dev-c", t, False)
    store.add_checkin(XN, "broken", "microwave", "dev-d", t, False)
    store.add_checkin(XN, "locked", None, "dev-e", "2026-11-18T20:00:00+08:00", False)  # older
    assert store.open_reports([XN], "2026-11-01") == {
        XN: [
            ReportCount(kind="broken", facility="microwave", count=1, last_at=t),
            ReportCount(kind="broken", facility="toilet", count=1, last_at=t),
            ReportCount(kind="locked", facility="", count=1, last_at="2026-11-18T20:00:00+08:00"),
        ]
    }
    # staff see every report, waiting or not
    assert {r.id for r in store.reports("6301", ("new",))} >= {mine, other}
    since = "2026-11-19T20:00:00+08:00"
    assert store.reports_by_others(XN, "locked", None, "dev-a", since) == [(other, True)]
    assert store.reports_by_others(XN, "broken", "toilet", "dev-d", since)[0][1] is False
    assert store.reports_by_others(XN, "broken", "aed", "dev-a", since) == []
    with store.transaction():
        store.corroborate_reports([mine, other])
    assert store.open_reports([XN], "2026-11-19")[XN][-1] == ReportCount(
        kind="locked", facility="", count=2, last_at=t
    )
    # a resolved report confirms nothing any more
    store.set_report_status(other, "resolved", None, "2026-11-20T21:00:00+08:00", "门已开")
    assert store.reports_by_others(XN, "locked", None, "dev-a", since) == []


# -- the rules, through the core (both stores) ----------------------------------------------


def client(name: str, address: str = "carrier-nat") -> Client:
    return Client(device=f"device-{name}", address=address)


def record(store, who: Client, station_id: int, kind: str, moment: datetime, **extra):
    facility = extra.pop("facility", None)
    return checkins.record(store, who, store.get(station_id), kind, facility, moment, **extra)


def warnings(store, station_id: int, moment: datetime) -> list[tuple[str, int]]:
    found = checkins.warnings_for(store, [station_id], moment).get(station_id, [])
    return [(r.kind, r.count) for r in found]


def test_a_double_tap_is_one_report(seeded, store):
    a = client("a")
    first = record(store, a, XN, "locked", FRIDAY_10, submission="tap-tap-00000000001")
    assert not first.repeat and first.id
    for later in (FRIDAY_10, at(20, 10, 1), at(21, 10)):  # at once, a minute or a day later
        again = record(store, a, XN, "locked", later, submission="tap-tap-00000000001")
        assert again.repeat and again.id is None
    assert store.checkins_since(a.device, "2000-01-01") == 1
    assert warnings(store, XN, FRIDAY_10) == [("locked", 1)]
    # a new form (a new token) a moment later is a new report, and the half hour applies
    with pytest.raises(CheckinRefused) as refused:
        record(store, a, XN, "locked", at(20, 10, 2), submission="tap-tap-00000000002")
    assert refused.value.reason == "station"


def test_one_riders_report_does_not_block_anothers_behind_the_same_address(seeded, store):
    a, b = client("a"), client("b")
    assert record(store, a, XN, "ok", FRIDAY_10).id
    assert record(store, b, XN, "locked", at(20, 10, 1)).id  # not blocked by A's "all fine"
    with pytest.raises(CheckinRefused) as refused:
        record(store, a, XN, "locked", at(20, 10, 2))
    assert refused.value.reason == "station" and refused.value.retry_after == 1800
    assert warnings(store, XN, FRIDAY_10) == [("locked", 1)]


def test_the_device_limit(seeded, store, cli, tmp_path):
    from conftest import write_csv
    from helpers import station_rows

    assert cli("import", write_csv(tmp_path / "more.csv", station_rows(25))).exit_code == 0
    a = client("a")
    limit, _ = checkins.PER_DEVICE_LIMIT
    for station_id in range(4, 4 + limit):
        record(store, a, station_id, "ok", FRIDAY_10)
    with pytest.raises(CheckinRefused) as refused:
        record(store, a, 4 + limit, "ok", FRIDAY_10)
    assert refused.value.reason == "device" and refused.value.retry_after == 3600
    assert record(store, a, 4 + limit, "ok", at(20, 11, 1)).id  # an hour on


def test_the_address_limit_holds_many_devices_behind_one_address(seeded, store):
    limit, _ = checkins.PER_ADDRESS_LIMIT
    assert limit == 60
    for n in range(limit):
        record(store, client(f"d{n}"), HF, "ok", FRIDAY_10)
    with pytest.raises(CheckinRefused) as refused:
        record(store, client("one-more"), HF, "ok", FRIDAY_10)
    assert refused.value.reason == "address" and refused.value.retry_after == 3600
    assert record(store, client("one-more", address="another-net"), HF, "ok", FRIDAY_10).id
    assert record(store, client("one-more"), HF, "ok", at(20, 11, 1)).id  # an hour on


def test_a_report_when_closed_by_the_hours_waits_for_a_second_device(seeded, store):
    a, b, c = client("a"), client("b"), client("c", address="another-net")
    first = record(store, a, XN, "locked", FRIDAY_20)
    assert first.pending and warnings(store, XN, FRIDAY_20) == []
    assert [r.id for r in store.reports("6301", ("new",))] == [first.id]  # staff see it
    # the same device again confirms nothing; another kind confirms nothing
    assert record(store, a, XN, "locked", at(20, 21)).pending
    assert record(store, b, XN, "broken", at(20, 21), facility="toilet").pending
    assert warnings(store, XN, at(20, 21)) == []
    # a second device with the same report: all of them warn
    second = record(store, c, XN, "locked", at(20, 22))
    assert not second.pending
    assert warnings(store, XN, at(20, 22)) == [("locked", 3)]


def test_corroboration_must_come_within_a_day(seeded, store):
    a, b = client("a"), client("b")
    assert record(store, a, XN, "locked", FRIDAY_20).pending
    assert record(store, b, XN, "locked", at(21, 20, 1)).pending  # Saturday, a day and a minute on
    assert warnings(store, XN, at(21, 20, 1)) == []
    # Sunday night another; Monday in opening hours a fourth, believed at once, which confirms
    # Sunday's (12 hours before) but neither Friday's nor Saturday's
    assert record(store, client("c"), XN, "locked", at(22, 22)).pending
    assert not record(store, client("d"), XN, "locked", at(23, 10)).pending
    assert warnings(store, XN, at(23, 10)) == [("locked", 2)]


def test_reports_in_opening_hours_or_around_the_clock_warn_at_once(seeded, store):
    assert not record(store, client("a"), XN, "locked", FRIDAY_10).pending
    assert not record(store, client("b"), HF, "locked", at(20, 3)).pending  # 24/7 at 3 a.m.
    assert warnings(store, XN, FRIDAY_10) == [("locked", 1)]
    assert warnings(store, HF, FRIDAY_10) == [("locked", 1)]


def test_a_resolved_report_confirms_nothing(seeded, store):
    first = record(store, client("a"), XN, "locked", FRIDAY_10)
    store.set_report_status(first.id, "resolved", None, "2026-11-20T12:00:00+08:00", "已开门")
    assert record(store, client("b"), XN, "locked", FRIDAY_20).pending
    assert warnings(store, XN, FRIDAY_20) == []


def test_racing_copies_of_one_submission_are_one_report(seeded, store, database_url):
    """The same form sent eight times at once, each through its own connection as separate
    server workers would: one report, seven repeats (the unique index decides, on PostgreSQL
    where the reads before the insert do not serialise)."""
    start = threading.Barrier(8)

    def tap(_n: int) -> bool:
        with open_store(database_url) as own:
            start.wait(timeout=30)
            return record(
                own, client("a"), XN, "locked", FRIDAY_10, submission="racing-token-000001"
            ).repeat

    with ThreadPoolExecutor(8) as pool:
        repeats = list(pool.map(tap, range(8)))
    assert repeats.count(False) == 1 and repeats.count(True) == 7
    assert RawDB(database_url).value("select count(*) from checkins") == 1


# -- the station page's form (both stores) ---------------------------------------------------


def text(response) -> str:
    return response.get_data(as_text=True)


def form(web, station_id: int = XN) -> dict[str, str]:
    page = text(web.get(f"/stations/{station_id}"))
    return {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
        "submission": re.search(r'name="submission" value="([^"]+)"', page).group(1),
    }


def post(web, data: dict, station_id: int = XN):
    return web.post(f"/stations/{station_id}/checkins", data=data)


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash (?:ok|error)" role="status">([^<]*)</p>', page)


def rows(database_url) -> list[tuple]:
    return RawDB(database_url).rows(
        "select kind, client_hash, address_hash, submission, pending from checkins order by id"
    )


def test_the_form_gives_a_device_id_and_a_fresh_token(api, database_url):
    page = api.get(f"/stations/{XN}")
    cookie = [c for c in page.headers.getlist("Set-Cookie") if c.startswith("yz_device=")]
    assert len(cookie) == 1
    device = re.match(r"yz_device=([0-9a-f]+);", cookie[0]).group(1)
    assert len(device) == 32
    attributes = {a.strip().lower() for a in cookie[0].split(";")[1:]}
    assert {"httponly", "samesite=lax", "max-age=31536000", "path=/stations/"} <= attributes
    assert "secure" not in attributes  # plain http on loopback
    assert "/static/checkin.js" in text(page)
    assert api.get("/static/checkin.js").status_code == 200
    # the device keeps its id; each page load has a new one-time token
    again = api.get(f"/stations/{XN}")
    assert not any(c.startswith("yz_device=") for c in again.headers.getlist("Set-Cookie"))
    first, second = form(api), form(api)
    assert first["submission"] != second["submission"]
    assert post(api, {"kind": "locked", **first}).status_code == 303
    snapshot = str(RawDB(database_url).snapshot())
    assert device not in snapshot and "127.0.0.1" not in snapshot  # only keyed hashes


def test_the_device_cookie_is_secure_over_https(api):
    page = api.get(f"/stations/{XN}", base_url="https://yizhan.example")
    cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("yz_device="))
    assert "Secure" in cookie


def test_a_double_submit_is_one_report_and_one_thank_you(api, database_url):
    data = {"kind": "locked", **form(api)}
    for _ in range(2):
        response = post(api, data)
        assert response.status_code == 303 and response.headers["Location"].endswith("/stations/1")
    assert len(rows(database_url)) == 1
    page = text(api.get(f"/stations/{XN}"))
    assert flashes(page) == [THANKS]  # the second answer did not say it again
    assert "门锁着 / 没开 × 1" in page
    assert flashes(text(api.get(f"/stations/{XN}"))) == []


def test_a_double_tap_whose_first_answer_was_lost_ends_calmly(api, database_url):
    """On a slow network the browser drops the first answer when the second tap sends the form
    again: the first answer's session cookie (its thank-you) never arrives."""
    data = {"kind": "locked", **form(api)}
    before = api.get_cookie("session").value
    assert post(api, data).status_code == 303
    api.set_cookie("session", before)  # as if the first answer had never come
    response = post(api, data)
    assert response.status_code == 303 and response.headers["Location"].endswith("/stations/1")
    assert flashes(text(api.get(f"/stations/{XN}"))) == [RECEIVED]
    assert len(rows(database_url)) == 1


def test_two_riders_behind_one_address_with_the_same_phone(api, database_url):
    a, b = api, api.application.test_client()  # two cookie jars, one address, one browser
    assert post(a, {"kind": "ok", **form(a)}).status_code == 303
    response = post(b, {"kind": "locked", **form(b)})
    assert response.status_code == 303  # B is not blocked by A's "all fine"
    assert flashes(text(b.get(f"/stations/{XN}"))) == [THANKS]
    found = rows(database_url)
    assert [r[0] for r in found] == ["ok", "locked"]
    assert found[0][1] != found[1][1] and found[0][2] == found[1][2]  # two devices, one address
    warnings = api.get(f"/api/v1/stations/{XN}").json["properties"]["warnings"]
    assert [(w["kind"], w["count"]) for w in warnings] == [("locked", 1)]
    # A's own second report within the half hour records nothing, and says so calmly, once,
    # back on the station page (not on a page of its own the rider cannot go on from)
    again = post(a, {"kind": "locked", **form(a)})
    assert again.status_code == 303
    assert flashes(text(a.get(f"/stations/{XN}"))) == ["你刚刚反馈过这个站点，谢谢！"]
    assert len(rows(database_url)) == 2


def test_a_browser_without_the_device_cookie_shares_a_budget_with_its_twins(api, database_url):
    """Cookies for the device refused (the session's form token still kept): the client falls
    back to address and browser, so identical browsers behind one address count as one, and
    dropping the cookie never buys a fresh set of limits."""
    a, b = api, api.application.test_client()
    for jar in (a, b):
        jar.get(f"/stations/{XN}")
        jar.delete_cookie("yz_device", path="/stations/")
    data = form(a)
    a.delete_cookie("yz_device", path="/stations/")
    assert post(a, {"kind": "ok", **data}).status_code == 303
    data = form(b)
    b.delete_cookie("yz_device", path="/stations/")
    assert post(b, {"kind": "locked", **data}).status_code == 303
    assert len(rows(database_url)) == 1  # B's report was A's budget: not recorded
    other = api.application.test_client()
    data = form(other)
    other.delete_cookie("yz_device", path="/stations/")
    accepted = other.post(
        f"/stations/{XN}/checkins",
        data={"kind": "locked", **data},
        headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5)"},
    )
    assert accepted.status_code == 303
    assert len(rows(database_url)) == 2


def test_the_address_limit_through_the_page(api, database_url):
    limit, _ = checkins.PER_ADDRESS_LIMIT
    for n in range(limit):  # a rider hub's riders, each phone its own device id
        api.set_cookie("yz_device", f"{n:032x}", path="/stations/")
        assert post(api, {"kind": "ok", **form(api, HF)}, HF).status_code == 303, n
    api.set_cookie("yz_device", f"{limit:032x}", path="/stations/")
    refused = post(api, {"kind": "ok", **form(api, HF)}, HF)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    assert text(refused).count("过去一小时内来自你所在网络的反馈较多") == 1
    elsewhere = api.post(
        f"/stations/{HF}/checkins",
        data={"kind": "ok", **form(api, HF)},
        environ_base={"REMOTE_ADDR": "10.20.30.40"},
    )
    assert elsewhere.status_code == 303
    assert len(rows(database_url)) == limit + 1


def test_a_lone_report_at_a_closed_station_waits_for_a_second_rider(api, clock, store):
    make_users(store)
    clock.set(2026, 11, 20, 20, 0)  # Friday evening: Xining closed by its hours
    a, b = api, api.application.test_client()
    assert post(a, {"kind": "locked", **form(a)}).status_code == 303
    page = text(a.get(f"/stations/{XN}"))
    assert len(flashes(page)) == 1 and WAITS in flashes(page)[0]
    assert "有劳动者反映问题" not in page
    assert api.get(f"/api/v1/stations/{XN}").json["properties"]["warnings"] == []
    staff = api.application.test_client()
    assert sign_in(staff, "xn-auditor").status_code == 302
    assert "城中区长江路工会驿站" in text(staff.get("/admin/reports"))  # staff see it at once
    clock.set(2026, 11, 20, 21, 30)
    assert post(b, {"kind": "locked", **form(b)}).status_code == 303
    page = text(b.get(f"/stations/{XN}"))
    assert "有劳动者反映问题" in page and "门锁着 / 没开 × 2" in page
    warnings = api.get(f"/api/v1/stations/{XN}").json["properties"]["warnings"]
    assert warnings == [
        {"kind": "locked", "facility": "", "count": 2, "last_at": "2026-11-20T21:30:00+08:00"}
    ]


def test_a_stale_form_or_a_browser_without_cookies_is_told_so_once(api):
    refused = api.post(f"/stations/{XN}/checkins", data={"kind": "ok"})  # no session, no token
    assert refused.status_code == 400
    assert text(refused).count("反馈未发送：页面打开太久，或浏览器禁用了 Cookie") == 1
    assert 'href="/stations/1"' in text(refused)
    bad = post(api, {"kind": "ok", **form(api), "submission": "<bad token>"})
    assert bad.status_code == 400 and "表单已过期，请刷新页面。" in text(bad)


def test_english_messages(api):
    api.get("/?lang=en")
    data = {"kind": "locked", **form(api)}
    post(api, data)
    assert flashes(text(api.get(f"/stations/{XN}"))) == [
        "Thank you! Your report helps the next worker."
    ]
    assert "Sending your report…" in text(api.get(f"/stations/{XN}"))
