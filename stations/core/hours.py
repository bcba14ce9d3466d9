"""Opening hours in OpenStreetMap syntax, evaluated in China's time zone and holiday calendar.

The opening-hours-py library parses and evaluates expressions, but its Chinese holiday calendar
misses the substituted days off (the full Golden Week, Spring Festival) and knows nothing of
调休, the weekend days that become working days. So before evaluation we rewrite the expression:
`PH` becomes the explicit dates of the official breaks (from the `holidays` package, with the
weekend days inside or next to a break), and every 调休 weekend day gets the schedule of an
ordinary Monday. A station whose hours do not mention PH is taken not to follow the holiday
calendar at all.
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
        if not _PH.search(rule):
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
def _compiled(expr: str, year: int) -> OpeningHours:
    """expr with PH and 调休 made explicit for the years around year."""
    if not _PH.search(expr):
        return OpeningHours(expr)
    years = range(year - 1, year + 2)
    base = _expand_holidays(expr, years)
    plain = OpeningHours(base)
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
    return OpeningHours("; ".join([base, *extra]))


def _open_spans(oh: OpeningHours, day: date) -> str:
    start = datetime.combine(day, time())
    end = start + timedelta(days=1)
    spans = []
    for a, b, state, _ in oh.intervals(start, end):
        if state == State.OPEN:
            b = min(b, end) if b else end
            a = max(a, start)
            last = "24:00" if b >= end else b.strftime("%H:%M")
            spans.append(f"{a:%H:%M}-{last}")
    return ",".join(spans)


# -- evaluation -------------------------------------------------------------------------------


def _local(at: datetime | None) -> datetime:
    """at in China time, as the naive datetime the library works in."""
    if at is None:
        at = datetime.now(TZ)
    elif at.tzinfo is None:
        return at
    return at.astimezone(TZ).replace(tzinfo=None)


def state(expr: str, at: datetime | None = None) -> str:
    """'open', 'closed' or 'unknown' at a moment (now by default)."""
    if not expr:
        return "unknown"
    local = _local(at)
    result, _ = _compiled(expr, local.year).state(local)
    return {State.OPEN: "open", State.CLOSED: "closed"}.get(result, "unknown")


def is_open(expr: str, at: datetime | None = None) -> bool:
    return state(expr, at) == "open"


def next_change(expr: str, at: datetime | None = None) -> datetime | None:
    """When the state next changes (aware, China time), or None if it never does."""
    if not expr:
        return None
    local = _local(at)
    change = _compiled(expr, local.year).next_change(local)
    return change.replace(tzinfo=TZ) if change else None


def always_open(expr: str, at: datetime | None = None) -> bool:
    """Whether expr keeps a station open around the clock every day: '24/7', 'Mo-Su
    00:00-24:00' and their equivalents. Hours that are unknown, closed on any day (PH off
    included) or carry a comment ('"by appointment"', '24/7 "call first"') are not: a comment is
    a condition a rider cannot check at 3 a.m."""
    expr = expr.strip()
    return bool(expr) and _always_open(expr, _local(at).year)


@lru_cache(maxsize=4096)
def _always_open(expr: str, year: int) -> bool:
    if _problem(expr):
        return False
    compiled, start = _compiled(expr, year), datetime(year, 1, 1)
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
