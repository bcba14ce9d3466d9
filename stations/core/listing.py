"""Paging the public list of stations by a stable cursor (the last id seen).

The store filters what SQL can (published, box, region, status, facilities, updated_since);
"open now" needs the clock and each station's hours, so it is judged here, and batches are
fetched until the page is full.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from stations.core import present
from stations.core.geo import BBox
from stations.core.model import Station, stored_id

if TYPE_CHECKING:
    from stations.store.protocols import StationStore


def public_page(
    store: "StationStore",
    *,
    limit: int,
    after: int = 0,
    open_now: bool = False,
    at: datetime,
    box: BBox | None = None,
    region: str = "",
    statuses: Sequence[str] = (),
    facilities: Sequence[str] = (),
    updated_since: str | None = None,
) -> tuple[list[Station], int | None]:
    """Up to limit published stations after the cursor, and the next cursor (None at the end)."""
    page: list[Station] = []
    while len(page) <= limit:
        batch = store.public_page(
            box=box,
            region=region,
            statuses=statuses,
            facilities=facilities,
            updated_since=updated_since,
            after_id=after,
            limit=limit + 1,
        )
        if not batch:
            break
        after = stored_id(batch[-1])
        page += [s for s in batch if not open_now or present.live_state(s, at)["open_now"]]
        if len(batch) <= limit:
            break
    more = len(page) > limit
    page = page[:limit]
    return page, (stored_id(page[-1]) if more else None)
