"""Staff fixtures: users in two regions, sign-in with the CSRF token, API tokens."""

import re
import time

PASSWORD = "绿色 驿站 correct horse 2026"
USERS = {  # name: (role, region)
    "xn-auditor": ("auditor", "6301"),  # Xining: XN-0001 is theirs
    "hf-admin": ("admin", "3401"),  # Hefei: HF-0001 is theirs
    "viewer": ("viewer", ""),
    "boss": ("admin", ""),
}


def make_users(store, now="2026-11-20T09:00:00+08:00"):
    from stations.core.accounts import hash_password

    for name, (role, region) in USERS.items():
        store.create_user(name, hash_password(PASSWORD), role, region, now)


def csrf(client, path="/login") -> str:
    return re.search(
        r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)
    ).group(1)


def sign_in(client, name, password=PASSWORD, next_=""):
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf(client), "next": next_},
    )


def token_for(store, name) -> str:
    from stations.core.accounts import new_token

    user = store.user_login(name)[0]
    token, digest = new_token()
    store.add_token(user.id, digest, "2026-11-20T09:00:00+08:00")
    return token


def staff_app_for(database_url, clock, tmp_path, **settings):
    """The app as staff tests use it: this database, the pinned clock, evidence under tmp_path,
    no rate limits; settings add to or override that."""
    from app import create_app

    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
            "SECRET_KEY": "staff",
            "CLOCK": clock,
            "RATELIMIT_ENABLED": False,
        }
        | settings
    )


def signed_in(app, name):
    """A test client signed in as name."""
    client = app.test_client()
    assert sign_in(client, name).status_code == 302
    return client


def job_outcome(client, response, seconds: float = 60):
    """The import job a POST to /admin/import started, polled until it ends: (its last
    state as the page's JSON gives it, its page)."""
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    page_url = response.headers["Location"]
    deadline = time.monotonic() + seconds
    while True:
        state = client.get(page_url + ".json").get_json()
        if not state["running"] or time.monotonic() > deadline:
            return state, client.get(page_url)
        time.sleep(0.02)  # a poll interval, not a measurement
