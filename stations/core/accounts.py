"""Staff accounts: roles, region scope, passwords, sign-in and its limits, sessions' lifetime,
API tokens (pure: no Flask, no SQL).

Region scope is an adcode prefix: '63' is Qinghai, '6301' Xining, '630102' one district, ''
the whole country. Every staff write passes `require_write`, whatever face it came through.
"""

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from stations.core import regions
from stations.core.text import match_key

if TYPE_CHECKING:
    from stations.store.protocols import AccountStore

ROLES = ("admin", "auditor", "viewer")
ADMINS = ("admin",)  # who may reset staff passwords and set region defaults
WRITERS = ("admin", "auditor")
MIN_PASSWORD = 8
_HASHER = PasswordHasher()  # argon2id with the library's current recommended cost
# Sign-in throttling: backoff, never a lock (see sign_in). Failures count for FAILURE_WINDOW;
# past a key's free failures each further one doubles the wait after it, from FIRST_WAIT up to
# LONGEST_WAIT, so a guesser gets at most 21 tries an hour for one name from one client.
FAILURE_WINDOW = timedelta(hours=1)
FREE_FAILURES_PAIR = 3  # one name from one client (an address, or a trusted device)
FREE_FAILURES_NAME = 10  # one name from all untrusted clients together
FREE_FAILURES_ADDRESS = 30  # one address (an office behind NAT), for untrusted clients only
FIRST_WAIT = timedelta(seconds=2)
LONGEST_WAIT = timedelta(minutes=5)
DEVICES_KEPT = 5  # names one browser stays trusted for (a shared office computer)
TOUCH_EVERY = timedelta(seconds=60)  # one write a minute is enough to track idleness


class AccessDenied(PermissionError):
    """The user may not do this (HTTP 403); the message says why."""


class WeakPassword(ValueError):
    """reason: 'short', 'common' (or like the user name) or 'repeats', for a face's own words."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason


class UserExists(ValueError):
    pass


class SignInRefused(Exception):
    """Unknown name, wrong password or disabled account: one answer for all three;
    retry_after, the seconds this failure makes the next attempt wait (0: none), so the
    answer that starts a wait can say so."""

    def __init__(self, message: str, retry_after: int = 0):
        super().__init__(message)
        self.retry_after = retry_after


class TooManyAttempts(Exception):
    """Too many failed sign-ins lately for this name from this client (or for this name, or
    from this address, from untrusted clients): retry_after seconds to wait."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    region: str
    disabled_at: str | None = None

    def covers(self, adcode: str) -> bool:
        return adcode.startswith(self.region)

    @property
    def can_write(self) -> bool:
        return self.role in WRITERS and not self.disabled_at

    def region_label(self) -> str:
        if not self.region:
            return "全国"
        return regions.prefix_name(self.region) or self.region


@dataclass(frozen=True)
class StaffSession:
    """A signed-in browser: the cookie holds only its id; this row decides whether it is valid."""

    user: User
    created_at: str
    last_seen: str
    ended_at: str | None = None


@dataclass(frozen=True)
class ApiKey:
    """A partner's key (stored as a hash, never shown again): its own rate limit and region."""

    id: int
    partner: str
    region: str  # adcode prefix the key may read; '' = the whole registry
    created_at: str
    revoked_at: str | None = None


def require_write(user: User, adcode: str) -> None:
    if not user.can_write:
        raise AccessDenied(f"{user.name} is a {user.role}: read-only")
    if not user.covers(adcode):
        raise AccessDenied(
            f"this station ({adcode}) is outside {user.name}'s region ({user.region or 'all'})"
        )


def require_read(user: User, adcode: str) -> None:
    if not user.covers(adcode):
        raise AccessDenied(
            f"this station ({adcode}) is outside {user.name}'s region ({user.region or 'all'})"
        )


def check_region(region: str) -> str:
    region = region.strip()
    if region and (
        len(region) not in (2, 4, 6) or not region.isdigit() or not regions.districts_of(region)
    ):
        raise ValueError(
            f"region must be an adcode prefix of 2, 4 or 6 digits that exists (e.g. 63, 6301, 630102), not {region!r}"
        )
    return region


def check_name(name: str) -> str:
    name = name.strip()
    if not 2 <= len(name) <= 40 or not all(ch.isalnum() or ch in "._-" for ch in name):
        raise ValueError("a user name has 2 to 40 letters, digits, Chinese characters or . _ -")
    return name


# -- passwords --------------------------------------------------------------------------------


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    # The 30,000 most common leaked passwords, and the pinyin/number habits common in China.
    extra = {
        "woaini1314",
        "woaini520",
        "qq123456",
        "a123456",
        "aa123456",
        "zhang123",
        "wang1234",
        "5201314",
        "1qaz2wsx",
        "abc12345",
        "password1",
        "iloveyou",
        "admin123",
        "yizhan123",
    }
    return frozenset(FREQUENCY_LISTS["passwords"]) | extra


