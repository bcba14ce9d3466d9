"""Union staff: accounts, sessions, region scope on every route, editing, API, audits, reports."""

import io
import json
import re
import threading
from pathlib import Path

import pytest
from PIL import Image
from rawdb import RawDB
from staff_helpers import PASSWORD, csrf, job_outcome, sign_in, signed_in, token_for

from app import create_app

from conftest import STORE_KINDS, write_csv

XN, HF, QD = 1, 2, 3  # station ids of the sample: Xining, Hefei, Qingdao


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    """Every staff test runs against the SQLite and the PostGIS store."""
    return request.param


@pytest.fixture
def anon(staff_app):
    return staff_app.test_client()


def registry(database_url):
    raw = RawDB(database_url)
    return [
        raw.rows(f"select * from {t} order by 1") for t in ("stations", "station_changes", "audits")
    ]


def page(response):
    return response.get_data(as_text=True)


def edit_form(client, station_id, **changes):
    """The edit form's current values as a browser would post them, with changes applied."""
    import re

    html = page(client.get(f"/admin/stations/{station_id}/edit"))
    data = {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
        "version": re.search(r'name="version" value="(\d+)"', html).group(1),
    }
    for name in (
        "name",
        "address",
        "lat",
        "lon",
        "brand",
        "opening_hours",
        "closed_until",
        "manager_name",
        "manager_phone",
    ):
        m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
        data[name] = m.group(1) if m else ""
    data.update(crs="wgs84", host_type="other", entry_method="open_door", status="open")
    data.update(changes)
    return data


# -- accounts and sessions --------------------------------------------------------------------


def test_passwords_are_argon2id_and_kept_exactly(store):
    from stations.core.accounts import hash_password, verify_password

    odd = "  пароль 密码 🔑 with spaces  "
    stored = hash_password(odd)
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, odd) and not verify_password(stored, odd.strip())
    assert verify_password(hash_password("x" * 500), "x" * 500) and not verify_password(
        hash_password("x" * 500), "x" * 499
    )


@pytest.mark.parametrize(
    "password", ["123456789", "password1", "woaini1314", "short", "aaaaaaaaaa", "qd-new-2026!"]
)
def test_weak_passwords_are_refused(staff_app, password):
    runner = staff_app.test_cli_runner()
    args = ["user", "create", "qd-new", "--role", "auditor", "--region", "3702", "--password-stdin"]
    result = runner.invoke(args=args, input=password + "\n")
    assert result.exit_code == 1 and "password refused" in result.output
    assert "qd-new" not in runner.invoke(args=["user", "list"]).output


