"""Opening hours as staff write them, turned into OpenStreetMap syntax (pure: no Flask, no SQL).

Two ways in, one way out:
- `to_osm(text)`: a phrase such as "周一至周五 8点到18点，节假日休息" or "每天8:00-22:00";
  text that is already valid OSM syntax comes back unchanged.
- `compose(groups, always=False, holidays=None)`: the editor's structured form, a list of
  (days, time ranges) pairs.
Both build a `Schedule` and write it the same canonical way (consecutive days merged to
ranges like Mo-Fr, days with the same times together, public holidays last), and the result
is checked by `hours.validate`.

A phrase that cannot be read raises `HoursInputError`, whose `code` and `params` say what was
not understood so a face can put it in the page's language; its message is English.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from stations.core import hours

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
HOLIDAY = "PH"
ALL_DAY: tuple[tuple[str, str], ...] = (("00:00", "24:00"),)
MAX_INPUT = 200

Span = tuple[str, str]


class HoursInputError(ValueError):
    """What in the input was not understood. code is one of:
    'not_understood' (part), 'bad_time' (time), 'bad_range' (part), 'incomplete' (part),
    'no_hours', 'too_long' (limit), 'invalid' (value, reason: hours.validate refused the
    result)."""

    def __init__(self, code: str, message: str, **params: str | int):
        self.code = code
        self.params = params
        super().__init__(message)


@dataclass(frozen=True)
class Schedule:
    """The hours per day: week[i] for Mo..Su (None: not given, () closed, else open spans);
    holiday likewise for public holidays (None: as on an ordinary day)."""

    week: tuple[tuple[Span, ...] | None, ...]
    holiday: tuple[Span, ...] | None = None

    def osm(self) -> str:
        return _write(self)

    def groups(self) -> list[dict]:
        """The editor's rows: [{'days': ['Mo', …], 'ranges': [['08:00', '18:00'], …]}, …],
        days with the same hours together, public holidays last (an empty 'ranges': closed)."""
        rows = [
            {"days": [DAYS[i] for i in idx], "ranges": [list(s) for s in spans]}
            for spans, idx in _by_hours(self.week)
        ]
        if self.holiday is not None:
            rows.append({"days": [HOLIDAY], "ranges": [list(s) for s in self.holiday]})
        return rows


# -- writing ----------------------------------------------------------------------------------


def _by_hours(week) -> list[tuple[tuple[Span, ...], list[int]]]:
    """Open days grouped by identical spans, in the order of each group's first day."""
    out: dict[tuple[Span, ...], list[int]] = {}
    for i, spans in enumerate(week):
        if spans:
            out.setdefault(spans, []).append(i)
    return list(out.items())


def _day_selector(idx: list[int]) -> str:
    runs: list[list[int]] = []
    for i in idx:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAYS[run[0]]}-{DAYS[run[-1]]}")
        else:
            parts.extend(DAYS[i] for i in run)
    return ",".join(parts)


def _spans_text(spans: tuple[Span, ...]) -> str:
    return ",".join(f"{a}-{b}" for a, b in spans)


def _write(schedule: Schedule) -> str:
    rules = []
    if all(spans == ALL_DAY for spans in schedule.week):
        rules.append("24/7")
    else:
        for spans, idx in _by_hours(schedule.week):
            rules.append(f"{_day_selector(idx)} {_spans_text(spans)}")
    if schedule.holiday is not None:
        rules.append(f"{HOLIDAY} {_spans_text(schedule.holiday) if schedule.holiday else 'off'}")
    if not rules:
        raise HoursInputError("no_hours", "gives no day on which the station is open")
    text = "; ".join(rules)
    try:
        return hours.validate(text)
    except hours.HoursError as exc:
        raise HoursInputError("invalid", f"{text!r} {exc}", value=text, reason=str(exc)) from None


