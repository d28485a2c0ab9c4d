"""Signed consent changes: the consent service signs its feed, the router verifies it.

The consent change feed decides every disclosure, so the router applies only changes the
consent service provably published. Each record carries the CloudEvents headers
(``ce_source`` = the consent service's identity, ``consent-service``), the subject's
chain header ``rmt-consent-prev`` (:data:`~hub.security.headers.CONSENT_PREV`: the
``record_hash`` of the subject's previous change, absent on its first) and the record
signature of :mod:`hub.security.signing`, made with a key of role ``consent-service``
in the public directory. The signature covers topic, key, value and those headers.

The router refuses (dead letter, no effect at all) a change that is unsigned, does not
verify, is signed with an unknown or revoked key, or with a key of another role (a
partner's key, even the hub's). Of a verified change it checks the chain: it must
follow the last change applied for its subject (:meth:`hub.router.state.ConsentTable.follows`).

The feed is read from its beginning on every partition assignment, for ever: a change
signed while its key was valid stays valid after the key retires (no expiry grace
applies here); revoking a consent-service key refuses what it signed, and the consent
service then republishes its register with its new key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from hub.security.headers import CONSENT_PREV, HeaderList, header_text, replace_headers
from hub.security.keys import KeyRole, PartnerKeys, PublicDirectory
from hub.security.signing import RecordSigner, RecordVerifier, Verdict

__all__ = [
    "CONSENT_SERVICE_ID",
    "ConsentFeedSigner",
    "ConsentFeedVerifier",
    "previous_hash",
]

CONSENT_SERVICE_ID = KeyRole.CONSENT_SERVICE.value
"""The consent service's identity in the public directory (its role is the same word)."""

_FOREVER = timedelta(days=365 * 100)


class ConsentFeedSigner:
    """The consent service's side: sign a change with its chain link."""

    def __init__(self, keys: PartnerKeys, *, clock: Callable[[], float] = time.time) -> None:
        self._signer = RecordSigner(keys, clock=clock)
        self.source = keys.partner_id
        """What ``ce_source`` must say (the identity the key belongs to)."""

    def __repr__(self) -> str:
        return f"ConsentFeedSigner(key_id={self._signer.key_id!r}, private=**********)"

    def sign(
        self,
        *,
        topic: str,
        key: bytes,
        value: bytes,
        headers: HeaderList,
        previous: str | None,
    ) -> list[tuple[str, bytes]]:
        """``headers`` (the CloudEvents ones, ``ce_source`` = :attr:`source`) with the chain
        link to ``previous`` (the subject's previous ``record_hash``) and the signature."""
        linked = replace_headers(
            headers, [(CONSENT_PREV, previous.encode("ascii"))] if previous else []
        )
        return self._signer.sign(topic=topic, key=key, value=value, headers=linked)


class ConsentFeedVerifier:
    """The router's side: is this change the consent service's, unaltered?"""

    def __init__(
        self, directory: PublicDirectory, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._verifier = RecordVerifier(directory, clock=clock, expiry_grace=_FOREVER)

    @property
    def directory(self) -> PublicDirectory:
        return self._verifier.directory

    @directory.setter
    def directory(self, directory: PublicDirectory) -> None:
        self._verifier.directory = directory

    def verify(
        self, *, topic: str, key: bytes | None, value: bytes | None, headers: HeaderList | None
    ) -> Verdict:
        """The verdict: signed by a ``consent-service`` key, nothing altered."""
        return self._verifier.verify(
            topic=topic,
            key=key,
            value=value,
            headers=headers,
            expected_role=KeyRole.CONSENT_SERVICE,
        )


def previous_hash(headers: HeaderList | None) -> str | None:
    """The chain link of a verified change (None: the subject's first change).

    Only meaningful once :meth:`ConsentFeedVerifier.verify` accepted the record: the
    signature covers the header and refuses a repeated one.
    """
    return header_text(headers, CONSENT_PREV) or None
