import pytest

from stations.core.model import Invalid, validate

BASE = {"code": "XN-0001", "name": "城中区工会驿站", "lat": "36.6171", "lon": "101.7782"}


def errors(**changes):
    with pytest.raises(Invalid) as exc:
        validate({**BASE, **changes})
    return {e.field: e.message for e in exc.value.errors}


def test_minimal_station_gets_region_and_defaults():
    s = validate(BASE)
    assert (s.adcode, s.city, s.district) == ("630103", "西宁市", "城中区")
    assert (s.status, s.host_type, s.entry_method, s.coord_source) == (
        "open",
        "other",
        "open_door",
        "wgs84",
    )


def test_gcj02_input_is_stored_as_wgs84_with_provenance():
    s = validate({**BASE, "lat": "36.6170183390", "lon": "101.7801324664", "crs": "高德"})
    assert (s.lat, s.lon) == (36.6171, 101.7782)
    assert (s.coord_source, s.source_lat, s.source_lon) == ("gcj02", 36.617018339, 101.7801324664)


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"lat": "116.4", "lon": "39.9"}, "lat", "look swapped"),
        ({"lat": "nan"}, "lat", "finite"),
        ({"lon": "inf"}, "lon", "finite"),
        ({"lat": "1e999"}, "lat", "finite"),
        ({"lat": "90.0000001"}, "lat", "between -90 and 90"),
        ({"lon": "-181"}, "lon", "between -180 and 180"),
        ({"lat": ""}, "lat", "required"),
        ({"lat": "north"}, "lat", "decimal number"),
        ({"lat": "35.68", "lon": "139.76"}, "lat", "outside China"),
        ({"lat": "22.2783", "lon": "114.1747"}, "lat", "outside mainland China"),
        ({"adcode": "340104"}, "adcode", "the point lies in 青海省西宁市城中区"),
        ({"adcode": "12345"}, "adcode", "6 digits"),
        ({"adcode": "999999"}, "adcode", "not a current"),
        ({"code": ""}, "code", "required"),
        ({"code": "XN 01"}, "code", "no spaces"),
        ({"name": "   "}, "name", "required"),
        ({"name": "驿" * 101}, "name", "limit is 100"),
        ({"name": "bad\x07bell"}, "name", "control character U+0007"),
        ({"facilities": "饮用水、游泳池"}, "facilities", "unknown '游泳池'"),
        ({"status": "maybe"}, "status", "is not one of"),
        ({"status": "temporarily_closed"}, "closed_until", "required"),
        ({"closed_until": "someday", "status": "暂停开放"}, "closed_until", "date like"),
        ({"opening_hours": "8-18"}, "opening_hours", "not valid opening_hours"),
        ({"manager_phone": "12345"}, "manager_phone", "not a Chinese mobile"),
        ({"verified_at": "2999-01-01"}, "verified_at", "future"),
        ({"crs": "utm"}, "crs", "is not one of"),
    ],
)
def test_each_bad_field_is_named_with_a_reason(changes, field, message):
    assert message in errors(**changes)[field]


def test_every_bad_field_is_reported_at_once():
    assert set(errors(name="", lat="nan", facilities="x", status="?")) == {
        "name",
        "lat",
        "facilities",
        "status",
    }


def test_labels_in_either_language_and_fullwidth_digits():
    s = validate(
        {
            **BASE,
            "facilities": "饮用水、Toilet，ebike charging",
            "status": "开放",
            "host_type": "加油站",
            "entry_method": "扫码",
            "lat": "３６．６１７１",
        }
    )
    assert s.facilities == ("drinking_water", "toilet", "ebike_charging")
    assert (s.status, s.host_type, s.entry_method, s.lat) == (
        "open",
        "gas_station",
        "qr_scan",
        36.6171,
    )


def test_phones_are_normalised():
    assert validate({**BASE, "manager_phone": "+86 138 0013 8000"}).manager_phone == "13800138000"
    assert validate({**BASE, "manager_phone": "0971 6123456"}).manager_phone == "0971-6123456"


def test_invisible_characters_are_removed_from_text():
    s = validate({**BASE, "name": "城中区\u200b工会\u202e驿站 ", "address": "长江路  1号"})
    assert s.name == "城中区工会驿站"
    assert s.address == "长江路 1号"


def test_formula_like_text_is_stored_verbatim():
    s = validate({**BASE, "name": '=HYPERLINK("http://x","驿站")', "address": "@SUM(A1)"})
    assert s.name == '=HYPERLINK("http://x","驿站")' and s.address == "@SUM(A1)"


def test_closed_until_is_dropped_once_open_again():
    assert validate({**BASE, "status": "open", "closed_until": "2027-01-01"}).closed_until is None
    assert (
        validate({**BASE, "status": "暂停开放", "closed_until": "2027年1月15日"}).closed_until
        == "2027-01-15"
    )
