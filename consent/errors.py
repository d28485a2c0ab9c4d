"""The consent service's errors, all under :class:`hub.errors.HubError`.

    ConsentError
    ├── ConsentNotFound         an unknown consent id (HTTP 404)
    ├── ConsentConflict         the change contradicts what is stored (409)
    ├── Gone                    it existed and was destroyed for good: a subject key (410)
    ├── ConsentInvalid          a well-formed request the domain refuses (422, names a field)
    ├── Unauthenticated         no or an unknown API key (401)
    ├── Forbidden               the caller's role may not do this (403)
    ├── Throttled               too many failed API keys from this source (429)
    ├── PolicyError             the policy matrix file is malformed
    ├── ConsentCryptoError      the BSN key is missing, malformed, or a ciphertext is corrupt
    ├── ConsentStoreError       the database failed or is newer than this code
    └── PublishTimeout          stored, but the change feed has not confirmed it yet (503)

The HTTP status of each is mapped in one place, :mod:`consent.api.errors`.
"""

from __future__ import annotations

from hub.errors import HubError

__all__ = [
    "ConsentConflict",
    "ConsentCryptoError",
    "ConsentError",
    "ConsentInvalid",
    "ConsentNotFound",
    "ConsentStoreError",
    "Forbidden",
    "Gone",
    "PolicyError",
    "PublishTimeout",
    "Throttled",
    "Unauthenticated",
]


class ConsentError(HubError):
    """Root of the consent service's errors."""


class ConsentNotFound(ConsentError):
    """No consent (or subject) with this id."""


class ConsentConflict(ConsentError):
    """The change contradicts the stored state (e.g. another BSN for a known pseudonym)."""


class Gone(ConsentError):
    """It existed and was destroyed for good (a subject key after erasure)."""


class ConsentInvalid(ConsentError):
    """The request is well-formed but the domain refuses it; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class Unauthenticated(ConsentError):
    """No API key, or one that is unknown or revoked."""


class Forbidden(ConsentError):
    """The caller is known but its role or partner binding does not allow this."""


class Throttled(ConsentError):
    """The caller's address sent too many unknown API keys; it may try again later."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many failed API keys from this address; retry in {retry_after_s} s")


class PolicyError(ConsentError):
    """The policy matrix is malformed or breaks one of its rules."""


class ConsentCryptoError(ConsentError):
    """The BSN encryption key is missing or malformed, or a ciphertext does not decrypt."""


class ConsentStoreError(ConsentError):
    """The consent store failed (database error, unknown schema version, bad URL)."""


class PublishTimeout(ConsentError):
    """The change is stored (committed) but the change feed did not confirm it in time.

    The outbox relay keeps retrying; repeating the request is safe (it is idempotent)
    and returns once the change is published.
    """
