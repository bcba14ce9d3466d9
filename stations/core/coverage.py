"""The service circle: which part of a region lies within reach of an open station (pure).

Metres only in a local projection: each district is measured in its CGCS2000 3-degree
Gauss-Krüger zone, never in Web Mercator (whose "1 km" is 600-950 m in China). A circle is
drawn about every serving station within reach of a district, wherever the station lies (a
neighbour's circle crossing the border counts), and areas are ground km²: the zone's small
stretch is taken out (gauss_kruger.scale). Demand and redundancy use geodesic distances.
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely import STRtree

from stations.core import circles, geo, hours, regions
from stations.core import gauss_kruger as gk
from stations.core.demand import DemandPoint
from stations.core.geo import BBox
from stations.core.model import FieldError, Invalid, Station, stored_id
from stations.core.published import is_published
from stations.core.vocab import FACILITIES

if TYPE_CHECKING:
    from stations.store.protocols import StationStore

DEFAULT_RADIUS_M = 1000.0
MIN_RADIUS_M = 100.0
MAX_RADIUS_M = 5000.0
DEFAULT_SPACING_M = 300.0  # two open stations closer than this: one is redundant
MIN_SPACING_M = 10.0
MAX_SPACING_M = 5000.0
SLIVER_KM2 = 0.001  # a gap smaller than this (a 30 m square) is edge noise, not a place
SIMPLIFY_M = 5.0  # gaps are drawn, not measured: this drops ~40 % of a circle's vertices
# A straight edge in lon/lat is a curve in a zone, and two zones bend it differently: 35 cm
# apart halfway along a 20 km edge. Edges cut to ~1 km first part by about a millimetre.
DENSIFY_DEG = 0.01
SEAM_DEG = 1e-6  # the strip (10 cm) along another zone in which a piece is on the seam
SEAM_GRID_DEG = 1e-7  # 1 cm: the two copies of a border snap together on this grid


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
    """A checked query (model.Invalid naming the field otherwise). A preset's radius wins over
    radius_m; facilities may be keys or labels."""
    errors: list[FieldError] = []
    region = str(region or "").strip()
    if len(region) not in (2, 4, 6) or not (region.isascii() and region.isdigit()):
        errors.append(
            FieldError(
                "region",
                "must be the adcode of a province, city or district: 2, 4 or 6 digits "
                f"(e.g. 34, 3401, 340104), not {region[:12]!r}",
            )
        )
    elif not regions.districts_of(region):
        errors.append(FieldError("region", f"no province, city or district has adcode {region}"))
    if preset:
        if preset in PRESETS:
            radius_m = PRESETS[preset].radius_m
        else:
            errors.append(
                FieldError("preset", f"must be one of {', '.join(PRESETS)}, not {preset[:20]!r}")
            )
    radius = _metres(radius_m, DEFAULT_RADIUS_M, MIN_RADIUS_M, MAX_RADIUS_M, "radius_m", errors)
    spacing = _metres(
        spacing_m, DEFAULT_SPACING_M, MIN_SPACING_M, MAX_SPACING_M, "spacing_m", errors
    )
    keys = [FACILITIES.parse(str(f)) for f in facilities]
    unknown = [str(f) for f, key in zip(facilities, keys, strict=True) if key is None]
    if unknown:
        errors.append(
            FieldError(
                "facilities",
                f"unknown facilities: {', '.join(unknown[:5])[:200]}; "
                f"known: {', '.join(FACILITIES.keys())}",
            )
        )
    if errors:
        raise Invalid(errors)
    return CoverageQuery(
        region, radius, bool(only_24h), tuple(dict.fromkeys(k for k in keys if k)), spacing
    )


def _metres(value, default: float, low: float, high: float, name: str, errors) -> float:
    if value is None:
        return default
    message = f"must be between {low:,g} and {high:,g} metres"
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not low <= number <= high:  # NaN fails too
        errors.append(FieldError(name, f"{message}, not {str(value)[:20]}"))
    return number


def serves(station: Station, query: CoverageQuery) -> bool:
    """Whether a station's circle counts: published and open, 24 h if asked, the facilities."""
    return (
        is_published(station)
        and station.status == "open"  # temporarily closed serves no one today
        and (not query.only_24h or hours.always_open(station.opening_hours))
        and set(query.facilities) <= set(station.facilities)
    )


