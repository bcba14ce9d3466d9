"""Station standard profiles (六有 A/B, 八有, 四有, 七个一, 8个1) as data from seeds/standards.json."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from stations.core.vocab import FACILITIES

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@dataclass(frozen=True)
class Item:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    from_registry: bool = False  # satisfied by being published with verified coordinates
    facility: str | None = None  # the station facility this equipment item corresponds to
    expires: bool = False  # has a use-by date (medicines)


@dataclass(frozen=True)
class Profile:
    key: str
    zh: str
    en: str
    kind: str  # "management" or "equipment"
    pass_rule: str
    items: tuple[Item, ...]
    sources: tuple[str, ...] = ()


def parse_profiles(doc: dict) -> dict[str, Profile]:
    """Profiles from the seed document, checked: unique keys, both languages, known facilities."""
    profiles = {}
    for p in doc["profiles"]:
        if p["key"] in profiles:
            raise ValueError(f"profile {p['key']} is defined twice")
        items = []
        for raw in p["items"]:
            item = Item(
                raw["key"],
                raw["zh"],
                raw["en"],
                tuple(raw.get("aliases", ())),
                raw.get("from_registry", False),
                raw.get("facility"),
                raw.get("expires", False),
            )
            if not (item.zh and item.en):
                raise ValueError(f"{p['key']}.{item.key} needs both zh and en labels")
            if item.facility and item.facility not in FACILITIES.keys():
                raise ValueError(f"{p['key']}.{item.key}: unknown facility {item.facility}")
            items.append(item)
        if len({i.key for i in items}) != len(items):
            raise ValueError(f"profile {p['key']} repeats an item key")
        if p["pass_rule"] != "all":
            raise ValueError(f"profile {p['key']}: unknown pass rule {p['pass_rule']!r}")
        profiles[p["key"]] = Profile(
            p["key"],
            p["zh"],
            p["en"],
            p["kind"],
            p["pass_rule"],
            tuple(items),
            tuple(p.get("sources", ())),
        )
    return profiles


@cache
def profiles(path: Path = SEEDS / "standards.json") -> dict[str, Profile]:
    return parse_profiles(json.loads(path.read_text(encoding="utf-8")))
