"""Cleaning and comparing user text: what we store, what we compare, what we export."""

import re
import sys
import unicodedata

# Every format character (Unicode category Cf): zero-width spaces and joiners, bidi controls, the
# BOM, soft hyphen... Built once; a regex pass is far faster than a per-character loop.
_FORMAT_CHARS = re.compile(
    "["
    + "".join(
        re.escape(chr(c)) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"
    )
    + "]"
)
_NOT_ALNUM = re.compile(r"[\W_]+")

# Characters that start a formula in Excel/LibreOffice when a CSV is opened (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SPACES = re.compile(r"\s+")


def clean(value: str) -> str:
    """Text as stored: NFC, invisible format characters (zero-width, bidi overrides) removed,
    runs of white space folded to one space, trimmed.

    Format characters carry no meaning in a station's name or address, and bidi overrides are
    a known way to make one name display as another.
    """
    value = _FORMAT_CHARS.sub("", unicodedata.normalize("NFC", value))
    return _SPACES.sub(" ", value).strip()


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(value: str) -> str | None:
    """The first control character (other than white space) in value, as U+XXXX, or None."""
    found = _CONTROL.search(value)
    return f"U+{ord(found.group()):04X}" if found else None


def match_key(value: str) -> str:
    """A key under which names that look the same compare equal: NFKC (fullwidth letters and
    digits become ASCII), format characters dropped, case folded, white space and common
    punctuation removed."""
    value = unicodedata.normalize("NFKC", _FORMAT_CHARS.sub("", value)).casefold()
    return _NOT_ALNUM.sub("", value)


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
