"""One coverage report — circles, gaps, demand and suggested sites — built the same way for the
staff page, the API and the command line (pure: takes a store, no Flask)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from stations.core import demand as demand_mod
from stations.core import planning, regions
from stations.core.coverage import Coverage, CoverageQuery, compute, region_box
from stations.core.demand import DemandLayer, DemandPoint
from stations.core.model import FieldError, Invalid
from stations.core.planning import Candidate, Suggestion

if TYPE_CHECKING:
    from typing import Protocol

    from stations.store.protocols import PlanningStore, StationStore

    class ReportStore(StationStore, PlanningStore, Protocol):
        """What a report reads: stations and demand."""


SEARCHES = "searches"  # demand from the search log's unmet searches
NONE = "none"
GRID = "grid"
SEARCH_DAYS = 90  # how far back the search log counts
MAX_SUGGEST = 20
DEFAULT_TARGET = 0.8


@dataclass
class Report:
    coverage: Coverage
    suggestions: list[Suggestion]
    demand: str  # the layer name, SEARCHES, or NONE
    demand_fictitious: bool
    candidates: str  # GRID or a layer name
    target: float  # the share of demand (of area, with no demand) the region aims to cover
    layers: list[DemandLayer] = field(default_factory=list)

    @property
    def measure(self) -> str:
        """What the target is measured on: 'demand' when there is demand, else 'area'."""
        return "demand" if self.coverage.total.demand else "area"

    @property
    def progress(self) -> float:
        total = self.coverage.total
        share = total.demand_share if self.measure == "demand" else total.covered_share
        return share or 0.0

    @property
    def region_name(self) -> str:
        return self.coverage.total.name


def _layer(layers: list[DemandLayer], name: str, kind: str, param: str) -> DemandLayer:
    for layer in layers:
        if layer.name == name:
            if layer.kind != kind:
                raise Invalid([FieldError(param, f"layer {name!r} holds {layer.kind}, not {kind}")])
            return layer
    known = ", ".join(x.name for x in layers if x.kind == kind) or "none imported"
    raise Invalid([FieldError(param, f"no {kind} layer {name!r} (layers: {known})")])


def _search_demand(store: "ReportStore", query: CoverageQuery, today: date) -> list[DemandPoint]:
    since = (today - timedelta(days=SEARCH_DAYS)).isoformat()
    cells = store.search_cells(region_box(query.region, 0), since, demand_mod.MIN_CELL_SEARCHES)
    return demand_mod.searches_as_demand(cells)


def choose_demand(
    store: "ReportStore",
    query: CoverageQuery,
    wanted: str | None,
    layers: list[DemandLayer],
    today: date,
) -> tuple[str, list[DemandPoint], bool]:
    """(source, points, fictitious). wanted None: the first demand layer with points in the
    region, else the unmet searches, else none."""
    if wanted == NONE:
        return NONE, [], False
    if wanted == SEARCHES:
        return SEARCHES, _search_demand(store, query, today), False
    if wanted:
        layer = _layer(layers, wanted, "demand", "demand")
        return layer.name, store.demand_points(layer.name, query.region), layer.fictitious
    for layer in layers:
        if layer.kind == "demand":
            points = store.demand_points(layer.name, query.region)
            if points:
                return layer.name, points, layer.fictitious
    points = _search_demand(store, query, today)
    return (SEARCHES, points, False) if points else (NONE, [], False)


def build(
    store: "ReportStore",
    query: CoverageQuery,
    *,
    today: date,
    demand: str | None = None,
    candidates: str = GRID,
    suggest: int = 0,
    target: float = DEFAULT_TARGET,
) -> Report:
    """Coverage of the region, and up to `suggest` new sites for its uncovered demand."""
    if not 0 <= suggest <= MAX_SUGGEST:
        raise Invalid([FieldError("suggest", f"suggest between 0 and {MAX_SUGGEST} sites")])
    layers = store.demand_layers()
    source, points, fictitious = choose_demand(store, query, demand, layers, today)
    picks: list[Candidate] | None = None
    if candidates != GRID:
        layer = _layer(layers, candidates, "candidates", "candidates")
        picks = [
            Candidate(p.lat, p.lon, p.label) for p in store.demand_points(layer.name, query.region)
        ]
    coverage = compute(store, query, points)
    suggestions = planning.suggest(coverage, suggest, picks) if suggest and points else []
    return Report(coverage, suggestions, source, fictitious, candidates, target, layers)


@dataclass(frozen=True)
class Options:
    """What a face asks for besides the query itself."""

    demand: str | None = None  # None: chosen (choose_demand)
    candidates: str = GRID
    suggest: int = 0


def _number(values, key: str, errors: list[FieldError]) -> float | None:
    raw = values.get(key)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        number = float(str(raw).strip())
    except ValueError:
        errors.append(FieldError(key, f"{key} must be a number, not {str(raw)[:20]!r}"))
        return None
    if number != number or number in (float("inf"), float("-inf")):
        errors.append(FieldError(key, f"{key} must be a finite number"))
        return None
    return number


def _flag(values, key: str) -> bool:
    return str(values.get(key, "")).strip().lower() in ("1", "true", "on", "yes")


def parse(values, *, default_region: str = "") -> tuple[CoverageQuery, Options]:
    """The query and options from text values (a form, a query string, CLI options): one
    reading for every face. Invalid names each bad field."""
    from stations.core.coverage import make_query

    errors: list[FieldError] = []
    radius = _number(values, "radius_m", errors)
    spacing = _number(values, "spacing_m", errors)
    suggest_raw = _number(values, "suggest", errors)
    suggest = 0
    if suggest_raw is not None:
        if suggest_raw != int(suggest_raw) or not 0 <= suggest_raw <= MAX_SUGGEST:
            errors.append(FieldError("suggest", f"suggest between 0 and {MAX_SUGGEST} sites"))
        else:
            suggest = int(suggest_raw)
    facilities = values.get("facilities") or ()
    if isinstance(facilities, str):
        facilities = [f.strip() for f in facilities.split(",") if f.strip()]
    region = str(values.get("region") or default_region).strip()
    preset = str(values.get("preset") or "").strip() or None
    query = None
    try:
        query = make_query(
            region,
            radius,
            preset=preset,
            only_24h=_flag(values, "only_24h"),
            facilities=tuple(facilities),
            spacing_m=spacing,
        )
    except Invalid as exc:
        errors.extend(exc.errors)
    if errors or query is None:
        raise Invalid(errors)
    demand = str(values.get("demand") or "").strip() or None
    candidates = str(values.get("candidates") or "").strip() or GRID
    return query, Options(demand, candidates, suggest)


@dataclass(frozen=True)
class RegionChoice:
    adcode: str
    label: str
    districts: tuple[tuple[str, str], ...]  # (adcode, name) of its districts


def region_choices(scope: str, busiest: list[tuple[str, str]]) -> list[RegionChoice]:
    """Cities (with their districts) a staff member of `scope` may analyse. A national or
    provincial scope offers its cities with stations, busiest first (busiest: (province, city)
    names from the registry summary), then the rest of a province's cities."""
    if len(scope) == 6:
        found = regions.districts_of(scope)
        return [RegionChoice(scope, found[0].label(), ((scope, found[0].district),))]
    cities: dict[str, list[regions.Region]] = {}
    for r in regions.districts_of(scope):
        cities.setdefault(r.adcode[:4], []).append(r)
    by_name = {(rs[0].province, rs[0].city): code for code, rs in cities.items()}
    order = [by_name[p] for p in busiest if p in by_name]
    if scope:  # a province or city: every city in it, busiest first
        order += [c for c in sorted(cities) if c not in order]
    return [
        RegionChoice(
            code,
            cities[code][0].city
            if cities[code][0].city != cities[code][0].province
            else cities[code][0].province,
            tuple((r.adcode, r.district) for r in cities[code]),
        )
        for code in order
    ]
