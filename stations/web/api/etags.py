"""Entity tags as RFC 9110 compares them, with compression taken into account.

Flask-Compress gives a compressed response its own strong tag, '"v3:gzip"' for '"v3"' (RFC 9110
8.8.3.3: a content coding makes a different representation). Both name the same version of the
same station, so a client that received the gzip tag may send it back: the coding suffix is
ignored when tags are compared. Comparison is otherwise as the RFC says: weak for If-None-Match
(GET and HEAD), strong for If-Match (writes), where a W/ tag never matches.
"""

import re
from dataclasses import dataclass

# The content codings Flask-Compress appends to a tag, after a colon.
CODINGS = ("gzip", "deflate", "br", "zstd")
_SUFFIX = re.compile(rf":(?:{'|'.join(CODINGS)})$")
# One member of a list: W/ optional, then a quoted tag; unquoted tags (v3) are taken leniently,
# as they always were here.
_MEMBER = re.compile(r'\s*(W/)?(?:"([\x21\x23-\x7e\x80-\U0010ffff]*)"|([^",\s]+))\s*(?:,|$)')
_EMPTY = re.compile(r"[\s,]*")
_VERSION = re.compile(r"v([0-9]{1,18})")


@dataclass(frozen=True)
class Tag:
    opaque: str  # without quotes and without the coding suffix
    weak: bool


class Malformed(ValueError):
    pass


def base(opaque: str) -> str:
    """A tag's opaque part without the content coding that Flask-Compress appended."""
    return _SUFFIX.sub("", opaque)


def parse(header: str) -> list[Tag] | None:
    """The tags of an If-Match or If-None-Match value; None for "*"; Malformed if unreadable."""
    header = header.strip()
    if header == "*":
        return None
    tags: list[Tag] = []
    position = 0
    while position < len(header):
        skipped = _EMPTY.match(header, position)  # empty list elements are allowed
        position = skipped.end() if skipped else position
        if position == len(header):
            break
        found = _MEMBER.match(header, position)
        if found is None or found.end() == position:
            raise Malformed(header)
        tags.append(Tag(base(found.group(2) or found.group(3) or ""), bool(found.group(1))))
        position = found.end()
    if not tags:
        raise Malformed(header)
    return tags


def version(tag: Tag) -> int | None:
    """The station version a tag of this API names ('"v3"', '"v3:gzip"'), or None."""
    found = _VERSION.fullmatch(tag.opaque)
    return int(found.group(1)) if found else None


def strong_match(tags: list[Tag] | None, current: int) -> bool:
    """If-Match: does the list (None: "*") name this version, strongly?"""
    if tags is None:
        return True
    return any(not t.weak and version(t) == current for t in tags)


def weakly_names(tags: list[Tag] | None, current: int) -> bool:
    """Does the list name this version only through a weak tag (which a write cannot use)?"""
    return tags is not None and any(t.weak and version(t) == current for t in tags)


def without_codings(header: str) -> str:
    """An If-None-Match value with the coding suffixes taken off, for weak comparison with the
    uncompressed tag; unreadable values are left as they are (they then match nothing)."""
    try:
        tags = parse(header)
    except Malformed:
        return header
    if tags is None:
        return "*"
    return ", ".join(f'{"W/" if t.weak else ""}"{t.opaque}"' for t in tags)
