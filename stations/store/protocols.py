"""What a store offers, by concern: the only contract between the store and its callers.

Callers (core, faces, the command line) type their store with the narrowest protocol they use;
`Store` is every concern at once, which `open_store` returns. Values crossing this boundary are
plain Python: str, int, float, bool, tuples, lists, dicts of plain values, and the frozen
dataclasses of `stations.core` (Station, User, Audit, Report, BBox …). Never JSON text, never a
row object, never a face's object: a PostgreSQL/PostGIS store implements these same protocols.

Times are ISO 8601 text in China time (+08:00), dates ISO text; a region is an adcode prefix
('' = the whole country).

Adding a method: declare it in the protocol of its concern, implement it in the SQLite store
(`make typecheck` fails until SQLiteStore matches, see `_satisfies_store`), and pin what it does
in tests/test_store_contract.py (a test there fails for a protocol method it never calls).
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, Self

from stations.core.accounts import ApiKey, StaffSession, User
from stations.core.audits import Audit, AuditItem
from stations.core.checkins import Report, ReportCount
from stations.core.counts import CityExtent, RegionSummary, RegistrySummary
from stations.core.demand import DemandLayer, DemandPoint, SearchCell
from stations.core.editing import Change
from stations.core.geo import BBox
from stations.core.import_jobs import ImportJob
from stations.core.locator import Cluster, Hit
from stations.core.model import Station


class Transactional(Protocol):
    def transaction(self) -> AbstractContextManager[object]:
        """One write transaction, taken at once: everything inside commits together or not at
        all, and a second writer waits (then StoreBusy). Not re-entrant: inside it, call only
        reads and the writes documented as running in the caller's transaction."""
        ...


