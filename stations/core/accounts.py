"""Staff accounts: roles, region scope, passwords and API tokens (pure: no Flask, no SQL).

Region scope is an adcode prefix: '63' is Qinghai, '6301' Xining, '630102' one district, ''
the whole country. Every staff write passes `require_write`, whatever face it came through.
"""

import hashlib
import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from stations.core import regions
from stations.core.text import match_key

ROLES = ("admin", "auditor", "viewer")
WRITERS = ("admin", "auditor")
MIN_PASSWORD = 8
_HASHER = PasswordHasher()  # argon2id with the library's current recommended cost


class AccessDenied(PermissionError):
    """The user may not do this (HTTP 403); the message says why."""


class WeakPassword(ValueError):
    pass


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
        found = regions.districts_of(self.region)
        if not found:
            return self.region
        first = found[0]
        return {2: first.province, 4: first.city, 6: first.district}[len(self.region)]


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
        raise WeakPassword(f"use at least {MIN_PASSWORD} characters")
    lowered = password.lower()
    if lowered in _common() or (
        name and match_key(name) and match_key(name) in match_key(password)
    ):
        raise WeakPassword("this password is too common or contains the user name; choose another")
    if len(set(password)) <= 2:
        raise WeakPassword("this password repeats one or two characters; choose another")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


# Compared against when the user does not exist, so an unknown name costs the same time.
_DUMMY = _HASHER.hash(secrets.token_hex(16))


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# -- tokens -----------------------------------------------------------------------------------


def new_token() -> tuple[str, str]:
    """(token shown once to the user, hash stored)."""
    token = "yz_" + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
