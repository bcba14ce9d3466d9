"""Audits against a standard profile: prefill, scoring, due dates (pure)."""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from stations.core.accounts import User, require_write
from stations.core.model import Station, parse_date, stored_id
from stations.core.published import is_published
from stations.core.standards import Profile

if TYPE_CHECKING:
    from stations.core.checkins import Report
    from stations.store.protocols import Store

RESULTS = ("pass", "fail", "na")
VISIT_KINDS = ("scheduled", "unannounced")
DUE_AFTER = timedelta(days=180)
DUE_AFTER_REPORTS = 3  # this many open problem reports make a station due at once
OVERDUE_AFTER = timedelta(hours=72)  # a report not moved on within this is overdue


class AuditInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class AuditItem:
    """One item's result in an audit."""

    item: str
    result: str  # pass | fail | na
    note: str = ""
    valid_until: str | None = None  # ISO date, e.g. medicines' use-by date
    photo: str | None = None  # a file name under instance/evidence


Answer = AuditItem  # what a form or API body says of an item, before its photo is attached


@dataclass(frozen=True)
class Audit:
    """One visit to a station against a standard profile."""

    station_id: int
    user_id: int
    profile: str
    visited_on: str  # ISO date
    visit_kind: str  # scheduled | unannounced
    score: float  # passed / applicable items
    passed: bool
    created_at: str
    id: int = 0  # assigned by the store
    auditor: str = ""  # the user's name, filled in when read back


def on_the_map(station: Station) -> bool:
    """The 有地图可查 item: published with verified coordinates."""
    return is_published(station) and bool(station.verified_at)


def prefill(profile: Profile, station: Station) -> dict[str, str]:
    """Suggested results: the map item from the registry, equipment from listed facilities."""
    out = {}
    for item in profile.items:
        if item.from_registry:
            out[item.key] = "pass" if on_the_map(station) else "fail"
        elif item.facility:
            out[item.key] = "pass" if item.facility in station.facilities else "fail"
    return out


def parse_answers(profile: Profile, station: Station, form: dict) -> list[Answer]:
    """Answers for every item of the profile from form fields result_<item>, note_<item>,
    valid_until_<item>; the registry item is always set from the registry."""
    errors, answers = {}, []
    registry = prefill(profile, station)
    for item in profile.items:
        result = registry[item.key] if item.from_registry else form.get(f"result_{item.key}", "")
        if result not in RESULTS:
            errors[item.key] = "choose pass, fail or not applicable"
            continue
        note = str(form.get(f"note_{item.key}", "")).strip()[:500]
        valid_until = None
        raw_date = str(form.get(f"valid_until_{item.key}", "")).strip()
        if raw_date:
            try:
                valid_until = parse_date(raw_date).isoformat()
            except ValueError as exc:
                errors[item.key] = str(exc)
                continue
        if result == "fail" and not note and not item.from_registry:
            errors[item.key] = "say what is wrong"
            continue
        answers.append(Answer(item.key, result, note, valid_until))
    if errors:
        raise AuditInvalid(errors)
    return answers


def score(profile: Profile, answers: list[Answer]) -> tuple[float, bool]:
    """(share of applicable items passed, passed by the profile's rule)."""
    applicable = [a for a in answers if a.result != "na"]
    if not applicable:
        return 0.0, False
    passed = sum(a.result == "pass" for a in applicable)
    share = passed / len(applicable)
    if profile.pass_rule == "all":
        return share, passed == len(applicable) and len(answers) == len(profile.items)
    raise ValueError(f"unknown pass rule {profile.pass_rule}")


def is_due(
    last_audit_on: str | None, open_reports: int, today: date, interval: timedelta = DUE_AFTER
) -> bool:
    """Due for audit: never audited, audited longer than interval ago, or with many open reports."""
    if open_reports >= DUE_AFTER_REPORTS or last_audit_on is None:
        return True
    return date.fromisoformat(last_audit_on) + interval <= today


def overdue(report: "Report", now: datetime, limit: timedelta = OVERDUE_AFTER) -> bool:
    """A report not moved on (new, or acknowledged but unresolved) within 72 hours."""
    if report.status not in ("new", "acknowledged"):
        return False
    since = datetime.fromisoformat(report.status_at or report.created_at)
    return now - since >= limit


def verified_moment(visited_on: date, now: datetime) -> str:
    """When an audit saw the station: now for a visit today, else the start of the visit day
    (never later than what was seen)."""
    if visited_on >= now.date():
        return now.isoformat(timespec="seconds")
    return datetime.combine(visited_on, time(0), tzinfo=now.tzinfo).isoformat(timespec="seconds")


def check(
    user: User,
    station: Station,
    profile: Profile,
    answers: list[Answer],
    visited_on: date,
    visit_kind: str,
    now: datetime,
) -> tuple[float, bool]:
    """Everything record() refuses, checked without storing anything: (score, passed). A face
    that keeps files with an audit (photos) calls this before writing them."""
    require_write(user, station.adcode)
    if visit_kind not in VISIT_KINDS:
        raise AuditInvalid({"visit_kind": "choose scheduled or unannounced"})
    if visited_on > now.date():
        raise AuditInvalid({"visited_on": "is in the future"})
    return score(profile, answers)


def record(
    store: "Store",
    user: User,
    station: Station,
    profile: Profile,
    answers: list[Answer],
    visited_on: date,
    visit_kind: str,
    photos: dict[str, str],
    now: datetime,
) -> tuple[int, float, bool]:
    """Check and store an audit (web form and API alike): (audit id, score, passed). The
    station's "last verified" moves to the visit (unless something saw it later)."""
    share, passed = check(user, station, profile, answers, visited_on, visit_kind, now)
    with store.transaction():
        audit_id = store.add_audit(
            Audit(
                station_id=stored_id(station),
                user_id=user.id,
                profile=profile.key,
                visited_on=visited_on.isoformat(),
                visit_kind=visit_kind,
                score=share,
                passed=passed,
                created_at=now.isoformat(timespec="seconds"),
            ),
            [replace(a, photo=photos.get(a.item)) for a in answers],
        )
        store.set_verified(stored_id(station), verified_moment(visited_on, now))
    return audit_id, share, passed
