"""Where to build next: the maximal covering location problem over uncovered demand (pure)."""

from collections.abc import Sequence
from dataclasses import dataclass

from stations.core.coverage import Coverage


@dataclass(frozen=True)
class Candidate:
    lat: float  # WGS-84
    lon: float
    label: str = ""


@dataclass(frozen=True)
class Suggestion:
    rank: int  # 1 = first to build
    lat: float
    lon: float
    adds: float  # demand weight it covers that nothing covered before (nor an earlier pick)
    adcode: str
    district: str
    label: str = ""  # the candidate's own name, when it came from a file


def grid_candidates(coverage: Coverage, spacing_m: float | None = None) -> list[Candidate]:
    """Grid points inside the region within reach of uncovered demand."""
    raise NotImplementedError


def suggest(
    coverage: Coverage, n: int, candidates: Sequence[Candidate] | None = None
) -> list[Suggestion]:
    """The n sites (from candidates, default the grid) that cover the most uncovered demand
    within the query's radius, existing stations kept."""
    raise NotImplementedError
