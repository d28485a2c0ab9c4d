"""Per-recipient envelope encryption of record values (AES-256-GCM data keys, X25519 wrap).

The hub encrypts every value it writes to a partner's inbox so that only that partner
can read it, whoever else can reach the topic (the embedded broker has no ACLs, and a
misconfigured ACL is silent). The scheme, ``x25519-hkdf-sha256/aes-256-gcm/v1``:

**Data keys (DEKs).** A random 256-bit AES-GCM key per recipient key, reused for at most
``DekPolicy.max_records`` records or ``DekPolicy.max_age`` (whichever comes first), as
Kroxylicious does, so wrapping costs one X25519 exchange per DEK, not per record.
Each DEK has a random 16-byte id.

**Wrapping a DEK for the recipient** (ECIES-style, the shape of HPKE base mode)::

    ephemeral X25519 key pair e; shared = X25519(e, recipient encryption key)
    kek     = HKDF-SHA256(shared, salt = e.pub | recipient.pub,
                          info = "rmt-hub/dek-wrap/v1" | recipient key id, 32 bytes)
    wrapped = AES-256-GCM(kek, random 96-bit nonce, DEK,
                          aad = canonical("rmt-hub/dek-wrap/v1", dek id, recipient key id))
    rmt-enc-dek = base64(0x01 | dek id (16) | e.pub (32) | nonce (12) | wrapped (48))

Every record carries the (small, 148 characters) wrapped DEK, so any record can be
decrypted on its own, after compaction or from the middle of a topic; the recipient
caches the *unwrapped* DEK by the header's bytes, so it unwraps once per DEK.

**Encrypting a value**::

    value' = nonce (12) | AES-256-GCM(DEK, nonce, value, aad)
    aad    = canonical("rmt-hub/record-encryption/v1", topic, record key, event id,
                       dek id, recipient key id)

so a ciphertext moved to another topic, key or event id (``ce_id``) does not decrypt.
Nonces are random; with at most ``max_records`` per DEK (default 100 000, far below the
2^32 random-nonce bound of NIST SP 800-38D) they never repeat in practice.

Headers: ``rmt-enc-alg``, ``rmt-enc-key`` (recipient key id), ``rmt-enc-dek``. The
record's other headers (CloudEvents) stay readable, so routing metadata is visible
but the payload is not. Tombstones (null values) are not encrypted.

**Encrypted headers.** A header whose value must stay inside the envelope (the
delivery's disclosure, ``rmt-enc-disclosure``) is encrypted under the record's DEK::

    header' = base64(nonce (12) | AES-256-GCM(DEK, nonce, plaintext, aad))
    aad     = canonical("rmt-hub/header-encryption/v1", header name, topic, record key,
                        event id, dek id, recipient key id)

so only the recipient opens it, and it cannot be moved to another header, record or
topic (:meth:`EnvelopeEncryptor.encrypt` ``sealed_headers``,
:meth:`EnvelopeDecryptor.decrypt_header`).

**Kept for itself.** :class:`SelfSealer` seals bytes for the holder of a key pair
itself (the hub's operations identity: the router's own copy of a delivery's
disclosure, ``rmt-hub-disclosure``), under an AES-256-GCM key derived from its X25519
private key: only a holder of that private key makes or opens such a value, so nobody
without it can plant one::

    key   = HKDF-SHA256(X25519 private key, salt = none, info = "rmt-hub/self-sealed/v1"
                        | key id, 32 bytes)
    value = base64(key id (16) | nonce (12) | AES-256-GCM(key, nonce, plaintext,
            aad = canonical("rmt-hub/self-sealed/v1", header name, topic, record key,
                            event id, key id)))
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.security import canonical
from hub.security.errors import DecryptionFailed, EnvelopeError, NotEncrypted, NotForRecipient
from hub.security.headers import (
    CE_ID,
    ENC_ALG,
    ENC_DEK,
    ENC_KEY,
    AmbiguousHeader,
    HeaderList,
    header_text,
    header_value,
)
from hub.security.keys import KeyStatus, PartnerKeys, PublicKeyRecord

__all__ = [
    "ENVELOPE_ALGORITHM",
    "DekPolicy",
    "EnvelopeDecryptor",
    "EnvelopeEncryptor",
    "SelfSealer",
    "derive_kek",
    "header_aad",
    "is_encrypted",
    "record_aad",
    "wrap_aad",
]

ENVELOPE_ALGORITHM = "x25519-hkdf-sha256/aes-256-gcm/v1"
_WRAP_LABEL = b"rmt-hub/dek-wrap/v1"
_RECORD_LABEL = b"rmt-hub/record-encryption/v1"
_HEADER_LABEL = b"rmt-hub/header-encryption/v1"
_SELF_LABEL = b"rmt-hub/self-sealed/v1"
_BLOB_VERSION = 1
_DEK_ID = 16
_PUB = 32
_NONCE = 12
_DEK = 32
_WRAPPED = _DEK + 16
_BLOB = 1 + _DEK_ID + _PUB + _NONCE + _WRAPPED


@dataclass(frozen=True)
class DekPolicy:
    """When a data key is replaced: after ``max_records`` records or ``max_age``."""

    max_records: int = 100_000
    max_age: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.max_records < 1 or self.max_age.total_seconds() <= 0:
            raise ValueError("a DEK policy needs max_records >= 1 and a positive max_age")


@dataclass
class _Dek:
    dek_id: bytes
    aead: AESGCM
    header: bytes
    created: float
    used: int = 0


def derive_kek(shared: bytes, ephemeral: bytes, recipient: bytes, key_id: str) -> bytes:
    if shared == bytes(len(shared)):
        raise EnvelopeError("the X25519 exchange gave an all-zero secret")
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=ephemeral + recipient,
        info=_WRAP_LABEL + key_id.encode("ascii"),
    ).derive(shared)


def wrap_aad(dek_id: bytes, key_id: str) -> bytes:
    return canonical.join(_WRAP_LABEL, [canonical.item(dek_id), canonical.item(key_id)])


def record_aad(topic: str, key: bytes | None, event_id: str, dek_id: bytes, key_id: str) -> bytes:
    return canonical.join(
        _RECORD_LABEL,
        [
            canonical.item(topic),
            canonical.optional(key),
            canonical.item(event_id),
            canonical.item(dek_id),
            canonical.item(key_id),
        ],
    )


def header_aad(
    name: str, *, topic: str, key: bytes | None, event_id: str, dek_id: bytes, key_id: str
) -> bytes:
    """The associated data of header ``name`` encrypted under a record's DEK."""
    return canonical.join(
        _HEADER_LABEL,
        [
            canonical.item(name),
            canonical.item(topic),
            canonical.optional(key),
            canonical.item(event_id),
            canonical.item(dek_id),
            canonical.item(key_id),
        ],
    )


