"""Opening hours in OpenStreetMap syntax, evaluated in China's time zone and holiday calendar.

The opening-hours-py library parses and evaluates expressions, but its Chinese holiday calendar
misses the substituted days off (the full Golden Week, Spring Festival) and knows nothing of
调休, the weekend days that become working days. So before evaluation we rewrite the expression:
`PH` becomes the explicit dates of the official breaks (from the `holidays` package, with the
weekend days inside or next to a break), and every 调休 weekend day gets the schedule of an
ordinary Monday. A station whose hours do not mention PH is taken not to follow the holiday
calendar at all.

Where the library and the reference evaluator (opening_hours.js) part ways, we follow the
reference, and where the syntax leaves room for doubt we answer "unknown" rather than guess:
- a comment without open/closed/off before it makes its rule "unknown" ('"call first"',
  'Mo-Fr 08:00-18:00; "closed on public holidays"'), as the specification says;
- fallback rules ('A || B') are evaluated by us: the rules before '||' decide, and where they
  leave the station closed the fallback does (the library loses the next opening after one);
  a ';' rule after a fallback is not something we can evaluate faithfully: "unknown";
- the next change is the next change of state: a comment starting at midnight
  ('We off "staff training"') is not an opening;
- sunrise, sunset, dawn and dusk are computed for the station's position (rounded to 0.1°,
  about half a minute of sun time) when one is given; without it the library's fixed
  07:00/19:00/06:00/20:00 are used.
"""

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from opening_hours import OpeningHours, State

TZ = ZoneInfo("Asia/Shanghai")
MAX_LENGTH = 255  # OSM's own limit for a tag value

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_SUBSTITUTED = re.compile(r"substituted from (\d\d)/(\d\d)/(\d{4})")
_LEADING_DAYS = re.compile(
    r"^(?P<sel>(?:PH|SH|Mo|Tu|We|Th|Fr|Sa|Su)(?:\s*[-,]\s*(?:PH|SH|Mo|Tu|We|Th|Fr|Sa|Su))*)"
    r"(?P<rest>(?:\s.*)?)$",
    re.S,
)
_PH = re.compile(r"\bPH\b")
_SUN = re.compile(r"\b(?:sunrise|sunset|dawn|dusk)\b")
_TOKENS = re.compile(r'"[^"]*"|[A-Za-z]+|[;,]')
_COMMENT = re.compile(r'"[^"]*"')
_STATES = frozenset(("open", "closed", "off", "unknown"))
_HORIZON_DAYS = 400  # a change further away than this counts as never
_MAX_STEPS = 64  # changes of comment alone skipped while looking for the next change of state

Position = tuple[float, float]


class HoursError(ValueError):
    """An opening_hours expression that cannot be used; the message says why, in plain words."""


# -- the Chinese holiday calendar -------------------------------------------------------------


