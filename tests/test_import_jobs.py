"""Staff imports run as jobs: the page shows their phase and progress, then the plan or what
was applied; a dead job reads as failed; only its owner or an admin of its region sees it."""

import io
import json
import os
import re
import time
import urllib.request

import pytest
from servers import AppServer, flask_cli, http
from staff_helpers import PASSWORD, job_outcome, signed_in
from test_hostile_imports import post_file

from conftest import SAMPLE, write_csv


def hefei_rows(n: int) -> list[dict]:
    """n distinct stations spread over Hefei (3401), ~40 m apart, names unlike each other."""
    return [
        {
            "code": f"JOB-{i:06d}",
            "name": f"合肥第{i}号驿站",
            "lat": f"{31.80 + (i // 200) * 0.0004:.6f}",
            "lon": f"{117.20 + (i % 200) * 0.0005:.6f}",
        }
        for i in range(n)
    ]


@pytest.fixture
def hf(staff_app, tmp_path):
    staff_app.config["IMPORT_DIR"] = str(tmp_path / "imports")
    return signed_in(staff_app, "hf-admin")


def test_progress_rises_to_the_row_count_and_the_page_says_applied(hf, tmp_path, store):
    path = write_csv(tmp_path / "big.csv", hefei_rows(3000))
    response = post_file(hf, "/admin/import", path, apply="1")
    assert response.status_code == 303
    url = response.headers["Location"] + ".json"
    seen = []
    while True:
        state = hf.get(url).get_json()
        seen.append((state["phase"], state["done"], state["total"]))
        if not state["running"]:
            break
        time.sleep(0.01)  # a poll interval, not a measurement
    order = ["reading", "checking", "applying", "done"]
    assert [order.index(p) for p, _, _ in seen] == sorted(order.index(p) for p, _, _ in seen)
    for phase in order:
        done = [d for p, d, _ in seen if p == phase]
        assert done == sorted(done), (phase, done)
    assert seen[-1] == ("done", 3000, 3000)
    assert state["applied"] == 3000
    page = hf.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Applied 3000 stations: 3000 new, 0 updated, 0 unchanged." in page
    assert store.by_codes({"JOB-002999"})["JOB-002999"].name == "合肥第2999号驿站"
    assert list((tmp_path / "imports").iterdir()) == []  # the upload is gone


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_applied(hf, tmp_path, store):
    rows = hefei_rows(5)
    rows[1]["lat"] = "北纬"
    rows[3]["name"] = ""
    path = write_csv(tmp_path / "bad.csv", rows)
    state, page = job_outcome(hf, post_file(hf, "/admin/import", path, apply="1"))
    assert state["phase"] == "done" and state["applied"] is None
    text = hf.get(page.request.path + "?lang=en").get_data(as_text=True)
    assert "row 3, column Latitude:" in text
    assert "row 5, column Name:" in text
    chinese = hf.get(page.request.path + "?lang=zh").get_data(as_text=True)
    assert "第 3 行，纬度 列：" in chinese and "第 5 行，名称 列：" in chinese
    assert store.by_codes({"JOB-000000"}) == {}


def test_a_viewer_gets_403_and_no_file_is_saved(staff_app, tmp_path, monkeypatch):
    from stations.core import readers

    monkeypatch.setattr(readers, "read", lambda *a, **k: pytest.fail("the file was read"))
    staff_app.config["IMPORT_DIR"] = str(tmp_path / "imports")
    viewer = signed_in(staff_app, "viewer")
    path = write_csv(tmp_path / "v.csv", hefei_rows(3))
    assert post_file(viewer, "/admin/import", path, apply="1").status_code == 403
    assert not (tmp_path / "imports").exists() or list((tmp_path / "imports").iterdir()) == []


def test_a_job_whose_heartbeat_stopped_shows_as_failed(hf, store, staff_app, clock):
    owner = store.user_login("hf-admin")[0]
    job_id = store.add_import_job(
        owner.id, "3401", "大文件.xlsx", True, "2026-11-20T09:50:00+08:00"
    )
    store.update_import_job(
        job_id, "2026-11-20T09:51:00+08:00", phase="checking", done=10, total=99
    )
    state = hf.get(f"/admin/import/jobs/{job_id}.json?lang=en").get_json()  # clock: 10:00
    assert state["phase"] == "failed" and not state["running"]
    assert "The import stopped" in state["message"]
    page = hf.get(f"/admin/import/jobs/{job_id}").get_data(as_text=True)
    assert "导入已中断" in page
    store.update_import_job(job_id, "2026-11-20T09:59:30+08:00")  # a fresh heartbeat
    assert hf.get(f"/admin/import/jobs/{job_id}.json").get_json()["phase"] == "checking"