def is_encrypted(headers: HeaderList | None) -> bool:
    """True when the record carries envelope headers."""
    return any(name == ENC_ALG for name, _ in headers or ())


class EnvelopeEncryptor:
    """Encrypts values for recipients, one live DEK per recipient key (thread-safe).

    ``random``: where DEKs, DEK ids, ephemeral keys and nonces come from (n -> n bytes;
    the operating system's CSPRNG; fixed only to make test vectors)."""

    def __init__(
        self,
        policy: DekPolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.policy = policy or DekPolicy()
        self._clock = clock
        self._random = random
        self._deks: dict[str, _Dek] = {}
        self._lock = threading.Lock()
        self.deks_created = 0

    def __repr__(self) -> str:
        return f"EnvelopeEncryptor(policy={self.policy!r}, live_deks={len(self._deks)})"

    def _new_dek(self, recipient: PublicKeyRecord) -> _Dek:
        dek = self._random(_DEK)
        dek_id = self._random(_DEK_ID)
        recipient_pub = recipient.encryption_public_bytes()
        ephemeral = X25519PrivateKey.from_private_bytes(self._random(_PUB))
        ephemeral_pub = ephemeral.public_key().public_bytes_raw()
        try:
            shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_pub))
        except ValueError as exc:
            raise EnvelopeError(f"key {recipient.key_id} is not a usable X25519 key") from exc
        kek = derive_kek(shared, ephemeral_pub, recipient_pub, recipient.key_id)
        nonce = self._random(_NONCE)
        wrapped = AESGCM(kek).encrypt(nonce, dek, wrap_aad(dek_id, recipient.key_id))
        blob = bytes([_BLOB_VERSION]) + dek_id + ephemeral_pub + nonce + wrapped
        self.deks_created += 1
        return _Dek(dek_id, AESGCM(dek), base64.b64encode(blob), self._clock())

    def _dek_for(self, recipient: PublicKeyRecord) -> _Dek:
        now = self._clock()
        dek = self._deks.get(recipient.key_id)
        if (
            dek is None
            or dek.used >= self.policy.max_records
            or now - dek.created >= self.policy.max_age.total_seconds()
        ):
            dek = self._new_dek(recipient)
            self._deks[recipient.key_id] = dek
        dek.used += 1
        return dek

    def rotate(self, key_id: str | None = None) -> None:
        """Drop the live DEK of ``key_id`` (all when None): the next record gets a new one."""
        with self._lock:
            if key_id is None:
                self._deks.clear()
            else:
                self._deks.pop(key_id, None)

    def encrypt(
        self,
        recipient: PublicKeyRecord,
        *,
        topic: str,
        key: bytes | None,
        value: bytes,
        event_id: str,
        sealed_headers: Sequence[tuple[str, bytes]] = (),
    ) -> tuple[bytes, list[tuple[str, bytes]]]:
        """(ciphertext, the three ``rmt-enc-*`` headers) of ``value`` for ``recipient``;
        then each of ``sealed_headers`` (name, plaintext) encrypted under the same DEK."""
        if recipient.status is KeyStatus.REVOKED:
            raise EnvelopeError(f"key {recipient.key_id} of {recipient.partner_id} is revoked")
        if not event_id:
            raise EnvelopeError("an encrypted record needs its event id")
        with self._lock:
            dek = self._dek_for(recipient)
        nonce = self._random(_NONCE)
        aad = record_aad(topic, key, event_id, dek.dek_id, recipient.key_id)
        ciphertext = nonce + dek.aead.encrypt(nonce, value, aad)
        headers = [
            (ENC_ALG, ENVELOPE_ALGORITHM.encode("ascii")),
            (ENC_KEY, recipient.key_id.encode("ascii")),
            (ENC_DEK, dek.header),
        ]
        for name, plain in sealed_headers:
            nonce = self._random(_NONCE)
            aad = header_aad(
                name,
                topic=topic,
                key=key,
                event_id=event_id,
                dek_id=dek.dek_id,
                key_id=recipient.key_id,
            )
            sealed = nonce + dek.aead.encrypt(nonce, plain, aad)
            headers.append((name, base64.b64encode(sealed)))
        return ciphertext, headers


