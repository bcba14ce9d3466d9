"""Station <-> a stations row for the PostGIS store: facilities are a text[] column."""

from dataclasses import fields
from typing import Any

from stations.core.model import Station
from stations.core.text import match_key

COLUMNS = [f.name for f in fields(Station)]
INSERT_COLUMNS = [c for c in COLUMNS if c != "id"] + ["name_key"]
SELECT = ", ".join(COLUMNS)  # never `*`: the generated geog column stays in the database


def select(alias: str) -> str:
    """The Station columns of a stations table with this alias."""
    return ", ".join(f"{alias}.{c}" for c in COLUMNS)


def station_row(station: Station) -> dict[str, Any]:
    row = station.as_dict()
    row["facilities"] = list(station.facilities)
    row["name_key"] = match_key(station.name)
    return row


def row_station(row: dict[str, Any]) -> Station:
    data = {k: row[k] for k in COLUMNS}
    data["facilities"] = tuple(row["facilities"])
    return Station(**data)