@lru_cache(maxsize=32)
def calendar(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, make-up working days) of the official schedule for year.

    `holidays` lists the weekdays off and names each substituted day "substituted from <the
    weekend day that is worked>". Weekend days inside or next to a break belong to it (the
    Golden Week's Sunday, the Saturday before a Monday holiday) unless they are worked.
    """
    listed = holidays_lib.China(years=year)
    worked = set()
    for name in listed.values():
        for match in _SUBSTITUTED.finditer(name):
            month, mday, y = (int(g) for g in match.groups())
            worked.add(date(y, month, mday))
    off = set(listed)
    grew = True
    while grew:
        grew = False
        for day in list(off):
            for neighbour in (day - timedelta(days=1), day + timedelta(days=1)):
                if neighbour.weekday() >= 5 and neighbour not in off and neighbour not in worked:
                    off.add(neighbour)
                    grew = True
    return frozenset(off), frozenset(worked)


def is_public_holiday(day: date) -> bool:
    return day in calendar(day.year)[0]


def _date_list(days: list[date]) -> str:
    """OSM monthday ranges for a sorted list of days: '2026Oct01-2026Oct07,2026Dec25'."""
    spans: list[list[date]] = []
    for day in days:
        if spans and day - spans[-1][1] == timedelta(days=1):
            spans[-1][1] = day
        else:
            spans.append([day, day])

    def fmt(d: date) -> str:
        return f"{d.year}{_MONTHS[d.month - 1]}{d.day:02d}"

    return ",".join(fmt(a) if a == b else f"{fmt(a)}-{fmt(b)}" for a, b in spans)


# -- parsing and rewriting --------------------------------------------------------------------


def _split_rules(expr: str) -> list[tuple[str, str]]:
    """(rule, separator-before-it) pairs, splitting on ';' and '||' outside quoted comments."""
    parts, current, sep, quoted, i = [], "", "", False, 0
    while i < len(expr):
        ch = expr[i]
        if ch == '"':
            quoted = not quoted
        if not quoted and (ch == ";" or expr.startswith("||", i)):
            parts.append((current.strip(), sep))
            sep = "||" if ch == "|" else ";"
            current = ""
            i += 2 if ch == "|" else 1
            continue
        current += ch
        i += 1
    parts.append((current.strip(), sep))
    return [(rule, sep) for rule, sep in parts if rule]


def _bare(expr: str) -> str:
    """expr without the text of its comments: 'PH' or 'sunset' inside one is no selector."""
    return _COMMENT.sub('""', expr)


def _join_rules(rules: list[tuple[str, str]]) -> str:
    out = ""
    for rule, sep in rules:
        out += (f" {sep} " if sep == "||" else "; ") + rule if out else rule
    return out


def _expand_holidays(expr: str, years: range) -> str:
    off = sorted(d for y in years for d in calendar(y)[0])
    dates = _date_list(off)
    rules = []
    for rule, sep in _split_rules(expr):
        match = _LEADING_DAYS.match(rule)
        if not _PH.search(_bare(rule)):
            rules.append((rule, sep))
            continue
        if not match or "PH" not in re.split(r"\s*,\s*", match["sel"]):
            raise HoursError(
                "PH (public holidays) is supported at the start of a rule only, "
                "e.g. 'Mo-Fr 08:00-18:00; PH off' or 'Sa,Su,PH 09:00-12:00'"
            )
        others = [s for s in re.split(r"\s*,\s*", match["sel"]) if s != "PH"]
        if others:
            rules.append((",".join(others) + match["rest"], sep))
            sep = ";"
        if dates:
            rules.append((dates + match["rest"], sep))
    return _join_rules(rules)


def validate(expr: str) -> str:
    """expr, trimmed, if it is a usable opening_hours value; raises HoursError otherwise."""
    expr = expr.strip()
    if not expr:
        raise HoursError("is empty")
    if len(expr) > MAX_LENGTH:
        raise HoursError(f"is {len(expr)} characters long; the limit is {MAX_LENGTH}")
    problem = _problem(expr)
    if problem:
        raise HoursError(problem)
    return expr


@lru_cache(maxsize=4096)  # a registry repeats a few hundred distinct expressions
def _problem(expr: str) -> str | None:
    try:
        OpeningHours(expr)
        _compiled(expr, date.today().year)
    except HoursError as exc:
        return str(exc)
    except Exception as exc:  # the parser's SyntaxError carries a multi-line caret diagram
        return _explain(expr, exc)
    return None


def _explain(expr: str, exc: Exception) -> str:
    where = re.search(r"--> 1:(\d+)", str(exc))
    hint = (
        " Write times as HH:MM (08:00-18:00), days as Mo Tu We Th Fr Sa Su, "
        "e.g. 'Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00; PH off' or '24/7'."
    )
    if where:
        col = int(where.group(1))
        return (
            f"is not valid opening_hours syntax at character {col} ({expr[col - 1 : col + 8]!r})."
            + hint
        )
    return "is not valid opening_hours syntax." + hint


@lru_cache(maxsize=4096)
def _compiled(expr: str, year: int, where: Position | None = None) -> "_Compiled":
    """expr ready to evaluate: comments without a state made "unknown", PH and 调休 made
    explicit for the years around year, fallback rules split off, sun events at where."""
    segments: list[list[tuple[str, str]]] = []
    for rule, sep in _split_rules(expr):
        if sep == "||" or not segments:
            segments.append([])
        segments[-1].append((rule, ";" if sep == "||" else sep))
    if any(len(segment) > 1 for segment in segments[1:]):
        # 'A || B; C': C overrides what the fallback decided, day by day; we cannot
        # reproduce that faithfully with the library, so we do not claim to know.
        return _Compiled((_make("24/7 unknown", None),), aware=False)
    parts = tuple(
        _compiled_part(_mark_comments(_join_rules(segment)), year, where) for segment in segments
    )
    return _Compiled(parts or (_make(expr, None),), aware=where is not None)


def _mark_comments(expr: str) -> str:
    """'unknown' before every comment that has no open/closed/off/unknown before it in its rule:
    '"call first"' -> 'unknown "call first"'. The specification and opening_hours.js read such a
    rule as unknown; the library reads it as open."""
    out, pos, stated, after_modifier = [], 0, False, False
    for match in _TOKENS.finditer(expr):
        token = match.group()
        if token == ";":
            stated = after_modifier = False
        elif token == ",":  # after a state or comment a comma starts another rule
            stated = stated and not after_modifier
            after_modifier = False
        elif token.startswith('"'):
            if not stated:
                out.append(expr[pos : match.start()] + "unknown ")
                pos = match.start()
            stated = after_modifier = True
        elif token in _STATES:
            stated = after_modifier = True
        else:
            after_modifier = False
    out.append(expr[pos:])
    return "".join(out)


def _make(expr: str, where: Position | None) -> OpeningHours:
    # Without a horizon the library looks for the next change up to the year 9999: two
    # seconds for 'Mo-Su 00:00-24:00', on every answer that lists such a station.
    if where is None:
        return OpeningHours(expr, max_interval_days=_HORIZON_DAYS)
    # auto_country off: PH is already spelled out as dates, the library's calendar is not wanted.
    return OpeningHours(
        expr, timezone=TZ, coords=where, auto_country=False, max_interval_days=_HORIZON_DAYS
    )


def _compiled_part(expr: str, year: int, where: Position | None) -> OpeningHours:
    if not _PH.search(_bare(expr)):
        return _make(expr, where)
    years = range(year - 1, year + 2)
    base = _expand_holidays(expr, years)
    plain = _make(base, where)
    off = {d for y in years for d in calendar(y)[0]}
    extra = []
    for y in years:
        for worked in sorted(calendar(y)[1]):
            if worked.weekday() < 5:
                continue
            monday = worked - timedelta(days=worked.weekday())
            while monday in off:  # take the schedule of an ordinary Monday
                monday -= timedelta(days=7)
            spans = _open_spans(plain, monday)
            extra.append(f"{_date_list([worked])} {spans or 'off'}")
    return _make("; ".join([base, *extra]), where)


def _naive(moment: datetime) -> datetime:
    """A library answer as the naive China time we work in."""
    return moment.astimezone(TZ).replace(tzinfo=None) if moment.tzinfo else moment


def _open_spans(oh: OpeningHours, day: date) -> str:
    """The day's open spans as OSM times, or 'unknown' if any part of the day is unknown."""
    start = datetime.combine(day, time())
    end = start + timedelta(days=1)
    spans = []
    for a, b, state, _ in oh.intervals(start, end):
        a, b = _naive(a), _naive(b) if b else end
        if state == State.UNKNOWN:
            return "unknown"
        if state == State.OPEN:
            b = min(b, end)
            a = max(a, start)
            last = "24:00" if b >= end else b.strftime("%H:%M")
            spans.append(f"{a:%H:%M}-{last}")
    return ",".join(spans)


