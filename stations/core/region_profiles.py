"""A region's default audit profile: which standard (六有 A, 八有 …) its audits start from
(pure). A district takes the profile of the longest region prefix given one; '' (the whole
country) always has one. Setting it is an admin's job, inside their own region.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stations.core import regions, standards
from stations.core.accounts import AccessDenied, User, check_region, require_admin

if TYPE_CHECKING:
    from stations.store.protocols import AuditStore, StationStore


class UnknownProfile(ValueError):
    pass


@dataclass(frozen=True)
class RegionDefault:
    region: str  # adcode prefix; '' the whole country
    name: str  # '青海省', '西宁市'; '' for the whole country
    profile: str  # the profile its audits start from
    own: bool  # set for this region itself, not inherited from a wider one


def check_profile(profile: str) -> str:
    known = standards.profiles()
    if profile not in known:
        raise UnknownProfile(f"profile must be one of {', '.join(known)}, not {profile!r}")
    return profile


def set_default(
    store: "AuditStore", region: str, profile: str, by: User | None = None
) -> RegionDefault:
    """Give a region (adcode prefix, '' for the country) its default profile. `by` is the
    admin doing it on a page (None: the command line). ValueError for a region that does
    not exist, UnknownProfile, AccessDenied outside the admin's region."""
    region, profile = check_region(region), check_profile(profile)
    if by is not None:
        require_admin(by)
        if not region.startswith(by.region):
            raise AccessDenied(
                f"region {region or 'all'} is outside {by.name}'s region ({by.region or 'all'})"
            )
    store.set_region_profile(region, profile)
    return default_of(store, region)


def default_of(
    store: "AuditStore", region: str, own: dict[str, str] | None = None
) -> RegionDefault:
    own = store.region_profiles() if own is None else own
    name = regions.prefix_name(region) if region else ""
    return RegionDefault(region, name, store.region_profile(region), region in own)


def defaults_in_scope(
    store: "StationStore", audit_store: "AuditStore", scope: str
) -> list[RegionDefault]:
    """The regions an admin of `scope` sets defaults for: their own region, every province
    and city within it that has published stations, and every region within it given a
    profile of its own, in adcode order."""
    wanted = {scope}
    for city in store.city_extents(scope):
        for prefix in (city["adcode"][:2], city["adcode"][:4]):
            if prefix.startswith(scope):
                wanted.add(prefix)
    own = audit_store.region_profiles()
    wanted |= {r for r in own if r.startswith(scope)}
    return [default_of(audit_store, r, own) for r in sorted(wanted)]
