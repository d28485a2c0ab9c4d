"""The per-record security steps of the SDK and of the router, composed.

Outbox and inbox payloads are both encrypted: a partner's outbox to the hub's key (so no
other partner reading the outbox sees anything), an inbox to its partner's key. Both are
signed over the ciphertext and every ce_/rmt- header.

SDK (a partner)::

    security = PartnerSecurity.from_store(store, partner_id)
    # publish: after encoding the value and building the CloudEvents headers
    value, headers = security.seal_outbound(topic=outbox, key=key, value=value, headers=ce)
    producer.send(outbox, key=key, value=value, headers=headers)
    # subscribe: before deserializing an inbox record
    opened = security.open_inbound(topic=r.topic, key=r.key, value=r.value,
                                   headers=r.headers, partition=r.partition, offset=r.offset)
    opened.value   # the plaintext Confluent-framed bytes (None for a tombstone)

Router (the hub)::

    security = HubSecurity.from_store(store, replay_guard=guard)
    opened = security.open_inbound(topic=r.topic, key=r.key, value=r.value,
                                   headers=r.headers, publisher=outbox_owner,
                                   partition=r.partition, offset=r.offset)
    if not opened.verdict.ok: dead-letter with opened.verdict.dead_letter_reason / .detail
    # decode opened.value; per delivery, once the projected record is encoded:
    value, headers = security.seal_delivery(recipient=partner_id, topic=inbox, key=key,
                                            value=encoded, headers=ce, origin=opened.verdict)
    # records the hub writes unencrypted (dead letters, state, audit): hub-signed
    headers = security.sign(topic=..., key=..., value=..., headers=ce)
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hub.security.envelope import DekPolicy, EnvelopeDecryptor, EnvelopeEncryptor, is_encrypted
from hub.security.errors import EnvelopeError, NotEncrypted, SecurityError, SigningError
from hub.security.headers import (
    CE_ID,
    ENC_DISCLOSURE,
    ORIGIN_EVENT,
    ORIGIN_SIG_KEY,
    ORIGIN_SOURCE,
    AmbiguousHeader,
    HeaderList,
    header_text,
    replace_headers,
)
from hub.security.hub_identity import HUB_ID
from hub.security.keys import KeyStore, PartnerKeys, PublicDirectory, PublicKeyRecord
from hub.security.replay import ReplayGuard
from hub.security.signing import RecordSigner, RecordVerifier, Verdict, VerdictReason

__all__ = ["HubSecurity", "InboundRejected", "Opened", "PartnerSecurity", "origin_headers"]


class InboundRejected(SecurityError):
    """An inbox record failed verification; ``verdict`` says why."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        super().__init__(f"{verdict.reason}: {verdict.detail}")


@dataclass(frozen=True, slots=True)
class Opened:
    """A verified (and decrypted) inbox record; ``disclosure``: the plaintext of its
    ``rmt-enc-disclosure`` header (a delivery's DisclosureEvent, bare Avro), if any."""

    value: bytes | None
    verdict: Verdict
    disclosure: bytes | None = None


def origin_headers(verdict: Verdict) -> list[tuple[str, bytes]]:
    """Who published the record a delivery came from (covered by the hub's signature)."""
    if not verdict.ok or verdict.signer is None:
        raise SigningError("origin headers need an accepted verdict")
    return [
        (ORIGIN_SOURCE, verdict.signer.encode("utf-8")),
        (ORIGIN_EVENT, (verdict.event_id or "").encode("utf-8")),
        (ORIGIN_SIG_KEY, (verdict.key_id or "").encode("ascii")),
    ]


