"""API keys and roles.

A key is shown once when issued (``rmtc_<key id>_<secret>``) and stored only as its
SHA-256. It is sent in the ``X-API-Key`` header (or ``Authorization: Bearer``). Each key
has a role - ``privacy_officer``, ``partner`` (bound to one partner id) or ``monitor`` -
and a name that becomes the *actor* of every change made with it. Unknown keys cost
their source address a token of :class:`consent.api.throttle.AuthThrottle`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from consent.api.throttle import AuthThrottle
from consent.errors import ConsentInvalid, Forbidden, Throttled, Unauthenticated
from consent.model import PARTNER_ID_PATTERN, Role, utc_now
from consent.store import ApiKeyRecord, ConsentStore
from hub.ids import PartnerId

__all__ = [
    "API_KEY_HEADER",
    "Principal",
    "authenticate",
    "hash_key",
    "issue_key",
    "issue_run_key",
]

API_KEY_HEADER = "X-API-Key"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling."""

    key_id: str
    name: str
    role: Role
    partner_id: PartnerId | None = None

    @property
    def actor(self) -> str:
        """How changes made by this caller are attributed in the register."""
        return f"{self.role.value}:{self.name}"

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise Forbidden(f"this needs the role {allowed}; the key '{self.name}' is {self.role}")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(
    store: ConsentStore, role: Role, name: str, partner_id: str | None = None
) -> tuple[ApiKeyRecord, str]:
    """Create a key; return its record and the secret key (shown once, never stored)."""
    if not _NAME.match(name):
        raise ConsentInvalid("name", "1-100 letters, digits and . _ @ -")
    if role is Role.PARTNER:
        if not partner_id or not re.match(PARTNER_ID_PATTERN, partner_id):
            raise ConsentInvalid("partner_id", "a partner key must name its partner id")
    elif partner_id is not None:
        raise ConsentInvalid("partner_id", f"only partner keys are bound to a partner, not {role}")
    key_id = secrets.token_hex(6)
    key = f"rmtc_{key_id}_{secrets.token_urlsafe(32)}"
    record = ApiKeyRecord(
        key_id=key_id,
        name=name,
        role=role,
        partner_id=PartnerId(partner_id) if partner_id else None,
        created_at=utc_now(),
    )
    store.add_api_key(record, hash_key(key))
    return record, key


def issue_run_key(store: ConsentStore, role: Role, name: str) -> tuple[ApiKeyRecord, str]:
    """A key for one run of a command (``rmt-hub up``): first revokes every key of that
    ``name`` still valid (a run that ended without revoking its own, e.g. killed), then
    issues a new one. The caller revokes it when the run ends."""
    now = utc_now()
    for record in store.list_api_keys():
        if record.name == name and record.revoked_at is None:
            store.revoke_api_key(record.key_id, now)
    return issue_key(store, role, name)


def authenticate(
    store: ConsentStore,
    key: str | None,
    *,
    throttle: AuthThrottle | None = None,
    source: str = "unknown",
) -> Principal:
    """The principal of ``key``; Unauthenticated when missing, unknown or revoked.

    With a ``throttle``: Throttled while ``source`` must wait, and an unknown or revoked
    key counts against ``source`` (a missing key does not: it guesses nothing).
    """
    if throttle is not None:
        wait = throttle.wait_s(source)
        if wait:
            raise Throttled(wait)
    if not key:
        raise Unauthenticated(f"send an API key in the {API_KEY_HEADER} header")
    record = store.api_key_by_hash(hash_key(key.strip()))
    if record is None or record.revoked_at is not None:
        if throttle is not None:
            throttle.failed(source)
        raise Unauthenticated("unknown or revoked API key")
    return Principal(record.key_id, record.name, record.role, record.partner_id)