def region_box(region: str, radius_m: float) -> BBox:
    """The region's districts' bounding box widened by radius_m: every station whose circle
    can reach into the region lies inside it."""
    boxes = np.array([zone.box for zone in _zones(region)])
    min_lon, min_lat, max_lon, max_lat = _widen(
        (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()), radius_m
    )
    return BBox(min_lat, min_lon, max_lat, max_lon)


def _widen(bounds, metres: float) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) grown by at least metres on every side: a degree
    of latitude is never under 110.5 km, nor one of longitude under 111.3 km x cos(lat)."""
    min_lon, min_lat, max_lon, max_lat = (float(b) for b in bounds)
    dlat = metres / 110_000
    widest = min(max(abs(min_lat), abs(max_lat)) + dlat, 89.0)
    dlon = metres / (111_000 * math.cos(math.radians(widest)))
    return min_lon - dlon, min_lat - dlat, max_lon + dlon, max_lat + dlat


# -- the region, laid out zone by zone (cached: districts never change while we run) --------


@dataclass(frozen=True)
class _District:
    region: regions.Region
    grid: Any  # the polygon in its zone's metres
    area_scale: float  # grid m² per ground m², at its centroid


@dataclass(frozen=True)
class _Zone:
    epsg: int
    districts: tuple[_District, ...]
    tree: STRtree  # of the districts' grid polygons
    outline: Any  # their union, in grid metres
    lonlat: Any  # the same, in lon/lat
    box: tuple[float, float, float, float]  # lon/lat bounds of the districts
    seam: Any = None  # lon/lat: the strip of it along other zones (prepared), if any


@lru_cache(maxsize=64)
def _zones(region: str) -> tuple[_Zone, ...]:
    by_zone: dict[int, list[tuple[regions.Region, Any]]] = {}
    for district in regions.districts_of(region):
        shape = regions.district_geometry(district.adcode)
        by_zone.setdefault(gk.zone(shape.centroid.x), []).append((district, shape))
    zones = []
    for epsg, members in sorted(by_zone.items()):
        shapes = np.array([shape for _, shape in members], dtype=object)
        grids = gk.project(shapely.segmentize(shapes, DENSIFY_DEG), epsg)
        centres = shapely.centroid(shapes)
        scales = gk.scale(epsg, shapely.get_x(centres), shapely.get_y(centres)) ** 2
        shapely.prepare(grids)
        districts = tuple(
            _District(d, g, float(k)) for (d, _), g, k in zip(members, grids, scales, strict=True)
        )
        outline = shapely.union_all(grids)
        shapely.prepare(outline)
        lonlat = gk.unproject(outline, epsg)
        bounds = tuple(shapely.total_bounds(shapes))
        zones.append(_Zone(epsg, districts, STRtree(grids), outline, lonlat, bounds))
    if len(zones) > 1:
        zones = [replace(z, seam=_seam(z, [o for o in zones if o is not z])) for z in zones]
    return tuple(zones)


def _seam(zone: _Zone, others: list[_Zone]):
    strip = shapely.intersection(
        zone.lonlat, shapely.buffer(shapely.union_all([o.lonlat for o in others]), SEAM_DEG)
    )
    shapely.prepare(strip)
    return strip


# -- the analysis -----------------------------------------------------------------------------


def analyse(
    stations: Iterable[Station], query: CoverageQuery, demand: Sequence[DemandPoint] = ()
) -> Coverage:
    """How much of the region, and of its demand, the serving stations reach; its gaps; which
    serving stations stand closer together than query.spacing_m (they name stations by id:
    stations read from the store)."""
    serving = [s for s in stations if serves(s, query)]
    lats = np.array([s.lat for s in serving], dtype=float)
    lons = np.array([s.lon for s in serving], dtype=float)
    reaches = np.zeros(len(serving), dtype=bool)
    areas: dict[str, tuple[float, float]] = {}  # adcode -> (area, covered), ground km²
    gaps: list[Gap] = []
    clipped = []  # per zone with circles, those within its districts: lon/lat polygons
    for zone in _zones(query.region):
        pieces, reached = _circles(zone, lats, lons, query.radius_m)
        reaches[reached] = True
        tree = STRtree(pieces)
        for district in zone.districts:
            near = pieces[tree.query(district.grid)]
            gap = shapely.difference(district.grid, circles.collect(near)) if len(near) else None
            whole = district.grid.area
            # A circle that only grazes the district leaves float noise, never less than none.
            reached_m2 = max(0.0, whole - (gap.area if gap is not None else whole))
            areas[district.region.adcode] = (
                whole / district.area_scale / 1e6,
                reached_m2 / district.area_scale / 1e6,
            )
            gaps += _gaps(district.grid if gap is None else gap, district, zone.epsg)
        if len(pieces):
            inside = shapely.intersection(zone.outline, circles.collect(pieces))
            clipped.append((zone, _polygons(gk.unproject(inside, zone.epsg))))
    gaps.sort(key=lambda g: -g.area_km2)
    redundant = _redundant(serving, lats, lons, query)
    demand_rows, tally = _demand(demand, lats, lons, query)
    per_station = Counter(s.adcode for s in serving)
    per_pair = Counter(p.adcode for p in redundant)
    districts = [
        DistrictCoverage(
            adcode=d.region.adcode,
            name=d.region.district,
            area_km2=areas[d.region.adcode][0],
            covered_km2=areas[d.region.adcode][1],
            stations=per_station[d.region.adcode],
            demand=tally.get(d.region.adcode, (0.0, 0.0))[0],
            demand_covered=tally.get(d.region.adcode, (0.0, 0.0))[1],
            redundant_pairs=per_pair[d.region.adcode],
        )
        for d in sorted(
            (d for z in _zones(query.region) for d in z.districts), key=lambda d: d.region.adcode
        )
    ]
    return Coverage(
        query=query,
        districts=districts,
        total=_total(query.region, districts),
        circles=_joined(clipped),
        gaps=gaps,
        serving=[serving[i] for i in np.flatnonzero(reaches)],
        redundant=redundant,
        demand=demand_rows,
    )


def _circles(zone: _Zone, lats, lons, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """The union of the circles that reach the zone's districts, as disjoint pieces in grid
    metres, and the indices of the stations they belong to."""
    min_lon, min_lat, max_lon, max_lat = _widen(zone.box, radius_m)
    nearby = np.flatnonzero(
        (lons >= min_lon) & (lons <= max_lon) & (lats >= min_lat) & (lats <= max_lat)
    )
    x, y = gk.to_metres(zone.epsg, lons[nearby], lats[nearby])
    radii = radius_m * gk.scale(zone.epsg, lons[nearby], lats[nearby])
    # Reach is measured to the polygon's vertices: no polygon that touches a district is left
    # out. Most stations lie inside a district, which a point-in-polygon test settles cheaply.
    inside = shapely.contains_xy(zone.outline, x, y)
    rest = np.flatnonzero(~inside)
    near, _ = zone.tree.query(
        shapely.points(x[rest], y[rest]),
        predicate="dwithin",
        distance=radii[rest] * circles.EQUAL_AREA,
    )
    hit = np.union1d(np.flatnonzero(inside), rest[near])
    x, y, radii = x[hit], y[hit], radii[hit]
    return circles.union(x, y, circles.circles(x, y, radii), radii), nearby[hit]


def _polygons(geometry) -> np.ndarray:
    """The polygons of an overlay's result, without the points or lines it may also hold
    (a circle that only touches a border)."""
    parts = shapely.get_parts(geometry)
    return parts[shapely.get_type_id(parts) == shapely.GeometryType.POLYGON]


def _gaps(gap, district: _District, epsg: int) -> list[Gap]:
    parts = _polygons(gap)
    ground = shapely.area(parts) / district.area_scale / 1e6
    keep = ground >= SLIVER_KM2
    parts = parts[keep]
    # Douglas-Peucker is ten times faster than the topology-preserving kind; where it breaks a
    # polygon (a narrow gap between circles), the slow kind redoes it.
    drawn = shapely.simplify(parts, SIMPLIFY_M, preserve_topology=False)
    broken = ~shapely.is_valid(drawn) | shapely.is_empty(drawn)
    drawn[broken] = shapely.simplify(parts[broken], SIMPLIFY_M, preserve_topology=True)
    shapes = gk.unproject(drawn, epsg)
    return [
        Gap(district.region.adcode, float(a), g) for a, g in zip(ground[keep], shapes, strict=True)
    ]


def _joined(clipped: list[tuple[_Zone, np.ndarray]]) -> Any:
    """One MultiPolygon of every zone's clipped circles. Zones meet along district borders,
    and only the polygons on such a seam need an overlay; the rest are collected."""
    if not clipped:
        return shapely.MultiPolygon()
    if len(clipped) == 1:
        return shapely.multipolygons(clipped[0][1])
    seam, rest = [], []
    for zone, parts in clipped:
        near = np.zeros(len(parts), dtype=bool)
        near[STRtree(parts).query(zone.seam, predicate="intersects")] = True
        seam.append(parts[near])
        rest.append(parts[~near])
    # The two zones' copies of a border part by about a millimetre: snapped to a 1 cm grid,
    # they coincide and the overlay glues them.
    joined = shapely.union_all(np.concatenate(seam), grid_size=SEAM_GRID_DEG)
    return shapely.multipolygons(shapely.get_parts(np.concatenate([*rest, [joined]])))


def _redundant(serving: list[Station], lats, lons, query: CoverageQuery) -> list[RedundantPair]:
    """Pairs closer than spacing_m with at least one station in the region; a is that one (the
    lower id when both are), so the pair counts in a's district. Nearest first."""
    i, j, dist = geo.close_pairs(lats, lons, query.spacing_m)
    inside = np.fromiter((s.adcode.startswith(query.region) for s in serving), bool, len(serving))
    keep = inside[i] | inside[j]
    i, j, dist = i[keep], j[keep], dist[keep]
    ids = np.zeros(len(serving), dtype=np.int64)
    for k in np.union1d(i, j).tolist():
        ids[k] = stored_id(serving[k])
    swap = ~inside[i] | (inside[j] & (ids[j] < ids[i]))
    a, b = np.where(swap, j, i), np.where(swap, i, j)
    order = np.lexsort((ids[b], ids[a], dist))
    return [
        RedundantPair(
            int(ids[x]), serving[x].name, int(ids[y]), serving[y].name, d, serving[x].adcode
        )
        for x, y, d in zip(a[order].tolist(), b[order].tolist(), dist[order].tolist(), strict=True)
    ]