class EnvelopeDecryptor:
    """Decrypts values encrypted to any of ``keys`` (a recipient's key generations).

    Unwrapped DEKs are cached by the exact ``rmt-enc-dek`` header (at most
    ``cache_size``), so a record with a forged header can never make a cached DEK
    apply to it, nor evict the right one for later records.
    """

    def __init__(self, keys: Iterable[PartnerKeys], *, cache_size: int = 1024) -> None:
        self._keys: dict[str, PartnerKeys] = {k.key_id: k for k in keys}
        if not self._keys:
            raise EnvelopeError("a decryptor needs at least one private key")
        self._cache: OrderedDict[tuple[str, bytes], tuple[bytes, AESGCM]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.unwraps = 0

    def __repr__(self) -> str:
        return f"EnvelopeDecryptor(key_ids={sorted(self._keys)!r}, private=**********)"

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def _unwrap(self, key_id: str, header: bytes) -> tuple[bytes, AESGCM]:
        cache_key = (key_id, header)
        with self._lock:
            hit = self._cache.get(cache_key)
            if hit is not None:
                self._cache.move_to_end(cache_key)
                return hit
        try:
            blob = base64.b64decode(header, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DecryptionFailed("rmt-enc-dek is not base64") from exc
        if len(blob) != _BLOB or blob[0] != _BLOB_VERSION:
            raise DecryptionFailed("rmt-enc-dek has the wrong length or version")
        dek_id = blob[1 : 1 + _DEK_ID]
        ephemeral_pub = blob[1 + _DEK_ID : 1 + _DEK_ID + _PUB]
        nonce = blob[1 + _DEK_ID + _PUB : 1 + _DEK_ID + _PUB + _NONCE]
        wrapped = blob[1 + _DEK_ID + _PUB + _NONCE :]
        private = self._keys[key_id].encryption_key
        try:
            shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_pub))
            kek = derive_kek(shared, ephemeral_pub, private.public_key().public_bytes_raw(), key_id)
            dek = AESGCM(kek).decrypt(nonce, wrapped, wrap_aad(dek_id, key_id))
        except (InvalidTag, ValueError, EnvelopeError) as exc:
            raise DecryptionFailed("the wrapped data key does not open with this key") from exc
        entry = (dek_id, AESGCM(dek))
        with self._lock:
            self.unwraps += 1
            self._cache[cache_key] = entry
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return entry

    def _envelope(
        self, headers: HeaderList | None, event_id: str | None
    ) -> tuple[str, bytes, AESGCM, str]:
        """(recipient key id, DEK id, DEK, event id) of a record's envelope headers."""
        try:
            alg = header_text(headers, ENC_ALG)
            key_id = header_text(headers, ENC_KEY)
            dek_header = header_value(headers, ENC_DEK)
            if event_id is None:
                event_id = header_text(headers, CE_ID)
        except AmbiguousHeader as exc:
            raise DecryptionFailed(f"ambiguous envelope: {exc}") from exc
        if alg is None:
            raise NotEncrypted("the record carries no rmt-enc-alg header")
        if alg != ENVELOPE_ALGORITHM:
            raise EnvelopeError(f"unsupported envelope algorithm {alg!r}")
        if not key_id or dek_header is None:
            raise DecryptionFailed("rmt-enc-key or rmt-enc-dek is missing")
        if key_id not in self._keys:
            raise NotForRecipient(key_id)
        if not event_id:
            raise DecryptionFailed("no event id (ce_id) to bind the ciphertext to")
        dek_id, aead = self._unwrap(key_id, dek_header)
        return key_id, dek_id, aead, event_id

    def decrypt_header(
        self,
        name: str,
        *,
        topic: str,
        key: bytes | None,
        headers: HeaderList | None,
        event_id: str | None = None,
    ) -> bytes | None:
        """The plaintext of header ``name``, encrypted under the record's DEK (None when
        the record has no such header); the errors of :meth:`decrypt`."""
        try:
            text = header_value(headers, name)
        except AmbiguousHeader as exc:
            raise DecryptionFailed(f"ambiguous envelope: {exc}") from exc
        if text is None:
            return None
        sealed = _unbase64(text, name)
        key_id, dek_id, aead, event_id = self._envelope(headers, event_id)
        if len(sealed) < _NONCE + 16:
            raise DecryptionFailed(f"header {name} is too short")
        aad = header_aad(
            name, topic=topic, key=key, event_id=event_id, dek_id=dek_id, key_id=key_id
        )
        try:
            return aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)
        except InvalidTag as exc:
            raise DecryptionFailed(
                f"header {name} does not decrypt: altered, or moved from another record"
            ) from exc

    def decrypt(
        self,
        *,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: HeaderList | None,
        event_id: str | None = None,
    ) -> bytes:
        """The plaintext of ``value``; ``event_id`` defaults to the ``ce_id`` header.

        NotEncrypted: no envelope headers. NotForRecipient: encrypted to a key this
        decryptor does not hold. DecryptionFailed: anything was altered.
        """
        key_id, dek_id, aead, event_id = self._envelope(headers, event_id)
        if len(value) < _NONCE + 16:
            raise DecryptionFailed("the ciphertext is too short")
        aad = record_aad(topic, key, event_id, dek_id, key_id)
        try:
            return aead.decrypt(value[:_NONCE], value[_NONCE:], aad)
        except InvalidTag as exc:
            raise DecryptionFailed(
                "the value does not decrypt: ciphertext, topic, key or event id altered"
            ) from exc


