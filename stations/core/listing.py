"""Paging the public list of stations by a stable cursor (the last id seen).

The store filters what SQL can (published, box, region, status, facilities, updated_since);
"open now" needs the clock and each station's hours, so it is judged here, and batches are
fetched until the page is full.
"""

from datetime import datetime

from stations.core import present
from stations.core.model import Station


def public_page(
    store,
    *,
    limit: int,
    after: int = 0,
    open_now: bool = False,
    at: datetime,
    box=None,
    region: str = "",
    statuses=(),
    facilities=(),
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
        after = batch[-1].id
        page += [s for s in batch if not open_now or present.live_state(s, at)["open_now"]]
        if len(batch) <= limit:
            break
    more = len(page) > limit
    page = page[:limit]
    return page, (page[-1].id if more else None)
