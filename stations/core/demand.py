"""Where workers need stations: demand points (imported layers) and the search log's grid cells.

A demand point is a place with a weight (workers living or working there, delivery orders,
sanitation routes …); coverage counts how much of the weight lies within the service circle of
an open station, and planning places new sites to cover the most of the rest.
"""

from dataclasses import dataclass

# The search log never keeps a point: each search is coarsened to a cell of this grid first.
CELL_M = 500  # about 500 m a side
# Cells with fewer searches than this are never shown (or returned by any face).
MIN_CELL_SEARCHES = 5
# A search is "met" when a station matching it lies within this distance (the service circle).
MET_WITHIN_M = 1000


@dataclass(frozen=True)
class DemandPoint:
    lat: float  # WGS-84
    lon: float
    weight: float  # > 0, in the layer's own unit (people, orders, searches …)
    label: str = ""
    adcode: str = ""  # the district it lies in ('' when not known)


@dataclass(frozen=True)
class DemandLayer:
    """An imported layer of points: demand (weights) or candidate sites for new stations."""

    name: str
    kind: str  # "demand" | "candidates"
    points: int
    total_weight: float
    imported_at: str
    fictitious: bool  # demo data, marked as such wherever it is shown


@dataclass(frozen=True)
class SearchCell:
    """One grid cell of the search log: how many searches, and how many found no station
    within MET_WITHIN_M (unmet)."""

    row: int
    col: int
    searches: int
    unmet: int