class StationStore(Transactional, Protocol):
    """The station records, their history, and the queries pages and exports make of them."""

    def count(self) -> int: ...
    def demo_count(self) -> int:
        """How many fictitious demo stations (codes DEMO-…) are loaded."""
        ...

    def revision(self) -> int:
        """A number that moves whenever a station's position, status, hours, facilities or
        adcode changes (what spatial indexes follow); check-ins leave it alone."""
        ...

    def get(self, station_id: int) -> Station | None: ...
    def get_by_code(self, code: str) -> Station | None: ...
    def by_ids(self, ids: Iterable[int]) -> dict[int, Station]: ...
    def by_codes(self, codes: Iterable[str]) -> dict[str, Station]: ...
    def iter_stations(self) -> Iterator[Station]:
        """Every station, by code (planned and closed ones included)."""
        ...

    # What the public sees: published stations only (core.published), one SQL condition.
    def published(self, station_id: int) -> Station | None: ...
    def published_by_code(self, code: str) -> Station | None: ...
    def published_by_ids(self, ids: Iterable[int]) -> dict[int, Station]:
        """The published ones among these stations, by id (others are simply absent)."""
        ...

    def published_list(self, offset: int, limit: int, region: str = "") -> list[Station]:
        """A page of the public list (in a region: an adcode prefix), by province, city,
        district and code."""
        ...

    def city_extents(self, region: str = "") -> list[CityExtent]:
        """Each city with published stations (in a region: an adcode prefix): count, mean
        position and bounding box, by adcode."""
        ...

    def search_published(self, text: str, limit: int, region: str = "") -> list[Station]:
        """Published stations whose name, address, city or district contains text (case
        ignored, no wildcards), names starting with it first, then by code."""
        ...

    def iter_published(self, region: str = "") -> Iterator[Station]:
        """Every published station (in a region: an adcode prefix), by code."""
        ...

    def published_summary(self) -> RegistrySummary:
        """summary() of the published stations."""
        ...

    def published_extent(self, prefix: str) -> tuple[float, float, float, float, int] | None:
        """(south, west, north, east, count) of the published stations whose adcode starts
        with prefix (WGS-84 degrees); None when the region has none."""
        ...

    def page(self, offset: int, limit: int) -> list[Station]:
        """Stations by province, city, district and code."""
        ...

    def public_page(
        self,
        *,
        box: BBox | None = None,
        region: str = "",
        statuses: Sequence[str] = (),
        facilities: Sequence[str] = (),
        updated_since: str | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[Station]:
        """Published stations (never planned ones) matching every filter, by id after a
        cursor: each of `facilities` must be offered."""
        ...

    def stations_in_region(
        self, region: str, limit: int = 500, offset: int = 0, q: str = ""
    ) -> list[Station]:
        """Staff's list: every station of a region, optionally matching q in name or code."""
        ...

    def stations_page(
        self,
        region: str,
        *,
        q: str = "",
        status: str = "",
        adcode: str = "",
        sort: str = "name",
        descending: bool = False,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[Station], int]:
        """Staff's paged list: stations of a region (any status), q anywhere in name, code,
        address, city or district (literally: % and _ are no wildcards), only one status and
        one district (adcode) when given, sorted by one of staff_tables.STATION_SORTS (ties by
        code); (the page's stations, how many match in all). ValueError for an unknown sort."""
        ...

    def region_districts(self, region: str) -> list[tuple[str, str, str]]:
        """(adcode, city, district) of every district with a station in region, by adcode."""
        ...

    def in_box(self, box: BBox) -> list[Station]:
        """Every station inside a box, whatever its status (duplicate checks, staff)."""
        ...

    def centre(self) -> tuple[float, float] | None:
        """(lat, lon) of the city with the most stations; None for an empty registry."""
        ...

    def summary(self) -> RegistrySummary: ...
    def region_summary(self, region: str) -> RegionSummary: ...

    # -- writes --
    def save_many(
        self,
        new: list[Station],
        changed: list[Station],
        now: str,
        progress: Callable[[int], None] | None = None,
        actor: User | None = None,
        previous: Mapping[int, Station] | None = None,
    ) -> None:
        """Insert new stations and update changed ones (by id, each guarded by its version:
        VersionConflict), with their history, in one transaction. previous: the stored
        versions of the changed stations, for the history."""
        ...

    def insert_station(self, station: Station, now: str) -> int:
        """Insert one station (inside the caller's transaction); its new id."""
        ...

    def update_station(self, station: Station, expected_version: int, now: str) -> bool:
        """Overwrite the station with station.id if still at expected_version (the version
        then moves on by one); False when someone saved it since."""
        ...

    # -- history --
    def add_change(
        self,
        station_id: int,
        user: User | None,
        at: str,
        action: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        """Append to a station's history (user None: the command line); never edited."""
        ...

    def history(self, station_id: int) -> list[Change]:
        """A station's changes, newest first."""
        ...

    def last_change(self, station_id: int) -> Change | None: ...

    def set_verified(self, station_id: int, at: str) -> bool:
        """Move a station's verified_at (its "last verified") forward to at, never back,
        without moving its version; whether it moved."""
        ...


class SpatialStore(Protocol):
    """Where-questions, answered with the store's own spatial index: riders only ever see
    published stations (open or temporarily closed) here."""

    def nearest(
        self,
        lat: float,
        lon: float,
        k: int = 5,
        *,
        radius_m: float | None = None,
        facilities: Sequence[str] = (),
        open_now: bool = False,
        at: datetime | None = None,
        region: str = "",
    ) -> list[Hit]:
        """The k nearest visible stations passing the filters, by geodesic distance; with
        radius_m only those inside it, or if none is, the nearest anyway (beyond_radius)."""
        ...

    def visible_in_box(
        self,
        box: BBox,
        *,
        facilities: Sequence[str] = (),
        open_now: bool = False,
        at: datetime | None = None,
        region: str = "",
    ) -> list[int]:
        """Ids of the visible stations in a box that pass the filters (the map's markers)."""
        ...

    def clusters(
        self,
        box: BBox,
        *,
        facilities: Sequence[str] = (),
        open_now: bool = False,
        at: datetime | None = None,
        region: str = "",
        cells: int = 12,
    ) -> list[Cluster]:
        """The same stations grouped on a grid of about cells x cells over the box."""
        ...

    def spatial_ready(self) -> bool:
        """Whether the where-questions are answered from a warm index (a store with an
        in-process index starts building it if it is not; one whose database answers them
        itself is always ready)."""
        ...

    def count_in_box(self, box: BBox) -> int:
        """How many stations (of any status) lie in a box."""
        ...


class CheckinStore(Transactional, Protocol):
    """Workers' one-tap check-ins. client_hash and address_hash are keyed hashes made in the
    core (stations/core/checkins.py); the store never sees a device id or an address."""

    def insert_checkin(
        self,
        station_id: int,
        kind: str,
        facility: str | None,
        client_hash: str,
        now: str,
        verified: bool,
        *,
        address_hash: str = "",
        submission: str | None = None,
        pending: bool = False,
    ) -> int | None:
        """add_checkin inside the caller's transaction."""
        ...

    def add_checkin(
        self,
        station_id: int,
        kind: str,
        facility: str | None,
        client_hash: str,
        now: str,
        verified: bool,
        *,
        address_hash: str = "",
        submission: str | None = None,
        pending: bool = False,
    ) -> int | None:
        """Record a check-in; a positive one (verified) also stamps the station's
        verified_at without moving its version. A pending problem report waits for
        corroboration: open_reports leaves it out until corroborate_reports. The id, or None
        (and nothing written) when this client already sent this submission."""
        ...

    def submitted(self, client_hash: str, submission: str) -> bool:
        """Whether this client's check-in with this submission token is stored."""
        ...

    def checkins_since(self, client_hash: str, since: str, station_id: int | None = None) -> int:
        """How many check-ins a client made since a moment (at one station, or anywhere)."""
        ...

    def address_checkins_since(self, address_hash: str, since: str) -> int:
        """How many check-ins came from one address since a moment, whichever client."""
        ...

    def reports_by_others(
        self, station_id: int, kind: str, facility: str | None, client_hash: str, since: str
    ) -> list[tuple[int, bool]]:
        """(id, pending) of the unresolved problem reports of this kind and facility at a
        station since a moment, made by clients other than this one, oldest first."""
        ...

    def corroborate_reports(self, report_ids: Iterable[int]) -> None:
        """Pending reports confirmed by another client: they warn workers from now on (the
        caller holds the transaction, as for insert_checkin)."""
        ...

    def open_reports(self, station_ids: Iterable[int], since: str) -> dict[int, list[ReportCount]]:
        """Unresolved problem reports per station since a moment, grouped by kind and
        facility, newest first; pending ones (awaiting corroboration) left out."""
        ...


class AccountStore(Transactional, Protocol):
    """Staff users, their sessions and API tokens, and failed sign-ins."""

    def create_user(
        self, name: str, password_hash: str, role: str, region: str, now: str
    ) -> int: ...
    def insert_user(self, name: str, password_hash: str, role: str, region: str, now: str) -> int:
        """create_user inside the caller's transaction."""
        ...

    def user(self, user_id: int) -> User | None: ...
    def users(self) -> list[User]: ...
    def user_login(self, name: str) -> tuple[User, str] | None:
        """The user and their password hash, to check a sign-in."""
        ...

    def disable_user(self, name: str, now: str) -> bool:
        """Disable an active user and end every session and token of theirs at once."""
        ...

    def set_password_hash(self, user_id: int, password_hash: str, now: str) -> int:
        """Replace a user's password hash and end every session of theirs at once; how many
        sessions were ended (API tokens stay)."""
        ...

    def last_sign_ins(self) -> dict[int, str]:
        """Each user's newest sign-in (their newest session's start), by user id."""
        ...

    def create_session(self, session_id: str, user_id: int, now: str) -> None: ...
    def session(self, session_id: str) -> StaffSession | None: ...
    def touch_session(self, session_id: str, now: str) -> None: ...
    def end_session(self, session_id: str, now: str) -> None: ...
    def add_token(self, user_id: int, token_hash: str, now: str) -> None: ...
    def token_user(self, token_hash: str) -> User | None:
        """The active user of an unrevoked token."""
        ...

    def revoke_tokens(self, user_id: int, now: str) -> int:
        """Revoke a user's tokens; how many were active."""
        ...

    def login_failures(self, key: str, since: str) -> int: ...
    def add_login_failure(self, keys: list[str], now: str) -> None: ...
    def last_login_failure(self, key: str, since: str) -> str | None: ...


class AuditStore(Transactional, Protocol):
    """Audits against standard profiles, problem reports and how they were handled."""

    def region_profile(self, adcode: str) -> str:
        """The standard profile a district audits against (the longest matching region)."""
        ...

    def set_region_profile(self, region: str, profile: str) -> None: ...
    def region_profiles(self) -> dict[str, str]:
        """The regions given a default profile of their own: {adcode prefix: profile}, by
        prefix ('' is the whole country)."""
        ...

    def add_audit(self, audit: Audit, items: Sequence[AuditItem]) -> int:
        """Store an audit and its items (inside the caller's transaction); the audit's new
        id. audit.id and audit.auditor are ignored."""
        ...

    def audit_rows(self, region: str) -> list[dict[str, Any]]:
        """Every audit item of a region's stations with its audit, auditor and station: the
        columns of the staff audit export, one row per item."""
        ...

    def audits_for(self, station_id: int) -> list[Audit]:
        """A station's audits, latest visit first."""
        ...

    def latest_audits(self, station_ids: Iterable[int]) -> dict[int, Audit]: ...
    def audit_items(self, audit_id: int) -> list[AuditItem]: ...
    def expired_items(self, station_ids: Iterable[int], today: str) -> dict[int, list[AuditItem]]:
        """Items of each station's latest audit whose use-by date is before today."""
        ...

    def photo_owner(self, photo: str) -> int | None:
        """The station whose audit evidence a photo is."""
        ...

    def reports(self, region: str, statuses: Sequence[str]) -> list[Report]:
        """Problem reports of a region in these statuses, oldest first."""
        ...

    def report(self, report_id: int) -> Report | None: ...
    def set_report_status(
        self, report_id: int, status: str, user_id: int, now: str, note: str = ""
    ) -> None: ...
    def resolve_times(self, station_id: int) -> list[tuple[str, str]]:
        """(reported, resolved) moments of a station's resolved problem reports."""
        ...

    def find_reports(
        self,
        region: str,
        *,
        statuses: Sequence[str],
        kinds: Sequence[str] = (),
        adcode: str = "",
        q: str = "",
        stale_before: str | None = None,
        order: str = "newest",
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[Report], int]:
        """A page of a region's problem reports in these statuses (and kinds, and district
        adcode, when given) whose station's name or code contains q; with stale_before only
        open ones not moved on since then (overdue). Ordered by records.REPORT_ORDERS[order]
        ('newest', 'oldest', 'overdue': longest-waiting open ones first). (page, how many in
        all)."""
        ...

    def report_districts(self, region: str) -> list[tuple[str, str]]:
        """(adcode, district name) of the region's districts with any problem report."""
        ...

    def station_reports(self, station_id: int) -> list[Report]:
        """Every problem report of a station, whatever its state, newest first."""
        ...


class PartnerStore(Protocol):
    """Partners' API keys (stored hashed)."""

    def add_api_key(self, partner: str, key_hash: str, region: str, now: str) -> None: ...
    def api_key(self, key_hash: str) -> ApiKey | None:
        """The unrevoked key with this hash."""
        ...

    def api_keys(self) -> list[ApiKey]: ...
    def revoke_api_keys(self, partner: str, now: str) -> int:
        """Revoke a partner's keys; how many were active."""
        ...


class PlanningStore(Transactional, Protocol):
    """What coverage planning keeps: the search log's grid cells (counts per ~500 m cell and
    day, never a point, an address or a client) and imported demand layers."""

    def record_searches(self, counts: Mapping[tuple[str, int, int], tuple[int, int]]) -> None:
        """Add (searches, unmet) to each (day, row, col) cell (core.demand's grid), in one
        transaction; days older than core.demand.KEEP_DAYS before the newest are dropped."""
        ...

    def search_cells(self, box: BBox, since_day: str, min_searches: int) -> list[SearchCell]:
        """Cells whose centre lies in the box, summed over the days since since_day (included),
        those with at least min_searches only; by row and column."""
        ...

    def replace_demand_layer(
        self,
        name: str,
        kind: str,
        points: Sequence[DemandPoint],
        now: str,
        fictitious: bool,
    ) -> int:
        """Store a layer's points in place of whatever the layer held, in one transaction (a
        failure keeps the old layer whole); how many points it now holds."""
        ...

    def demand_layers(self) -> list[DemandLayer]:
        """Every layer, by name."""
        ...

    def demand_points(self, name: str, region: str = "") -> list[DemandPoint]:
        """A layer's points (in a region: an adcode prefix), in the order they were imported;
        none for an unknown layer."""
        ...

    def delete_demand_layer(self, name: str) -> bool:
        """Delete a layer and its points; False when there was no such layer."""
        ...


class ImportJobStore(Protocol):
    """Staff imports running as jobs (core/import_jobs.py): each statement commits on its own,
    so a poll from any app server process sees the job's phase and progress at once."""

    def add_import_job(
        self, owner_id: int, region: str, file_name: str, apply: bool, now: str
    ) -> int:
        """A new job in phase 'reading', its heartbeat now; its id."""
        ...

    def update_import_job(
        self,
        job_id: int,
        now: str,
        *,
        phase: str | None = None,
        done: int | None = None,
        total: int | None = None,
        message: str | None = None,
        result: str | None = None,
    ) -> None:
        """Set the heartbeat to now and the fields given (None leaves one as it is)."""
        ...

    def import_job(self, job_id: int) -> ImportJob | None:
        """A job by id (None for an unknown id), its state as last written."""
        ...


class Store(
    StationStore,
    SpatialStore,
    CheckinStore,
    AccountStore,
    AuditStore,
    PartnerStore,
    PlanningStore,
    ImportJobStore,
    Protocol,
):
    """Every concern, and the store's own lifecycle."""

    def migrate(self, *, create: bool = True) -> None:
        """Create the schema, or bring it up to date; create=False refuses (StoreMissing) to
        create a database that is not there (PostgreSQL databases are made by their server)."""
        ...

    def close(self) -> None: ...
    def reset(self) -> None:
        """Roll back a transaction a failed caller left open, so the connection can be reused
        by the next request."""
        ...

    def ping(self) -> int:
        """One cheap read proving the database answers (its revision), or StoreError."""
        ...

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