class _Compiled:
    """An expression's rules before '||' and each fallback after it. The first that leaves the
    station anything but closed decides (opening_hours.js: a fallback applies where the rules
    before it give no open or unknown state)."""

    __slots__ = ("parts", "aware")

    def __init__(self, parts: tuple[OpeningHours, ...], *, aware: bool):
        self.parts, self.aware = parts, aware

    def _arg(self, local: datetime) -> datetime:
        return local.replace(tzinfo=TZ) if self.aware else local

    def state(self, local: datetime) -> tuple[State, str]:
        moment, comment = self._arg(local), ""
        for oh in self.parts:
            result, comment = oh.state(moment)
            if result != State.CLOSED:
                return result, comment
        return State.CLOSED, comment

    def next_change(self, local: datetime) -> datetime | None:
        """The next moment the state (not merely the comment) changes, naive China time."""
        current, moment = self.state(local)[0], local
        for _ in range(_MAX_STEPS):
            found = [c for oh in self.parts if (c := oh.next_change(self._arg(moment)))]
            if not found:
                return None
            following = min(_naive(c) for c in found)
            if following <= moment:
                return None
            if self.state(following)[0] != current:
                return following
            moment = following
        return None


# -- evaluation -------------------------------------------------------------------------------


@lru_cache(maxsize=4096)  # asked for every station on the nearest path
def uses_sun(expr: str) -> bool:
    """Whether expr names sunrise, sunset, dawn or dusk: its times depend on the position."""
    return bool(_SUN.search(_bare(expr)))


