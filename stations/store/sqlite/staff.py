"""SQL for staff: users, sessions, tokens, login attempts, history, audits, reports.

A mixin of SQLiteStore (it relies on what `Connected` declares: db, _rows, _query, transaction).
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from stations.core.accounts import ApiKey, StaffSession, User
from stations.core.audits import Audit, AuditItem
from stations.core.checkins import Report
from stations.core.editing import Change
from stations.core.model import Station
from stations.store import listing, records
from stations.store.sqlite.base import Connected, inserted_id
from stations.store.sqlite.rows import INSERT_COLUMNS, station_row

# Problem reports with the station they concern (the client's hash stays in the store).
_REPORTS = """
    select c.id, c.station_id, c.kind, c.facility, c.created_at, c.status, c.status_at,
           c.handled_by, c.resolution, s.code as station_code, s.name as station_name,
           s.adcode, s.district, coalesce(u.name, '') as handler
    from checkins c join stations s on s.id = c.station_id
    left join users u on u.id = c.handled_by
"""
_AUDITS = "select a.*, u.name as auditor from audits a join users u on u.id = a.user_id"


class StaffQueries(Connected):
    # -- users --------------------------------------------------------------------------------

    def insert_user(self, name: str, password_hash: str, role: str, region: str, now: str) -> int:
        """Insert a user (the caller holds the transaction)."""
        cursor = self.db.conn.execute(
            "insert into users (name, password_hash, role, region, created_at) values (?, ?, ?, ?, ?)",
            [name, password_hash, role, region, now],
        )
        return inserted_id(cursor)

    def user_login(self, name: str) -> tuple[User, str] | None:
        rows = list(self._rows("select * from users where name = ?", [name]))
        return (records.user(rows[0]), rows[0]["password_hash"]) if rows else None

    def user(self, user_id: int) -> User | None:
        rows = list(self._rows("select * from users where id = ?", [user_id]))
        return records.user(rows[0]) if rows else None

    def users(self) -> list[User]:
        return [records.user(r) for r in self._rows("select * from users order by region, name")]

    def disable_user(self, name: str, now: str) -> bool:
        """Disable a user and end every session and token of theirs at once."""
        with self.transaction():
            cursor = self.db.conn.execute(
                "update users set disabled_at = ? where name = ? and disabled_at is null",
                [now, name],
            )
            self.db.conn.execute(
                "update staff_sessions set ended_at = ? where ended_at is null and user_id = (select id from users where name = ?)",
                [now, name],
            )
            self.db.conn.execute(
                "update api_tokens set revoked_at = ? where revoked_at is null and user_id = (select id from users where name = ?)",
                [now, name],
            )
            return cursor.rowcount == 1

    def set_password_hash(self, user_id: int, password_hash: str, now: str) -> int:
        """Replace a user's password hash and end every session of theirs at once; how many
        sessions were ended. API tokens are left as they are."""
        with self.transaction():
            self.db.conn.execute(
                "update users set password_hash = ? where id = ?", [password_hash, user_id]
            )
            return self.db.conn.execute(
                "update staff_sessions set ended_at = ? where ended_at is null and user_id = ?",
                [now, user_id],
            ).rowcount

    def last_sign_ins(self) -> dict[int, str]:
        """Each user's newest sign-in (the start of their newest session), by user id."""
        sql = (
            "select user_id, max(created_at) from staff_sessions group by user_id order by user_id"
        )
        return {user_id: at for user_id, at in self.db.conn.execute(sql).fetchall()}

    # -- sessions -----------------------------------------------------------------------------

    def create_session(self, session_id: str, user_id: int, now: str) -> None:
        with self.transaction():
            self.db.conn.execute(
                "insert into staff_sessions (id, user_id, created_at, last_seen) values (?, ?, ?, ?)",
                [session_id, user_id, now, now],
            )

    def session(self, session_id: str) -> StaffSession | None:
        sql = """
            select u.*, s.created_at as session_created, s.last_seen, s.ended_at
            from staff_sessions s join users u on u.id = s.user_id where s.id = ?
        """
        rows = list(self._rows(sql, [session_id]))
        if not rows:
            return None
        row = rows[0]
        # session_created: the session's, not the user's created_at
        return StaffSession(
            records.user(row), row["session_created"], row["last_seen"], row["ended_at"]
        )

    def touch_session(self, session_id: str, now: str) -> None:
        with self.transaction():
            self.db.conn.execute(
                "update staff_sessions set last_seen = ? where id = ?", [now, session_id]
            )

    def end_session(self, session_id: str, now: str) -> None:
        with self.transaction():
            self.db.conn.execute(
                "update staff_sessions set ended_at = ? where id = ? and ended_at is null",
                [now, session_id],
            )

    # -- tokens -------------------------------------------------------------------------------

    def add_token(self, user_id: int, token_hash: str, now: str) -> None:
        with self.transaction():
            self.db.conn.execute(
                "insert into api_tokens (user_id, token_hash, created_at) values (?, ?, ?)",
                [user_id, token_hash, now],
            )

    def token_user(self, token_hash: str) -> User | None:
        sql = """
            select u.* from api_tokens t join users u on u.id = t.user_id
            where t.token_hash = ? and t.revoked_at is null and u.disabled_at is null
        """
        rows = list(self._rows(sql, [token_hash]))
        return records.user(rows[0]) if rows else None

    def revoke_tokens(self, user_id: int, now: str) -> int:
        with self.transaction():
            return self.db.conn.execute(
                "update api_tokens set revoked_at = ? where user_id = ? and revoked_at is null",
                [now, user_id],
            ).rowcount

    # -- partners' API keys -------------------------------------------------------------------

    def add_api_key(self, partner: str, key_hash: str, region: str, now: str) -> None:
        with self.transaction():
            self.db.conn.execute(
                "insert into api_keys (partner, key_hash, region, created_at) values (?, ?, ?, ?)",
                [partner, key_hash, region, now],
            )

    def api_key(self, key_hash: str) -> ApiKey | None:
        rows = list(
            self._rows(
                "select * from api_keys where key_hash = ? and revoked_at is null", [key_hash]
            )
        )
        return records.api_key(rows[0]) if rows else None

    def api_keys(self) -> list[ApiKey]:
        return [
            records.api_key(r) for r in self._rows("select * from api_keys order by partner, id")
        ]

    def revoke_api_keys(self, partner: str, now: str) -> int:
        with self.transaction():
            sql = "update api_keys set revoked_at = ? where partner = ? and revoked_at is null"
            return self.db.conn.execute(sql, [now, partner]).rowcount

    # -- login attempts -----------------------------------------------------------------------

    def login_failures(self, key: str, since: str) -> int:
        return self.db.conn.execute(
            "select count(*) from login_attempts where key = ? and at >= ?", [key, since]
        ).fetchone()[0]

    def add_login_failure(self, keys: list[str], now: str) -> None:
        with self.transaction():
            self.db.conn.executemany(
                "insert into login_attempts (key, at) values (?, ?)", [(k, now) for k in keys]
            )

    def last_login_failure(self, key: str, since: str) -> str | None:
        return self.db.conn.execute(
            "select max(at) from login_attempts where key = ? and at >= ?", [key, since]
        ).fetchone()[0]

    # -- station edits and their history ------------------------------------------------------

    def insert_station(self, station: Station, now: str) -> int:
        columns = INSERT_COLUMNS
        row = station_row(station)
        row.update(created_at=now, updated_at=now, version=1)
        sql = (
            f"insert into stations ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
        )
        return inserted_id(self.db.conn.execute(sql, [row[c] for c in columns]))

    def update_station(self, station: Station, expected_version: int, now: str) -> bool:
        """Write station over the row with its id if that row is still at expected_version."""
        row = station_row(station)
        station_id = row.pop("id")
        for key in ("created_at", "version"):
            row.pop(key)
        row["updated_at"] = now
        sets = ", ".join(f"{k} = :{k}" for k in row)
        cursor = self.db.conn.execute(
            f"update stations set {sets}, version = version + 1 where id = :id and version = :expected",
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
        self.db.conn.execute(
            "insert into station_changes (station_id, user_id, actor, at, action, before, after) values (?, ?, ?, ?, ?, ?, ?)",
            records.change_values(station_id, user, at, action, before, after),
        )

    def history(self, station_id: int) -> list[Change]:
        sql = "select * from station_changes where station_id = ? order by id desc"
        return [records.change(r) for r in self._rows(sql, [station_id])]

    def last_change(self, station_id: int) -> Change | None:
        sql = "select * from station_changes where station_id = ? order by id desc limit 1"
        found = [records.change(r) for r in self._rows(sql, [station_id])]
        return found[0] if found else None

    def stations_in_region(
        self, region: str, limit: int = 500, offset: int = 0, q: str = ""
    ) -> list[Station]:
        sql = "select * from stations where adcode like ? and (? = '' or name like ? or code like ?) order by city, district, code limit ? offset ?"
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
        where, params = listing.page_where(q, status, adcode, region, "?", "like")
        total = self.db.conn.execute(f"select count(*) from stations {where}", params).fetchone()[0]
        rows = self._query(
            f"select * from stations {where} order by {order} limit ? offset ?",
            [*params, limit, offset],
        )
        return rows, total

    def region_districts(self, region: str) -> list[tuple[str, str, str]]:
        sql = "select distinct adcode, city, district from stations where adcode like ? order by adcode"
        return [(r["adcode"], r["city"], r["district"]) for r in self._rows(sql, [region + "%"])]

    # -- audits -------------------------------------------------------------------------------

    def region_profile(self, adcode: str) -> str:
        sql = "select profile from region_profiles where ? like region || '%' order by length(region) desc limit 1"
        row = self.db.conn.execute(sql, [adcode]).fetchone()
        return row[0] if row else "liuyou_a"

    def set_region_profile(self, region: str, profile: str) -> None:
        with self.transaction():
            self.db.conn.execute(
                "insert or replace into region_profiles values (?, ?)", [region, profile]
            )

    def region_profiles(self) -> dict[str, str]:
        """The regions given a default profile of their own: {adcode prefix: profile}."""
        sql = "select region, profile from region_profiles order by region"
        return dict(self.db.conn.execute(sql).fetchall())

    def add_audit(self, audit: Audit, items: Sequence[AuditItem]) -> int:
        """Insert an audit and its items (the caller holds the transaction)."""
        cursor = self.db.conn.execute(
            """insert into audits (station_id, user_id, profile, visited_on, visit_kind, score, passed, created_at)
               values (?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                audit.station_id,
                audit.user_id,
                audit.profile,
                audit.visited_on,
                audit.visit_kind,
                audit.score,
                int(audit.passed),
                audit.created_at,
            ],
        )
        audit_id = inserted_id(cursor)
        self.db.conn.executemany(
            "insert into audit_items (audit_id, item, result, note, photo, valid_until) values (?, ?, ?, ?, ?, ?)",
            [(audit_id, i.item, i.result, i.note, i.photo, i.valid_until) for i in items],
        )
        return audit_id

    def latest_audits(self, station_ids: Iterable[int]) -> dict[int, Audit]:
        ids = [int(i) for i in station_ids]
        out = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"""
                {_AUDITS}
                where a.id in (select max(id) from audits where station_id in ({",".join("?" * len(chunk))}) group by station_id)
                order by a.id
            """
            for row in self._rows(sql, chunk):
                out[row["station_id"]] = records.audit(row)
        return out

    def audit_items(self, audit_id: int) -> list[AuditItem]:
        sql = "select * from audit_items where audit_id = ? order by rowid"
        return [records.audit_item(r) for r in self._rows(sql, [audit_id])]

    def audits_for(self, station_id: int) -> list[Audit]:
        sql = f"{_AUDITS} where station_id = ? order by visited_on desc, a.id desc"
        return [records.audit(r) for r in self._rows(sql, [station_id])]

    def audit_rows(self, region: str) -> list[dict]:
        """Every audit item of a region's stations with its audit, auditor and station, in one
        query: stations as stations_in_region orders them, newest audit first, items in order."""
        sql = """
            select s.code, s.name, s.district, a.profile, a.visited_on, a.visit_kind,
                   u.name as auditor, a.score, a.passed, i.item, i.result, i.note, i.valid_until
            from stations s
            join audits a on a.station_id = s.id
            join users u on u.id = a.user_id
            join audit_items i on i.audit_id = a.id
            where s.adcode like ?
            order by s.city, s.district, s.code, a.visited_on desc, a.id desc, i.rowid
        """
        # passed as the bool it is (the column holds 0/1), as every store gives it
        return [{**r, "passed": bool(r["passed"])} for r in self._rows(sql, [region + "%"])]

    def expired_items(self, station_ids: Iterable[int], today: str) -> dict[int, list[AuditItem]]:
        """Items of each station's latest audit whose use-by date has passed: one query for
        up to 500 stations, whatever their number of audits."""
        ids = [int(i) for i in station_ids]
        out: dict[int, list[AuditItem]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"""
                select a.station_id as of_station, i.* from audit_items i join audits a on a.id = i.audit_id
                where a.id in (select max(id) from audits where station_id in ({",".join("?" * len(chunk))}) group by station_id)
                  and i.valid_until is not null and i.valid_until != '' and i.valid_until < ?
                order by i.rowid
            """
            for row in self._rows(sql, [*chunk, today]):
                out.setdefault(row.pop("of_station"), []).append(records.audit_item(row))
        return out

    def photo_owner(self, photo: str) -> int | None:
        """The station whose audit evidence this photo is."""
        sql = "select a.station_id from audit_items i join audits a on a.id = i.audit_id where i.photo = ? order by i.rowid limit 1"
        row = self.db.conn.execute(sql, [photo]).fetchone()
        return row[0] if row else None

    # -- problem reports ----------------------------------------------------------------------

    def reports(self, region: str, statuses: Sequence[str]) -> list[Report]:
        sql = f"""
            {_REPORTS}
            where s.adcode like ? and c.kind != 'ok' and c.status in ({",".join("?" * len(statuses))})
            order by c.created_at, c.id
        """
        return [Report(**r) for r in self._rows(sql, [region + "%", *statuses])]

    def report(self, report_id: int) -> Report | None:
        rows = [Report(**r) for r in self._rows(f"{_REPORTS} where c.id = ?", [report_id])]
        return rows[0] if rows else None

    def set_report_status(
        self, report_id: int, status: str, user_id: int, now: str, note: str = ""
    ) -> None:
        with self.transaction():
            self.db.conn.execute(
                "update checkins set status = ?, status_at = ?, handled_by = ?, resolution = ? where id = ?",
                [status, now, user_id, note or None, report_id],
            )

    def resolve_times(self, station_id: int) -> list[tuple[str, str]]:
        """(reported, resolved) moments of a station's resolved problem reports."""
        sql = "select created_at, status_at from checkins where station_id = ? and kind != 'ok' and status = 'resolved' order by id"
        return [(a, b) for a, b in self.db.conn.execute(sql, [station_id])]

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
            "?", "like", region, statuses, kinds, adcode, q, stale_before
        )
        sql = f"select count(*) from checkins c join stations s on s.id = c.station_id where {condition}"
        total = self.db.conn.execute(sql, params).fetchone()[0]
        sql = (
            f"{_REPORTS} where {condition} order by {records.REPORT_ORDERS[order]} limit ? offset ?"
        )
        rows = [Report(**r) for r in self._rows(sql, [*params, limit, offset])]
        return rows, int(total)

    def report_districts(self, region: str) -> list[tuple[str, str]]:
        sql = """
            select distinct s.adcode, s.district from checkins c join stations s on s.id = c.station_id
            where s.adcode like ? and c.kind != 'ok' order by s.adcode
        """
        return [
            (r["adcode"], r["district"] or r["adcode"]) for r in self._rows(sql, [region + "%"])
        ]

    def station_reports(self, station_id: int) -> list[Report]:
        sql = f"{_REPORTS} where c.station_id = ? and c.kind != 'ok' order by c.created_at desc, c.id desc"
        return [Report(**r) for r in self._rows(sql, [station_id])]

    def set_verified(self, station_id: int, at: str) -> bool:
        """Move the station's verified_at forward to at (never back); its version stays."""
        cursor = self.db.conn.execute(
            "update stations set verified_at = ? where id = ? and (verified_at is null or verified_at < ?)",
            [at, station_id, at],
        )
        return cursor.rowcount == 1
