"""Cleaning and comparing user text: what we store, what we compare, what we export."""

import re
import unicodedata

# Characters that start a formula in Excel/LibreOffice when a CSV is opened (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SPACES = re.compile(r"\s+")


def clean(value: str) -> str:
    """Text as stored: NFC, invisible format characters (zero-width, bidi overrides) removed,
    runs of white space folded to one space, trimmed.

    Format characters carry no meaning in a station's name or address, and bidi overrides are
    a known way to make one name display as another.
    """
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if unicodedata.category(ch) != "Cf")
    return _SPACES.sub(" ", value).strip()


def control_character(value: str) -> str | None:
    """The first control character (other than white space) in value, as U+XXXX, or None."""
    for ch in value:
        if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r":
            return f"U+{ord(ch):04X}"
    return None


def match_key(value: str) -> str:
    """A key under which names that look the same compare equal: NFKC (fullwidth letters and
    digits become ASCII), format characters dropped, case folded, white space and common
    punctuation removed."""
    value = unicodedata.normalize("NFKC", clean(value)).casefold()
    return "".join(ch for ch in value if ch.isalnum())


def neutralise_formula(value: str) -> str:
    """value made safe for a spreadsheet cell: a leading apostrophe before formula starters."""
    if value and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unneutralise_formula(value: str) -> str:
    """The inverse of neutralise_formula, so our own exports re-import unchanged."""
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def ascii_digits(value: str) -> str:
    """Fullwidth digits, signs and points ('１２３．５') as ASCII; other text untouched."""
    return unicodedata.normalize("NFKC", value).strip()
