"""Numbers as a rider reads them, in Chinese or English (pure).

One rule for every face that prints a distance: the no-JavaScript list, pages, exports.
"""

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")  # every time a person reads is China time
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

UNITS = {"zh": ("米", "公里"), "en": ("m", "km")}


def distance(metres: float, lang: str = "zh") -> str:
    """'350 米', '1.2 公里', '12 公里' (en: '350 m', '1.2 km', '12 km').

    Under 1 km to the metre, under 10 km to 0.1 km, then whole km: no more digits than a
    rider can use, and never '1000 米' (that is '1.0 公里')."""
    metre, kilometre = UNITS.get(lang, UNITS["zh"])
    m = max(0.0, float(metres))
    if _half_up(m) < 1000:
        return f"{_half_up(m)} {metre}"
    tenths = _half_up(m / 100)  # 0.1 km
    if tenths < 100:
        return f"{tenths // 10}.{tenths % 10} {kilometre}"
    return f"{_half_up(m / 1000)} {kilometre}"


def _half_up(x: float) -> int:
    return math.floor(x + 0.5)


# -- dates and times as people read them -------------------------------------------------------


def _moment(value: str | datetime | None) -> datetime | None:
    """A stored timestamp (ISO text or datetime) in China time; None for empty or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value.astimezone(TZ) if value.tzinfo else value


def day(value: str | date | datetime | None, lang: str = "zh", today: date | None = None) -> str:
    """'11月21日' ('2025年11月21日' in another year); en '21 Nov' / '21 Nov 2025'. '' if empty."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return str(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _moment(value).date()  # type: ignore[union-attr]
    same_year = today is not None and today.year == value.year
    if lang.startswith("zh"):
        return (
            f"{value.month}月{value.day}日"
            if same_year
            else f"{value.year}年{value.month}月{value.day}日"
        )
    text = f"{value.day} {_MONTHS_EN[value.month - 1]}"
    return text if same_year else f"{text} {value.year}"


def when(
    value: str | datetime | None,
    lang: str = "zh",
    now: datetime | None = None,
    relative: bool = True,
) -> str:
    """A moment for people: '11月21日 23:48' (with the year when not this year); en
    '21 Nov 23:48'. Given now, the last hour reads '刚刚' / '12 分钟前' ('just now', '12 min
    ago'). '' for an empty value; text that is no timestamp comes back as it was."""
    at = _moment(value)
    if at is None:
        return "" if not value else str(value)
    current = _moment(now) if now is not None else None
    if current is not None and relative:
        seconds = (current - at).total_seconds() if at.tzinfo else None
        if seconds is not None and 0 <= seconds < 3600:
            minutes = int(seconds // 60)
            if lang.startswith("zh"):
                return "刚刚" if minutes < 1 else f"{minutes} 分钟前"
            return "just now" if minutes < 1 else f"{minutes} min ago"
    return f"{day(at.date(), lang, current.date() if current else None)} {at:%H:%M}"


def days_and_time(value: str | datetime, today: date) -> tuple[int, str]:
    """A coming moment (an opening, a closing) as every face words it: how many days after
    today it falls, in China time, and its 'HH:MM'."""
    at = _moment(value)
    if at is None:
        raise ValueError(f"not a moment: {value!r}")
    return (at.date() - today).days, f"{at:%H:%M}"
