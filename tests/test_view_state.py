"""The map view in a query string (stations/web/view_state.py), and `/` opening it."""

import re

import pytest
from werkzeug.datastructures import MultiDict

from stations.web import view_state
from stations.web.view_state import MapView, ViewError


def parse(query: str) -> MapView:
    from urllib.parse import parse_qsl

    return view_state.parse(MultiDict(parse_qsl(query)))


def test_a_full_view_is_read_and_written_back():
    view = parse(
        "center=31.82,117.23&zoom=15&facilities=toilet,微波炉&open_now=1&station=12&near=31.8206,117.2272"
    )
    assert view == MapView(
        centre=(31.82, 117.23),
        zoom=15,
        facilities=("toilet", "microwave"),
        open_now=True,
        station=12,
        near=(31.8206, 117.2272),
    )
    assert parse("&".join(f"{k}={v}" for k, v in view.query().items())) == view
    assert view.query()["facilities"] == "toilet,microwave"


def test_nothing_asked_is_an_empty_view_and_other_keys_are_left_alone():
    assert parse("").empty
    assert parse("lang=en&utm_source=wechat").empty
    assert parse("centre=31.8,117.2").centre == (31.8, 117.2)  # the British spelling too
    assert parse("center=３１．８，１１７．２").centre == (31.8, 117.2)  # a Chinese input method


@pytest.mark.parametrize(
    "query, key",
    [
        ("zoom=99", "zoom"),
        ("zoom=abc", "zoom"),
        ("zoom=2", "zoom"),
        ("facilities=sauna", "facilities"),
        ("open_now=maybe", "open_now"),
        ("station=-1", "station"),
        ("station=x", "station"),
        ("center=117.23,31.82,5", "center"),
        ("center=91,117", "center"),
        ("center=31.8,181", "center"),
        ("center=nan,inf", "center"),
        ("center=31.8,117.2&center=31.9,117.3", "center"),
        ("near=north", "near"),
    ],
)
def test_a_bad_key_is_named(query, key):
    with pytest.raises(ViewError) as caught:
        parse(query)
    assert caught.value.key == key and str(caught.value)


def test_without_drops_the_bad_key_only():
    args = MultiDict([("center", "x"), ("zoom", "15"), ("lang", "en")])
    assert view_state.without(args, "center") == {"zoom": "15", "lang": "en"}


def test_the_map_page_opens_the_view_in_its_query(api):
    body = api.get("/?facilities=toilet,microwave&open_now=1&center=31.82,117.23&zoom=15").get_data(
        as_text=True
    )
    assert 'data-facility="toilet" aria-pressed="true"' in body
    assert 'data-facility="microwave" aria-pressed="true"' in body
    assert 'data-facility="drinking_water" aria-pressed="false"' in body
    assert 'data-open-now aria-pressed="true"' in body
    assert "center: [31.82, 117.23]" in body and '"zoom": 15' in body
    plain = api.get("/").get_data(as_text=True)
    assert not re.search(r'<button[^>]*aria-pressed="true"', plain)


def test_the_map_page_centres_on_a_linked_station(api):
    body = api.get("/?station=2").get_data(as_text=True)  # 蜀山区金寨路爱心驿站
    assert "center: [31.8206, 117.2272]" in body and '"zoom": 16' in body
    assert '"station": 2' in body
    gone = api.get("/?station=999").get_data(as_text=True)
    assert '"station": null' in gone  # no such station: the map opens as usual


def test_a_bad_link_is_a_clear_400_with_a_way_on(api):
    response = api.get("/?zoom=99&facilities=toilet&lang=en")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "This map link is not valid (zoom: a whole number from 3 to 19)." in body
    assert 'href="/?facilities=toilet&amp;lang=en"' in body
    zh = api.get("/?center=北京&lang=zh").get_data(as_text=True)
    assert "这个地图链接无效（center：应为“纬度,经度”，例如 31.82,117.23）。" in zh
