from datetime import UTC, date, datetime

import pytest

from stations.core import hours


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=hours.TZ)


@pytest.mark.parametrize(
    "expr",
    [
        "24/7",
        "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00",
        "Mo-Su 22:00-06:00",
        "PH off",
        "Mo-Fr 08:00-18:00; PH off",
    ],
)
def test_valid_expressions_pass(expr):
    assert hours.validate(f"  {expr} ") == expr


@pytest.mark.parametrize(
    "expr, message",
    [
        ("Mo-Fr 8-18", "at character 7"),
        ("open sometimes", "not valid opening_hours"),
        ("", "is empty"),
        ("Mo-Fr 08:00-18:00, PH off", "start of a rule"),
        ("Mo " + "08:00-09:00," * 30, "limit is 255"),
    ],
)
def test_invalid_expressions_explain_why(expr, message):
    with pytest.raises(hours.HoursError, match=message):
        hours.validate(expr)


def test_weekday_hours():
    expr = "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00"
    assert hours.is_open(expr, at("2026-11-20 08:00"))  # Friday
    assert not hours.is_open(expr, at("2026-11-20 18:00"))
    assert hours.is_open(expr, at("2026-11-21 16:59"))  # Saturday
    assert not hours.is_open(expr, at("2026-11-21 08:59"))


def test_overnight_range_runs_past_midnight():
    expr = "Mo-Fr 22:00-06:00"
    assert hours.is_open(expr, at("2026-11-20 23:30"))  # Friday night
    assert hours.is_open(expr, at("2026-11-21 05:59"))  # Saturday morning, still Friday's shift
    assert not hours.is_open(expr, at("2026-11-21 06:00"))
    assert not hours.is_open(expr, at("2026-11-21 23:00"))  # no Saturday shift
    assert hours.next_change(expr, at("2026-11-21 12:00")) == at("2026-11-23 22:00")


def test_the_whole_golden_week_is_a_holiday():
    # 2026: Oct 1-7 off. holidays lists only Oct 1-3 and 5-7; Sunday Oct 4 sits inside the
    # break and a station open every day but PH must be closed then too.
    expr = "Mo-Su 08:00-18:00; PH off"
    for day in range(1, 8):
        assert not hours.is_open(expr, at(f"2026-10-0{day} 10:00")), day
    assert hours.is_open(expr, at("2026-10-08 10:00"))
    assert hours.next_change(expr, at("2026-10-04 10:00")) == at("2026-10-08 08:00")


def test_2025_golden_week_with_mid_autumn_is_eight_days():
    expr = "Mo-Su 08:00-18:00; PH off"
    assert [d for d in range(1, 10) if not hours.is_open(expr, at(f"2025-10-0{d} 10:00"))] == list(
        range(1, 9)
    )


def test_spring_festival_break_includes_its_weekend():
    off, worked = hours.calendar(2026)
    assert {date(2026, 2, d) for d in range(15, 24)} <= off  # 9 days, Feb 15-23
    assert date(2026, 2, 14) in worked and date(2026, 2, 28) in worked


def test_tiaoxiu_weekend_workdays_follow_the_working_day_schedule():
    expr = "Mo-Fr 08:00-18:00; PH off"
    assert hours.is_open(expr, at("2026-09-20 10:00"))  # Sunday, worked before National Day
    assert hours.is_open(expr, at("2026-10-10 10:00"))  # Saturday, worked after it
    assert not hours.is_open(expr, at("2026-10-11 10:00"))  # an ordinary Sunday
    assert not hours.is_open(expr, at("2026-10-10 19:00"))


def test_hours_without_ph_ignore_the_holiday_calendar():
    assert hours.is_open("Mo-Su 08:00-18:00", at("2026-10-04 10:00"))
    assert not hours.is_open("Mo-Fr 08:00-18:00", at("2026-09-20 10:00"))


def test_ph_can_share_a_rule_with_weekdays():
    expr = "Mo-Fr 08:00-18:00; Sa,Su,PH 09:00-12:00"
    assert hours.is_open(expr, at("2026-10-06 11:00"))  # Tuesday in Golden Week: holiday hours
    assert not hours.is_open(expr, at("2026-10-06 13:00"))


def test_evaluation_is_in_china_time():
    utc = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert hours.is_open("Mo-Fr 08:00-18:00", utc)
    assert hours.state("", utc) == "unknown"


@pytest.mark.parametrize(
    "expr, zh, en",
    [
        ("24/7", "全天24小时开放", "Open 24/7"),
        (
            "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00; PH off",
            "周一至周五 08:00–18:00；周六、周日 09:00–17:00；法定节假日休息",
            "Mon–Fri 08:00–18:00; Sat, Sun 09:00–17:00; public holidays closed",
        ),
        ("Mo-Su 22:00-06:00", "周一至周日 22:00–次日06:00", "Mon–Sun 22:00–06:00 (next day)"),
        ("", "开放时间未知", "hours not known"),
    ],
)
def test_descriptions_in_both_languages(expr, zh, en):
    assert hours.describe(expr, "zh") == zh
    assert hours.describe(expr, "en") == en


def test_unusual_syntax_is_shown_as_written():
    assert hours.describe("Jan-Feb 10:00-12:00", "zh") == "Jan-Feb 10:00-12:00"


@pytest.mark.parametrize(
    "expr", ["24/7", "Mo-Su 00:00-24:00", "00:00-24:00", "Mo-Su 00:00-12:00,12:00-24:00", " 24/7 "]
)
def test_always_open(expr):
    assert hours.always_open(expr, at("2026-05-01 10:00"))


@pytest.mark.parametrize(
    "expr",
    [
        "",
        '"by appointment"',  # the library reads a bare comment as open, with the comment
        '24/7 "call first"',
        "24/7 unknown",
        "Mo-Fr 00:00-24:00",
        "24/7; PH off",
        "Mo-Su 00:00-24:00; PH off",
        "24/7; 2027Jan01 off",
        "Mo-Su 22:00-06:00",
        "not hours at all",
    ],
)
def test_not_always_open(expr):
    assert not hours.always_open(expr, at("2026-05-01 10:00"))