def check_password(password: str, name: str = "") -> None:
    """Refuse short, common or name-like passwords. Any script and any length above the
    minimum are accepted exactly as typed: no trimming, no case folding, no truncation."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(f"use at least {MIN_PASSWORD} characters", "short")
    lowered = password.lower()
    if lowered in _common() or (
        name and match_key(name) and match_key(name) in match_key(password)
    ):
        raise WeakPassword(
            "this password is too common or contains the user name; choose another", "common"
        )
    if len(set(password)) <= 2:
        raise WeakPassword("this password repeats one or two characters; choose another", "repeats")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


# Compared against when the user does not exist, so an unknown name costs the same time.
_DUMMY = _HASHER.hash(secrets.token_hex(16))


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# -- creating users ---------------------------------------------------------------------------


def create_user(
    store: "AccountStore", name: str, role: str, region: str, password: str, now: datetime
) -> int:
    """Check a new staff account and create it; its id. ValueError for a bad name, role or
    region, WeakPassword, or UserExists."""
    name, region = check_name(name), check_region(region)
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    check_password(password, name)
    password_hash = hash_password(password)  # slow on purpose: not inside the transaction
    with store.transaction():
        if store.user_login(name):
            raise UserExists(f"user {name} already exists")
        return store.insert_user(name, password_hash, role, region, _stamp(now))


# -- staff an admin manages: listing, password resets ------------------------------------------


class UnknownUser(ValueError):
    pass


@dataclass(frozen=True)
class StaffMember:
    """A user as the admins' staff page shows them: with their newest sign-in."""

    user: User
    last_sign_in: str | None


def require_admin(actor: User) -> None:
    if actor.role not in ADMINS or actor.disabled_at:
        raise AccessDenied(f"{actor.name} is a {actor.role}: only an admin may manage staff")


def require_manage(actor: User, target: User) -> None:
    """An admin manages the accounts whose whole region lies inside their own."""
    require_admin(actor)
    if not target.region.startswith(actor.region):
        raise AccessDenied(
            f"{target.name}'s region ({target.region or 'all'}) is outside "
            f"{actor.name}'s region ({actor.region or 'all'})"
        )


def staff_in_scope(store: "AccountStore", actor: User) -> list[StaffMember]:
    """The accounts an admin manages (region, then name), each with their newest sign-in."""
    require_admin(actor)
    last = store.last_sign_ins()
    return [
        StaffMember(u, last.get(u.id)) for u in store.users() if u.region.startswith(actor.region)
    ]


def find_user(store: "AccountStore", name: str) -> User:
    """The user of this name; ValueError for a name that cannot be one, UnknownUser if none."""
    name = check_name(name)
    found = store.user_login(name)
    if found is None:
        raise UnknownUser(f"no user {name}")
    return found[0]


def set_password(
    store: "AccountStore", name: str, password: str, now: datetime, by: User | None = None
) -> tuple[User, int]:
    """Give a user a new password (the rules of create_user) and end every session of theirs;
    the user and how many sessions were ended. `by` is the admin doing it on a page (None: the
    command line, which has the whole registry). ValueError for a bad name, UnknownUser,
    AccessDenied, WeakPassword."""
    user = find_user(store, name)
    if by is not None:
        require_manage(by, user)
    check_password(password, user.name)
    password_hash = hash_password(password)  # slow on purpose: not inside the transaction
    return user, store.set_password_hash(user.id, password_hash, _stamp(now))


