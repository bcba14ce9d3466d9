"""SQL for staff: users, sessions, tokens, login attempts, history, audits, reports.

A mixin of PostGISStore (it relies on what `Connected` declares), answering exactly as the
SQLite store's staff queries do: same values, same types, same order.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from stations.core.accounts import ApiKey, StaffSession, User
from stations.core.audits import Audit, AuditItem
from stations.core.checkins import Report
from stations.core.editing import Change
from stations.core.model import Station
from stations.store import listing, records
from stations.store.postgis.base import Connected
from stations.store.postgis.published import CHUNK, valid_id
from stations.store.postgis.rows import INSERT_COLUMNS, SELECT, station_row

_REPORTS = """
    select c.id, c.station_id, c.kind, c.facility, c.created_at, c.status, c.status_at,
           c.handled_by, c.resolution, s.code as station_code, s.name as station_name,
           s.adcode, s.district, coalesce(u.name, '') as handler
    from checkins c join stations s on s.id = c.station_id
    left join users u on u.id = c.handled_by
"""
_AUDITS = """
    select a.id, a.station_id, a.user_id, a.profile, a.visited_on, a.visit_kind, a.score,
           a.passed, a.created_at, u.name as auditor
    from audits a join users u on u.id = a.user_id
"""
_ITEMS = "i.item, i.result, i.note, i.photo, i.valid_until"


class StaffQueries(Connected):
    # -- users --------------------------------------------------------------------------------

    def insert_user(self, name: str, password_hash: str, role: str, region: str, now: str) -> int:
        return self._value(
            "insert into users (name, password_hash, role, region, created_at)"
            " values (%s, %s, %s, %s, %s) returning id",
            [name, password_hash, role, region, now],
        )

    def user_login(self, name: str) -> tuple[User, str] | None:
        rows = list(self._rows("select * from users where name = %s", [name]))
        return (records.user(rows[0]), rows[0]["password_hash"]) if rows else None

    def user(self, user_id: int) -> User | None:
        if not valid_id(user_id):
            return None
        rows = list(self._rows("select * from users where id = %s", [user_id]))
        return records.user(rows[0]) if rows else None

    def users(self) -> list[User]:
        return [records.user(r) for r in self._rows("select * from users order by region, name")]

    def disable_user(self, name: str, now: str) -> bool:
        with self.transaction():
            disabled = self._execute(
                "update users set disabled_at = %s where name = %s and disabled_at is null",
                [now, name],
            ).rowcount
            owner = "user_id = (select id from users where name = %s)"
            self._execute(
                f"update staff_sessions set ended_at = %s where ended_at is null and {owner}",
                [now, name],
            )
            self._execute(
                f"update api_tokens set revoked_at = %s where revoked_at is null and {owner}",
                [now, name],
            )
            return disabled == 1

    def set_password_hash(self, user_id: int, password_hash: str, now: str) -> int:
        with self.transaction():
            self._execute(
                "update users set password_hash = %s where id = %s", [password_hash, user_id]
            )
            return self._execute(
                "update staff_sessions set ended_at = %s where ended_at is null and user_id = %s",
                [now, user_id],
            ).rowcount

    def last_sign_ins(self) -> dict[int, str]:
        sql = "select user_id, max(created_at) as at from staff_sessions group by user_id order by user_id"
        return {row["user_id"]: row["at"] for row in self._rows(sql)}

    # -- sessions -----------------------------------------------------------------------------

    def create_session(self, session_id: str, user_id: int, now: str) -> None:
        with self.transaction():
            self._execute(
                "insert into staff_sessions (id, user_id, created_at, last_seen)"
                " values (%s, %s, %s, %s)",
                [session_id, user_id, now, now],
            )

    def session(self, session_id: str) -> StaffSession | None:
        sql = """
            select u.*, s.created_at as session_created, s.last_seen, s.ended_at
            from staff_sessions s join users u on u.id = s.user_id where s.id = %s
        """
        rows = list(self._rows(sql, [session_id]))
        if not rows:
            return None
        row = rows[0]
        return StaffSession(
            records.user(row), row["session_created"], row["last_seen"], row["ended_at"]
        )

    def touch_session(self, session_id: str, now: str) -> None:
        with self.transaction():
            self._execute(
                "update staff_sessions set last_seen = %s where id = %s", [now, session_id]
            )

    def end_session(self, session_id: str, now: str) -> None:
        with self.transaction():
            self._execute(
                "update staff_sessions set ended_at = %s where id = %s and ended_at is null",
                [now, session_id],
            )

    # -- tokens -------------------------------------------------------------------------------

    def add_token(self, user_id: int, token_hash: str, now: str) -> None:
        with self.transaction():
            self._execute(
                "insert into api_tokens (user_id, token_hash, created_at) values (%s, %s, %s)",
                [user_id, token_hash, now],
            )

    def token_user(self, token_hash: str) -> User | None:
        sql = """
            select u.* from api_tokens t join users u on u.id = t.user_id
            where t.token_hash = %s and t.revoked_at is null and u.disabled_at is null
        """
        rows = list(self._rows(sql, [token_hash]))
        return records.user(rows[0]) if rows else None

    def revoke_tokens(self, user_id: int, now: str) -> int:
        with self.transaction():
            return self._execute(
                "update api_tokens set revoked_at = %s where user_id = %s and revoked_at is null",
                [now, user_id],
            ).rowcount

    # -- partners' API keys -------------------------------------------------------------------

    def add_api_key(self, partner: str, key_hash: str, region: str, now: str) -> None:
        with self.transaction():
            self._execute(
                "insert into api_keys (partner, key_hash, region, created_at)"
                " values (%s, %s, %s, %s)",
                [partner, key_hash, region, now],
            )

    def api_key(self, key_hash: str) -> ApiKey | None:
        sql = "select * from api_keys where key_hash = %s and revoked_at is null"
        rows = list(self._rows(sql, [key_hash]))
        return records.api_key(rows[0]) if rows else None

    def api_keys(self) -> list[ApiKey]:
        return [
            records.api_key(r) for r in self._rows("select * from api_keys order by partner, id")
        ]

    def revoke_api_keys(self, partner: str, now: str) -> int:
        with self.transaction():
            sql = "update api_keys set revoked_at = %s where partner = %s and revoked_at is null"
            return self._execute(sql, [now, partner]).rowcount

    # -- login attempts -----------------------------------------------------------------------

    def login_failures(self, key: str, since: str) -> int:
        sql = "select count(*) from login_attempts where key = %s and at >= %s"
        return self._value(sql, [key, since])

    def add_login_failure(self, keys: list[str], now: str) -> None:
        with self.transaction():
            self._execute(
                "insert into login_attempts (key, at) select unnest(%s::text[]), %s", [keys, now]
            )

    def last_login_failure(self, key: str, since: str) -> str | None:
        sql = "select max(at) from login_attempts where key = %s and at >= %s"
        return self._value(sql, [key, since])

    # -- station edits and their history ------------------------------------------------------

    def insert_station(self, station: Station, now: str) -> int:
        row = station_row(station)
        row.update(created_at=now, updated_at=now, version=1)
        sql = (
            f"insert into stations ({', '.join(INSERT_COLUMNS)})"
            f" values ({', '.join(['%s'] * len(INSERT_COLUMNS))}) returning id"
        )
        return self._value(sql, [row[c] for c in INSERT_COLUMNS])

    def update_station(self, station: Station, expected_version: int, now: str) -> bool:
        row = station_row(station)
        station_id = row.pop("id")
        for key in ("created_at", "version"):
            row.pop(key)
        row["updated_at"] = now
        sets = ", ".join(f"{k} = %({k})s" for k in row)
        cursor = self._execute(
            f"update stations set {sets}, version = version + 1"
            " where id = %(id)s and version = %(expected)s",
            {**row, "id": station_id, "expected": expected_version},
        )
        return cursor.rowcount == 1

    def add_change(
        self,
        station_id: int,
        user: User | None,
        at: str,
        action: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        self._execute(
            "insert into station_changes (station_id, user_id, actor, at, action, before, after)"
            " values (%s, %s, %s, %s, %s, %s::json, %s::json)",
            records.change_values(station_id, user, at, action, before, after),
        )

    def history(self, station_id: int) -> list[Change]:
        sql = "select * from station_changes where station_id = %s order by id desc"
        return [records.change(r) for r in self._rows(sql, [station_id])]

    def last_change(self, station_id: int) -> Change | None:
        sql = "select * from station_changes where station_id = %s order by id desc limit 1"
        found = [records.change(r) for r in self._rows(sql, [station_id])]
        return found[0] if found else None

    def stations_in_region(
        self, region: str, limit: int = 500, offset: int = 0, q: str = ""
    ) -> list[Station]:
        # SQLite's LIKE: ASCII case-insensitive (ILIKE on "C" text), no escape character.
        sql = f"""
            select {SELECT} from stations
            where adcode like %s and (%s = '' or name ilike %s escape '' or code ilike %s escape '')
            order by city, district, code limit %s offset %s
        """
        like = f"%{q}%"
        return self._query(sql, [region + "%", q, like, like, limit, offset])

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
        listing.check_page(offset, limit)
        order = listing.order_by(sort, descending)
        # ILIKE on "C" text: ASCII case-insensitive, as SQLite's LIKE
        where, params = listing.page_where(q, status, adcode, region, "%s", "ilike")
        total = self._value(f"select count(*) from stations {where}", params)
        rows = self._query(
            f"select {SELECT} from stations {where} order by {order} limit %s offset %s",
            [*params, limit, offset],
        )
        return rows, int(total)

    def region_districts(self, region: str) -> list[tuple[str, str, str]]:
        sql = "select distinct adcode, city, district from stations where adcode like %s order by adcode"
        return [(r["adcode"], r["city"], r["district"]) for r in self._rows(sql, [region + "%"])]

    # -- audits -------------------------------------------------------------------------------

    def region_profile(self, adcode: str) -> str:
        sql = """
            select profile from region_profiles where %s like region || '%%'
            order by length(region) desc limit 1
        """
        found = self._value(sql, [adcode])
        return found if found is not None else "liuyou_a"

    def set_region_profile(self, region: str, profile: str) -> None:
        with self.transaction():
            self._execute(
                "insert into region_profiles (region, profile) values (%s, %s)"
                " on conflict (region) do update set profile = excluded.profile",
                [region, profile],
            )

    def region_profiles(self) -> dict[str, str]:
        sql = "select region, profile from region_profiles order by region"
        return {row["region"]: row["profile"] for row in self._rows(sql)}

    def add_audit(self, audit: Audit, items: Sequence[AuditItem]) -> int:
        audit_id = self._value(
            """insert into audits (station_id, user_id, profile, visited_on, visit_kind, score,
                                   passed, created_at)
               values (%s, %s, %s, %s, %s, %s, %s, %s) returning id""",
            [
                audit.station_id,
                audit.user_id,
                audit.profile,
                audit.visited_on,
                audit.visit_kind,
                audit.score,
                bool(audit.passed),
                audit.created_at,
            ],
        )
        if items:
            self._executemany(
                "insert into audit_items (audit_id, item, result, note, photo, valid_until)"
                " values (%s, %s, %s, %s, %s, %s)",
                [(audit_id, i.item, i.result, i.note, i.photo, i.valid_until) for i in items],
            )
        return audit_id

    def latest_audits(self, station_ids: Iterable[int]) -> dict[int, Audit]:
        ids = [int(i) for i in station_ids]
        out = {}
        for start in range(0, len(ids), CHUNK):
            sql = f"""
                {_AUDITS}
                where a.id in (select max(id) from audits where station_id = any(%s::bigint[])
                               group by station_id)
                order by a.id
            """
            for row in self._rows(sql, [ids[start : start + CHUNK]]):
                out[row["station_id"]] = records.audit(row)
        return out

    def audit_items(self, audit_id: int) -> list[AuditItem]:
        sql = f"select {_ITEMS} from audit_items i where i.audit_id = %s order by i.id"
        return [records.audit_item(r) for r in self._rows(sql, [audit_id])]

    def audits_for(self, station_id: int) -> list[Audit]:
        sql = f"{_AUDITS} where a.station_id = %s order by a.visited_on desc, a.id desc"
        return [records.audit(r) for r in self._rows(sql, [station_id])]

    def audit_rows(self, region: str) -> list[dict]:
        sql = """
            select s.code, s.name, s.district, a.profile, a.visited_on, a.visit_kind,
                   u.name as auditor, a.score, a.passed, i.item, i.result, i.note, i.valid_until
            from stations s
            join audits a on a.station_id = s.id
            join users u on u.id = a.user_id
            join audit_items i on i.audit_id = a.id
            where s.adcode like %s
            order by s.city, s.district, s.code, a.visited_on desc, a.id desc, i.id
        """
        return list(self._rows(sql, [region + "%"]))

    def expired_items(self, station_ids: Iterable[int], today: str) -> dict[int, list[AuditItem]]:
        ids = [int(i) for i in station_ids]
        out: dict[int, list[AuditItem]] = {}
        for start in range(0, len(ids), CHUNK):
            sql = f"""
                select a.station_id as of_station, {_ITEMS}
                from audit_items i join audits a on a.id = i.audit_id
                where a.id in (select max(id) from audits where station_id = any(%s::bigint[])
                               group by station_id)
                  and i.valid_until is not null and i.valid_until != '' and i.valid_until < %s
                order by i.id
            """
            for row in self._rows(sql, [ids[start : start + CHUNK], today]):
                out.setdefault(row.pop("of_station"), []).append(records.audit_item(row))
        return out

    def photo_owner(self, photo: str) -> int | None:
        sql = """
            select a.station_id from audit_items i join audits a on a.id = i.audit_id
            where i.photo = %s order by i.id limit 1
        """
        return self._value(sql, [photo])

    # -- problem reports ----------------------------------------------------------------------

    def reports(self, region: str, statuses: Sequence[str]) -> list[Report]:
        sql = f"""
            {_REPORTS}
            where s.adcode like %s and c.kind != 'ok' and c.status = any(%s::text[])
            order by c.created_at, c.id
        """
        return [Report(**r) for r in self._rows(sql, [region + "%", list(statuses)])]

    def report(self, report_id: int) -> Report | None:
        if not valid_id(report_id):
            return None
        rows = [Report(**r) for r in self._rows(f"{_REPORTS} where c.id = %s", [report_id])]
        return rows[0] if rows else None

    def set_report_status(
        self, report_id: int, status: str, user_id: int, now: str, note: str = ""
    ) -> None:
        with self.transaction():
            self._execute(
                "update checkins set status = %s, status_at = %s, handled_by = %s,"
                " resolution = %s where id = %s",
                [status, now, user_id, note or None, report_id],
            )

    def resolve_times(self, station_id: int) -> list[tuple[str, str]]:
        sql = """
            select created_at, status_at from checkins
            where station_id = %s and kind != 'ok' and status = 'resolved' order by id
        """
        return [(r["created_at"], r["status_at"]) for r in self._rows(sql, [station_id])]

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
        condition, params = records.report_where(
            "%s", "ilike", region, statuses, kinds, adcode, q, stale_before
        )
        sql = f"select count(*) from checkins c join stations s on s.id = c.station_id where {condition}"
        total = self._value(sql, params)
        sql = f"{_REPORTS} where {condition} order by {records.REPORT_ORDERS[order]} limit %s offset %s"
        rows = [Report(**r) for r in self._rows(sql, [*params, limit, offset])]
        return rows, int(total)

    def report_districts(self, region: str) -> list[tuple[str, str]]:
        sql = """
            select distinct s.adcode, s.district from checkins c join stations s on s.id = c.station_id
            where s.adcode like %s and c.kind != 'ok' order by s.adcode
        """
        return [
            (r["adcode"], r["district"] or r["adcode"]) for r in self._rows(sql, [region + "%"])
        ]

    def station_reports(self, station_id: int) -> list[Report]:
        sql = f"{_REPORTS} where c.station_id = %s and c.kind != 'ok' order by c.created_at desc, c.id desc"
        return [Report(**r) for r in self._rows(sql, [station_id])]

    def set_verified(self, station_id: int, at: str) -> bool:
        """Move the station's verified_at forward to at (never back); its version stays."""
        cursor = self._execute(
            "update stations set verified_at = %s"
            " where id = %s and (verified_at is null or verified_at < %s)",
            [at, station_id, at],
        )
        return cursor.rowcount == 1
