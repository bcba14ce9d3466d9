"""Numbers as a rider reads them, in Chinese or English (pure).

One rule for every face that prints a distance: the no-JavaScript list, pages, exports.
"""

import math

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
