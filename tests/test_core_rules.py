"""Domain rules that live in the core, tried against a real SQLite file: check-in limits under
concurrent taps, creating staff accounts, and signing in."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from staff_helpers import PASSWORD

from stations.core import accounts, checkins
from stations.core.hours import TZ
from stations.store import open_store

from conftest import write_csv
from helpers import station_rows

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
PHONE = checkins.Client(device="one-phone", address="one-address")


def tap_together(url: str, station_ids: list[int]) -> list[str]:
    """One client checks in at these stations from as many threads, all at the same moment,
    each through its own connection as separate server workers would."""
    start = threading.Barrier(len(station_ids))

    def tap(station_id: int) -> str:
        with open_store(url) as store:
            start.wait(timeout=30)
            try:
                checkins.record(store, PHONE, store.get(station_id), "locked", None, NOW)
                return "recorded"
            except checkins.CheckinRefused:
                return "refused"

    with ThreadPoolExecutor(len(station_ids)) as pool:
        return list(pool.map(tap, station_ids))


def test_concurrent_checkins_keep_both_limits(cli, tmp_path, db_path, store):
    assert cli("import", write_csv(tmp_path / "s.csv", station_rows(70))).exit_code == 0
    url = f"sqlite:///{db_path}"
    same_station = tap_together(url, [1] * 32)
    assert same_station.count("recorded") == 1  # one per station and half hour
    limit, _ = checkins.PER_DEVICE_LIMIT
    elsewhere = tap_together(url, list(range(2, 62)))  # 60 stations at once
    assert elsewhere.count("recorded") == limit - 1  # 20 an hour, the first one included
    count = store.db.conn.execute("select count(*) from checkins").fetchone()[0]
    assert count == limit


def test_a_refused_checkin_writes_nothing(seeded, store):
    client = checkins.Client(device="c", address="a")
    checkins.record(store, client, store.get(1), "ok", None, NOW)
    before = store.get(1).verified_at
    with pytest.raises(checkins.CheckinRefused) as refused:
        checkins.record(store, client, store.get(1), "ok", None, NOW + timedelta(minutes=5))
    assert refused.value.retry_after == 1800
    assert store.get(1).verified_at == before == NOW.isoformat(timespec="seconds")
    assert store.checkins_since("c", "2000-01-01") == 1


# -- accounts ---------------------------------------------------------------------------------


def test_create_user_checks_everything_and_refuses_a_second_one(store):
    user_id = accounts.create_user(store, "qd-audit", "auditor", "3702", PASSWORD, NOW)
    user, stored_hash = store.user_login("qd-audit")
    assert (user.id, user.role, user.region) == (user_id, "auditor", "3702")
    assert accounts.verify_password(stored_hash, PASSWORD)
    for name, role, region, password, error in (
        ("qd-audit", "viewer", "", PASSWORD, accounts.UserExists),
        ("x", "viewer", "", PASSWORD, ValueError),
        ("qd-two", "owner", "", PASSWORD, ValueError),
        ("qd-two", "viewer", "9999", PASSWORD, ValueError),
        ("qd-two", "viewer", "", "woaini1314", accounts.WeakPassword),
    ):
        with pytest.raises(error):
            accounts.create_user(store, name, role, region, password, NOW)
    assert [u.name for u in store.users()] == ["qd-audit"]


def test_sign_in_limits_per_name_and_sessions_expire(store):
    accounts.create_user(store, "xn-audit", "auditor", "6301", PASSWORD, NOW)

    def attempt(password, address="10.0.0.1", at=NOW):
        return accounts.sign_in(store, "xn-audit", password, secret="s", address=address, now=at)

    # A guesser spread over many addresses, one try each: the name's own budget runs out.
    for n in range(accounts.FREE_FAILURES_NAME):
        with pytest.raises(accounts.SignInRefused):
            attempt("wrong wrong wrong", address=f"10.0.1.{n}")
    with pytest.raises(accounts.TooManyAttempts) as waiting:
        attempt(PASSWORD, address="10.0.0.2")  # a new browser waits too, with the right password
    assert 0 < waiting.value.retry_after <= accounts.LONGEST_WAIT.total_seconds()
    later = NOW + accounts.LONGEST_WAIT + timedelta(seconds=1)  # a wait, never a lock
    user, session_id = attempt(PASSWORD, at=later)
    assert user.name == "xn-audit"

    def alive(at):
        found = accounts.session_user(
            store, session_id, at, idle=timedelta(minutes=30), longest=timedelta(hours=12)
        )
        return found.name if found else None

    assert alive(later + timedelta(minutes=29)) == "xn-audit"
    assert alive(later + timedelta(minutes=58)) == "xn-audit"  # touched at 29: not idle
    assert alive(later + timedelta(minutes=90)) is None  # 32 minutes idle: ended for good
    assert alive(later + timedelta(minutes=91)) is None


def test_times_read_as_people_say_them():
    """Staff pages never show an ISO timestamp: the day and minute in China time, the year only
    when it is not this year, the last hour relative."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from stations.core import words

    now = datetime(2026, 11, 22, 0, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert words.when("2026-11-21T12:48:00+08:00", "zh", now) == "11月21日 12:48"
    assert words.when("2026-11-21T12:48:00+08:00", "en", now) == "21 Nov 12:48"
    assert words.when("2026-11-21T14:48:00+00:00", "zh", now) == "11月21日 22:48"  # UTC stored
    assert words.when("2026-11-22T00:05:00+08:00", "zh", now) == "5 分钟前"
    assert words.when("2026-11-22T00:09:40+08:00", "en", now) == "just now"
    assert words.when("2025-03-01T08:00:00+08:00", "zh", now) == "2025年3月1日 08:00"
    assert words.when("2026-11-21T12:48:00+08:00", "zh") == "2026年11月21日 12:48"
    assert words.when("", "zh", now) == ""
    assert words.day("2026-11-30", "zh", now.date()) == "11月30日"
    assert words.day("2027-01-02", "en", now.date()) == "2 Jan 2027"


def test_every_staff_key_has_a_label_in_both_languages():
    from stations.core import columns, labels

    assert labels.label("report_kind", "locked") == "门锁着 / 没开"
    assert labels.label("report_state", "new", "en") == "New"
    assert labels.label("visit_kind", "scheduled") == "计划核查"
    assert labels.label("result", "fail", "en") == "Fail"
    for vocabulary in labels.VOCABULARIES.values():
        for term in vocabulary.terms:
            assert term.zh and term.en and term.en != term.key or term.key in ("aed",)
    for field in columns.COLUMNS:
        assert columns.label(field, "en") != field or field == "version"
        assert columns.label(field, "zh") != field
    assert columns.label("opening_hours", "en") == "Opening hours"
    assert columns.label("lat") == "纬度"


def test_a_moment_without_relative_wording_still_leaves_out_this_year():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from stations.core import words

    now = datetime(2026, 11, 22, 0, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert words.when("2026-11-22T00:05:00+08:00", "zh", now, relative=False) == "11月22日 00:05"
