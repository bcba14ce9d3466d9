"""Accounts an admin looks after: a forgotten password reset (command line and page), the
regions' default audit profile (command line and page), and the demo passwords' file.

Everything that touches the store runs on SQLite and on PostGIS."""

import os
import re
import runpy
from pathlib import Path

import pytest
from staff_helpers import PASSWORD, USERS, csrf, make_users, sign_in, staff_app_for

from app import create_app

from conftest import STORE_KINDS

ROOT = Path(__file__).resolve().parent.parent
NEW_PASSWORD = "青海湖 边的 新密码 2027"
NOW = "2026-11-20T09:00:00+08:00"
LATER = "2026-11-20T11:00:00+08:00"


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    return request.param


@pytest.fixture
def staff_app(seeded, database_url, clock, store, tmp_path):
    make_users(store)
    return staff_app_for(
        database_url,
        clock,
        tmp_path,
        SECRET_KEY="accounts",
        DEMO_PASSWORDS_FILE=str(tmp_path / "instance" / "demo-passwords.txt"),
    )


def client_of(app, name, password=PASSWORD):
    client = app.test_client()
    response = sign_in(client, name, password)
    assert response.status_code == 302, f"{name} could not sign in"
    return client


def signed_in(client) -> bool:
    """Whether the client's session still opens a staff page (or is sent to sign in)."""
    return client.get("/admin/").status_code == 200


def can_sign_in(app, name, password) -> bool:
    return sign_in(app.test_client(), name, password).status_code == 302


def page(response) -> str:
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- the store: both kinds --------------------------------------------------------------------


def test_a_new_password_hash_ends_every_session_of_its_user_only(store):
    xn = store.create_user("xn-auditor", "old-hash", "auditor", "6301", NOW)
    hf = store.create_user("hf-admin", "hf-hash", "admin", "3401", NOW)
    store.create_session("xn-1", xn, NOW)
    store.create_session("xn-2", xn, LATER)
    store.create_session("hf-1", hf, NOW)
    store.end_session("xn-1", NOW)  # already ended: keeps its own end
    store.add_token(xn, "token-hash", NOW)

    assert store.set_password_hash(xn, "new-hash", LATER) == 1
    assert store.user_login("xn-auditor")[1] == "new-hash"
    assert store.user_login("hf-admin")[1] == "hf-hash"
    assert store.session("xn-1").ended_at == NOW
    assert store.session("xn-2").ended_at == LATER
    assert store.session("hf-1").ended_at is None
    assert store.token_user("token-hash").name == "xn-auditor"  # tokens are kept
    assert store.last_sign_ins() == {xn: LATER, hf: NOW}


def test_region_profiles_lists_the_regions_set_their_own(store):
    assert store.region_profiles() == {"": "liuyou_a"}
    store.set_region_profile("6301", "liuyou_b")
    store.set_region_profile("34", "bayou")
    store.set_region_profile("6301", "siyou")  # replaced, not added
    assert store.region_profiles() == {"": "liuyou_a", "34": "bayou", "6301": "siyou"}
    assert list(store.region_profiles()) == ["", "34", "6301"]


# -- user set-password on the command line ----------------------------------------------------