def test_only_the_owner_or_an_admin_of_the_region_sees_a_job(hf, staff_app, store):
    owner = store.user_login("hf-admin")[0]
    job_id = store.add_import_job(owner.id, "3401", "a.csv", False, "2026-11-20T09:59:50+08:00")
    assert (
        signed_in(staff_app, "xn-auditor").get(f"/admin/import/jobs/{job_id}.json").status_code
        == 404
    )
    assert signed_in(staff_app, "boss").get(f"/admin/import/jobs/{job_id}.json").status_code == 200
    assert hf.get(f"/admin/import/jobs/{job_id}.json").status_code == 200


# -- a real server: a big import never blocks other users --------------------------------------


class Browser:
    """A staff member's browser over plain HTTP: a cookie jar and the form's CSRF token."""

    def __init__(self, base: str):
        import http.cookiejar
        import urllib.request

        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def send(self, path: str, body: bytes | None = None, content_type: str = ""):
        """(status, headers, text) of one request; redirects are returned, not followed."""
        import urllib.error
        import urllib.request

        request = urllib.request.Request(self.base + path, data=body)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.headers, exc.read().decode()

    def csrf(self, path: str) -> str:
        status, _, text = self.send(path)
        assert status == 200, text[:300]
        return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)

    def post(self, path: str, form: dict, file=None):
        from werkzeug.datastructures import FileStorage, MultiDict
        from werkzeug.test import encode_multipart

        fields = MultiDict({"csrf_token": self.csrf(path), **form})
        if file is not None:
            fields.add("file", FileStorage(io.BytesIO(file.read_bytes()), file.name))
        boundary, body = encode_multipart(fields)
        return self.send(path, body, f"multipart/form-data; boundary={boundary}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_a_big_import_on_a_real_server_never_blocks_a_rider(tmp_path):
    """One gunicorn worker with two threads: while a 20,000-row import runs as a job, a rider's
    nearest request is answered, and the job then applies every row."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "SECRET_KEY": "jobs",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
    }
    cli_env = {**os.environ, **env}
    sample = flask_cli(cli_env, "import", str(write_csv(tmp_path / "s.csv", SAMPLE)))
    assert sample.returncode == 0, sample.stderr
    user = ("user", "create", "hf", "--role", "admin", "--region", "3401", "--password-stdin")
    made = flask_cli(cli_env, *user, input=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    rows = 20_000
    upload = write_csv(tmp_path / "合肥驿站.csv", hefei_rows(rows))

    with AppServer(env, tmp_path / "gunicorn.log") as server:
        rider = f"{server.base}/api/v1/stations/nearest?lat=31.81&lon=117.25&k=3"
        summary = f"{server.base}/api/v1/regions/3401/summary"
        assert json.loads(http(summary)[2])["stations"] == 1  # HF-0001 of the sample
        assert http(rider)[0] == 200  # the spatial index is built before the import starts

        staff = Browser(server.base)
        status, headers, text = staff.post(
            "/login", {"name": "hf", "password": PASSWORD, "next": ""}
        )
        assert status == 302, text[:300]
        status, headers, text = staff.post("/admin/import", {"apply": "1"}, upload)
        assert status == 303, text[:300]
        job = headers["Location"].removeprefix(server.base)

        def state() -> dict:
            status, _, text = staff.send(job + ".json?lang=en")
            assert status == 200, text[:300]
            return json.loads(text)

        deadline = time.monotonic() + 60
        seen = state()
        while seen["phase"] == "reading" and time.monotonic() < deadline:
            time.sleep(0.02)  # a poll interval, not a measurement
            seen = state()
        assert seen["running"], seen  # checking or applying: the job is under way

        started = time.monotonic()
        status, _, body = http(rider)
        rider_seconds = time.monotonic() - started
        after = state()
        assert status == 200, body
        assert json.loads(body)["features"], body
        assert after["running"], (after, rider_seconds)  # answered while the job still ran
        assert rider_seconds < 5, rider_seconds

        deadline = time.monotonic() + 300
        while after["running"] and time.monotonic() < deadline:
            time.sleep(0.1)  # a poll interval, not a measurement
            after = state()
        assert (after["phase"], after["applied"]) == ("done", rows), after
        _, _, page = staff.send(job + "?lang=en")
        assert f"Applied {rows} stations: {rows} new, 0 updated, 0 unchanged." in page
        assert json.loads(http(summary)[2])["stations"] == rows + 1