def sun_cell(expr: str, position: Position | None) -> Position | None:
    """The position expr is evaluated for: None unless it uses sun events, else rounded to 0.1°
    (about 11 km; sun times move by well under a minute), so stations close together share the
    caches."""
    if position is None or not uses_sun(expr):
        return None
    lat, lon = position
    return (round(lat, 1), round(lon, 1))


def _local(at: datetime | None) -> datetime:
    """at in China time, as the naive datetime the library works in."""
    if at is None:
        at = datetime.now(TZ)
    elif at.tzinfo is None:
        return at
    return at.astimezone(TZ).replace(tzinfo=None)


def _minute(at: datetime | None) -> datetime:
    """at in naive China time, to the minute. Every time in the syntax, and every sun time the
    library computes, falls on a whole minute, so the state and the next change are the same
    all through a minute: answers can be cached by it, across requests."""
    if at is None:
        at = datetime.now(TZ)
    if at.tzinfo is not None:
        at = at.astimezone(TZ)
    return at.replace(tzinfo=None, second=0, microsecond=0)


def state(expr: str, at: datetime | None = None, position: Position | None = None) -> str:
    """'open', 'closed' or 'unknown' at a moment (now by default), at position (lat, lon) if
    given (it matters for sunrise/sunset/dawn/dusk only)."""
    if not expr:
        return "unknown"
    return _state(expr, _minute(at), sun_cell(expr, position))


@lru_cache(maxsize=16384)  # (expression, sun cell) pairs asked within the same minute
def _state(expr: str, minute: datetime, where: Position | None) -> str:
    result, _ = _compiled(expr, minute.year, where).state(minute)
    return {State.OPEN: "open", State.CLOSED: "closed"}.get(result, "unknown")


def is_open(expr: str, at: datetime | None = None, position: Position | None = None) -> bool:
    return state(expr, at, position) == "open"


def next_change(
    expr: str, at: datetime | None = None, position: Position | None = None
) -> datetime | None:
    """When the state next changes (aware, China time), or None if it does not within about
    a year (400 days)."""
    if not expr:
        return None
    return _next_change(expr, _minute(at), sun_cell(expr, position))


@lru_cache(maxsize=16384)
def _next_change(expr: str, minute: datetime, where: Position | None) -> datetime | None:
    change = _compiled(expr, minute.year, where).next_change(minute)
    return change.replace(tzinfo=TZ) if change else None


def always_open(expr: str, at: datetime | None = None, position: Position | None = None) -> bool:
    """Whether expr keeps a station open around the clock every day: '24/7', 'Mo-Su
    00:00-24:00' and their equivalents. Hours that are unknown, closed on any day (PH off
    included) or carry a comment ('"by appointment"', '24/7 "call first"') are not: a comment is
    a condition a rider cannot check at 3 a.m."""
    expr = expr.strip()
    return bool(expr) and _always_open(expr, _local(at).year, sun_cell(expr, position))


