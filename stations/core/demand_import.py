"""Importing a layer of demand points or candidate sites: the one path for the staff page and
the command line — name checked, an existing layer replaced only when asked, a staff member's
points kept to their region, the file read whole (all rows or none)."""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stations.core import demand, demand_files
from stations.core.demand_files import DemandRejected

if TYPE_CHECKING:
    from stations.store.protocols import PlanningStore


class LayerExists(ValueError):
    """The layer exists and replacing it was not asked for."""

    def __init__(self, name: str, points: int):
        self.name, self.points = name, points
        super().__init__(f"layer {name} exists ({points} points)")


class LayerRefused(ValueError):
    """The layer may not be written by this person (another kind, another region)."""


@dataclass(frozen=True)
class Imported:
    name: str
    kind: str
    points: int
    total_weight: float
    replaced: bool


def import_layer(
    store: "PlanningStore",
    path: str | Path,
    name: str,
    kind: str,
    crs: str | None,
    *,
    replace: bool,
    now: str,
    scope: str = "",
) -> Imported:
    """Read a demand file and store it as layer `name`, whole. scope: the importer's region
    (an adcode prefix; '' the whole country): every point, and every point of a layer it
    replaces, must lie in it. ValueError (LayerExists, LayerRefused, DemandRejected) otherwise;
    then nothing was stored."""
    name = demand.check_layer(name, kind)
    existing = {layer.name: layer for layer in store.demand_layers()}
    old = existing.get(name)
    if old is not None:
        if not replace:
            raise LayerExists(name, old.points)
        if old.kind != kind:
            raise LayerRefused(f"layer {name} holds {old.kind}, not {kind}; choose another name")
        if scope and any(not p.adcode.startswith(scope) for p in store.demand_points(name)):
            raise LayerRefused(f"layer {name} has points outside your region ({scope})")
    points = demand_files.read_demand(path, crs, kind=kind)
    if scope:
        outside = [
            f"point {i} ({p.lat:.5f}, {p.lon:.5f}): in {p.adcode}, outside your region ({scope})"
            for i, p in enumerate(points, 1)
            if not p.adcode.startswith(scope)
        ]
        if outside:
            raise DemandRejected(outside, len(outside))
    count = store.replace_demand_layer(name, kind, points, now, fictitious=False)
    return Imported(name, kind, count, demand.total_weight(points), old is not None)


def delete_layer(store: "PlanningStore", name: str, *, scope: str = "") -> None:
    """Delete a layer (LayerRefused when it has points outside the scope, or does not exist)."""
    if name not in {layer.name for layer in store.demand_layers()}:
        raise LayerRefused(f"no layer {name}")
    if scope and any(not p.adcode.startswith(scope) for p in store.demand_points(name)):
        raise LayerRefused(f"layer {name} has points outside your region ({scope})")
    store.delete_demand_layer(name)
