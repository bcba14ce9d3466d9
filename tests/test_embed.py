"""The embed: framing policy, no cookies, URL switches validated, the no-JavaScript list."""

import pytest

from conftest import STORE_KINDS


@pytest.fixture(params=STORE_KINDS)
def store_kind(request) -> str:
    return request.param


@pytest.fixture
def embed(api):
    return api


def test_only_the_embed_may_be_framed(embed):
    assert embed.get("/embed").headers["Content-Security-Policy"] == "frame-ancestors *"
    assert "X-Frame-Options" not in embed.get("/embed").headers
    for path in ("/", "/stations", "/stations/1", "/login", "/admin/"):
        response = embed.get(path)
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'", path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_embed_sets_no_cookie_and_has_no_staff_link_or_form(embed):
    for query in ("", "?lang=en&list=1&locate=1", "?region=6301"):
        response = embed.get("/embed" + query)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, query
        body = response.get_data(as_text=True)
        assert "/admin" not in body and "<form" not in body and "csrf" not in body


def test_hostile_switches_are_ignored_and_never_reflected(embed):
    response = embed.get(
        "/embed?center=javascript:alert(1)&zoom=1e9&lang=<script>alert(1)</script>&facilities=<b>&tiles=evil"
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        "javascript:alert" not in body
        and "<script>alert" not in body
        and '"zoom": 1e9' not in body
        and "evil" not in body
    )
    assert 'lang="zh-CN"' in body and '"zoom": 13' in body


def test_switches_shape_the_embed(embed):
    body = embed.get(
        "/embed?center=36.6171,101.7782&zoom=15&lang=en&list=1&locate=1&facilities=toilet,microwave&open_now=1"
    ).get_data(as_text=True)
    assert "center: [36.6171, 101.7782]" in body and '"zoom": 15' in body
    assert 'id="locate"' in body and 'id="results"' in body and "Nearest stations to me" in body
    assert '"facilities":["toilet","microwave"]' in body.replace(
        " ", ""
    ) and '"openNow":true' in body.replace(" ", "")
    assert 'id="locate"' not in embed.get("/embed").get_data(
        as_text=True
    )  # geolocation only when asked


def test_region_switch_centres_on_the_region(embed):
    body = embed.get("/embed?region=6301").get_data(as_text=True)
    import re

    lat, lon = (float(v) for v in re.search(r"center: \[([\d.]+), ([\d.]+)\]", body).groups())
    assert 36 < lat < 37.5 and 100.5 < lon < 102.5  # Xining's districts


def test_no_javascript_list(embed):
    response = embed.get("/embed/list?lat=36.6171&lon=101.7782&k=2")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<script" not in body
    assert body.index("城中区长江路工会驿站") < body.index("蜀山区金寨路爱心驿站")
    assert 'target="_blank"' in body and "/stations/1" in body
    bad = embed.get("/embed/list?lat=nan&lon=101")
    assert bad.status_code == 400 and "lat must be a decimal number" in bad.get_data(as_text=True)


def test_builder_offers_a_snippet_and_may_not_be_framed(embed):
    response = embed.get("/embed/builder")
    assert response.status_code == 200 and response.headers["X-Frame-Options"] == "DENY"
    body = response.get_data(as_text=True)
    assert (
        'id="snippet"' in body and "/static/builder.js" in body and "http://localhost/embed" in body
    )
    assert (
        embed.get("/embed/list?lat=36.6&lon=101.7").headers["Content-Security-Policy"]
        == "frame-ancestors *"
    )
