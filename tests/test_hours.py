from datetime import UTC, date, datetime, timedelta
from time import perf_counter

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


# -- against opening_hours.js: what the library got wrong -------------------------------------


@pytest.mark.parametrize(
    "expr, moment",
    [
        # A rule that is only a comment overrides the rules before it with "unknown".
        ('Mo-Fr 08:00-18:00; "closed on public holidays"', "2026-11-21 23:57"),  # Saturday
        ('Mo-Fr 08:00-18:00; "closed on public holidays"', "2026-11-18 10:00"),  # Wednesday
        ('"call first"', "2026-11-21 23:57"),
        ('"call first"', "2026-11-18 10:00"),
        # A comment without open/closed/off makes its rule unknown.
        ('Mo-Fr 08:00-18:00 "ring the bell"', "2026-11-18 10:00"),
        ('24/7 "call first"', "2026-11-18 03:00"),
        # Where the rules before a fallback leave the station closed, the fallback decides.
        ('Mo-Fr 08:00-18:00 || "by appointment"', "2026-11-18 19:00"),
        ('Mo-Fr 08:00-18:00 || unknown "by appointment"', "2026-11-21 10:00"),
        # A rule after a fallback overrides it day by day: we do not claim to know.
        ("Mo-Fr 08:00-18:00 || Sa 10:00-12:00; Su off", "2026-11-18 10:00"),
    ],
)
def test_comments_and_doubtful_rules_are_unknown_not_open(expr, moment):
    assert hours.state(expr, at(moment)) == "unknown"
    assert not hours.is_open(expr, at(moment))


def test_a_comment_after_a_state_keeps_the_state():
    assert hours.state('Mo-Fr 08:00-18:00 open "ring the bell"', at("2026-11-18 10:00")) == "open"
    assert hours.state('Mo-Fr 08:00-18:00; Sa off "weekend"', at("2026-11-21 10:00")) == "closed"
    # 'off "…",' ends a rule: the comment after the comma starts the next one without a state.
    expr = 'Mo-Fr 08:00-18:00; Sa off "weekend", Su 10:00-12:00 "ring"'
    assert hours.state(expr, at("2026-11-22 11:00")) == "unknown"
    assert hours.state(expr, at("2026-11-18 11:00")) == "open"


def test_a_closed_fallback_keeps_the_next_opening():
    expr = "Mo-Fr 08:00-18:00 || closed"
    assert hours.state(expr, at("2026-11-18 19:00")) == "closed"  # Wednesday evening
    assert hours.next_change(expr, at("2026-11-18 19:00")) == at("2026-11-19 08:00")
    assert hours.next_change(expr, at("2026-11-20 19:00")) == at("2026-11-23 08:00")  # Friday
    assert hours.state(expr, at("2026-11-19 10:00")) == "open"
    assert hours.next_change(expr, at("2026-11-19 10:00")) == at("2026-11-19 18:00")


def test_a_fallback_with_hours_applies_where_the_rules_before_it_are_closed():
    expr = "Mo-Fr 08:00-18:00 || Sa 09:00-10:00"
    assert hours.state(expr, at("2026-11-21 09:30")) == "open"
    assert hours.next_change(expr, at("2026-11-20 19:00")) == at("2026-11-21 09:00")
    assert hours.next_change(expr, at("2026-11-21 09:30")) == at("2026-11-21 10:00")


def test_a_comment_starting_at_midnight_is_not_an_opening():
    expr = 'Mo-Fr 10:00-20:00; We off "staff training"'
    tuesday_night = at("2026-11-17 22:45")
    assert hours.state(expr, tuesday_night) == "closed"
    assert hours.next_change(expr, tuesday_night) == at("2026-11-19 10:00")  # Thursday
    assert hours.state(expr, at("2026-11-18 12:00")) == "closed"  # the training day itself


# -- sun events at the station's position -----------------------------------------------------

XINING, HARBIN = (36.62, 101.78), (45.80, 126.53)


