"""Console sessions and CSRF tokens: signed, and held by the server.

After a privacy officer logs in with an API key, the browser holds a session cookie
(HttpOnly, SameSite=Strict, Path=/console, Secure over HTTPS) whose value is
``<key id>.<expiry>.<nonce>.<signature>``: the key id, never the key. The signature is an
HMAC-SHA256 under a secret every replica derives the same way (from the BSN master key,
:func:`session_secret`), so a forged cookie is refused without a database read. A signed
cookie is not enough: the session must also be in the consent store
(``consent_console_sessions``, keyed by :func:`session_hash`, the SHA-256 of the nonce),
which every replica shares and a restart keeps. Signing out deletes it there, so a copy
of the cookie (and its CSRF token) is worth nothing afterwards; an expired one is
deleted when it is next seen and at every sign-in. On every request the key is looked up
again, so revoking it ends its sessions at once.

Every form carries a CSRF token: for a session, an HMAC over the session's key id and
nonce (a synchronizer token nobody else can compute); for the login form, which has no
session yet, a signed random token that must equal the one in a short-lived login
cookie (double submit, signed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from consent.crypto import load_master_key
from hub.config import HubSettings
from hub.keyfile import KEY_BYTES

__all__ = [
    "LOGIN_COOKIE",
    "LOGIN_TTL_S",
    "SESSION_COOKIE",
    "SESSION_TTL_S",
    "ConsoleSession",
    "SessionSigner",
    "session_hash",
    "session_secret",
]

SESSION_COOKIE = "rmt_console_session"
LOGIN_COOKIE = "rmt_console_login"
SESSION_TTL_S = 8 * 3600
"""A session lasts a working day, then the officer logs in again."""
LOGIN_TTL_S = 3600
"""How long a login form may stay open."""


def session_secret(settings: HubSettings) -> bytes:
    """The signing secret: derived (HKDF-SHA256) from the BSN master key, so every replica
    of the service has the same one without another secret to distribute."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"rmt-hub console session v1"
    ).derive(load_master_key(settings))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A logged-in officer: which key, until when, and the nonce its CSRF token binds to."""

    key_id: str
    expires_at: int
    nonce: str


def session_hash(session: ConsoleSession) -> str:
    """What the store keeps of a session: the SHA-256 of its nonce (hex)."""
    return hashlib.sha256(session.nonce.encode()).hexdigest()


class SessionSigner:
    """Issues and checks session cookies and CSRF tokens under one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the console session secret needs at least 16 bytes")
        self._secret = secret

    def __repr__(self) -> str:
        return "SessionSigner(**********)"

    def _mac(self, purpose: str, text: str) -> str:
        message = f"{purpose}|{text}".encode()
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    # --- sessions ----------------------------------------------------------------------------
    def issue(self, key_id: str, now: float | None = None) -> tuple[str, ConsoleSession]:
        """A new session for ``key_id``: (cookie value, session)."""
        issued = time.time() if now is None else now
        session = ConsoleSession(key_id, int(issued) + SESSION_TTL_S, secrets.token_hex(16))
        body = f"{session.key_id}.{session.expires_at}.{session.nonce}"
        return f"{body}.{self._mac('session', body)}", session

    def read(self, cookie: str | None, now: float | None = None) -> ConsoleSession | None:
        """The session of a cookie value; None when missing, forged or expired."""
        if not cookie or cookie.count(".") != 3:
            return None
        key_id, expires, nonce, signature = cookie.split(".")
        body = f"{key_id}.{expires}.{nonce}"
        if not hmac.compare_digest(signature, self._mac("session", body)):
            return None
        if not expires.isdigit() or int(expires) <= (time.time() if now is None else now):
            return None
        return ConsoleSession(key_id, int(expires), nonce)

    # --- CSRF --------------------------------------------------------------------------------
    def csrf_token(self, session: ConsoleSession) -> str:
        """The token every form of this session must send back."""
        return self._mac("csrf", f"{session.key_id}.{session.nonce}")

    def csrf_ok(self, session: ConsoleSession, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf_token(session))

    def login_token(self) -> str:
        """A signed random token for the login form (and its cookie)."""
        nonce = secrets.token_hex(16)
        return f"{nonce}.{self._mac('login', nonce)}"

    def login_ok(self, cookie: str | None, token: str | None) -> bool:
        """The form's token equals the login cookie and is ours."""
        if not cookie or not token or not hmac.compare_digest(cookie, token):
            return False
        nonce, _, signature = token.partition(".")
        return bool(nonce) and hmac.compare_digest(signature, self._mac("login", nonce))