def test_set_password_from_stdin_signs_the_user_out_everywhere(staff_app):
    browser = client_of(staff_app, "xn-auditor")
    phone = client_of(staff_app, "xn-auditor")
    boss = client_of(staff_app, "boss")
    runner = staff_app.test_cli_runner()
    result = runner.invoke(
        args=["user", "set-password", "xn-auditor", "--password-stdin"], input=NEW_PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "New password set for xn-auditor; 2 session(s) ended"
    assert not signed_in(browser) and not signed_in(phone)
    assert signed_in(boss)  # nobody else is signed out
    assert can_sign_in(staff_app, "xn-auditor", NEW_PASSWORD)
    assert not can_sign_in(staff_app, "xn-auditor", PASSWORD)


def test_set_password_prompts_twice_without_echo(staff_app):
    runner = staff_app.test_cli_runner()
    result = runner.invoke(
        args=["user", "set-password", "hf-admin"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "New password: \nRepeat for confirmation: \n" in result.output
    assert NEW_PASSWORD not in result.output
    assert can_sign_in(staff_app, "hf-admin", NEW_PASSWORD)


@pytest.mark.parametrize(
    "name, password, line",
    [
        ("nobody", NEW_PASSWORD, "Error: no user nobody"),
        (
            "x",
            NEW_PASSWORD,
            "Error: a user name has 2 to 40 letters, digits, Chinese characters or . _ -",
        ),
        ("xn-auditor", "short", "Error: password refused: use at least 8 characters"),
        (
            "xn-auditor",
            "woaini1314",
            "Error: password refused: this password is too common or contains the user name; "
            "choose another",
        ),
        (
            "xn-auditor",
            "xn-auditor-2027",
            "Error: password refused: this password is too common or contains the user name; "
            "choose another",
        ),
    ],
)
def test_set_password_refuses_with_one_line_and_changes_nothing(staff_app, name, password, line):
    browser = client_of(staff_app, "xn-auditor")
    result = staff_app.test_cli_runner().invoke(
        args=["user", "set-password", name, "--password-stdin"], input=password + "\n"
    )
    assert result.exit_code == 1
    assert result.output.strip() == line
    assert signed_in(browser)
    assert can_sign_in(staff_app, "xn-auditor", PASSWORD)


# -- the admins' staff page -------------------------------------------------------------------


def test_the_staff_page_lists_the_admins_region_in_words(staff_app, store):
    client_of(staff_app, "xn-auditor")  # signs in at the pinned clock: "just now"
    store.disable_user("viewer", "2026-11-19T08:30:00+08:00")
    boss = client_of(staff_app, "boss")

    rows = re.findall(r'<tr id="user-([^"]+)">(.*?)</tr>', page(boss.get("/admin/people")), re.S)
    cells = {
        name: [text_of(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[:5]]
        for name, row in rows
    }
    assert list(cells) == ["boss", "viewer", "hf-admin", "xn-auditor"]  # region, then name
    assert cells["xn-auditor"] == ["xn-auditor", "核查员", "西宁市", "刚刚", "使用中"]
    assert cells["hf-admin"] == ["hf-admin", "管理员", "合肥市", "从未登录", "使用中"]
    assert cells["viewer"] == ["viewer", "只读", "全国", "从未登录", "已停用 11月19日 08:30"]
    assert cells["boss"][:4] == ["boss", "管理员", "全国", "刚刚"]

    en = page(boss.get("/admin/people?lang=en"))
    rows = dict(re.findall(r'<tr id="user-([^"]+)">(.*?)</tr>', en, re.S))
    assert "Auditor" in rows["xn-auditor"] and "just now" in rows["xn-auditor"]
    assert "Whole country" in rows["viewer"] and "Disabled 19 Nov 08:30" in rows["viewer"]

    # An admin of a city sees the accounts of that city only
    hf = client_of(staff_app, "hf-admin")
    assert re.findall(r'<tr id="user-([^"]+)">', page(hf.get("/admin/people"))) == ["hf-admin"]


def test_an_admin_resets_a_password_and_the_old_session_is_signed_out(staff_app):
    auditor = client_of(staff_app, "xn-auditor")
    boss = client_of(staff_app, "boss")
    assert signed_in(auditor)
    token = csrf(boss, "/admin/people")
    done = boss.post(
        "/admin/people/xn-auditor/password",
        data={
            "csrf_token": token,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "action": "set",
        },
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/people")
    assert "已为 xn-auditor 设置新密码，1 个登录已退出。" in page(boss.get("/admin/people"))

    after = auditor.get("/admin/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    assert signed_in(boss)
    assert can_sign_in(staff_app, "xn-auditor", NEW_PASSWORD)
    assert not can_sign_in(staff_app, "xn-auditor", PASSWORD)


def test_a_generated_password_is_shown_once_and_signs_in(staff_app):
    auditor = client_of(staff_app, "xn-auditor")
    boss = client_of(staff_app, "boss")
    shown = boss.post(
        "/admin/people/xn-auditor/password",
        data={"csrf_token": csrf(boss, "/admin/people"), "action": "generate"},
    )
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    password = re.search(
        r'<code class="shown-password" lang="en">([^<]+)</code>', page(shown)
    ).group(1)
    assert len(password) == 16
    assert "xn-auditor 的新密码" in page(shown) and "只显示这一次" in page(shown)
    assert not signed_in(auditor)
    assert can_sign_in(staff_app, "xn-auditor", password)
    assert password not in page(boss.get("/admin/people"))  # not kept for a second look


@pytest.mark.parametrize(
    "form, message",
    [
        ({"password": "short", "confirm": "short"}, "至少使用 8 个字符。"),
        (
            {"password": "password1", "confirm": "password1"},
            "这个密码太常见或包含用户名，请换一个。",
        ),
        ({"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"}, "两次输入的密码不一致。"),
    ],
)
def test_a_refused_password_says_why_and_changes_nothing(staff_app, form, message):
    auditor = client_of(staff_app, "xn-auditor")
    boss = client_of(staff_app, "boss")
    refused = boss.post(
        "/admin/people/xn-auditor/password",
        data={"csrf_token": csrf(boss, "/admin/people"), "action": "set", **form},
    )
    assert refused.status_code == 400
    row = re.search(r'<tr id="user-xn-auditor">(.*?)</tr>', page(refused), re.S).group(1)
    assert message in row
    assert signed_in(auditor) and can_sign_in(staff_app, "xn-auditor", PASSWORD)


def test_only_an_admin_of_the_users_region_may_reset(staff_app):
    auditor = client_of(staff_app, "xn-auditor")
    viewer = client_of(staff_app, "viewer")
    assert viewer.get("/admin/people").status_code == 403
    assert auditor.get("/admin/people").status_code == 403
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "action": "set"}
    token = csrf(auditor, "/admin/")
    assert (
        auditor.post(
            "/admin/people/viewer/password", data={"csrf_token": token, **form}
        ).status_code
        == 403
    )

    hf = client_of(staff_app, "hf-admin")  # Hefei's admin; xn-auditor is Xining's
    token = csrf(hf, "/admin/people")
    refused = hf.post("/admin/people/xn-auditor/password", data={"csrf_token": token, **form})
    assert refused.status_code == 403 and "不在你的区域内" in page(refused)
    boss = hf.post("/admin/people/boss/password", data={"csrf_token": token, **form})
    assert boss.status_code == 403  # a national admin is outside a city's admin's region
    assert (
        hf.post("/admin/people/nobody/password", data={"csrf_token": token, **form}).status_code
        == 404
    )
    assert signed_in(auditor)
    for name in ("xn-auditor", "boss"):
        assert can_sign_in(staff_app, name, PASSWORD)


# -- regions' default audit profile: command line ---------------------------------------------


def test_region_set_profile_and_show(staff_app, store):
    runner = staff_app.test_cli_runner()
    done = runner.invoke(args=["region", "set-profile", "6301", "liuyou_b"])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == (
        "6301 西宁市: default profile liuyou_b (六有（B） / Six Haves (wording B))"
    )
    assert store.region_profile("630102") == "liuyou_b"  # a Xining district
    assert store.region_profile("630200") == "liuyou_a"  # elsewhere in Qinghai

    shown = runner.invoke(args=["region", "show", "630102"])
    assert (
        shown.output.strip()
        == "630102 城东区: liuyou_b (六有（B） / Six Haves (wording B)) (inherited)"
    )
    listed = runner.invoke(args=["region", "show"]).output.splitlines()
    assert listed[:2] == [
        "all (whole country): liuyou_a (六有（A） / Six Haves (wording A))",
        "6301 西宁市: liuyou_b (六有（B） / Six Haves (wording B))",
    ]
    assert listed[2].startswith("Profiles: liuyou_a (六有（A） / ") and "bageyi_sanya" in listed[2]


@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["9999", "liuyou_b"],
            "Error: region must be an adcode prefix of 2, 4 or 6 digits that exists",
        ),
        (["6301", "liuyou_c"], "Error: profile must be one of liuyou_a, liuyou_b, bayou, siyou,"),
    ],
)
def test_region_set_profile_refuses_with_one_line(staff_app, store, args, line):
    result = staff_app.test_cli_runner().invoke(args=["region", "set-profile", *args])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(line)
    assert store.region_profiles() == {"": "liuyou_a"}


def test_the_readme_names_the_real_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "flask --app app region set-profile" in readme
    assert "flask --app app user set-password NAME" in readme


# -- regions' default audit profile: the admins' page -----------------------------------------


def test_the_regions_page_lists_defaults_and_an_admin_changes_one(staff_app, store):
    boss = client_of(staff_app, "boss")
    html = page(boss.get("/admin/regions"))
    rows = re.findall(r'<tr id="region-([^"]+)">(.*?)</tr>', html, re.S)
    assert [r for r, _ in rows] == ["all", "34", "3401", "37", "3702", "63", "6301"]
    first = [text_of(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[0][1], re.S)[:3]]
    assert first == ["全国", "—", "六有（A）"]
    assert "来自上级区域" in rows[6][1]

    form = {"csrf_token": csrf(boss, "/admin/regions"), "region": "6301", "profile": "liuyou_b"}
    done = boss.post("/admin/regions", data=form)
    assert done.status_code == 303
    assert store.region_profile("630102") == "liuyou_b"
    html = page(boss.get("/admin/regions"))
    assert "西宁市：核查默认从 六有（B） 开始。" in html
    xining = re.search(r'<tr id="region-6301">(.*?)</tr>', html, re.S).group(1)
    assert "六有（B）" in text_of(xining).split("保存")[0] and "来自上级区域" not in xining
    assert re.search(r'<option value="liuyou_b" selected>', xining)
    qinghai = re.search(r'<tr id="region-63">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'<option value="liuyou_a" selected>', qinghai)

    en = page(boss.get("/admin/regions?lang=en"))
    xining = re.search(r'<tr id="region-6301">(.*?)</tr>', en, re.S).group(1)
    assert "Six Haves (wording B)" in xining and "Whole country" in en


def test_the_regions_page_keeps_to_the_admins_region(staff_app, store):
    hf = client_of(staff_app, "hf-admin")
    assert re.findall(r'<tr id="region-([^"]+)">', page(hf.get("/admin/regions"))) == ["3401"]
    token = csrf(hf, "/admin/regions")
    refused = hf.post(
        "/admin/regions", data={"csrf_token": token, "region": "6301", "profile": "bayou"}
    )
    assert refused.status_code == 403
    bad = hf.post("/admin/regions", data={"csrf_token": token, "region": "3401", "profile": "nope"})
    assert bad.status_code == 400 and "请从列表中选择一种标准。" in page(bad)
    bad = hf.post("/admin/regions", data={"csrf_token": token, "region": "99", "profile": "bayou"})
    assert bad.status_code == 400 and "请填写存在的 2、4 或 6 位区域代码" in page(bad)
    assert store.region_profiles() == {"": "liuyou_a"}

    auditor = client_of(staff_app, "xn-auditor")
    assert auditor.get("/admin/regions").status_code == 403
    token = csrf(auditor, "/admin/")
    post = auditor.post(
        "/admin/regions", data={"csrf_token": token, "region": "6301", "profile": "bayou"}
    )
    assert post.status_code == 403 and store.region_profiles() == {"": "liuyou_a"}


# -- the demo passwords' file -----------------------------------------------------------------


def test_seed_writes_the_demo_passwords_to_a_file_only_its_owner_reads(
    staff_app, tmp_path, sample_csv
):
    path = Path(staff_app.config["DEMO_PASSWORDS_FILE"])
    path.parent.mkdir()
    path.write_text("stale\n")
    path.chmod(0o644)  # a file left with a wider mode is narrowed, not trusted
    result = staff_app.test_cli_runner().invoke(args=["seed", "--file", str(sample_csv)])
    assert result.exit_code == 0, result.output
    assert f"Also saved in {path.resolve()}" in result.output
    assert os.stat(path).st_mode & 0o777 == 0o600

    rows = [line.split("\t") for line in path.read_text().splitlines() if not line.startswith("#")]
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("demo-admin", "admin", "all"),
        ("demo-auditor", "auditor", "6301"),
    ]
    for name, password, *_ in rows:
        assert f"{name} / {password}" in result.output  # the same passwords as printed
        assert can_sign_in(staff_app, name, password)


def test_gunicorn_names_the_file_once_ready(staff_app, tmp_path):
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    lines = []

    class Server:
        class app:
            @staticmethod
            def wsgi():
                return staff_app

        class log:
            @staticmethod
            def info(message, *args):
                lines.append(message % args)

    hooks["when_ready"](Server)
    assert lines == []  # no demo accounts made: nothing to point at
    path = Path(staff_app.config["DEMO_PASSWORDS_FILE"])
    path.parent.mkdir()
    path.write_text("demo-admin\tx\tadmin\tall\n")
    hooks["when_ready"](Server)
    assert lines == [f"Demo staff passwords: {path} (readable by you only)"]


def test_the_app_keeps_the_file_in_its_instance_folder(tmp_path):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'y.db'}", "SECRET_KEY": "x"}
    )
    assert app.config["DEMO_PASSWORDS_FILE"] == os.path.join(
        app.instance_path, "demo-passwords.txt"
    )


def test_every_role_has_a_label_in_both_languages():
    from stations.core import labels
    from stations.core.accounts import ROLES

    for role in ROLES:
        assert labels.label("role", role, "zh") != role and labels.label("role", role, "en") != role
    assert {USERS[n][0] for n in USERS} <= set(ROLES)