@pytest.mark.parametrize(
    "position, sunset, dusk",
    [
        # 2026-10-15, China time. References, independent of the library: astral 3.2 (NOAA)
        # gives sunset 18:36:49 / 16:48:36 and civil dusk 19:03:18 / 17:19:09; the US Naval
        # Observatory's almanac algorithm 18:37:31 / 16:49:28 and 19:03:31 / 17:19:28.
        (XINING, "2026-10-15 18:37", "2026-10-15 19:03"),
        (HARBIN, "2026-10-15 16:49", "2026-10-15 17:19"),
    ],
)
def test_sun_events_follow_the_station_position(position, sunset, dusk):
    noon = at("2026-10-15 12:00")
    for expr, expected in (("sunrise-sunset", sunset), ("dawn-dusk", dusk)):
        change = hours.next_change(expr, noon, position)
        assert abs((change - at(expected)).total_seconds()) <= 120, (expr, change)


def test_the_same_moment_is_day_in_xining_and_night_in_harbin():
    expr = "Mo-Su sunrise-sunset; PH off"
    evening = at("2026-10-15 17:30")
    assert hours.state(expr, evening, XINING) == "open"
    assert hours.state(expr, evening, HARBIN) == "closed"
    assert hours.next_change(expr, evening, HARBIN) == at("2026-10-16 05:50")  # sunrise
    assert hours.state(expr, at("2026-10-02 12:00"), XINING) == "closed"  # Golden Week


def test_only_hours_with_sun_events_depend_on_the_position():
    assert hours.sun_cell("Mo-Fr 08:00-18:00", XINING) is None  # one cache entry for everyone
    assert hours.sun_cell("sunrise-18:00", (36.6249, 101.7751)) == (36.6, 101.8)
    assert hours.sun_cell("sunrise-18:00", None) is None
    noon = at("2026-10-15 12:00")
    assert hours.next_change("Mo-Fr 08:00-18:00", noon, XINING) == hours.next_change(
        "Mo-Fr 08:00-18:00", noon, HARBIN
    )


def test_hours_that_never_change_answer_at_once():
    # The library alone searched up to the year 9999 for the next change: two seconds on every
    # answer listing such a station.
    start = perf_counter()
    for expr in ("Mo-Su 00:00-24:00", "Mo-Su 00:00-12:00,12:00-24:00", "Mo-Su 00:00-24:00 open"):
        assert hours.next_change(expr, at("2026-11-18 10:00")) is None
    assert perf_counter() - start < 0.5
    # A change within the horizon is still found, a year ahead.
    assert hours.next_change("24/7; 2027Nov01 off", at("2026-11-18 10:00")) == at(
        "2027-11-01 00:00"
    )


def test_words_inside_a_comment_are_no_selectors():
    expr = 'Mo-Fr 08:00-18:00; Sa off "not on PH, closed after sunset"'
    assert hours.validate(expr) == expr  # 'PH' in the comment is not the holiday selector
    assert not hours.uses_sun(expr)
    assert hours.state(expr, at("2026-10-05 10:00")) == "open"  # Golden Week: no PH rule
    assert hours.state(expr, at("2026-10-10 10:00")) == "closed"  # Saturday, worked elsewhere


def test_answers_hold_through_the_minute_and_change_on_it():
    # state and next_change are cached by the minute: a change falls on a whole minute.
    expr = "Mo-Fr 08:00-18:00"
    assert hours.state(expr, at("2026-11-18 17:59:59.9")) == "open"
    assert hours.state(expr, at("2026-11-18 18:00:00")) == "closed"
    assert hours.next_change(expr, at("2026-11-18 17:59:30")) == at("2026-11-18 18:00")
    sunset = hours.next_change("sunrise-sunset", at("2026-10-15 12:00"), HARBIN)
    assert sunset.second == 0
    assert hours.state("sunrise-sunset", sunset - timedelta(seconds=1), HARBIN) == "open"
    assert hours.state("sunrise-sunset", sunset, HARBIN) == "closed"
