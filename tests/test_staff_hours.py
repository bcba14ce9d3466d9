"""The staff edit form takes opening hours as Chinese phrases, and says what is wrong in the
page's language, naming each field by its label (never its key)."""

import html as html_lib
import json
import re
from urllib.parse import quote

import pytest
from staff_helpers import csrf
from test_staff import XN, edit_form, page


@pytest.fixture
def store_kind() -> str:
    return "sqlite"  # form handling only: no store method of its own


def alert(response) -> list[str]:
    """The error summary's lines as a person reads them."""
    box = re.search(r'<div class="flash error" role="alert">(.*?)</div>', page(response), re.S)
    assert box, "no error summary"
    return [html_lib.unescape(li) for li in re.findall(r"<li>(.*?)</li>", box.group(1), re.S)]


def test_a_chinese_phrase_is_saved_as_osm(xn, store):
    response = xn.post(
        f"/admin/stations/{XN}/edit", data=edit_form(xn, XN, opening_hours="每天8:00-22:00")
    )
    assert response.status_code == 303
    assert store.get(XN).opening_hours == "Mo-Su 08:00-22:00"
    assert "周一至周日 08:00–22:00" in page(xn.get(f"/admin/stations/{XN}"))
    assert store.history(XN)[0].after["opening_hours"] == "Mo-Su 08:00-22:00"


def test_osm_text_is_saved_as_typed(xn, store):
    typed = "Mo-Fr 08:00-12:00,14:00-18:00; PH off"
    xn.post(f"/admin/stations/{XN}/edit", data=edit_form(xn, XN, opening_hours=typed))
    assert store.get(XN).opening_hours == typed


def test_a_phrase_that_cannot_be_read_is_named_in_chinese(xn, store):
    before = store.get(XN)
    response = xn.post(
        f"/admin/stations/{XN}/edit",
        data=edit_form(xn, XN, opening_hours="每天8点到10点左右"),
    )
    assert response.status_code == 400
    assert alert(response) == ["开放时间：无法识别“每天8点到10点左右”中的“左右”"]
    body = page(response)
    assert 'value="每天8点到10点左右"' in body  # what was typed stays to be corrected
    assert "opening_hours:" not in body and "is not valid" not in body
    assert store.get(XN) == before


def test_the_same_error_in_english(xn):
    response = xn.post(
        f"/admin/stations/{XN}/edit?lang=en",
        data=edit_form(xn, XN, opening_hours="看情况"),
    )
    assert response.status_code == 400
    (line,) = alert(response)
    assert line.startswith("Opening hours: cannot read “看情况”. Write for example")
    assert "开放时间" not in line


def test_other_fields_are_named_by_their_labels(xn):
    data = edit_form(xn, XN, manager_phone="12345", lat="101.78", lon="36.62")
    zh = alert(xn.post(f"/admin/stations/{XN}/edit", data=data))
    assert "联系电话：“12345”不是手机号（11 位）、座机号（如 0971-1234567）或 400 号码" in zh
    assert "纬度：纬度 101.78 和经度 36.62 似乎填反了：是否应为纬度 36.62、经度 101.78？" in zh
    en = alert(xn.post(f"/admin/stations/{XN}/edit?lang=en", data=data))
    assert "Phone: “12345” is not a mobile (11 digits), landline (0971-1234567) or 400 number" in en
    assert any(line.startswith("Latitude: latitude 101.78 and longitude 36.62") for line in en)
    assert not any(re.search(r"[\u4e00-\u9fff]", line.split(":")[0]) for line in en)


def test_the_new_station_form_too(xn):
    response = xn.post(
        "/admin/stations/new",
        data={
            "csrf_token": csrf(xn, "/admin/stations/new"),
            "code": "XN-NEW",
            "name": "",
            "lat": "36.62",
            "lon": "101.78",
            "crs": "wgs84",
            "opening_hours": "8点",
        },
    )
    assert response.status_code == 400
    assert alert(response) == [
        "名称：必填",
        "开放时间：“8点”不完整：请写出开始和结束时间，例如“周一至周五 8:00-18:00”",
    ]


def test_a_new_station_takes_a_phrase(xn, store):
    response = xn.post(
        "/admin/stations/new",
        data={
            "csrf_token": csrf(xn, "/admin/stations/new"),
            "code": "XN-0099",
            "name": "新驿站",
            "lat": "36.6201",
            "lon": "101.7801",
            "crs": "wgs84",
            "opening_hours": "周一至周五 8点到18点，节假日休息",
        },
    )
    assert response.status_code == 303
    assert store.get_by_code("XN-0099").opening_hours == "Mo-Fr 08:00-18:00; PH off"


def test_typed_text_is_escaped_in_the_message(xn):
    response = xn.post(
        f"/admin/stations/{XN}/edit",
        data=edit_form(xn, XN, opening_hours="<b>x</b>"),
    )
    assert response.status_code == 400
    assert "<b>x</b>" not in page(response) and "&lt;b&gt;x&lt;/b&gt;" in page(response)


def preview(client, query):
    response = client.get("/admin/hours/preview?" + query)
    return response.status_code, response.get_json()


def test_preview_turns_a_phrase_into_osm_and_words(xn):
    status, body = preview(xn, "text=" + quote("周一到周五8:00-12:00，14:00-18:00"))
    assert status == 200
    assert body["osm"] == "Mo-Fr 08:00-12:00,14:00-18:00"
    assert body["words"] == "周一至周五 08:00–12:00、14:00–18:00"
    assert body["rows"] == [
        {"days": ["Mo", "Tu", "We", "Th", "Fr"], "ranges": [["08:00", "12:00"], ["14:00", "18:00"]]}
    ]
    status, body = preview(xn, "lang=en&text=" + quote("晚上10点到早上6点"))
    assert (body["osm"], body["words"]) == ("Mo-Su 22:00-06:00", "Mon–Sun 22:00–06:00 (next day)")


def test_preview_of_the_editor_rows(xn):
    form = {
        "groups": [
            {"days": ["Sa", "Su"], "ranges": [["09:00", "17:00"]]},
            {"days": ["Mo", "Tu", "We", "Th", "Fr"], "ranges": [["08:00", "00:00"]]},
        ],
        "holidays": "off",
    }
    status, body = preview(xn, "form=" + quote(json.dumps(form)))
    assert status == 200
    assert body["osm"] == "Mo-Fr 08:00-24:00; Sa,Su 09:00-17:00; PH off"
    assert body["words"] == "周一至周五 08:00–24:00；周六、周日 09:00–17:00；法定节假日休息"


def test_preview_refuses_in_the_page_language(xn):
    status, body = preview(xn, "text=" + quote("25点到26点"))
    assert status == 400 and body == {"ok": False, "error": "“25点”不是有效的时间"}
    status, body = preview(xn, "lang=en&text=" + quote("25点到26点"))
    assert body["error"] == "“25点” is not a time of day"
    assert preview(xn, "form=" + quote("[1, 2"))[0] == 400
    assert preview(xn, "form=" + quote('{"groups": [{"days": "Mo", "ranges": 3}]}'))[0] == 400
    assert preview(xn, "")[0] == 400


def test_preview_needs_sign_in(staff_app):
    response = staff_app.test_client().get("/admin/hours/preview?text=24小时")
    assert response.status_code in (302, 401) and "osm" not in page(response)
