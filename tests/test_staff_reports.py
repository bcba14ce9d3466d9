"""The staff report queue and station page as staff read them: labels not keys, times for
people, paging, filters and orders that return what they say; history kept after a report is
handled; "last verified" moving on audit and on confirmation; no medal for a failed audit."""

import re

import pytest
from rawdb import RawDB
from staff_helpers import csrf, sign_in, signed_in

from conftest import STORE_KINDS

XN, HF, QD = 1, 2, 3  # the sample: Xining (630103), Hefei (340104), Qingdao (370202)
ISO = re.compile(r"\d{4}-\d{2}-\d{2}(T|\s\d)")  # an ISO date-time a person should never read


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    """Every test here runs against the SQLite and the PostGIS store."""
    return request.param


def client_for(app, name):
    return signed_in(app, name)


@pytest.fixture
def boss(staff_app):
    return client_for(staff_app, "boss")


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def text(html: str) -> str:
    """What a person reads: the page without its tags (attributes and values are not read)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def main(html: str) -> str:
    return text(html[html.index("<main") : html.index("</main>")])


def cells(html: str, css_class: str) -> list[str]:
    """The text of each element of a class, in page order."""
    found = re.findall(rf'class="{css_class}"[^>]*>(.*?)</(?:td|span)>', html, flags=re.S)
    return [text(f).strip() for f in found]


def queue_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-report="(\d+)"', html)]


def report(store, station, kind, facility, at, who) -> int:
    store.add_checkin(station, kind, facility, who, at, False)
    return max(r.id for r in store.station_reports(station))


def move(client, report_id, action, note="", back="/admin/reports"):
    return client.post(
        f"/admin/reports/{report_id}",
        data={
            "csrf_token": csrf(client, "/admin/reports"),
            "action": action,
            "note": note,
            "back": back,
        },
    )


# -- the queue: labels, times --------------------------------------------------------------------


def test_queue_names_the_problem_and_facility_in_both_languages(xn, store):
    report(store, XN, "broken", "microwave", "2026-11-20T08:30:00+08:00", "a")
    report(store, XN, "locked", None, "2026-11-20T09:50:00+08:00", "b")
    zh = main(page(xn.get("/admin/reports")))
    assert "设施坏了：微波炉" in zh and "门锁着 / 没开" in zh
    assert "11月20日 08:30" in zh and "10 分钟前" in zh  # the clock is 10:00
    assert zh.count("待处理") >= 2 and "共 2 条反馈，显示第 1–2 条" in zh
    assert not ISO.search(zh)
    assert not re.search(r"\b(broken|locked|new|microwave)\b", zh)
    en = main(page(xn.get("/admin/reports?lang=en")))
    assert "Something is broken: Microwave" in en and "Locked / not open" in en
    assert "20 Nov 08:30" in en and "10 min ago" in en and "New" in en
    assert not ISO.search(en)
    html = page(xn.get("/admin/reports?lang=en"))
    assert cells(html, "problem") == ["Something is broken: Microwave", "Locked / not open"]
    assert cells(html, "report-state") == ["New", "New"]
    assert cells(page(xn.get("/admin/reports?lang=zh")), "problem") == [
        "设施坏了：微波炉",
        "门锁着 / 没开",
    ]


def test_a_broken_report_must_name_the_facility(staff_app, store):
    from stations.core import checkins

    with pytest.raises(checkins.CheckinRefused) as refused:
        checkins.parse("broken", None)
    assert refused.value.field == "facility"
    assert checkins.parse("broken", "微波炉") == ("broken", "microwave")
    rider = staff_app.test_client()
    form = page(rider.get(f"/stations/{XN}"))
    assert '<select id="facility" name="facility"' in form
    listed = re.findall(r'<option value="(\w+)">', form)
    assert listed[:3] == ["drinking_water", "microwave", "toilet"]  # the station's own first
    assert "aed" in listed  # then what it does not list: a broken thing may be missing there
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    sent = rider.post(
        f"/stations/{XN}/checkins", data={"kind": "broken", "facility": "", "csrf_token": token}
    )
    assert sent.status_code == 303
    assert "请先选择哪项设施坏了" in page(rider.get(f"/stations/{XN}"))
    assert store.station_reports(XN) == []
    form = page(rider.get(f"/stations/{XN}"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    rider.post(
        f"/stations/{XN}/checkins",
        data={"kind": "broken", "facility": "microwave", "csrf_token": token},
    )
    (kept,) = store.station_reports(XN)
    assert (kept.kind, kept.facility) == ("broken", "microwave")


# -- paging, filters, orders ---------------------------------------------------------------------


@pytest.fixture
def many(store):
    """23 reports at Xining (one an hour from 11-17 00:00), two at Hefei, one at Qingdao."""
    ids = {}
    for n in range(23):
        kind = ("locked", "broken", "not_found")[n % 3]
        at = f"2026-11-{17 + n // 24:02d}T{n % 24:02d}:00:00+08:00"
        ids[f"xn{n}"] = report(store, XN, kind, "toilet" if kind == "broken" else None, at, f"x{n}")
    ids["hf0"] = report(store, HF, "locked", None, "2026-11-19T12:00:00+08:00", "h0")
    ids["hf1"] = report(store, HF, "expired_medicine", None, "2026-11-20T09:00:00+08:00", "h1")
    ids["qd0"] = report(store, QD, "not_found", None, "2026-11-16T12:00:00+08:00", "q0")
    return ids


def test_queue_pages_counts_and_last_page(boss, many):
    first = page(boss.get("/admin/reports"))
    assert len(queue_ids(first)) == 20 and "共 26 条反馈，显示第 1–20 条" in main(first)
    assert "第 1 页，共 2 页" in main(first) and 'rel="next"' in first
    second = page(boss.get("/admin/reports?page=2"))
    assert len(queue_ids(second)) == 6 and "显示第 21–26 条" in main(second)
    assert set(queue_ids(first)).isdisjoint(queue_ids(second))
    assert set(queue_ids(first)) | set(queue_ids(second)) == set(many.values())
    assert queue_ids(page(boss.get("/admin/reports?page=9"))) == queue_ids(second)  # the last


def test_queue_orders(boss, many):
    newest = queue_ids(page(boss.get("/admin/reports?sort=newest")))
    assert newest[:4] == [many["hf1"], many["hf0"], many["xn22"], many["xn21"]]
    oldest = queue_ids(page(boss.get("/admin/reports?sort=oldest")))
    assert oldest[:3] == [many["qd0"], many["xn0"], many["xn1"]]
    # overdue first: the longest waiting; an acknowledged one waits from its acknowledgement
    move(boss, many["qd0"], "acknowledge")
    waiting = queue_ids(page(boss.get("/admin/reports?sort=overdue")))
    assert waiting[:2] == [many["xn0"], many["xn1"]] and many["qd0"] not in waiting[:20]


def test_queue_filters(boss, many, clock):
    only = page(boss.get("/admin/reports?kind=broken"))
    assert "共 8 条" in main(only) and "门锁着" not in main(only).split("显示第")[1]
    hefei = queue_ids(page(boss.get("/admin/reports?district=340104")))
    assert sorted(hefei) == sorted([many["hf0"], many["hf1"]])
    assert queue_ids(page(boss.get("/admin/reports?q=QD-0001"))) == [many["qd0"]]
    assert queue_ids(page(boss.get("/admin/reports?q=金寨路&sort=newest"))) == [
        many["hf1"],
        many["hf0"],
    ]
    # overdue: not moved on for 72 hours by Friday 10:00, i.e. reported before Tue 10:00
    overdue = page(boss.get("/admin/reports?overdue=1&sort=oldest"))
    assert queue_ids(overdue) == [many["qd0"], *(many[f"xn{n}"] for n in range(11))]
    assert main(overdue).count("超期") >= 12
    move(boss, many["xn0"], "resolve", "换了新门锁")
    move(boss, many["xn1"], "reject")
    assert many["xn0"] not in queue_ids(page(boss.get("/admin/reports?state=open&page=2")))
    assert queue_ids(page(boss.get("/admin/reports?state=resolved"))) == [many["xn0"]]
    rejected = page(boss.get("/admin/reports?state=rejected"))
    assert queue_ids(rejected) == [many["xn1"]] and "无效（垃圾信息）" in main(rejected)
    everything = page(boss.get("/admin/reports?state=all"))
    assert "共 26 条" in main(everything)


@pytest.mark.parametrize(
    "query",
    ["kind=party", "kind=ok", "state=gone", "district=34", "sort=random", "page=0", "page=x"],
)
def test_queue_refuses_addresses_no_form_makes(boss, query):
    response = boss.get(f"/admin/reports?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_data(as_text=True)


def test_queue_is_scoped_to_the_region(xn, many):
    assert set(queue_ids(page(xn.get("/admin/reports?state=all&page=2")))) | set(
        queue_ids(page(xn.get("/admin/reports?state=all")))
    ) == {many[f"xn{n}"] for n in range(23)}
    assert queue_ids(page(xn.get("/admin/reports?district=340104"))) == []


# -- handling a report; its history on the station page --------------------------------------------


def test_handled_reports_stay_in_the_station_history(xn, store, clock):
    broken = report(store, XN, "broken", "microwave", "2026-11-19T18:42:00+08:00", "a")
    locked = report(store, XN, "locked", None, "2026-11-20T07:10:00+08:00", "b")
    back = "/admin/reports?sort=newest"
    moved = move(xn, locked, "acknowledge", back=back)
    assert moved.status_code == 303 and moved.headers["Location"].endswith(back)
    assert move(xn, broken, "resolve", "已更换微波炉").status_code == 303
    assert (
        move(xn, broken, "resolve", back="https://evil.example/")
        .headers["Location"]
        .endswith("/admin/reports")
    )  # only our own queue or station pages
    assert queue_ids(page(xn.get("/admin/reports"))) == [locked]  # the queue: open ones
    html = page(xn.get(f"/admin/stations/{XN}"))
    history = text(html[html.index('class="report-history"') :].split("</ul>")[0])
    assert "设施坏了：微波炉 · 11月19日 18:42 · 已解决 · xn-auditor，刚刚" in history
    assert "处理结果: 已更换微波炉" in history
    assert "门锁着 / 没开 · 11月20日 07:10 · 处理中 · xn-auditor，刚刚" in history
    assert not ISO.search(main(html))
    en = page(xn.get(f"/admin/stations/{XN}?lang=en"))
    assert "Something is broken: Microwave · 19 Nov 18:42 · Resolved" in main(en)
    assert not ISO.search(main(en))


# -- the staff station page -----------------------------------------------------------------------


def test_station_page_badges_agree_with_the_hours(xn, staff_app, clock):
    # XN: Mo-Fr 08:00-18:00, status open; Friday 10:00
    html = main(page(xn.get(f"/admin/stations/{XN}")))
    assert "开放 · 开放中，18:00 关门" in html
    clock.set(2026, 11, 20, 20, 0)
    xn = client_for(staff_app, "xn-auditor")
    html = page(xn.get(f"/admin/stations/{XN}"))
    assert "开放 · 休息中，11月23日 08:00 开门" in main(html)  # Monday
    assert 'class="badge now-closed closed"' in html and 'data-status="open"' in html
    clock.set(2026, 11, 23, 6, 0)
    xn = client_for(staff_app, "xn-auditor")
    assert "开放 · 休息中，08:00 开门" in main(page(xn.get(f"/admin/stations/{XN}")))
    en = main(page(xn.get(f"/admin/stations/{XN}?lang=en")))
    assert "Open · Resting, opens at 08:00" in en


def test_station_history_reads_as_labels(xn, store):
    from stations.core import editing

    boss = store.user_login("boss")[0]
    now = __import__("datetime").datetime(2026, 11, 20, 9, 30, tzinfo=_tz())
    station = store.get(XN)
    editing.update(
        store,
        boss,
        XN,
        {"opening_hours": "Mo-Su 07:00-22:00", "lat": "36.6175", "status": "temporarily_closed",
         "closed_until": "2026-12-01", "facilities": ["toilet", "aed"]},
        station.version,
        now,
    )  # fmt: skip
    html = page(xn.get(f"/admin/stations/{XN}"))
    history = text(html[html.index('class="grid history"') :])
    assert "开放时间: 周一至周五 08:00–18:00；法定节假日休息" in history
    assert "开放时间: 周一至周日 07:00–22:00" in history
    assert "纬度: 36.6171" in history and "纬度: 36.6175" in history
    assert "状态: 开放" in history and "状态: 暂停开放" in history
    assert "暂停至: 12月1日" in history
    assert "设施: 饮用水、微波炉、卫生间" in history and "设施: 卫生间、AED" in history
    assert "修改" in history and "导入" in history and "命令行" in history
    assert "30 分钟前 boss 修改" in history  # the clock is 10:00
    assert not re.search(r"\b(lat|opening_hours|update|import|command line|open)\b", history)
    assert not ISO.search(main(html))
    en = page(xn.get(f"/admin/stations/{XN}?lang=en"))
    history = text(en[en.index('class="grid history"') :])
    assert "Opening hours: Mon–Sun 07:00–22:00" in history and "Latitude: 36.6175" in history
    assert "Edited" in history and "Imported" in history and "Command line" in history
    assert "Status: Temporarily closed" in history and "Facilities: Toilet, AED" in history
    assert not re.search(r"\b(lat|opening_hours|update|import|command line)\b", history)


def _tz():
    from stations.core.hours import TZ

    return TZ


def audit_post(client, station_id, fail=False, visited_on="2026-11-19", profile_key="siyou"):
    from stations.core import standards

    profile = standards.profiles()[profile_key]
    data = {
        "csrf_token": csrf(client, f"/admin/stations/{station_id}/audit"),
        "profile": profile_key,
        "visited_on": visited_on,
        "visit_kind": "unannounced",
        **{f"result_{i.key}": "pass" for i in profile.items},
    }
    if fail:
        item = next(i for i in profile.items if not i.from_registry)
        data[f"result_{item.key}"] = "fail"
        data[f"note_{item.key}"] = "没有标识"
    return client.post(
        f"/admin/stations/{station_id}/audit", data=data, content_type="multipart/form-data"
    )


def test_audit_lines_and_form_use_labels(xn):
    form = page(xn.get(f"/admin/stations/{XN}/audit?profile=siyou"))
    assert re.search(
        r'class="result-choice result-pass"><input type="radio"[^>]*> <span>符合</span>', form
    )
    assert "<span>不符合</span>" in form and "<span>不适用</span>" in form
    assert ">暗访<" in form and ">计划核查<" in form
    assert audit_post(xn, XN).status_code == 303
    html = main(page(xn.get(f"/admin/stations/{XN}")))
    assert "11月19日 · 四有 · 暗访 · xn-auditor · 达标" in html or "11月19日 · " in html
    assert "暗访" in html and "unannounced" not in html and "siyou" not in html
    assert not ISO.search(html)


def test_verified_at_moves_on_audit_and_on_confirmation(xn, store, clock, database_url):
    assert store.get(XN).verified_at is None
    version = store.get(XN).version
    assert audit_post(xn, XN, visited_on="2026-11-19").status_code == 303
    assert store.get(XN).verified_at == "2026-11-19T00:00:00+08:00"  # the visit day
    assert audit_post(xn, XN, visited_on="2026-11-20").status_code == 303
    assert store.get(XN).verified_at == "2026-11-20T10:00:00+08:00"  # today: the moment
    assert audit_post(xn, XN, visited_on="2026-11-18").status_code == 303
    assert store.get(XN).verified_at == "2026-11-20T10:00:00+08:00"  # an older visit: no step back
    clock.set(2026, 11, 21, 16, 5)
    sign_in(xn, "xn-auditor")  # a day later: a new session
    token = csrf(xn, f"/admin/stations/{XN}")
    done = xn.post(f"/admin/stations/{XN}/confirm", data={"csrf_token": token})
    assert done.status_code == 303
    after = store.get(XN)
    assert after.verified_at == "2026-11-21T16:05:00+08:00" and after.version == version
    change = store.history(XN)[0]
    assert (change.action, change.actor) == ("confirm", "xn-auditor")
    assert change.after == {"verified_at": "2026-11-21T16:05:00+08:00"}
    html = main(page(xn.get(f"/admin/stations/{XN}")))
    assert "刚刚 xn-auditor 确认信息无误 核实时间: 11月20日 10:00" in html
    assert "核实时间: 11月20日 10:00 核实时间: 刚刚" in html and not ISO.search(html)
    # another region's staff cannot confirm
    raw = RawDB(database_url).rows("select verified_at from stations where id = 2")
    refused = xn.post(f"/admin/stations/{HF}/confirm", data={"csrf_token": token})
    assert refused.status_code in (403, 404)
    assert RawDB(database_url).rows("select verified_at from stations where id = 2") == raw


def test_public_page_gives_no_medal_for_a_failed_audit(xn, staff_app):
    rider = staff_app.test_client()
    assert audit_post(xn, XN, fail=True).status_code == 303
    public = page(rider.get(f"/stations/{XN}"))
    assert "🏅" not in public and "未达标" not in text(public).replace("最近核查未达标", "")
    assert "最近核查未达标（11月19日）" in text(public)
    assert audit_post(xn, XN, visited_on="2026-11-20").status_code == 303
    public = text(page(rider.get(f"/stations/{XN}")))
    assert "🏅 四有 达标 · " in public and "未达标" not in public
    assert not ISO.search(public[public.index("🏅") :][:80])
