"""Opening hours as staff write them in Chinese, turned into OSM syntax (core/hours_input)."""

import pytest

from stations.core import hours
from stations.core.hours_input import HoursInputError, compose, parse, to_osm


@pytest.mark.parametrize(
    "phrase, osm",
    [
        ("每天8:00-22:00", "Mo-Su 08:00-22:00"),
        ("周一至周五 8点到18点", "Mo-Fr 08:00-18:00"),
        ("24小时", "24/7"),
        ("全天", "24/7"),
        ("24h", "24/7"),
        ("周一到周五8:00-12:00，14:00-18:00", "Mo-Fr 08:00-12:00,14:00-18:00"),
        ("晚上10点到早上6点", "Mo-Su 22:00-06:00"),
        ("节假日休息", "PH off"),
        ("法定节假日关闭", "PH off"),
        ("周末 9:00-17:00", "Sa,Su 09:00-17:00"),
        ("工作日 9点-17点", "Mo-Fr 09:00-17:00"),
        ("上午8点到12点，下午2点到6点", "Mo-Su 08:00-12:00,14:00-18:00"),
        ("下午2点至5点半", "Mo-Su 14:00-17:30"),
        ("8点到晚上10点", "Mo-Su 08:00-22:00"),
        ("早8晚10", "Mo-Su 08:00-22:00"),
        ("八点到晚上十点", "Mo-Su 08:00-22:00"),
        ("中午12点到下午2点", "Mo-Su 12:00-14:00"),
        ("8点到晚上12点", "Mo-Su 08:00-24:00"),
        ("凌晨12点到早上6点", "Mo-Su 00:00-06:00"),
        ("８：００—２２：００", "Mo-Su 08:00-22:00"),  # full-width digits and colon, em dash
        ("每天8：00－22：00", "Mo-Su 08:00-22:00"),
        ("8:00~22:00", "Mo-Su 08:00-22:00"),
        ("8:00～22:00", "Mo-Su 08:00-22:00"),
        ("8:00至22:00", "Mo-Su 08:00-22:00"),
        ("开放时间：每天 8:00 - 22:00", "Mo-Su 08:00-22:00"),
        ("周一 至 周五 8 点 到 18 点", "Mo-Fr 08:00-18:00"),
        ("星期一到星期六 9:00-17:00", "Mo-Sa 09:00-17:00"),
        ("周六日 10点-16点", "Sa,Su 10:00-16:00"),
        ("周一至周五 8点到18点，法定节假日休息", "Mo-Fr 08:00-18:00; PH off"),
        ("每天24小时，节假日休息", "24/7; PH off"),
        ("周一至周五24小时", "Mo-Fr 00:00-24:00"),
        ("周一至周五9-17，周六9-12", "Mo-Fr 09:00-17:00; Sa 09:00-12:00"),
        ("每天9-17，周六休息", "Mo-Fr,Su 09:00-17:00"),  # a later rule overrides
        ("周一、周三、周五 8:00-12:00", "Mo,We,Fr 08:00-12:00"),
        ("周一至周五8-18，周六周日8-18", "Mo-Su 08:00-18:00"),  # same hours merge
        ("周五至周一 20:00-02:00", "Mo,Fr-Su 20:00-02:00"),
        ("周末 9:00-17:00，节假日 9点到12点", "Sa,Su 09:00-17:00; PH 09:00-12:00"),
    ],
)
def test_chinese_phrases_become_osm(phrase, osm):
    assert to_osm(phrase) == osm
    assert hours.validate(osm) == osm


@pytest.mark.parametrize(
    "osm",
    [
        "Mo-Fr 08:00-18:00; PH off",
        "24/7",
        'Mo-Fr 08:00-18:00; "closed on public holidays"',
        "Mo-Sa 08:00-12:00,13:30-17:30",
        "Mo-Fr 10:00-20:00; We off",
    ],
)
def test_osm_text_passes_through_unchanged(osm):
    assert to_osm(osm) == osm
    assert to_osm(f"  {osm} ") == osm


def test_nothing_stays_nothing():
    assert to_osm("") == "" and to_osm("   ") == ""


