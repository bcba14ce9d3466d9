"""The service circle: which part of a region lies within reach of an open station (pure).

Metres only in a local projection: each district is measured in its CGCS2000 3-degree
Gauss-Krüger zone, never in Web Mercator (whose "1 km" is 600-950 m in China).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stations.core.demand import DemandPoint
from stations.core.geo import BBox
from stations.core.model import Station

if TYPE_CHECKING:
    from stations.store.protocols import StationStore

DEFAULT_RADIUS_M = 1000.0
MIN_RADIUS_M = 100.0
MAX_RADIUS_M = 5000.0
DEFAULT_SPACING_M = 300.0  # two open stations closer than this: one is redundant


@dataclass(frozen=True)
class Preset:
    key: str
    radius_m: float
    zh: str
    en: str


# The 15-minute walk: 15 min at 4.5 km/h is 1,125 m along streets; streets wind, so the
# straight-line reach is that divided by a detour factor of 1.3: 865 m.
WALK_SPEED_KMH = 4.5
WALK_MINUTES = 15
DETOUR_FACTOR = 1.3
PRESETS = {
    "1km": Preset("1km", 1000.0, "1 公里服务圈", "1 km service circle"),
    "walk15": Preset(
        "walk15",
        round(WALK_MINUTES / 60 * WALK_SPEED_KMH * 1000 / DETOUR_FACTOR),
        "15 分钟步行圈（按步行 4.5 公里/小时、绕行系数 1.3 计，直线 865 米）",
        "15-minute walk (4.5 km/h on foot, detour factor 1.3: 865 m in a straight line)",
    ),
}


@dataclass(frozen=True)
class CoverageQuery:
    region: str  # adcode prefix: 2, 4 or 6 digits
    radius_m: float = DEFAULT_RADIUS_M
    only_24h: bool = False
    facilities: tuple[str, ...] = ()  # each must be offered
    spacing_m: float = DEFAULT_SPACING_M


@dataclass(frozen=True)
class DistrictCoverage:
    adcode: str
    name: str
    area_km2: float
    covered_km2: float
    stations: int  # serving stations that lie in the district
    demand: float  # total demand weight in the district
    demand_covered: float
    redundant_pairs: int

    @property
    def covered_share(self) -> float:
        return self.covered_km2 / self.area_km2 if self.area_km2 else 0.0

    @property
    def demand_share(self) -> float | None:
        return self.demand_covered / self.demand if self.demand else None

    @property
    def density(self) -> float:
        """Serving stations per km²."""
        return self.stations / self.area_km2 if self.area_km2 else 0.0


@dataclass(frozen=True)
class Gap:
    adcode: str
    area_km2: float
    geometry: Any  # shapely Polygon, WGS-84 (x = lon)


@dataclass(frozen=True)
class RedundantPair:
    a: int
    a_name: str
    b: int
    b_name: str
    distance_m: float
    adcode: str  # a's district


@dataclass(frozen=True)
class CoveredDemand:
    point: DemandPoint
    covered: bool


@dataclass
class Coverage:
    query: CoverageQuery
    districts: list[DistrictCoverage]  # by adcode
    total: DistrictCoverage  # the region: sums of the districts
    circles: Any  # shapely geometry, WGS-84: the union of service circles, clipped to the region
    gaps: list[Gap]  # largest first
    serving: list[Station]  # stations whose circles count (neighbours within reach included)
    redundant: list[RedundantPair] = field(default_factory=list)
    demand: list[CoveredDemand] = field(default_factory=list)


def make_query(
    region: str,
    radius_m: float | None = None,
    *,
    preset: str | None = None,
    only_24h: bool = False,
    facilities: Sequence[str] = (),
    spacing_m: float | None = None,
) -> CoverageQuery:
    """A checked query (model.Invalid naming the field otherwise)."""
    raise NotImplementedError


def serves(station: Station, query: CoverageQuery) -> bool:
    """Whether a station's circle counts: published and open, 24 h if asked, the facilities."""
    raise NotImplementedError


def region_box(region: str, radius_m: float) -> BBox:
    """The region's districts' bounding box widened by radius_m: every station whose circle
    can reach into the region lies inside it."""
    raise NotImplementedError


def analyse(
    stations: Iterable[Station], query: CoverageQuery, demand: Sequence[DemandPoint] = ()
) -> Coverage:
    raise NotImplementedError


def compute(
    store: "StationStore", query: CoverageQuery, demand: Sequence[DemandPoint] = ()
) -> Coverage:
    """analyse() of the stations the store holds within reach of the region."""
    return analyse(store.in_box(region_box(query.region, query.radius_m)), query, demand)