# -- the structured form ----------------------------------------------------------------------

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def clock(value: str, *, end: bool = False) -> str:
    """'8:00' -> '08:00'; 24:00 only as the end of a range."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    m = _CLOCK.match(text)
    if not m:
        raise HoursInputError("bad_time", f"{text[:10]!r} is not a time like 08:00", time=text[:10])
    h, mi = int(m[1]), int(m[2])
    if mi > 59 or h > 24 or (h == 24 and (mi or not end)):
        raise HoursInputError("bad_time", f"{text[:10]!r} is not a time of day", time=text[:10])
    return f"{h:02d}:{mi:02d}"


def _span(start: str, end: str) -> Span:
    a, b = clock(start), clock(end, end=True)
    if b == "00:00" and a != "00:00":  # a time picker's midnight ends the day
        b = "24:00"
    if a == b:
        raise HoursInputError("bad_range", f"{a}-{b} starts and ends at once", part=f"{a}-{b}")
    return a, b


def _clean_spans(spans: Iterable[Span]) -> tuple[Span, ...]:
    out = sorted(set(spans))
    return tuple(out)


def compose(
    groups: Iterable[tuple[Iterable[str], Iterable[tuple[str, str]]]],
    always: bool = False,
    holidays: str | None = None,
) -> str:
    """Canonical OSM for the editor's form. groups: (days, ranges) pairs, days from
    Mo Tu We Th Fr Sa Su PH, ranges ('08:00', '12:00'), an overnight one ending the next
    morning ('22:00', '06:00'), no ranges for closed; a later group overrides an earlier one
    on the days they share. always: open around the clock on every day. holidays: 'off' to
    close on public holidays (overrides PH in the groups), None to leave them to the groups."""
    return schedule(groups, always, holidays).osm()


def schedule(
    groups: Iterable[tuple[Iterable[str], Iterable[tuple[str, str]]]],
    always: bool = False,
    holidays: str | None = None,
) -> Schedule:
    week: list[tuple[Span, ...] | None] = [None] * 7
    holiday: tuple[Span, ...] | None = None
    for days, ranges in groups:
        spans = _clean_spans(_span(a, b) for a, b in ranges)
        for day in days:
            if day == HOLIDAY:
                holiday = spans
            elif day in DAYS:
                week[DAYS.index(day)] = spans
            else:
                raise HoursInputError("not_understood", f"{day!r} is not a day", part=str(day))
    if always:
        week = [ALL_DAY] * 7
    if holidays == "off":
        holiday = ()
    elif holidays not in (None, ""):
        raise HoursInputError("not_understood", f"holiday rule {holidays!r}", part=str(holidays))
    return Schedule(tuple(week), holiday)


# -- phrases ----------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_DAY_CH = "一二三四五六日天七1234567"
_DAY_INDEX = {ch: i for i, ch in enumerate("一二三四五六")} | {"日": 6, "天": 6, "七": 6}
_DAY_INDEX |= {str(i + 1): i for i in range(7)}
_TO = r"(?:至|到|-|~|—|–|〜|－|～)"
_WEEK = r"(?:周|星期|礼拜)"
_EARLY = ("凌晨", "清晨", "早上", "早晨", "上午", "早")
_NOON = ("中午",)
_LATE_DAY = ("午后", "下午", "傍晚")
_NIGHT = ("晚上", "晚间", "夜间", "夜里", "夜晚", "晚", "夜")
_PERIOD = "|".join(_EARLY + _NOON + _LATE_DAY + _NIGHT)
_OSM_DAY = "Mo|Tu|We|Th|Fr|Sa|Su"

_TOKENS = [
    ("always", r"24\s*(?:小时|[hH](?![A-Za-z]))|24/7|二十四小时|全天候?|全日|通宵|昼夜"),
    ("all_days", r"每天|每日|天天|全周|一周七天|每周七天|7\s*天|七天|周一至周日|周一到周日"),
    ("weekdays", r"工作日"),
    ("weekend", r"周末|双休日?|每?(?:周|星期)六[、,]?(?:周|星期)?[日天]"),
    ("holiday", r"(?:法定)?(?:节假日|节日|假日|公众假期|假期)|\bPH\b"),
    (
        "days",
        rf"每?{_WEEK}([{_DAY_CH}])(?:\s*{_TO}\s*{_WEEK}?([{_DAY_CH}]))?"
        rf"|\b({_OSM_DAY})(?:-({_OSM_DAY}))?\b",
    ),
    (
        "off",
        r"休息|关闭|闭馆|闭站|不开放|停止(?:服务|开放)|不营业|暂停(?:开放|服务)?|\boff\b|\bclosed\b",
    ),
    (
        "time",
        rf"({_PERIOD})?\s*({_NUM})\s*(?:(?::|\.)\s*(\d{{2}})|(点半|时半)|(点|时)\s*(?:({_NUM})\s*分?|整)?)?",
    ),
    ("to", _TO),
    ("sep", r"[,、;。/]|和|及|与|以及|\s+"),
    ("noise", r"每周|开放|营业|服务|时间|均|照常|正常|开门|从|起|为|全|:"),
]
_LEXER = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in _TOKENS))


def _cn_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _CN_DIGITS[ch]
    return value


@dataclass
class _Time:
    hour: int
    minute: int
    period: str  # '' when none was written
    spoken: bool  # written with 点/时 (a 12-hour reading is possible), not 08:00
    text: str


def _read_time(text: str) -> _Time:
    m = re.fullmatch(
        rf"({_PERIOD})?\s*({_NUM})\s*(?:(?::|\.)\s*(\d{{2}})|(点半|时半)|(点|时)\s*(?:({_NUM})\s*分?|整)?)?",
        text,
    )
    if not m:
        raise HoursInputError("bad_time", f"{text!r} is not a time", time=text)
    period, hour, colon_min, half, point, point_min = m.groups()
    h = _cn_number(hour)
    minute = (
        int(colon_min) if colon_min else 30 if half else _cn_number(point_min) if point_min else 0
    )
    if minute > 59 or h > 24:
        raise HoursInputError("bad_time", f"{text!r} is not a time of day", time=text)
    period = period or ""
    if period in _NOON and h < 11:
        h += 12
    elif period in _LATE_DAY and h < 12:
        h += 12
    elif period in _NIGHT and 5 <= h < 12:
        h += 12
    elif period in _NIGHT and h == 12:
        h = 24
    elif period == "凌晨" and h == 12:
        h = 0
    return _Time(h, minute, period, bool(half or point or period), text)


def _span_of(start: _Time, end: _Time) -> Span:
    h1, h2 = start.hour, end.hour
    # "8点到5点半", "下午2点到5点": a bare spoken end before the start is on the same
    # afternoon when that fits (an 08:00-05:30 night shift is written 晚上/凌晨).
    if end.spoken and not end.period and h2 < 12 and (h2, end.minute) < (h1, start.minute):
        if (h2 + 12, end.minute) > (h1, start.minute):
            h2 += 12
    if h1 == 24 and start.minute == 0:
        h1 = 0
    if h1 > 23:
        raise HoursInputError("bad_time", f"{start.text!r} cannot start a range", time=start.text)
    if h2 == 24 and end.minute:
        raise HoursInputError("bad_time", f"{end.text!r} is not a time of day", time=end.text)
    a, b = f"{h1:02d}:{start.minute:02d}", f"{h2:02d}:{end.minute:02d}"
    if a == b:
        raise HoursInputError(
            "bad_range", f"{start.text}-{end.text} starts and ends at once", part=f"{a}-{b}"
        )
    return a, b


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", " ", text).strip()


def _fragment(text: str, at: int) -> str:
    rest = text[at:]
    m = re.match(r"[^\s,、;。]{1,20}", rest)
    return m.group() if m else rest[:20]


def _day_index(ch: str) -> int:
    if ch in DAYS:
        return DAYS.index(ch)
    return _DAY_INDEX[ch]


def _days_of(m: re.Match, kind: str) -> set[str]:
    if kind == "all_days":
        return set(DAYS)
    if kind == "weekdays":
        return set(DAYS[:5])
    if kind == "weekend":
        return {"Sa", "Su"}
    if kind == "holiday":
        return {HOLIDAY}
    first, last, osm_first, osm_last = (
        m.group(i) for i in range(m.re.groupindex["days"] + 1, m.re.groupindex["days"] + 5)
    )
    a, b = (first, last) if first else (osm_first, osm_last)
    start = _day_index(a)
    stop = _day_index(b) if b else start
    if stop < start:  # 周五至周一: across the weekend
        return {DAYS[i % 7] for i in range(start, stop + 8)}
    return {DAYS[i] for i in range(start, stop + 1)}


class _Rule:
    def __init__(self) -> None:
        self.days: set[str] = set()
        self.spans: list[Span] = []
        self.off = False
        self.always = False
        self.text = ""

    def has_content(self) -> bool:
        return bool(self.spans) or self.off or self.always


def parse(text: str) -> Schedule:
    """The Schedule a phrase (or simple OSM text) describes; HoursInputError otherwise."""
    clean = _normalise(text)
    if len(clean) > MAX_INPUT:
        raise HoursInputError("too_long", f"is longer than {MAX_INPUT} characters", limit=MAX_INPUT)
    rules: list[_Rule] = [_Rule()]
    pending: _Time | None = None  # a start time waiting for its end
    ranged = False  # a 至/到/- seen after pending
    at = 0
    while at < len(clean):
        m = _LEXER.match(clean, at)
        if not m or m.end() == at:
            raise HoursInputError(
                "not_understood",
                f"cannot read {_fragment(clean, at)!r}",
                part=_fragment(clean, at),
            )
        kind, piece = m.lastgroup or "", m.group()
        at = m.end()
        rule = rules[-1]
        if kind == "time":
            moment = _read_time(piece.strip())
            if pending is None:
                pending, ranged = moment, False
            elif ranged or moment.period:  # 8点到18点, or 早8晚10
                rule.spans.append(_span_of(pending, moment))
                rule.text += piece
                pending = None
            else:
                raise HoursInputError(
                    "incomplete", f"{pending.text!r} has no end", part=pending.text
                )
            continue
        if kind == "sep" and piece.isspace():
            continue
        if kind == "to":
            if pending is None or ranged:
                raise HoursInputError(
                    "not_understood", f"cannot read {piece!r} here", part=_fragment(clean, at - 1)
                )
            ranged = True
            continue
        if pending is not None:
            raise HoursInputError("incomplete", f"{pending.text!r} has no end", part=pending.text)
        if kind in ("sep", "noise"):
            continue
        if kind in ("all_days", "weekdays", "weekend", "holiday", "days"):
            if rule.has_content():
                rule = _Rule()
                rules.append(rule)
            rule.days |= _days_of(m, kind)
            rule.text += piece
        elif kind == "off":
            rule.off = True
        elif kind == "always":
            if "24/7" == piece:
                rule.days |= set(DAYS)
            rule.always = True
    if pending is not None:
        raise HoursInputError("incomplete", f"{pending.text!r} has no end", part=pending.text)
    groups: list[tuple[set[str], list[Span]]] = []
    for rule in rules:
        if not rule.has_content():
            if rule.days and rule.days != {HOLIDAY}:  # "节假日照常" adds nothing
                raise HoursInputError("incomplete", f"{rule.text!r} has no times", part=rule.text)
            continue
        days = rule.days or set(DAYS)
        spans = [] if rule.off else list(ALL_DAY) if rule.always else rule.spans
        groups.append((days, spans))
    return schedule(groups)


def to_osm(text: str) -> str:
    """OSM opening_hours for a phrase; valid OSM text unchanged; '' for nothing."""
    stripped = (text or "").strip()
    if not stripped:
        return ""
    try:
        return hours.validate(stripped)
    except hours.HoursError:
        pass
    return parse(stripped).osm()