def generate_password() -> str:
    """A random password for a reset, shown once: 16 characters, easy to read aloud (no 0/O,
    1/l/I), passing check_password."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(16))
        try:
            check_password(password)
        except WeakPassword:
            continue
        return password


# -- signing in and sessions ------------------------------------------------------------------


def attempt_keys(secret: str, address: str, name: str, device: str = "") -> dict[str, str]:
    """Keyed hashes under which failed sign-ins are counted: 'pair' (this name from this
    address, or from this trusted device when device is its id), 'name', 'address'."""
    key = secret.encode()

    def digest(text: str) -> str:
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]

    folded = name.casefold()
    pair = f"device|{device}|{folded}" if device else f"pair|{address}|{folded}"
    return {
        "pair": digest(pair),
        "name": digest("name|" + folded),
        "address": digest("client|" + address),
    }


def _device_signature(secret: str, name: str, device_id: str) -> str:
    text = f"device|{name.casefold()}|{device_id}"
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


def device_cookie(secret: str, name: str, cookie: str = "") -> str:
    """The device cookie's new value after a successful sign-in for name: a signed token that
    lets this browser sign in as name despite a throttle on the name (OWASP's device cookies),
    added to the ones it already holds (the newest DEVICES_KEPT)."""
    device_id = secrets.token_urlsafe(12)
    mine = f"{device_id}.{_device_signature(secret, name, device_id)}"
    others = [t for t in cookie.split() if not trusted_device(secret, name, t)]
    return " ".join([mine, *others][:DEVICES_KEPT])


def trusted_device(secret: str, name: str, cookie: str) -> str:
    """The id of the device this cookie proves has signed in as name before, or ''."""
    for token in cookie.split()[:DEVICES_KEPT]:
        device_id, _, signature = token.partition(".")
        if device_id and hmac.compare_digest(signature, _device_signature(secret, name, device_id)):
            return device_id
    return ""


def _wait(store: "AccountStore", budgets: dict[str, int], now: datetime) -> int:
    """Whole seconds before the next attempt may be made (0: at once), over keys with their
    free failures: the longest of their backoffs since each one's last failure."""
    since = _stamp(now - FAILURE_WINDOW)
    wait = timedelta(0)
    for key, free in budgets.items():
        failures = store.login_failures(key, since)
        last = store.last_login_failure(key, since) if failures >= free else None
        if last:
            wait = max(wait, datetime.fromisoformat(last) + backoff(failures, free) - now)
    return max(1, math.ceil(wait.total_seconds())) if wait > timedelta(0) else 0


def backoff(failures: int, free: int) -> timedelta:
    """How long to wait after the last of `failures` failures when `free` cost nothing."""
    if failures < free:
        return timedelta(0)
    return min(FIRST_WAIT * 2 ** min(failures - free, 20), LONGEST_WAIT)


def sign_in(
    store: "AccountStore",
    name: str,
    password: str,
    *,
    secret: str,
    address: str,
    now: datetime,
    device: str = "",
) -> tuple[User, str]:
    """The user and a new session id for a correct name and password.

    Throttling slows a guesser without letting anyone lock a colleague or an office out: no
    count ever refuses a correct password for good, only for a wait that doubles with each
    failure past a free few and never exceeds LONGEST_WAIT. Waits are kept per key:
    - this name from this client (address, or trusted device): every client;
    - this name from any untrusted client: a guesser spreading over many addresses is slowed,
      but a browser holding a device cookie for the name (device_cookie) is not;
    - this address, any name, at a high ceiling: untrusted clients only, so a colleague with
      a trusted browser in an office behind one NAT is never held up by a neighbour's typos.
    TooManyAttempts (with the seconds to wait) is raised before the password hash is computed,
    so a flood costs nothing, and a refused attempt is not counted as a failure."""
    device_id = trusted_device(secret, name, device)
    keys = attempt_keys(secret, address, name, device_id)
    frees = {"pair": FREE_FAILURES_PAIR}
    if not device_id:
        frees.update(name=FREE_FAILURES_NAME, address=FREE_FAILURES_ADDRESS)
    wait = _wait(store, {keys[kind]: free for kind, free in frees.items()}, now)
    if wait:
        raise TooManyAttempts("too many attempts", wait)
    found = store.user_login(name)
    ok = verify_password(found[1] if found else None, password)  # same cost for unknown names
    if not ok or found is None or found[0].disabled_at:
        store.add_login_failure([keys[kind] for kind in frees], _stamp(now))
        after = _wait(store, {keys[kind]: free for kind, free in frees.items()}, now)
        raise SignInRefused("wrong name or password", after)
    session_id = secrets.token_urlsafe(32)
    store.create_session(session_id, found[0].id, _stamp(now))
    return found[0], session_id


def session_user(
    store: "AccountStore", session_id: str, now: datetime, *, idle: timedelta, longest: timedelta
) -> User | None:
    """The user of a live session, or None. A session ends at sign-out, when its user is
    disabled, after `idle` without a request and `longest` after sign-in."""
    found = store.session(session_id)
    if found is None or found.ended_at or found.user.disabled_at:
        return None
    last_seen = datetime.fromisoformat(found.last_seen)
    created = datetime.fromisoformat(found.created_at)
    if now - last_seen > idle or now - created > longest:
        store.end_session(session_id, _stamp(now))
        return None
    if now - last_seen > TOUCH_EVERY:
        store.touch_session(session_id, _stamp(now))
    return found.user


def sign_out(store: "AccountStore", session_id: str, now: datetime) -> None:
    store.end_session(session_id, _stamp(now))


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# -- tokens -----------------------------------------------------------------------------------


def new_token() -> tuple[str, str]:
    """(token shown once to the user, hash stored)."""
    token = "yz_" + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