class PartnerSecurity:
    """A partner's side: seal what it publishes, verify and decrypt what it receives.

    ``decrypt_with``: every key generation the partner still holds (records encrypted
    before a rotation name the old key); ``keys`` is always included.
    ``require_encryption``: refuse inbox values that are not encrypted.
    ``random``: the source of data keys and nonces (fixed only to make test vectors).
    """

    def __init__(
        self,
        *,
        keys: PartnerKeys,
        directory: PublicDirectory,
        decrypt_with: Iterable[PartnerKeys] = (),
        hub_id: str = HUB_ID,
        replay_guard: ReplayGuard | None = None,
        require_encryption: bool = True,
        dek_policy: DekPolicy | None = None,
        clock: Callable[[], float] = time.time,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.partner_id = keys.partner_id
        self.hub_id = hub_id
        self.directory = directory
        self.require_encryption = require_encryption
        self._signer = RecordSigner(keys, clock=clock)
        self._verifier = RecordVerifier(directory, replay_guard=replay_guard, clock=clock)
        self._decryptor = EnvelopeDecryptor([keys, *decrypt_with])
        self._encryptor = EnvelopeEncryptor(dek_policy, random=random)
        self._recipients = _CurrentKeys(directory)

    def __repr__(self) -> str:
        return f"PartnerSecurity(partner_id={self.partner_id!r}, private=**********)"

    @classmethod
    def from_store(
        cls,
        store: KeyStore,
        partner_id: str,
        *,
        hub_id: str = HUB_ID,
        replay_guard: ReplayGuard | None = None,
        require_encryption: bool = True,
        dek_policy: DekPolicy | None = None,
    ) -> PartnerSecurity:
        """The partner's current keys (and older ones for decryption) from ``store``."""
        return cls(
            keys=store.private(partner_id),
            directory=store.directory(),
            decrypt_with=store.private_keys(partner_id),
            hub_id=hub_id,
            replay_guard=replay_guard,
            require_encryption=require_encryption,
            dek_policy=dek_policy,
        )

    def sign_outbound(
        self, *, topic: str, key: bytes | None, value: bytes | None, headers: HeaderList
    ) -> list[tuple[str, bytes]]:
        """``headers`` with this partner's signature added (the value stays in the clear)."""
        return self._signer.sign(topic=topic, key=key, value=value, headers=headers)

    def seal_outbound(
        self, *, topic: str, key: bytes | None, value: bytes | None, headers: HeaderList
    ) -> tuple[bytes | None, list[tuple[str, bytes]]]:
        """(value, headers) to publish: encrypted to the hub's key, then signed."""
        return _seal(
            self._encryptor,
            self._signer,
            self._recipients.current(self.hub_id),
            topic=topic,
            key=key,
            value=value,
            headers=list(headers),
        )

    def open_inbound(
        self,
        *,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: HeaderList | None,
        partition: int | None = None,
        offset: int | None = None,
    ) -> Opened:
        """Verify the hub's signature, then decrypt; InboundRejected or EnvelopeError."""
        verdict = self._verifier.verify(
            topic=topic,
            key=key,
            value=value,
            headers=headers,
            expected_signer=self.hub_id,
            partition=partition,
            offset=offset,
        )
        if not verdict.ok:
            raise InboundRejected(verdict)
        if value is None:
            return Opened(None, verdict)
        if not is_encrypted(headers):
            if self.require_encryption:
                raise NotEncrypted(f"an inbox record on {topic} is not encrypted")
            return Opened(value, verdict)
        plain = self._decryptor.decrypt(topic=topic, key=key, value=value, headers=headers)
        disclosure = self._decryptor.decrypt_header(
            ENC_DISCLOSURE, topic=topic, key=key, headers=headers
        )
        return Opened(plain, verdict, disclosure)


class HubSecurity:
    """The router's side: verify and decrypt what partners publish, seal what it writes.

    ``decrypt_with``: the hub's older key generations (outbox records encrypted before a
    rotation of the hub key). ``require_encrypted_inbound``: an outbox value that is not
    encrypted to the hub is refused (DECODE_ERROR); turn it off only while partners
    migrate. ``random``: the source of data keys and nonces (fixed only for test vectors).
    """

    def __init__(
        self,
        *,
        keys: PartnerKeys,
        directory: PublicDirectory,
        decrypt_with: Iterable[PartnerKeys] = (),
        replay_guard: ReplayGuard | None = None,
        dek_policy: DekPolicy | None = None,
        require_encrypted_inbound: bool = True,
        clock: Callable[[], float] = time.time,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.directory = directory
        self.require_encrypted_inbound = require_encrypted_inbound
        self._signer = RecordSigner(keys, clock=clock)
        self._verifier = RecordVerifier(directory, replay_guard=replay_guard, clock=clock)
        self._encryptor = EnvelopeEncryptor(dek_policy, random=random)
        self._decryptor = EnvelopeDecryptor([keys, *decrypt_with])
        self._recipients = _CurrentKeys(directory)

    def __repr__(self) -> str:
        return f"HubSecurity(key_id={self._signer.key_id!r}, private=**********)"

    @classmethod
    def from_store(
        cls,
        store: KeyStore,
        *,
        replay_guard: ReplayGuard | None = None,
        dek_policy: DekPolicy | None = None,
        require_encrypted_inbound: bool = True,
    ) -> HubSecurity:
        return cls(
            keys=store.private(HUB_ID),
            directory=store.directory(),
            decrypt_with=store.private_keys(HUB_ID),
            replay_guard=replay_guard,
            dek_policy=dek_policy,
            require_encrypted_inbound=require_encrypted_inbound,
        )

    @property
    def encryptor(self) -> EnvelopeEncryptor:
        return self._encryptor

    def reload(self, directory: PublicDirectory) -> None:
        """Use a new public directory (after a partner's rotation or revocation)."""
        self.directory = directory
        self._verifier.directory = directory
        self._recipients = _CurrentKeys(directory)
        self._encryptor.rotate()

    def verify_inbound(
        self,
        *,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: HeaderList | None,
        publisher: str,
        partition: int | None = None,
        offset: int | None = None,
    ) -> Verdict:
        """The verdict on the signature of a record read from ``publisher``'s outbox."""
        return self._verifier.verify(
            topic=topic,
            key=key,
            value=value,
            headers=headers,
            expected_signer=publisher,
            partition=partition,
            offset=offset,
        )

    def verify_own(
        self, *, topic: str, key: bytes | None, value: bytes | None, headers: HeaderList | None
    ) -> Verdict:
        """The verdict on a record the hub wrote to one of its own topics, read back (its
        signature must be the hub's; the key may have expired since)."""
        return self._verifier.verify(
            topic=topic,
            key=key,
            value=value,
            headers=headers,
            expected_signer=HUB_ID,
            at_rest=True,
        )

    def open_inbound(
        self,
        *,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: HeaderList | None,
        publisher: str,
        partition: int | None = None,
        offset: int | None = None,
    ) -> Opened:
        """Verify, then decrypt a record of ``publisher``'s outbox; never raises on bad input.

        ``Opened.verdict.ok`` False: dead-letter with its reason (a signature problem, or
        DECODE_ERROR when a correctly signed value is not encrypted to the hub or does
        not decrypt). ``Opened.value``: the plaintext (None for a tombstone).
        """
        verdict = self.verify_inbound(
            topic=topic,
            key=key,
            value=value,
            headers=headers,
            publisher=publisher,
            partition=partition,
            offset=offset,
        )
        if not verdict.ok or value is None:
            return Opened(value if verdict.ok else None, verdict)
        if not is_encrypted(headers):
            if not self.require_encrypted_inbound:
                return Opened(value, verdict)
            return Opened(None, _undecodable(verdict, "the value is not encrypted to the hub"))
        try:
            plain = self._decryptor.decrypt(topic=topic, key=key, value=value, headers=headers)
        except EnvelopeError as exc:
            return Opened(None, _undecodable(verdict, f"the value does not decrypt: {exc}"))
        return Opened(plain, verdict)

    def sign(
        self, *, topic: str, key: bytes | None, value: bytes | None, headers: HeaderList
    ) -> list[tuple[str, bytes]]:
        """``headers`` with the hub's signature (for records written unencrypted)."""
        return self._signer.sign(topic=topic, key=key, value=value, headers=headers)

    def seal_delivery(
        self,
        *,
        recipient: str,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: HeaderList,
        origin: Verdict | None = None,
        sealed_headers: Sequence[tuple[str, bytes]] = (),
    ) -> tuple[bytes | None, list[tuple[str, bytes]]]:
        """(value, headers) to write to ``recipient``'s inbox: encrypted, then hub-signed.

        ``headers`` must hold the delivery's CloudEvents headers (its ``ce_id`` binds
        the ciphertext); ``origin`` adds the publisher's identity from its verdict;
        ``sealed_headers`` (name, plaintext) are encrypted under the value's data key
        (for the recipient only). A tombstone (value None) is signed, not encrypted.
        """
        out = list(headers)
        if origin is not None:
            out = replace_headers(out, origin_headers(origin))
        return _seal(
            self._encryptor,
            self._signer,
            self._recipients.current(recipient) if value is not None else None,
            topic=topic,
            key=key,
            value=value,
            headers=out,
            sealed_headers=sealed_headers,
        )


class _CurrentKeys:
    """Each partner's current key, looked up once a minute rather than per record."""

    def __init__(self, directory: PublicDirectory, ttl_s: float = 60.0) -> None:
        self._directory = directory
        self._ttl = ttl_s
        self._cache: dict[str, tuple[PublicKeyRecord, float]] = {}

    def current(self, partner_id: str) -> PublicKeyRecord:
        now = time.monotonic()
        hit = self._cache.get(partner_id)
        if hit is not None and now - hit[1] < self._ttl:
            return hit[0]
        record = self._directory.current(partner_id)
        self._cache[partner_id] = (record, now)
        return record


def _undecodable(verdict: Verdict, detail: str) -> Verdict:
    return dataclasses.replace(verdict, ok=False, reason=VerdictReason.DECODE_ERROR, detail=detail)


def _seal(
    encryptor: EnvelopeEncryptor,
    signer: RecordSigner,
    recipient: PublicKeyRecord | None,
    *,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, bytes]],
    sealed_headers: Sequence[tuple[str, bytes]] = (),
) -> tuple[bytes | None, list[tuple[str, bytes]]]:
    try:
        event_id = header_text(headers, CE_ID)
    except AmbiguousHeader as exc:
        raise SigningError(f"cannot seal: {exc}") from exc
    if not event_id:
        raise SigningError("a sealed record needs its ce_id header")
    sealed = value
    if value is not None:
        if recipient is None:
            raise SigningError("a value needs a recipient key to be sealed for")
        sealed, envelope = encryptor.encrypt(
            recipient,
            topic=topic,
            key=key,
            value=value,
            event_id=event_id,
            sealed_headers=sealed_headers,
        )
        headers = replace_headers(headers, envelope)
    return sealed, signer.sign(topic=topic, key=key, value=sealed, headers=headers)
