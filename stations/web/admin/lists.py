"""What the staff lists share: their query parameters (page, sort, filters), checked with a
clear 400, and links that keep the list's state in the query string."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import abort, request, url_for
from flask_babel import gettext as _

_DISTRICT = re.compile(r"\d{6}")
MAX_PAGE_NUMBER = 100_000


@dataclass
class ListArgs:
    """A list's state as the query string gives it (defaults omitted from links)."""

    endpoint: str
    default_sort: str
    q: str = ""
    status: str = ""
    district: str = ""
    sort: str = ""
    descending: bool = False
    page: int = 1

    def state(self, **changes) -> dict[str, Any]:
        """Query parameters for a link to this list with changes applied; defaults left out."""
        values: dict[str, Any] = {
            "q": self.q,
            "status": self.status,
            "district": self.district,
            "sort": self.sort,
            "dir": "desc" if self.descending else "",
            "page": self.page,
        }
        values.update(changes)
        if values.get("sort") == self.default_sort:
            values["sort"] = ""
        if values.get("page") == 1:
            values["page"] = ""
        return {k: v for k, v in values.items() if v not in ("", None, False)}

    def link(self, **changes) -> str:
        return url_for(self.endpoint, **self.state(**changes))

    def sort_link(self, key: str) -> str:
        """The column header's link: sort by key, or turn the direction if it already is."""
        descending = not self.descending if key == self.sort else key in MOST_FIRST
        return self.link(sort=key, dir="desc" if descending else "", page=1)

    def aria_sort(self, key: str) -> str | None:
        if key != self.sort:
            return None
        return "descending" if self.descending else "ascending"


# Counts a person sorts by to see the biggest first (open reports): their first click sorts down.
MOST_FIRST = ("reports",)


def _one(name: str) -> str:
    values = request.args.getlist(name)
    if len(values) > 1:
        abort(400, description=_("Give %(name)s only once.", name=name))
    return values[0].strip() if values else ""


def list_args(sorts: Sequence[str], statuses: Sequence[str] = (), *, default_sort: str) -> ListArgs:
    """The list's parameters from the request: a bad value is a 400 saying which and why."""
    args = ListArgs(request.endpoint or "", default_sort)
    args.q = _one("q")[:50]
    args.status = _one("status")
    if args.status and args.status not in statuses:
        abort(400, description=_("Unknown status: %(value)s", value=args.status[:30]))
    args.district = _one("district")
    if args.district and not _DISTRICT.fullmatch(args.district):
        abort(400, description=_("A district is given by its 6-digit division code."))
    args.sort = _one("sort") or default_sort
    if args.sort not in sorts:
        abort(400, description=_("Unknown sort: %(value)s", value=args.sort[:30]))
    direction = _one("dir")
    if direction not in ("", "asc", "desc"):
        abort(400, description=_("The sort direction is asc or desc."))
    args.descending = direction == "desc"
    page = _one("page") or "1"
    if not page.isascii() or not page.isdigit() or len(page) > 6:
        abort(400, description=_("The page is a whole number from 1."))
    args.page = min(max(1, int(page)), MAX_PAGE_NUMBER)
    return args
