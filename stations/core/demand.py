"""Where workers need stations: demand points (imported layers) and the search log's grid cells.

A demand point is a place with a weight (workers living or working there, delivery orders,
sanitation routes …); coverage counts how much of the weight lies within the service circle of
an open station, and planning places new sites to cover the most of the rest.

The search log is the other source of demand: every nearest search is coarsened at once to a
cell of a fixed grid (rows of CELL_M metres of latitude; in each row, columns of CELL_M metres
of longitude at the row's centre, so cells are ~500 m squares from Hainan to Heilongjiang) and
only counted: (day, row, col) -> (searches, unmet). The point itself is never kept, in memory
or in the database.
"""

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from math import ceil, cos, floor, fsum, radians
from typing import TYPE_CHECKING

from stations.core import regions
from stations.core.geo import BBox
from stations.core.text import clean, control_character

if TYPE_CHECKING:
    from stations.core.locator import Hit
    from stations.store.protocols import PlanningStore

# The search log never keeps a point: each search is coarsened to a cell of this grid first.
CELL_M = 500  # about 500 m a side
# Cells with fewer searches than this are never shown (or returned by any face).
MIN_CELL_SEARCHES = 5
# A search is "met" when a station matching it lies within this distance (the service circle).
MET_WITHIN_M = 1000
# Days of search counts kept: a year and a bit, so a season compares with the last one.
KEEP_DAYS = 400
# A process's buffer is written once it holds this many cells, whatever its age.
FLUSH_CELLS = 500

LAYER_KINDS = ("demand", "candidates")
LAYER_NAME_MAX = 60

# The grid's unit: metres per degree of latitude (and of longitude on the equator). The true
# figure is 110.6-111.7 km; the grid only needs to be fixed, and cells ~CELL_M on a side.
_M_PER_DEG = 111_320
_CELL_DEG = CELL_M / _M_PER_DEG  # a row's height, in degrees of latitude


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


# -- the grid ---------------------------------------------------------------------------------


def _row_lat(row: int) -> float:
    """Latitude of a row's centre line."""
    return (row + 0.5) * _CELL_DEG


def _col_deg(row: int) -> float:
    """A column's width in the row, in degrees of longitude: CELL_M at the row's centre."""
    return _CELL_DEG / cos(radians(_row_lat(row)))


def cell_of(lat: float, lon: float) -> tuple[int, int]:
    """(row, col) of the grid cell a WGS-84 point falls in."""
    row = floor(lat / _CELL_DEG)
    return row, floor(lon / _col_deg(row))


def cell_centre(row: int, col: int) -> tuple[float, float]:
    """(lat, lon) of a cell's centre."""
    return _row_lat(row), (col + 0.5) * _col_deg(row)


def cell_polygon(row: int, col: int) -> tuple[tuple[float, float], ...]:
    """A cell's outline as a closed ring of (lon, lat) pairs, GeoJSON's order (x is longitude)."""
    south, north = row * _CELL_DEG, (row + 1) * _CELL_DEG
    width = _col_deg(row)
    west, east = col * width, (col + 1) * width
    return ((west, south), (east, south), (east, north), (west, north), (west, south))


def row_span(box: BBox) -> tuple[int, int]:
    """The first and last rows whose centre line lies in the box (first > last: none)."""
    return ceil(box.min_lat / _CELL_DEG - 0.5), floor(box.max_lat / _CELL_DEG - 0.5)


def centre_in(box: BBox, row: int, col: int) -> bool:
    """Whether a cell's centre lies in the box (edges included)."""
    lat, lon = cell_centre(row, col)
    return box.min_lat <= lat <= box.max_lat and box.min_lon <= lon <= box.max_lon


# -- the search log ---------------------------------------------------------------------------


def is_met(hits: Iterable["Hit"], stations: Container[int]) -> bool:
    """Whether a search was met: one of the stations it returned (hits whose id is among
    `stations`, those actually shown) lies within MET_WITHIN_M."""
    return any(h.id in stations and h.distance_m <= MET_WITHIN_M for h in hits)


class SearchLog:
    """A process's searches not yet written: counts per (day, row, col), never a point.

    Pure bookkeeping; whoever holds one decides when to write it (due(), then take()) and
    serialises access when several threads share it.
    """

    def __init__(self, flush_seconds: float = 30, max_cells: int = FLUSH_CELLS):
        self.flush_seconds = flush_seconds
        self.max_cells = max_cells
        self._counts: dict[tuple[str, int, int], tuple[int, int]] = {}
        self._since: float | None = None  # when due() first saw the buffer holding something

    def record(self, lat: float, lon: float, met: bool, day: str) -> None:
        """Count one search at a WGS-84 point on a day (ISO date, China time)."""
        key = (day, *cell_of(lat, lon))
        searches, unmet = self._counts.get(key, (0, 0))
        self._counts[key] = (searches + 1, unmet + (0 if met else 1))

    def due(self, now: float) -> bool:
        """Whether the buffer should be written now (now: a monotonic clock, in seconds):
        it is flush_seconds old, or holds max_cells cells."""
        if not self._counts:
            return False
        if self._since is None:
            self._since = now
        return now - self._since >= self.flush_seconds or len(self._counts) >= self.max_cells

    def take(self) -> dict[tuple[str, int, int], tuple[int, int]]:
        """Everything counted so far, (day, row, col) -> (searches, unmet); the buffer empties."""
        counts, self._counts, self._since = self._counts, {}, None
        return counts

    def __len__(self) -> int:
        return len(self._counts)


def keep_from(day: str) -> str:
    """The oldest day whose counts are kept once `day` has been recorded (KEEP_DAYS back)."""
    return (date.fromisoformat(day) - timedelta(days=KEEP_DAYS)).isoformat()


def search_cells(store: "PlanningStore", box: BBox, since_day: str) -> list[SearchCell]:
    """The search log's cells in a box since a day: only those with enough searches to show."""
    return store.search_cells(box, since_day, MIN_CELL_SEARCHES)


def searches_as_demand(cells: Iterable[SearchCell]) -> list[DemandPoint]:
    """Unmet searches as demand: one point per cell at its centre (with the district it lies
    in), weighted by its unmet searches. Cells with too few searches to show, or none unmet,
    are left out."""
    shown = [c for c in cells if c.searches >= MIN_CELL_SEARCHES and c.unmet > 0]
    centres = [cell_centre(c.row, c.col) for c in shown]
    codes = regions.locate_many([lat for lat, _ in centres], [lon for _, lon in centres])
    return [
        DemandPoint(lat, lon, float(c.unmet), adcode=code or "")
        for c, (lat, lon), code in zip(shown, centres, codes, strict=True)
    ]


# -- layers -----------------------------------------------------------------------------------


def check_layer(name: str, kind: str) -> str:
    """A layer's name as stored (trimmed), or ValueError saying what is wrong with it or kind."""
    if kind not in LAYER_KINDS:
        raise ValueError(f"a layer's kind is one of {', '.join(LAYER_KINDS)}, not {kind!r}")
    bad = control_character(name)
    if bad:
        raise ValueError(f"the layer name contains the control character {bad}")
    cleaned = clean(name)
    if not cleaned:
        raise ValueError("the layer needs a name")
    if len(cleaned) > LAYER_NAME_MAX:
        raise ValueError(f"the layer name is longer than {LAYER_NAME_MAX} characters")
    return cleaned


def total_weight(points: Sequence[DemandPoint]) -> float:
    """The sum of the weights, exactly rounded whatever their order (both stores agree)."""
    return fsum(p.weight for p in points)
