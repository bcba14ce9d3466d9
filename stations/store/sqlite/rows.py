"""One row format for every write path of the SQLite store: Station <-> a stations row.

JSON columns are decoded here, so nothing outside the store ever sees JSON text.
"""

import json
from dataclasses import fields
from typing import Any

from stations.core.model import Station
from stations.core.text import match_key

COLUMNS = [f.name for f in fields(Station)]
INSERT_COLUMNS = [c for c in COLUMNS if c != "id"] + ["name_key"]


def facilities_from(text: str) -> tuple[str, ...]:
    """The facilities column (a JSON array of vocabulary keys) as a tuple of keys."""
    return tuple(json.loads(text))


def station_row(station: Station) -> dict[str, Any]:
    row = station.as_dict()
    row["facilities"] = json.dumps(list(station.facilities))
    row["name_key"] = match_key(station.name)
    return row


def row_station(row: dict[str, Any]) -> Station:
    data = {k: row[k] for k in COLUMNS}
    data["facilities"] = facilities_from(row["facilities"])
    return Station(**data)