def test_user_cli(staff_app, database_url):
    runner = staff_app.test_cli_runner()
    made = runner.invoke(
        args=[
            "user",
            "create",
            "qd-viewer",
            "--role",
            "viewer",
            "--region",
            "3702",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    weak = runner.invoke(
        args=[
            "user",
            "create",
            "qd-two",
            "--role",
            "viewer",
            "--region",
            "3702",
            "--password-stdin",
        ],
        input="woaini1314\n",
    )
    assert weak.exit_code == 1 and "password refused" in weak.output
    bad_region = runner.invoke(
        args=["user", "create", "x-y", "--role", "viewer", "--region", "9999", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert bad_region.exit_code == 1 and "region must be" in bad_region.output
    assert "qd-viewer" in runner.invoke(args=["user", "list"]).output
    token = runner.invoke(args=["user", "token", "qd-viewer"]).output.strip()
    assert token.startswith("yz_")
    assert token not in json.dumps(RawDB(database_url).rows("select * from api_tokens"))
    assert "Disabled qd-viewer" in runner.invoke(args=["user", "disable", "qd-viewer"]).output


def test_unknown_user_and_wrong_password_look_the_same(anon):
    unknown = sign_in(anon, "nobody-here")
    wrong = sign_in(anon, "xn-auditor", "not the password at all")
    assert unknown.status_code == wrong.status_code == 401
    strip = lambda html: html.split('name="csrf_token"')[0]  # noqa: E731
    assert strip(page(unknown)) == strip(page(wrong))


def test_sign_in_starts_a_fresh_session(anon):
    anon.get("/login")
    before = anon.get_cookie("session").value
    sign_in(anon, "xn-auditor")
    after = anon.get_cookie("session").value
    assert before != after
    assert anon.get("/admin/").status_code == 200


def test_logout_ends_the_session_on_the_server(staff_app, xn):
    stolen = xn.get_cookie("session").value
    xn.post("/logout", data={"csrf_token": csrf(xn, "/admin/")})
    thief = staff_app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/admin/").status_code == 302  # back to sign-in: the copied cookie is dead


def test_a_session_and_its_csrf_token_work_on_every_app_server_sharing_the_secret(
    staff_app, xn, database_url, clock
):
    """Two app servers on one database with one SECRET_KEY: a sign-in on one is a sign-in on
    the other, a form from one posts to the other, and signing out on one ends it on both."""

    def server(secret):
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "SECRET_KEY": secret,
                "CLOCK": clock,
                "RATELIMIT_ENABLED": False,
            }
        )
        client = app.test_client()
        client.set_cookie("session", xn.get_cookie("session").value)
        return client

    data = edit_form(xn, XN, name="另一台服务器改的名字")  # the form and its token come from A
    other = server("staff")  # the browser's cookie as it is now, sent to B
    assert other.post(f"/admin/stations/{XN}/edit", data=data).status_code == 303
    assert "另一台服务器改的名字" in page(xn.get(f"/admin/stations/{XN}"))
    assert server("another secret").get("/admin/").status_code == 302  # to sign-in
    other.post("/logout", data={"csrf_token": csrf(other, "/admin/")})
    assert xn.get("/admin/").status_code == 302  # signed out on B: signed out on A


def test_disabling_a_user_ends_their_sessions_and_tokens(staff_app, xn, store):
    token = token_for(store, "xn-auditor")
    api = staff_app.test_client()
    assert (
        api.patch(
            f"/api/v1/stations/{XN}",
            json={"brand": "x"},
            headers={"Authorization": f"Bearer {token}"},
        ).status_code
        == 428
    )
    staff_app.test_cli_runner().invoke(args=["user", "disable", "xn-auditor"])
    assert xn.get("/admin/").status_code == 302
    assert (
        api.patch(
            f"/api/v1/stations/{XN}",
            json={"brand": "x"},
            headers={"Authorization": f"Bearer {token}", "If-Match": '"v1"'},
        ).status_code
        == 401
    )
    assert sign_in(staff_app.test_client(), "xn-auditor").status_code == 401


def test_idle_and_absolute_timeouts(xn, clock):
    clock.set(2026, 11, 20, 10, 29)
    assert xn.get("/admin/").status_code == 200
    clock.set(2026, 11, 20, 11, 0)  # 31 minutes idle
    assert xn.get("/admin/").status_code == 302


def test_absolute_timeout(xn, clock):
    for step in range(1, 36):  # a request every 20 minutes: never idle
        minutes = 20 * step
        clock.set(2026, 11, 20, 10 + minutes // 60, minutes % 60)
        assert xn.get("/admin/").status_code == 200, minutes
    clock.set(2026, 11, 20, 22, 1)  # 12 hours after sign-in, though never idle
    assert xn.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "target, lands",
    [
        ("/admin/stations", "/admin/stations"),
        ("https://evil.example/x", "/admin/"),
        ("//evil.example", "/admin/"),
        ("/\\evil.example", "/admin/"),
        ("javascript:alert(1)", "/admin/"),
    ],
)
def test_next_goes_to_local_paths_only(anon, target, lands):
    response = sign_in(anon, "xn-auditor", next_=target)
    assert response.status_code == 302 and response.headers["Location"] == lands


def test_login_limit_runs_before_the_password_hash(anon, monkeypatch):
    import stations.core.accounts

    calls = []
    real = stations.core.accounts.verify_password
    monkeypatch.setattr(
        stations.core.accounts, "verify_password", lambda h, p: calls.append(1) or real(h, p)
    )
    free = stations.core.accounts.FREE_FAILURES_PAIR  # then a wait that doubles, never a lock
    for _ in range(free):
        assert sign_in(anon, "xn-auditor", "wrong wrong wrong").status_code == 401
    assert len(calls) == free
    waiting = sign_in(anon, "xn-auditor")  # even the right password, during the wait
    assert waiting.status_code == 429 and int(waiting.headers["Retry-After"]) > 0
    assert len(calls) == free  # refused without computing a hash


def test_forms_need_the_csrf_token(anon, xn):
    assert anon.post("/login", data={"name": "xn-auditor", "password": PASSWORD}).status_code == 400
    data = edit_form(xn, XN, name="无令牌")
    data.pop("csrf_token")
    assert xn.post(f"/admin/stations/{XN}/edit", data=data).status_code == 400


def test_writes_by_get_are_405(xn):
    assert xn.get(f"/admin/stations/{XN}/status").status_code == 405
    assert xn.get("/logout").status_code == 405
    assert xn.get("/admin/reports/1").status_code == 405


def test_staff_pages_need_sign_in(anon):
    for path in (
        "/admin/",
        "/admin/stations",
        f"/admin/stations/{XN}",
        "/admin/reports",
        "/admin/due",
        "/admin/import",
    ):
        response = anon.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


# -- region scope through every route ---------------------------------------------------------


def test_xining_auditor_cannot_change_hefei_through_any_route(
    staff_app, xn, store, database_url, tmp_path
):
    before = registry(database_url)
    assert xn.get(f"/admin/stations/{HF}").status_code == 403
    assert xn.get(f"/admin/stations/{HF}/edit").status_code == 403
    assert (
        xn.post(f"/admin/stations/{HF}/edit", data=edit_form(xn, XN, name="改名")).status_code
        == 403
    )
    assert (
        xn.post(
            f"/admin/stations/{HF}/status",
            data={"csrf_token": csrf(xn, "/admin/"), "status": "closed", "version": "1"},
        ).status_code
        == 403
    )
    assert xn.get(f"/admin/stations/{HF}/audit").status_code == 403
    new = {
        "csrf_token": csrf(xn, "/admin/stations/new"),
        "code": "HF-NEW",
        "name": "合肥新站",
        "lat": "31.83",
        "lon": "117.23",
        "crs": "wgs84",
        "host_type": "other",
        "entry_method": "open_door",
        "status": "open",
    }
    assert xn.post("/admin/stations/new", data=new).status_code == 403
    upload = write_csv(tmp_path / "hf.csv", [["HF-0001", "改名驿站"]], header=["code", "name"])
    with open(upload, "rb") as f:
        response = xn.post(
            "/admin/import",
            data={"csrf_token": csrf(xn, "/admin/import"), "file": (f, "hf.csv"), "apply": "1"},
            content_type="multipart/form-data",
        )
    state, job_page = job_outcome(xn, response)
    assert state["phase"] == "done" and state["applied"] is None  # planned, refused by row
    assert "outside xn-auditor" in page(job_page)
    token = token_for(store, "xn-auditor")
    api = staff_app.test_client()
    auth = {"Authorization": f"Bearer {token}", "If-Match": '"v1"'}
    assert (
        api.patch(f"/api/v1/stations/{HF}", json={"name": "改名"}, headers=auth).status_code == 403
    )
    assert api.delete(f"/api/v1/stations/{HF}", headers=auth).status_code == 403
    assert (
        api.post(
            "/api/v1/stations",
            json={k: v for k, v in new.items() if k != "csrf_token"},
            headers=auth,
        ).status_code
        == 403
    )
    audit = {
        "profile": "liuyou_a",
        "visited_on": "2026-11-19",
        "visit_kind": "scheduled",
        "items": {},
    }
    assert api.post(f"/api/v1/stations/{HF}/audits", json=audit, headers=auth).status_code == 403
    moving = api.patch(
        f"/api/v1/stations/{XN}", json={"lat": 31.8206, "lon": 117.2272}, headers=auth
    )
    assert moving.status_code == 403  # nor may a Xining station be moved into Hefei
    assert registry(database_url) == before  # stations, history and audits untouched
    raw = RawDB(database_url)
    assert raw.rows("select name, version from stations where id = ?", [HF]) == [
        ("蜀山区金寨路爱心驿站", 1)
    ]
    assert raw.rows("select lat, version from stations where id = ?", [XN]) == [(36.6171, 1)]
    assert raw.value("select count(*) from stations") == 3


def test_hefei_report_cannot_be_moved_from_xining(staff_app, xn, store):
    store.add_checkin(HF, "locked", None, "c1", "2026-11-20T08:00:00+08:00", False)
    report_id = store.reports("", ("new",))[0].id
    assert (
        xn.post(
            f"/admin/reports/{report_id}",
            data={"csrf_token": csrf(xn, "/admin/"), "action": "reject"},
        ).status_code
        == 403
    )
    assert store.report(report_id).status == "new"


def test_station_lists_show_only_the_region(xn):
    listing = page(xn.get("/admin/stations"))
    assert "城中区长江路工会驿站" in listing and "蜀山区金寨路爱心驿站" not in listing
    assert "630103" in page(xn.get("/admin/")) and "340104" not in page(xn.get("/admin/"))


def test_viewer_reads_but_never_writes(staff_app, store):
    viewer = staff_app.test_client()
    sign_in(viewer, "viewer")
    assert viewer.get(f"/admin/stations/{HF}").status_code == 200
    assert (
        viewer.post(f"/admin/stations/{HF}/edit", data=edit_form(viewer, HF, name="x")).status_code
        == 403
    )
    token = token_for(store, "viewer")
    response = staff_app.test_client().patch(
        f"/api/v1/stations/{HF}",
        json={"name": "x"},
        headers={"Authorization": f"Bearer {token}", "If-Match": '"v1"'},
    )
    assert response.status_code == 403


# -- editing, conflicts, history --------------------------------------------------------------


def test_edit_with_history(xn, store):
    response = xn.post(
        f"/admin/stations/{XN}/edit",
        data=edit_form(xn, XN, name="城中区长江路工会驿站（扩建）", manager_phone="13800138001"),
    )
    assert response.status_code == 303
    s = store.get(XN)
    assert s.name == "城中区长江路工会驿站（扩建）" and s.version == 2
    last = store.history(XN)[0]
    assert (
        last.actor == "xn-auditor"
        and last.before["name"] == "城中区长江路工会驿站"
        and last.after["manager_phone"] == "13800138001"
    )
    assert "城中区长江路工会驿站（扩建）" in page(xn.get(f"/admin/stations/{XN}"))


def test_coordinates_in_another_datum(xn, store):
    from stations.core import datum

    g_lat, g_lon = datum.from_wgs84(36.6200, 101.7800, "gcj02")
    xn.post(
        f"/admin/stations/{XN}/edit",
        data=edit_form(xn, XN, lat=f"{g_lat:.9f}", lon=f"{g_lon:.9f}", crs="gcj02"),
    )
    s = store.get(XN)
    assert (s.lat, s.lon, s.coord_source) == (36.62, 101.78, "gcj02")


def test_second_save_is_refused_with_who_and_when(staff_app, xn, store, clock):
    other = staff_app.test_client()
    sign_in(other, "boss")
    mine, theirs = edit_form(xn, XN, name="甲的名字"), edit_form(other, XN, name="乙的名字")
    assert other.post(f"/admin/stations/{XN}/edit", data=theirs).status_code == 303
    refused = xn.post(f"/admin/stations/{XN}/edit", data=mine)
    assert refused.status_code == 409
    text = visible(page(refused))
    assert "被 boss 于 11月20日 10:00 修改" in text or "boss" in text and "11月20日 10:00" in text
    assert "2026-11-20T" not in text and "name" not in text
    assert "名称：城中区长江路工会驿站 → 乙的名字" in text and "名称：甲的名字" in text
    assert store.get(XN).name == "乙的名字"


def test_temporary_close_with_reopening_date(xn, store):
    token = csrf(xn, "/admin/")
    response = xn.post(
        f"/admin/stations/{XN}/status",
        data={
            "csrf_token": token,
            "status": "temporarily_closed",
            "closed_until": "2026-12-01",
            "version": "1",
        },
    )
    assert response.status_code == 303
    assert (store.get(XN).status, store.get(XN).closed_until) == (
        "temporarily_closed",
        "2026-12-01",
    )


def test_history_can_never_be_edited(xn, store, database_url):
    xn.post(f"/admin/stations/{XN}/edit", data=edit_form(xn, XN, name="新名"))
    raw = RawDB(database_url)
    with pytest.raises(Exception, match="cannot be changed"):  # whatever the database's error
        raw.execute("update station_changes set actor = 'nobody'")
    with pytest.raises(Exception, match="cannot be deleted"):
        raw.execute("delete from station_changes")
    assert [c.action for c in store.history(XN)] == ["update", "import"]


# -- staff API --------------------------------------------------------------------------------


@pytest.fixture
def api_as_xn(staff_app, store):
    token = token_for(store, "xn-auditor")
    client = staff_app.test_client()
    client.auth = {"Authorization": f"Bearer {token}"}
    return client


def test_patch_needs_if_match_and_a_fresh_etag(api_as_xn):
    c = api_as_xn
    etag = c.get(f"/api/v1/stations/{XN}").headers["ETag"]
    assert etag == '"v1"'
    assert (
        c.patch(f"/api/v1/stations/{XN}", json={"brand": "骑手驿站"}, headers=c.auth).status_code
        == 428
    )
    ok = c.patch(
        f"/api/v1/stations/{XN}", json={"brand": "骑手驿站"}, headers={**c.auth, "If-Match": etag}
    )
    assert (
        ok.status_code == 200
        and ok.headers["ETag"] == '"v2"'
        and ok.json["properties"]["brand"] == "骑手驿站"
    )
    stale = c.patch(
        f"/api/v1/stations/{XN}", json={"brand": "爱心驿站"}, headers={**c.auth, "If-Match": etag}
    )
    assert (
        stale.status_code == 412
        and stale.headers["ETag"] == '"v2"'
        and stale.json["error"]["code"] == "version_conflict"
    )


def test_api_needs_a_token(staff_app):
    c = staff_app.test_client()
    assert c.patch(f"/api/v1/stations/{XN}", json={}).status_code == 401
    assert (
        c.patch(
            f"/api/v1/stations/{XN}", json={}, headers={"Authorization": "Bearer yz_forged"}
        ).status_code
        == 401
    )


@pytest.mark.parametrize("field", ["verified_at", "version", "id", "is_admin", "code"])
def test_only_allowed_fields(api_as_xn, field):
    c = api_as_xn
    response = c.patch(
        f"/api/v1/stations/{XN}", json={field: 1}, headers={**c.auth, "If-Match": '"v1"'}
    )
    assert response.status_code == 400 and response.json["error"]["field"] == field


def test_non_json_body_is_415(api_as_xn):
    c = api_as_xn
    response = c.patch(
        f"/api/v1/stations/{XN}",
        data="name=x",
        headers={**c.auth, "If-Match": '"v1"', "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


def test_create_and_close_through_the_api(api_as_xn, store):
    c = api_as_xn
    made = c.post(
        "/api/v1/stations",
        json={
            "code": "XN-NEW",
            "name": "新驿站",
            "lat": 36.62,
            "lon": 101.77,
            "opening_hours": "24/7",
        },
        headers=c.auth,
    )
    assert made.status_code == 201 and made.headers["Location"].endswith(
        f"/api/v1/stations/{made.json['id']}"
    )
    closed = c.delete(
        f"/api/v1/stations/{made.json['id']}", headers={**c.auth, "If-Match": made.headers["ETag"]}
    )
    assert closed.status_code == 200 and closed.json["properties"]["status"] == "closed"
    assert [h.action for h in store.history(made.json["id"])] == ["update", "create"]


def test_no_lost_update_under_concurrency(staff_app, store):
    """8 clients each make 10 changes, retrying on 412: every change survives."""
    token = token_for(store, "xn-auditor")
    failures = []

    def worker(n):
        client = staff_app.test_client()
        auth = {"Authorization": f"Bearer {token}"}
        for _change in range(10):
            for _attempt in range(200):
                current = client.get(f"/api/v1/stations/{XN}")
                address = current.json["properties"]["address"] + f"{n}"
                r = client.patch(
                    f"/api/v1/stations/{XN}",
                    json={"address": address},
                    headers={**auth, "If-Match": current.headers["ETag"]},
                )
                if r.status_code == 200:
                    break
                if r.status_code not in (412, 503):
                    failures.append(r.status_code)
                    return

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    s = store.get(XN)
    assert len(s.address) == 80 and s.version == 81
    assert sorted(s.address) == sorted("".join(str(n) * 10 for n in range(8)))


def test_a_held_write_lock_gives_503(staff_app, store, database_url):
    token = token_for(store, "xn-auditor")
    staff_app.config["DATABASE_BUSY_TIMEOUT_MS"] = 100
    with RawDB(database_url).write_lock():
        c = staff_app.test_client()
        response = c.patch(
            f"/api/v1/stations/{XN}",
            json={"brand": "x"},
            headers={"Authorization": f"Bearer {token}", "If-Match": '"v1"'},
        )
        assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert store.get(XN).brand == ""  # nothing was written; the lock's end changes nothing


# -- audits -----------------------------------------------------------------------------------


def all_pass(profile):
    return {f"result_{i.key}": "pass" for i in profile.items}


@pytest.mark.parametrize(
    "key",
    ["liuyou_a", "liuyou_b", "bayou", "siyou", "qigeyi_guizhou", "qigeyi_haikou", "bageyi_sanya"],
)
def test_scoring_for_each_profile(key, store, seeded):
    from dataclasses import replace

    from stations.core import audits, standards

    profile = standards.profiles()[key]
    station = replace(store.get(XN), verified_at="2026-11-01T00:00:00+08:00")
    answers = audits.parse_answers(profile, station, all_pass(profile))
    assert audits.score(profile, answers) == (1.0, True)
    editable = [i for i in profile.items if not i.from_registry]
    form = all_pass(profile) | {
        f"result_{editable[0].key}": "fail",
        f"note_{editable[0].key}": "坏了",
    }
    share, passed = audits.score(profile, audits.parse_answers(profile, station, form))
    assert not passed and share == pytest.approx((len(profile.items) - 1) / len(profile.items))
    form = all_pass(profile) | {f"result_{editable[0].key}": "na"}
    share, passed = audits.score(profile, audits.parse_answers(profile, station, form))
    assert passed and share == 1.0


def test_the_online_map_item_comes_from_the_registry(store, seeded):
    from stations.core import audits, standards

    profile = standards.profiles()["liuyou_a"]
    unverified = store.get(XN)  # never verified: not yet on the map
    answers = audits.parse_answers(
        profile, unverified, all_pass(profile) | {"result_online_map": "pass"}
    )
    assert {a.item: a.result for a in answers}["online_map"] == "fail"


def test_a_failed_item_needs_a_note(store, seeded):
    from stations.core import audits, standards

    profile = standards.profiles()["siyou"]
    with pytest.raises(audits.AuditInvalid, match="say what is wrong"):
        audits.parse_answers(profile, store.get(XN), all_pass(profile) | {"result_sign": "fail"})


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {2: (36.0, 37.0, 1.0), 4: (101.0, 46.0, 40.0)}  # GPSInfo
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def audit_post(xn, station_id, profile_key="siyou", photo=None, **extra):
    from stations.core import standards

    profile = standards.profiles()[profile_key]
    data = {
        "csrf_token": csrf(xn, f"/admin/stations/{station_id}/audit"),
        "profile": profile_key,
        "visited_on": "2026-11-19",
        "visit_kind": "unannounced",
        **all_pass(profile),
        **extra,
    }
    if photo is not None:
        data[f"photo_{profile.items[0].key}"] = (io.BytesIO(photo[1]), photo[0])
    return xn.post(
        f"/admin/stations/{station_id}/audit", data=data, content_type="multipart/form-data"
    )


def test_audit_with_a_valid_photo_strips_its_location(xn, store, staff_app):
    raw = jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get(0x8825)
    assert audit_post(xn, XN, photo=("site.jpg", raw)).status_code == 303
    audit = store.audits_for(XN)[0]
    name = store.audit_items(audit.id)[0].photo
    assert (Path(staff_app.config["EVIDENCE_DIR"]) / name).is_file()  # in the shared folder
    served = xn.get(f"/admin/evidence/{name}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    kept = Image.open(io.BytesIO(served.data))
    assert not kept.getexif() and kept.size == (64, 48)
    assert (
        staff_app.test_client().get(f"/admin/evidence/{name}").status_code == 302
    )  # strangers: sign in first
    other = staff_app.test_client()
    sign_in(other, "hf-admin")
    assert other.get(f"/admin/evidence/{name}").status_code == 404  # other regions: as if absent


def test_a_script_renamed_jpg_is_refused(xn, store):
    response = audit_post(xn, XN, photo=("evil.jpg", b"#!/bin/sh\nrm -rf /\n"))
    assert response.status_code == 400 and "not a readable JPEG" in page(response)
    assert store.audits_for(XN) == []


def test_an_oversized_photo_is_refused(xn, store):
    big = b"\xff\xd8\xff\xe0" + b"0" * (9 * 1024 * 1024)
    response = audit_post(xn, XN, photo=("huge.jpg", big))
    assert response.status_code == 400 and "the limit is 8 MB" in page(response)
    response.request.input_stream.close()  # the test client spools a 9 MB body to a temp file


def test_a_gif_is_refused_whatever_its_name(xn):
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    response = audit_post(xn, XN, photo=("photo.png", out.getvalue()))
    assert response.status_code == 400 and "not GIF" in page(response)


def test_badge_and_expired_items_reach_workers(xn, store, anon, clock):
    store_verified = store.add_checkin(XN, "ok", None, "c", "2026-11-01T10:00:00+08:00", True)
    assert store_verified
    response = audit_post(xn, XN, "qigeyi_haikou", valid_until_first_aid_kit="2026-11-10")
    assert response.status_code == 303
    public = page(anon.get(f"/stations/{XN}"))
    assert "七个一（海口）" in public and "达标" in public and "核查于 11月19日" in public
    assert "已过期" in public and "有效期至 2026-11-10" in public
    props = anon.get(f"/api/v1/stations/{XN}").json["properties"]
    assert props["audit"]["passed"] is True and props["audit"]["profile"] == "qigeyi_haikou"
    assert {"kind": "expired", "item": "first_aid_kit", "valid_until": "2026-11-10"} in props[
        "warnings"
    ]


def test_region_default_profile(store, xn):
    store.set_region_profile("63", "liuyou_b")
    assert "有固定场所" in page(xn.get(f"/admin/stations/{XN}/audit"))
    assert "有统一的标识名称" in page(xn.get(f"/admin/stations/{XN}/audit?profile=bayou"))


def test_audit_through_the_api(api_as_xn, store):
    from stations.core import standards

    c = api_as_xn
    items = {i.key: {"result": "pass"} for i in standards.profiles()["siyou"].items}
    made = c.post(
        f"/api/v1/stations/{XN}/audits",
        json={
            "profile": "siyou",
            "visited_on": "2026-11-18",
            "visit_kind": "scheduled",
            "items": items,
        },
        headers=c.auth,
    )
    assert made.status_code == 201 and made.json["passed"] is True
    future = c.post(
        f"/api/v1/stations/{XN}/audits",
        json={
            "profile": "siyou",
            "visited_on": "2027-01-01",
            "visit_kind": "scheduled",
            "items": items,
        },
        headers=c.auth,
    )
    assert future.status_code == 400


# -- reports, freshness, dashboard ------------------------------------------------------------


def test_report_loop_overdue_at_72_hours_and_resolution_clears_the_warning(xn, store, anon, clock):
    from datetime import datetime

    from stations.core import audits
    from stations.core.hours import TZ

    store.add_checkin(XN, "locked", None, "c1", "2026-11-20T10:00:00+08:00", False)
    report = store.reports("6301", ("new",))[0]
    assert not audits.overdue(report, datetime(2026, 11, 23, 9, 59, 59, tzinfo=TZ))
    assert audits.overdue(report, datetime(2026, 11, 23, 10, 0, 0, tzinfo=TZ))
    clock.set(2026, 11, 23, 10, 0)
    sign_in(xn, "xn-auditor")
    assert "超期" in page(xn.get("/admin/reports"))
    assert "有劳动者反映问题" in page(anon.get(f"/stations/{XN}"))
    token = csrf(xn, "/admin/reports")
    xn.post(f"/admin/reports/{report.id}", data={"csrf_token": token, "action": "acknowledge"})
    assert store.report(report.id).status == "acknowledged"
    assert (
        xn.post(
            f"/admin/reports/{report.id}", data={"csrf_token": token, "action": "resolve"}
        ).status_code
        == 303
    )
    assert store.report(report.id).status == "acknowledged"  # a resolution needs a note
    xn.post(
        f"/admin/reports/{report.id}",
        data={"csrf_token": token, "action": "resolve", "note": "已联系加油站开门"},
    )
    assert store.report(report.id).status == "resolved"
    public = page(anon.get(f"/stations/{XN}"))
    assert "有劳动者反映问题" not in public and "72.0 小时" in public


def test_due_list(xn, store):
    due = page(xn.get("/admin/due"))
    assert "城中区长江路工会驿站" in due  # never audited
    audit_post(xn, XN)
    assert "城中区长江路工会驿站" not in page(xn.get("/admin/due"))
    for n in range(3):
        store.add_checkin(XN, "broken", "microwave", f"c{n}", "2026-11-20T09:00:00+08:00", False)
    assert "城中区长江路工会驿站" in page(
        xn.get("/admin/due")
    )  # three open reports make it due again


def test_audit_interval_is_configurable(staff_app, xn, clock):
    audit_post(xn, XN)  # visited 2026-11-19
    clock.set(2027, 1, 10, 10, 0)
    sign_in(xn, "xn-auditor")
    assert "城中区长江路工会驿站" not in page(xn.get("/admin/due"))
    staff_app.config["AUDIT_INTERVAL_DAYS"] = 30
    assert "城中区长江路工会驿站" in page(xn.get("/admin/due"))


def test_dashboard_and_formula_safe_exports(staff_app, store, xn):
    from openpyxl import load_workbook

    xn.post(
        f"/admin/stations/{XN}/edit", data=edit_form(xn, XN, name='=HYPERLINK("http://x","驿站")')
    )
    audit_post(xn, XN, "siyou", result_sign="fail", note_sign="没有标识")
    boss = staff_app.test_client()
    sign_in(boss, "boss")
    dash = page(boss.get("/admin/"))
    # the chart: a bar per district, its label and its compliance; the failed audit is 0 %
    import re

    bars = {
        m["adcode"]: (m["label"], float(m["width"]), m["value"])
        for m in re.finditer(
            r'<g class="bar" data-adcode="(?P<adcode>\d+)">.*?<text class="bar-label"[^>]*>'
            r'(?P<label>[^<]*)</text>\s*<rect [^>]*width="(?P<width>[\d.]+)"[^>]*>'
            r'</rect>\s*<text class="bar-value"[^>]*>(?P<value>[^<]*)</text>',
            dash,
            re.S,
        )
    }
    assert bars["630103"] == ("西宁市城中区", 0.0, "0%")
    assert bars["340104"] == ("合肥市蜀山区", 0.0, "无核查")
    assert len(bars) == 3
    audit_post(xn, XN)  # a passing audit the same day is the latest: the bar fills
    dash = page(boss.get("/admin/?lang=en"))
    assert re.search(r'data-adcode="630103">.*?width="400(\.0)?".*?>100%</text>', dash, re.S)
    assert ">Compliance (%)</th>" in dash and ">no audits</text>" in dash
    assert "Division code" in boss.get("/admin/export/districts.csv").data.decode("utf-8-sig")
    page(boss.get("/admin/?lang=zh"))  # the language is remembered: back to Chinese
    csv_text = boss.get("/admin/export/audits.csv").data.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "没有标识" in csv_text
    book = load_workbook(io.BytesIO(boss.get("/admin/export/districts.xlsx").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("行政区划代码", "区县", "站点数") and any(
        r[0] == "630103" for r in rows[1:]
    )
    xlsx = boss.get("/admin/export/audits.xlsx").data
    import zipfile

    sheet = zipfile.ZipFile(io.BytesIO(xlsx)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "HYPERLINK" in sheet


def test_seed_prints_demo_passwords_once(cli):
    first = cli("seed")
    assert "demo-admin / " in first.output and "demo-auditor / " in first.output
    again = cli("seed")
    assert "demo-admin / " not in again.output


def visible(html: str) -> str:
    """A page's text as a person reads it: tags, scripts and styles gone."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_bad_reopening_date_is_named_by_its_label_in_the_pages_language(xn, store):
    token = csrf(xn, "/admin/")
    form = {"csrf_token": token, "status": "temporarily_closed", "version": "1"}
    response = xn.post(
        f"/admin/stations/{XN}/status",
        data=form | {"closed_until": "12月1日"},
        follow_redirects=True,
    )
    text = visible(page(response))
    assert "暂停至" in text and "closed_until" not in text
    assert store.get(XN).status == "open"  # nothing saved
    response = xn.post(
        f"/admin/stations/{XN}/status?lang=en",
        data=form | {"closed_until": "12月1日", "csrf_token": csrf(xn, "/admin/?lang=en")},
        follow_redirects=True,
    )
    assert "Closed until" in page(response)


def test_a_stale_status_change_says_who_and_when_in_words(xn, staff_app, store):
    other = signed_in(staff_app, "boss")
    assert (
        other.post(
            f"/admin/stations/{XN}/edit", data=edit_form(other, XN, name="乙的名字")
        ).status_code
        == 303
    )
    token = csrf(xn, "/admin/")
    response = xn.post(
        f"/admin/stations/{XN}/status",
        data={"csrf_token": token, "status": "closed", "version": "1"},
        follow_redirects=True,
    )
    text = visible(page(response))
    assert "boss" in text and "11月20日 10:00" in text and "2026-11-20T" not in text
    assert store.get(XN).status == "open"


def test_switching_language_keeps_the_lists_search_and_page(xn):
    html = xn.get("/admin/stations?q=驿站&sort=code&page=1").get_data(as_text=True)
    link = re.search(r'<a class="lang" href="\?([^"]+)"', html).group(1)
    assert set(link.replace("&amp;", "&").split("&")) >= {"sort=code", "page=1", "lang=en"}
    assert "q=%E9%A9%BF%E7%AB%99" in link


def test_a_failed_audit_is_listed_by_name_and_its_failed_items_shown(staff_app, xn, store):
    """Staff see which stations failed (not only dots on a map) and what to go back and fix."""
    from stations.core import standards

    audit_post(xn, XN, "siyou", result_sign="fail", note_sign="没有标识")
    sign = next(i for i in standards.profiles()["siyou"].items if i.key == "sign")
    dash = visible(page(signed_in(staff_app, "boss").get("/admin/")))
    assert "最近一次核查未达标的站点 (1)" in dash
    assert "城中区长江路工会驿站 · 城中区 · 11月19日 · 未达标" in dash
    station = visible(page(xn.get(f"/admin/stations/{XN}")))
    assert f"最近一次核查未达标的项目： {sign.zh} — 没有标识" in station


def test_the_english_dashboard_names_the_whole_country_in_english(staff_app):
    text = visible(page(signed_in(staff_app, "boss").get("/admin/?lang=en")))
    assert "Dashboard · Whole country" in text and "全国" not in text


def test_history_shows_opening_hours_in_words(xn, store):
    xn.post(f"/admin/stations/{XN}/edit", data=edit_form(xn, XN, opening_hours="每天8:00-22:00"))
    text = visible(page(xn.get(f"/admin/stations/{XN}")))
    history = text[text.index("修改记录") :]
    assert "每天 08:00–22:00" in history or "周一至周日 08:00–22:00" in history, history[:400]
    assert "Mo-Su" not in history and "Mo-Fr" not in history
