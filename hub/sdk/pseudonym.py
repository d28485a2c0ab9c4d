"""Client pseudonyms: a keyed hash of the citizen service number (BSN).

Every partner knows the BSN of the people it serves; the hub never uses it as a key.
The pseudonym is ``psn-`` + the first 32 hex digits (128 bits) of
HMAC-SHA-256(key, BSN), with one hub-wide key, so every partner derives the same
pseudonym for the same person and nobody without the key can go back to the BSN.

The key comes from the setting ``HUB_PSEUDONYM_KEY`` (``HubSettings.pseudonym_key``).
While it is unset, :func:`pseudonym_key` falls back to
:data:`DEVELOPMENT_PSEUDONYM_KEY` and logs a warning every time: the development key is
public, so such pseudonyms protect nothing.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging

from hub.config import HubSettings
from hub.ids import ClientPseudonym
from schemas.identifiers import normalise_bsn

__all__ = [
    "DEVELOPMENT_PSEUDONYM_KEY",
    "PSEUDONYM_PREFIX",
    "Pseudonymiser",
    "pseudonym_key",
]

_LOG = logging.getLogger(__name__)

DEVELOPMENT_PSEUDONYM_KEY = b"rmt-hub development pseudonym key - NOT FOR PRODUCTION"
"""Placeholder used only while ``HUB_PSEUDONYM_KEY`` is unset; it is public."""
PSEUDONYM_PREFIX = "psn-"
_HEX_DIGITS = 32


def pseudonym_key(settings: HubSettings) -> bytes:
    """The hub-wide pseudonym key (``HUB_PSEUDONYM_KEY``), or the development key."""
    secret = settings.pseudonym_key
    if secret is not None and secret.get_secret_value():
        return secret.get_secret_value().encode("utf-8")
    _warn_development_key()
    return DEVELOPMENT_PSEUDONYM_KEY


@functools.cache
def _warn_development_key() -> None:
    """Once per process: every connector and client asks for the key."""
    _LOG.warning(
        "HUB_PSEUDONYM_KEY is not set: using the public development key; client "
        "pseudonyms are NOT protected (set HUB_PSEUDONYM_KEY to a long random secret)"
    )


class Pseudonymiser:
    """``bsn -> ClientPseudonym`` with one key; cheap to call per row."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the pseudonym key is empty")
        self._base = hmac.new(key, digestmod=hashlib.sha256)

    def __call__(self, bsn: str) -> ClientPseudonym:
        """The pseudonym of ``bsn`` (normalised first; ``ValueError`` if it is no valid BSN)."""
        mac = self._base.copy()
        mac.update(normalise_bsn(bsn).encode("ascii"))
        return ClientPseudonym(PSEUDONYM_PREFIX + mac.hexdigest()[:_HEX_DIGITS])