@lru_cache(maxsize=4096)
def _always_open(expr: str, year: int, where: Position | None = None) -> bool:
    if _problem(expr):
        return False
    compiled, start = _compiled(expr, year, where), datetime(year, 1, 1)
    result, comment = compiled.state(start)
    return result == State.OPEN and not comment and compiled.next_change(start) is None


# -- description ------------------------------------------------------------------------------

_DAY_NAMES = {
    "zh": dict(zip(_DAYS, ("周一", "周二", "周三", "周四", "周五", "周六", "周日"), strict=True))
    | {"PH": "法定节假日", "SH": "学校假期"},
    "en": dict(zip(_DAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))
    | {"PH": "public holidays", "SH": "school holidays"},
}
_WORDS = {
    "zh": {
        "off": "休息",
        "closed": "休息",
        "open": "开放",
        "unknown": "时间不定",
        "24/7": "全天24小时开放",
        "through": "至",
        "list": "、",
        "rule": "；",
        "next_day": "次日",
        "dash": "–",
    },
    "en": {
        "off": "closed",
        "closed": "closed",
        "open": "open",
        "unknown": "hours vary",
        "24/7": "open 24/7",
        "through": "–",
        "list": ", ",
        "rule": "; ",
        "next_day": " (next day)",
        "dash": "–",
    },
}
_TIME_SPAN = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


@lru_cache(maxsize=4096)  # pure, and asked for every station in every answer
def describe(expr: str, lang: str = "zh") -> str:
    """A plain-language description, e.g. '周一至周五 08:00–18:00；法定节假日休息'.

    Covers what stations use (days, times, overnight, PH, off); anything richer is shown as
    the expression itself rather than guessed at.
    """
    lang = "zh" if lang.startswith("zh") else "en"
    words, days = _WORDS[lang], _DAY_NAMES[lang]
    if not expr:
        return {"zh": "开放时间未知", "en": "hours not known"}[lang]
    out = []
    for rule, sep in _split_rules(expr):
        if sep == "||":
            return expr
        if rule == "24/7":
            out.append(words["24/7"])
            continue
        parts, sel_done = [], False
        for token in rule.replace(", ", ",").split():
            if not sel_done and re.fullmatch(
                r"(?:PH|SH|Mo|Tu|We|Th|Fr|Sa|Su)(?:[-,](?:PH|SH|Mo|Tu|We|Th|Fr|Sa|Su))*", token
            ):
                items = []
                for item in token.split(","):
                    ends = item.split("-")
                    items.append(words["through"].join(days[e] for e in ends))
                parts.append(words["list"].join(items))
                sel_done = True
            elif token in ("off", "closed", "open", "unknown"):
                parts.append(words[token])
            elif all(matches := [_TIME_SPAN.match(span) for span in token.split(",")]):
                spans = []
                for match in filter(None, matches):
                    h1, m1, h2, m2 = match.groups()
                    if (h2, m2) == ("24", "00") and (h1, m1) == ("00", "00"):
                        spans.append({"zh": "全天", "en": "all day"}[lang])
                    elif (h2, m2) <= (h1, m1) or int(h2) > 24:
                        h2n = f"{int(h2) % 24:02d}"
                        nxt = f"{h2n}:{m2}"
                        spans.append(
                            f"{h1}:{m1}{words['dash']}"
                            + (
                                f"{words['next_day']}{nxt}"
                                if lang == "zh"
                                else f"{nxt}{words['next_day']}"
                            )
                        )
                    else:
                        spans.append(f"{h1}:{m1}{words['dash']}{h2}:{m2}")
                parts.append(words["list"].join(spans))
            else:
                return expr
        joiner = (
            ""
            if lang == "zh" and len(parts) == 2 and parts[1] in (words["off"], words["open"])
            else " "
        )
        out.append(joiner.join(parts))
    text = words["rule"].join(out)
    return text[:1].upper() + text[1:] if lang == "en" else text
