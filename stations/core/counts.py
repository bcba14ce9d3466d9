"""Counts over the registry that pages, the API and the command line show (plain dicts)."""

from typing import TypedDict


class CityCount(TypedDict):
    province: str
    city: str
    stations: int
    open: int


class RegistrySummary(TypedDict):
    """The whole registry: for `stats` and the station list."""

    total: int
    by_status: dict[str, int]
    by_city: list[CityCount]  # busiest city first
    updated_at: str | None  # the newest change


class RegionSummary(TypedDict):
    """Published stations of a region (an adcode prefix): for partners' summaries."""

    by_status: dict[str, int]
    facilities: dict[str, int]  # open stations offering each facility
    updated_at: str | None
    verified: int  # stations ever verified on site


class CityStations(TypedDict):
    """Published stations of one city (a 4-digit adcode prefix): the public list's filter."""

    adcode: str  # 4 digits, e.g. "3401" for Hefei
    province: str
    city: str
    stations: int