def _demand(
    points: Sequence[DemandPoint], lats, lons, query: CoverageQuery
) -> tuple[list[CoveredDemand], dict[str, tuple[float, float]]]:
    """The demand points in the region, each marked covered if a serving station lies within
    radius_m; and per district, (weight, weight covered)."""
    if not points:
        return [], {}
    codes = [p.adcode or None for p in points]
    unknown = [k for k, code in enumerate(codes) if code is None]
    if unknown:
        found = regions.locate_many(
            [points[k].lat for k in unknown], [points[k].lon for k in unknown]
        )
        for k, code in zip(unknown, found, strict=True):
            codes[k] = code
    ours = {d.region.adcode for zone in _zones(query.region) for d in zone.districts}
    inside = [k for k, code in enumerate(codes) if code in ours]
    reached = geo.any_within(
        [points[k].lat for k in inside], [points[k].lon for k in inside], lats, lons, query.radius_m
    )
    rows: list[CoveredDemand] = []
    tally: dict[str, tuple[float, float]] = {}
    for k, hit in zip(inside, reached.tolist(), strict=True):
        point, code = points[k], str(codes[k])
        weight, got = tally.get(code, (0.0, 0.0))
        tally[code] = (weight + point.weight, got + (point.weight if hit else 0.0))
        rows.append(CoveredDemand(point, hit))
    return rows, tally


def _total(region: str, districts: list[DistrictCoverage]) -> DistrictCoverage:
    return DistrictCoverage(
        adcode=region,
        name=regions.prefix_name(region),
        area_km2=sum(d.area_km2 for d in districts),
        covered_km2=sum(d.covered_km2 for d in districts),
        stations=sum(d.stations for d in districts),
        demand=sum(d.demand for d in districts),
        demand_covered=sum(d.demand_covered for d in districts),
        redundant_pairs=sum(d.redundant_pairs for d in districts),
    )


def compute(
    store: "StationStore", query: CoverageQuery, demand: Sequence[DemandPoint] = ()
) -> Coverage:
    """analyse() of the stations the store holds within reach of the region."""
    return analyse(store.in_box(region_box(query.region, query.radius_m)), query, demand)