@pytest.mark.parametrize(
    "phrase, code, params",
    [
        ("看情况", "not_understood", {"part": "看情况"}),
        ("每天8点到10点左右", "not_understood", {"part": "左右"}),
        ("8点", "incomplete", {"part": "8点"}),
        ("周一至周五", "incomplete", {"part": "周一至周五"}),
        ("25点到26点", "bad_time", {"time": "25点"}),
        ("8:75-9:00", "bad_time", {"time": "8:75"}),
        ("8点到8点", "bad_range", {"part": "08:00-08:00"}),
        ("休息", "no_hours", {}),
        ("到18点", "not_understood", {"part": "到18点"}),
        ("每天" + "8:00-9:00," * 30, "too_long", {"limit": 200}),
    ],
)
def test_what_is_not_understood_is_named(phrase, code, params):
    with pytest.raises(HoursInputError) as caught:
        to_osm(phrase)
    assert caught.value.code == code
    assert caught.value.params == params
    assert str(caught.value)  # an English sentence for logs and the API


def test_structured_form_writes_canonical_osm():
    assert (
        compose(
            [
                (["Fr", "Mo", "We", "Tu", "Th"], [("14:00", "18:00"), ("8:00", "12:00")]),
                ({"Sa"}, [("09:00", "12:00")]),
            ],
            holidays="off",
        )
        == "Mo-Fr 08:00-12:00,14:00-18:00; Sa 09:00-12:00; PH off"
    )
    assert compose([(["Sa", "Su"], [("22:00", "06:00")])]) == "Sa,Su 22:00-06:00"
    assert compose([(["Fr"], [("18:00", "00:00")])]) == "Fr 18:00-24:00"  # a picker's midnight
    assert compose([], always=True) == "24/7"
    assert compose([], always=True, holidays="off") == "24/7; PH off"
    assert compose([(["Mo", "Tu", "Th"], [("08:00", "18:00")])]) == "Mo,Tu,Th 08:00-18:00"
    assert compose([(["PH"], [("09:00", "12:00")]), (["Mo"], [("08:00", "10:00")])]) == (
        "Mo 08:00-10:00; PH 09:00-12:00"
    )
    assert compose([(["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"], [("00:00", "24:00")])]) == "24/7"


@pytest.mark.parametrize(
    "groups, code",
    [
        ([(["Mo"], [("25:00", "26:00")])], "bad_time"),
        ([(["Mo"], [("24:00", "06:00")])], "bad_time"),  # 24:00 ends a range only
        ([(["Mo"], [("08:00", "08:00")])], "bad_range"),
        ([(["Xy"], [("08:00", "09:00")])], "not_understood"),
        ([(["Mo"], [("8点", "9点")])], "bad_time"),
        ([], "no_hours"),
    ],
)
def test_structured_form_refuses_nonsense(groups, code):
    with pytest.raises(HoursInputError) as caught:
        compose(groups)
    assert caught.value.code == code


def test_schedule_round_trips_to_editor_rows():
    rows = parse("周一至周五 8:00-12:00,14:00-18:00; 周六 9点到12点; 节假日休息").groups()
    assert rows == [
        {
            "days": ["Mo", "Tu", "We", "Th", "Fr"],
            "ranges": [["08:00", "12:00"], ["14:00", "18:00"]],
        },
        {"days": ["Sa"], "ranges": [["09:00", "12:00"]]},
        {"days": ["PH"], "ranges": []},
    ]
    again = compose([(r["days"], [tuple(x) for x in r["ranges"]]) for r in rows])
    assert again == "Mo-Fr 08:00-12:00,14:00-18:00; Sa 09:00-12:00; PH off"
    # simple OSM reads back into rows too, so the editor can show a station's current hours
    assert parse("Mo-Fr 08:00-18:00; PH off").groups()[0]["days"] == list(
        "MoTuWeThFr"[i : i + 2] for i in range(0, 10, 2)
    )


def test_the_result_reads_back_in_words():
    assert hours.describe(to_osm("周一至周五 8点到18点，节假日休息"), "zh") == (
        "周一至周五 08:00–18:00；法定节假日休息"
    )
    assert "22:00–次日06:00" in hours.describe(to_osm("晚上10点到早上6点"), "zh")