class SelfSealer:
    """Seals bytes for the holder of ``keys`` itself: AES-256-GCM under a key derived
    from its X25519 private key (see the module docstring). Seals with the first of
    ``keys`` (the current generation), opens with any of them."""

    def __init__(self, keys: Iterable[PartnerKeys], *, random: Callable[[int], bytes] = os.urandom):
        held = list(keys)
        if not held:
            raise EnvelopeError("a self-sealer needs at least one private key")
        self._current = held[0].key_id
        self._aeads = {k.key_id: AESGCM(_self_key(k)) for k in held}
        self._random = random

    def __repr__(self) -> str:
        return f"SelfSealer(key_ids={sorted(self._aeads)!r}, private=**********)"

    @staticmethod
    def _aad(name: str, topic: str, key: bytes | None, event_id: str, key_id: str) -> bytes:
        return canonical.join(
            _SELF_LABEL,
            [
                canonical.item(name),
                canonical.item(topic),
                canonical.optional(key),
                canonical.item(event_id),
                canonical.item(key_id),
            ],
        )

    def seal(
        self, name: str, *, topic: str, key: bytes | None, event_id: str, value: bytes
    ) -> bytes:
        """``value`` sealed as header ``name`` of the record (topic, key, event id)."""
        nonce = self._random(_NONCE)
        aad = self._aad(name, topic, key, event_id, self._current)
        sealed = self._aeads[self._current].encrypt(nonce, value, aad)
        return base64.b64encode(bytes.fromhex(self._current) + nonce + sealed)

    def open(
        self, name: str, sealed: bytes, *, topic: str, key: bytes | None, event_id: str
    ) -> bytes:
        """The plaintext of :meth:`seal`; NotForRecipient for another key's, DecryptionFailed
        when altered, moved, or made by anyone without the private key."""
        sealed = _unbase64(sealed, name)
        if len(sealed) < _DEK_ID + _NONCE + 16:
            raise DecryptionFailed(f"header {name} is too short")
        key_id = sealed[:_DEK_ID].hex()
        aead = self._aeads.get(key_id)
        if aead is None:
            raise NotForRecipient(key_id)
        body = sealed[_DEK_ID:]
        try:
            return aead.decrypt(
                body[:_NONCE], body[_NONCE:], self._aad(name, topic, key, event_id, key_id)
            )
        except InvalidTag as exc:
            raise DecryptionFailed(
                f"header {name} does not open: altered, moved or forged"
            ) from exc


def _unbase64(text: bytes, name: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionFailed(f"header {name} is not base64") from exc


def _self_key(keys: PartnerKeys) -> bytes:
    private = keys.encryption_key.private_bytes_raw()
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=_SELF_LABEL + keys.key_id.encode("ascii"),
    ).derive(private)
