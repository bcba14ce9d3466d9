"""One row format for every write path of the SQLite store: Station <-> a stations row."""

import json
from dataclasses import fields

from stations.core.model import Station
from stations.core.text import match_key

COLUMNS = [f.name for f in fields(Station)]
INSERT_COLUMNS = [c for c in COLUMNS if c != "id"] + ["name_key"]


def station_row(station: Station) -> dict:
    row = station.as_dict()
    row["facilities"] = json.dumps(list(station.facilities))
    row["name_key"] = match_key(station.name)
    return row


def row_station(row: dict) -> Station:
    data = {k: row[k] for k in COLUMNS}
    data["facilities"] = tuple(json.loads(row["facilities"]))
    return Station(**data)
