"""Nearest stations from a database's own KNN search (pure: no SQL; the store is a callable).

A database ranks candidates by distance on a sphere (PostGIS `geog <-> point` on geography),
which differs from the ellipsoidal geodesic by < 0.6 % (locator.SLACK bounds it). So its order
only proposes: the candidates fetched are ranked by the same exact geodesic as the in-process
index (a Locator over them), and more are fetched until nothing unfetched can beat the k-th:
every unfetched station lies at least as far on the sphere as the last one fetched, so once
k-th exact distance x (1 + SLACK) <= that spherical distance, the answer is complete.
"""

from collections.abc import Callable, Sequence
from datetime import datetime

from stations.core import hours
from stations.core.locator import SLACK, Hit, IndexRow, Locator

# (lat, lon, n, facilities, region) -> up to n published stations passing those filters,
# nearest first on the sphere, each with its spherical distance in metres.
Candidates = Callable[[float, float, int, Sequence[str], str], list[tuple[IndexRow, float]]]


class KnnLocator:
    GROWTH = 4

    def __init__(self, candidates: Candidates):
        self.candidates = candidates

    def nearest(
        self,
        lat: float,
        lon: float,
        k: int = 5,
        *,
        radius_m: float | None = None,
        facilities: Sequence[str] = (),
        open_now: bool = False,
        at: datetime | None = None,
        region: str = "",
    ) -> list[Hit]:
        """Locator.nearest's answer over every station the database holds."""
        if k < 1:
            return []
        at = at or datetime.now(hours.TZ)  # one moment for every round

        def ranked(local: Locator, radius: float | None = None) -> list[Hit]:
            return local.nearest(
                lat,
                lon,
                k,
                radius_m=radius,
                facilities=facilities,
                open_now=open_now,
                at=at,
                region=region,
            )

        n = max(4 * k, 16)
        while True:
            found = self.candidates(lat, lon, n, facilities, region)
            local = Locator.from_rows(row for row, _ in found)
            if len(found) < n:
                break  # every station passing the database's filters is here
            hits = ranked(local)
            if len(hits) >= k and hits[-1].distance_m * (1 + SLACK) <= found[-1][1]:
                break
            n *= self.GROWTH  # too few open now, or the sphere's order may still hide one
        return ranked(local, radius_m)
