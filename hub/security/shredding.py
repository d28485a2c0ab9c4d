"""Crypto-shredding of special-category fields: one key per subject, destroyed on erasure.

Why: docs/decisions/0005-crypto-shredding-special-category-fields.md. Each field of a
special category (``schemas.vocabulary.SPECIAL_CATEGORIES``, today ``health``) is
**sealed** with a key of its subject (the client pseudonym)::

    token = "rmt-sf1." + base64url(key id (16) | nonce (12) | AES-256-GCM(subject key,
            nonce, JSON(value), aad = canonical("rmt-hub/sealed-field/v1", subject,
            field name, key id)))

A record type with such fields gets one extra field (:func:`sealed_field_schema`)::

    {"name": "sealed_fields", "type": ["null", {"type": "map", "values": "string"}],
     "default": null, "category": "health", "doc": "..."}

:meth:`FieldSealer.seal` sets each sealed field to null and puts its token under the
field's name in ``sealed_fields``; :meth:`FieldSealer.open` reverses it. It works on the
record dict (Avro-shaped, after projection) right before serialization.

:class:`SubjectKeyStore` is the hub's key service, one for every router replica and the
consent service: the keys live in the consent database (``consent_subject_keys``, SQLite
embedded, PostgreSQL in production; :class:`SubjectKeyRows`), wrapped under a master key
(``HUB_SUBJECT_MASTER_KEY``), destroyed keys overwritten and kept as tombstones, so a
token of a destroyed key fails with :class:`SubjectKeyShredded`. Partners reach keys
through the consent service (``GET /v1/subject-keys/{subject}/{key id}``): grants
travel wrapped to the partner's X25519 key (:func:`wrap_subject_key`) and a
:class:`CachedSubjectKeys` keeps them for a bounded time (:data:`MAX_CACHE_S`).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.errors import HubError
from hub.security import canonical
from hub.security.envelope import EnvelopeDecryptor, EnvelopeEncryptor
from hub.security.errors import (
    EnvelopeError,
    KeyServiceUnavailable,
    ShreddingError,
    SubjectKeyRefused,
    SubjectKeyShredded,
    SubjectKeyUnknown,
)
from hub.security.keys import PartnerKeys, PublicKeyRecord
from schemas.vocabulary import SPECIAL_CATEGORIES, DataCategory

__all__ = [
    "MAX_CACHE_S",
    "SEALED_FIELD",
    "TOKEN_PREFIX",
    "CachedSubjectKeys",
    "FieldSealer",
    "SubjectKey",
    "SubjectKeyInfo",
    "SubjectKeyProvider",
    "SubjectKeyRows",
    "SubjectKeyStore",
    "WrappedSubjectKey",
    "is_token",
    "sealed_field_aad",
    "sealed_field_schema",
    "special_fields",
    "unwrap_at_rest",
    "unwrap_subject_key",
    "wrap_subject_key",
]

SEALED_FIELD = "sealed_fields"
TOKEN_PREFIX = "rmt-sf1."  # noqa: S105 - a format marker, not a secret
_FIELD_LABEL = b"rmt-hub/sealed-field/v1"
_STORE_LABEL = b"rmt-hub/subject-key-at-rest/v1"
_GRANT_TOPIC = "rmt-hub/subject-key-grant/v1"
_KEY_ID = 16
_NONCE = 12
_KEY = 32


def special_fields(categories: Mapping[str, DataCategory | str]) -> tuple[str, ...]:
    """The fields to seal, from ``SchemaSet.field_categories(record type)``."""
    special = {c.value for c in SPECIAL_CATEGORIES}
    return tuple(name for name, cat in categories.items() if str(cat) in special)


def sealed_field_schema() -> dict[str, Any]:
    """The field a record type with special-category fields must add to its schema."""
    return {
        "name": SEALED_FIELD,
        "type": ["null", {"type": "map", "values": "string"}],
        "default": None,
        "category": DataCategory.HEALTH.value,
        "doc": "Special-category fields sealed with the subject's key (crypto-shredding): "
        "field name -> token. The named fields are null in the record; the token opens "
        "only while the subject's key exists. Null when nothing is sealed.",
    }


def sealed_field_aad(subject: str, field: str, key_id: bytes) -> bytes:
    """The associated data of a sealed field's AES-GCM encryption."""
    return canonical.join(
        _FIELD_LABEL, [canonical.item(subject), canonical.item(field), canonical.item(key_id)]
    )


def is_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


@dataclass(frozen=True, slots=True)
class SubjectKey:
    """A subject's 256-bit field key; the secret never shows in reprs."""

    subject: str
    key_id: str  # 32 hex digits
    secret: bytes

    def __repr__(self) -> str:
        return f"SubjectKey(subject={self.subject!r}, key_id={self.key_id!r}, secret=**********)"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class SubjectKeyInfo:
    """What the store knows about a key, without the key."""

    subject: str
    key_id: str
    created_at_ms: int
    destroyed_at_ms: int | None

    @property
    def destroyed(self) -> bool:
        return self.destroyed_at_ms is not None


class SubjectKeyProvider(Protocol):
    """Where sealing and opening get subject keys."""

    def current_key(self, subject: str) -> SubjectKey:
        """The subject's live key, created when it has none."""
        ...

    def key(self, subject: str, key_id: str) -> SubjectKey:
        """The key ``key_id`` of ``subject``; SubjectKeyShredded once destroyed."""
        ...


@dataclass(frozen=True, slots=True)
class WrappedSubjectKey:
    """A subject key as its store keeps it: wrapped under the master key, None once
    destroyed (the row stays as a tombstone)."""

    key_id: str
    subject: str
    wrapped: bytes | None
    created_at_ms: int
    destroyed_at_ms: int | None = None

    def __repr__(self) -> str:
        state = "destroyed" if self.wrapped is None else "wrapped"
        return f"WrappedSubjectKey(key_id={self.key_id!r}, subject={self.subject!r}, {state})"

    __str__ = __repr__


class SubjectKeyRows(Protocol):
    """Where :class:`SubjectKeyStore` keeps its rows: the consent database
    (:class:`consent.store.ConsentStore`), shared by every router replica and the consent
    service. Errors are :class:`~hub.errors.HubError` s."""

    def live_subject_key(self, subject: str) -> WrappedSubjectKey | None:
        """The subject's newest key that is not destroyed."""
        ...

    def add_subject_key(
        self, subject: str, make: Callable[[], WrappedSubjectKey]
    ) -> WrappedSubjectKey:
        """The subject's live key, or (none) the one ``make`` returns, stored: atomically,
        so two processes never both make one."""
        ...

    def subject_key_row(self, key_id: str) -> WrappedSubjectKey | None:
        """Key ``key_id``, destroyed or not; None when there never was one."""
        ...

    def subject_key_rows(self, subject: str) -> list[WrappedSubjectKey]:
        """Every key of the subject, oldest first."""
        ...

    def destroy_subject_keys(self, subject: str, at_ms: int) -> int:
        """Overwrite every live key of the subject; how many there were."""
        ...


class SubjectKeyStore:
    """The hub's subject keys, in ``rows`` (the consent database), wrapped at rest under
    ``master_key``.

    ``cache_ttl_s`` bounds how long a key read from the database is used without looking
    again (another process sharing the database may destroy it); a destroy through this
    instance takes effect here at once. ``on_close`` runs on :meth:`close` (e.g. closing
    a store opened for this instance only).
    """

    def __init__(
        self,
        rows: SubjectKeyRows,
        master_key: bytes,
        *,
        cache_ttl_s: float = 30.0,
        clock: Callable[[], float] = time.time,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        if len(master_key) != _KEY:
            raise ShreddingError("the subject key store's master key must be 32 bytes")
        self.rows = rows
        self._kek = AESGCM(master_key)
        self._ttl = cache_ttl_s
        self._clock = clock
        self._on_close = on_close
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[SubjectKey, float]] = {}
        self._current: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"SubjectKeyStore(rows={self.rows!r}, master_key=**********)"

    def close(self) -> None:
        with self._lock:
            self._cache.clear()
            self._current.clear()
        if self._on_close is not None:
            self._on_close()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _cached(self, key_id: str) -> SubjectKey | None:
        hit = self._cache.get(key_id)
        if hit is None or self._clock() - hit[1] > self._ttl:
            return None
        return hit[0]

    def wrap(self, key: SubjectKey, *, created_at_ms: int | None = None) -> WrappedSubjectKey:
        """``key`` as the store keeps it (wrapped under the master key)."""
        nonce = os.urandom(_NONCE)
        wrapped = nonce + self._kek.encrypt(
            nonce, key.secret, _at_rest_aad(key.subject, key.key_id)
        )
        return WrappedSubjectKey(
            key.key_id,
            key.subject,
            wrapped,
            self._now_ms() if created_at_ms is None else created_at_ms,
        )

    def _new(self, subject: str) -> WrappedSubjectKey:
        key_id = os.urandom(_KEY_ID).hex()
        return self.wrap(SubjectKey(subject, key_id, AESGCM.generate_key(bit_length=256)))

    def _unwrap(self, row: WrappedSubjectKey) -> SubjectKey:
        return _unwrap(self._kek, row)

    def current_key(self, subject: str) -> SubjectKey:
        with self._lock:
            key_id = self._current.get(subject)
            if key_id is not None:
                cached = self._cached(key_id)
                if cached is not None:
                    return cached
            with _store_errors():
                row = self.rows.live_subject_key(subject) or self.rows.add_subject_key(
                    subject, lambda: self._new(subject)
                )
            key = self._unwrap(row)
            self._cache[key.key_id] = (key, self._clock())
            self._current[subject] = key.key_id
            return key

    def key(self, subject: str, key_id: str) -> SubjectKey:
        with self._lock:
            cached = self._cached(key_id)
            if cached is not None and cached.subject == subject:
                return cached
            with _store_errors():
                row = self.rows.subject_key_row(key_id)
            if row is None or row.subject != subject:
                raise SubjectKeyUnknown(f"no key {key_id} for subject {subject}")
            key = self._unwrap(row)
            self._cache[key_id] = (key, self._clock())
            return key

    def destroy(self, subject: str) -> int:
        """Destroy every key of ``subject``; returns how many were live."""
        with self._lock:
            for key_id in [k for k, (v, _) in self._cache.items() if v.subject == subject]:
                del self._cache[key_id]
            self._current.pop(subject, None)
            with _store_errors():
                return self.rows.destroy_subject_keys(subject, self._now_ms())

    def keys_of(self, subject: str) -> list[SubjectKeyInfo]:
        """The subject's keys, oldest first (never the secrets)."""
        with _store_errors():
            rows = self.rows.subject_key_rows(subject)
        return [SubjectKeyInfo(subject, r.key_id, r.created_at_ms, r.destroyed_at_ms) for r in rows]

    def is_shredded(self, subject: str) -> bool:
        """True when the subject had keys and none is live."""
        infos = self.keys_of(subject)
        return bool(infos) and all(i.destroyed for i in infos)


def _at_rest_aad(subject: str, key_id: str) -> bytes:
    return canonical.join(_STORE_LABEL, [canonical.item(subject), canonical.item(key_id)])


def _unwrap(kek: AESGCM, row: WrappedSubjectKey) -> SubjectKey:
    if row.wrapped is None:
        raise SubjectKeyShredded(row.subject, row.key_id)
    wrapped = row.wrapped
    try:
        secret = kek.decrypt(
            wrapped[:_NONCE], wrapped[_NONCE:], _at_rest_aad(row.subject, row.key_id)
        )
    except InvalidTag as exc:
        raise ShreddingError(
            f"subject key {row.key_id} does not open with the master key (another "
            "HUB_SUBJECT_MASTER_KEY than the one it was stored under?)"
        ) from exc
    return SubjectKey(row.subject, row.key_id, secret)


def unwrap_at_rest(row: WrappedSubjectKey, master_key: bytes) -> SubjectKey:
    """The key in ``row``, wrapped under ``master_key`` (a migration between master keys);
    SubjectKeyShredded for a tombstone."""
    if len(master_key) != _KEY:
        raise ShreddingError("a subject key master key must be 32 bytes")
    return _unwrap(AESGCM(master_key), row)


@contextmanager
def _store_errors() -> Iterator[None]:
    """A database error of the rows as KeyServiceUnavailable: the caller tries again
    (a router's batch, a partition's load), it never takes a key for missing."""
    try:
        yield
    except ShreddingError:
        raise
    except HubError as exc:
        raise KeyServiceUnavailable(f"subject key store: {exc}") from exc


MAX_CACHE_S = 300.0
"""The longest a :class:`CachedSubjectKeys` keeps an answer: a destroyed key, or a grant
refused since, stops opening fields in the process within this time at the latest."""


class CachedSubjectKeys:
    """A provider for processes outside the hub: ``fetch`` asks the hub's key service.

    ``fetch(subject, key_id)`` returns the key (``key_id`` None: the current one), or the
    key and how long the service lets it be kept (seconds), or raises SubjectKeyShredded
    or SubjectKeyRefused. An answer is kept for ``ttl_s`` seconds (default 60), or less
    when the service says so, never more than :data:`MAX_CACHE_S`: a key destroyed or a
    grant refused reaches this process within that time (:meth:`forget` at once).
    Shredded and refused answers are kept too; KeyServiceUnavailable is not (the next
    use asks again).
    """

    def __init__(
        self,
        fetch: Callable[[str, str | None], SubjectKey | tuple[SubjectKey, float]],
        *,
        ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        if not 0 <= ttl_s <= MAX_CACHE_S:
            raise ShreddingError(f"a subject key cache lasts 0 to {MAX_CACHE_S:.0f} seconds")
        self._on_close = on_close
        self._fetch = fetch
        self._ttl = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str | None], tuple[SubjectKey | ShreddingError, float]] = {}

    @property
    def ttl_s(self) -> float:
        return self._ttl

    def _get(self, subject: str, key_id: str | None) -> SubjectKey:
        now = self._clock()
        with self._lock:
            hit = self._keys.get((subject, key_id))
        if hit is not None and now < hit[1]:
            if isinstance(hit[0], ShreddingError):
                raise hit[0]
            return hit[0]
        try:
            answer = self._fetch(subject, key_id)
        except (SubjectKeyShredded, SubjectKeyRefused) as exc:
            with self._lock:
                self._keys[(subject, key_id)] = (exc, now + self._ttl)
            raise
        key, ttl = answer if isinstance(answer, tuple) else (answer, self._ttl)
        until = now + max(0.0, min(ttl, self._ttl))
        with self._lock:
            self._keys[(subject, key_id)] = (key, until)
            self._keys[(subject, key.key_id)] = (key, until)
        return key

    def current_key(self, subject: str) -> SubjectKey:
        return self._get(subject, None)

    def key(self, subject: str, key_id: str) -> SubjectKey:
        return self._get(subject, key_id)

    def forget(self, subject: str) -> None:
        """Drop the subject's cached keys (e.g. on an erasure notice)."""
        with self._lock:
            for cache_key in [k for k in self._keys if k[0] == subject]:
                del self._keys[cache_key]

    def close(self) -> None:
        """Drop every cached key (and close what ``on_close`` closes)."""
        with self._lock:
            self._keys.clear()
        if self._on_close is not None:
            self._on_close()


def wrap_subject_key(
    key: SubjectKey, recipient: PublicKeyRecord, *, random: Callable[[int], bytes] = os.urandom
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A subject key for transport to ``recipient`` (its X25519 key): (blob, headers)."""
    encryptor = EnvelopeEncryptor(random=random)
    return encryptor.encrypt(
        recipient,
        topic=_GRANT_TOPIC,
        key=key.subject.encode("utf-8"),
        value=bytes.fromhex(key.key_id) + key.secret,
        event_id=key.key_id,
    )


def unwrap_subject_key(
    subject: str,
    key_id: str,
    blob: bytes,
    headers: list[tuple[str, bytes]],
    keys: Iterable[PartnerKeys],
) -> SubjectKey:
    """The subject key in a grant made by :func:`wrap_subject_key`."""
    try:
        plain = EnvelopeDecryptor(keys).decrypt(
            topic=_GRANT_TOPIC,
            key=subject.encode("utf-8"),
            value=blob,
            headers=headers,
            event_id=key_id,
        )
    except EnvelopeError as exc:
        raise ShreddingError(f"the grant of key {key_id} does not open: {exc}") from exc
    if len(plain) != _KEY_ID + _KEY or plain[:_KEY_ID].hex() != key_id:
        raise ShreddingError(f"the grant of key {key_id} is malformed")
    return SubjectKey(subject, key_id, plain[_KEY_ID:])


class FieldSealer:
    """Seals and opens special-category fields of record dicts with subject keys."""

    def __init__(
        self,
        keys: SubjectKeyProvider,
        *,
        sealed_field: str = SEALED_FIELD,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        """``random``: where nonces come from (fixed only to make test vectors)."""
        self.keys = keys
        self.sealed_field = sealed_field
        self._random = random
        self._aeads: dict[str, AESGCM] = {}

    def _aead(self, key: SubjectKey) -> AESGCM:
        aead = self._aeads.get(key.key_id)
        if aead is None:
            if len(self._aeads) > 4096:
                self._aeads.clear()
            aead = self._aeads[key.key_id] = AESGCM(key.secret)
        return aead

    def seal_value(self, subject: str, field: str, value: Any) -> str:
        """The token of one field value."""
        try:
            plain = json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise ShreddingError(
                f"field {field}: only JSON-representable values can be sealed"
            ) from exc
        key = self.keys.current_key(subject)
        key_id = bytes.fromhex(key.key_id)
        nonce = self._random(_NONCE)
        sealed = self._aead(key).encrypt(nonce, plain, sealed_field_aad(subject, field, key_id))
        return TOKEN_PREFIX + base64.urlsafe_b64encode(key_id + nonce + sealed).decode("ascii")

    def open_value(self, subject: str, field: str, token: str) -> Any:
        """The value in a token (SubjectKeyShredded once the subject's key is gone)."""
        if not is_token(token):
            raise ShreddingError(f"field {field}: not a sealed-field token")
        try:
            raw = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :].encode("ascii"))
        except (binascii.Error, ValueError) as exc:
            raise ShreddingError(f"field {field}: the token is not base64url") from exc
        if len(raw) < _KEY_ID + _NONCE + 16:
            raise ShreddingError(f"field {field}: the token is too short")
        key_id, nonce, sealed = (
            raw[:_KEY_ID],
            raw[_KEY_ID : _KEY_ID + _NONCE],
            raw[_KEY_ID + _NONCE :],
        )
        key = self.keys.key(subject, key_id.hex())
        try:
            plain = self._aead(key).decrypt(nonce, sealed, sealed_field_aad(subject, field, key_id))
        except InvalidTag as exc:
            raise ShreddingError(
                f"field {field}: the token does not open (altered, or another subject's)"
            ) from exc
        return json.loads(plain)

    def seal(
        self, record: Mapping[str, Any], fields: Iterable[str], *, subject: str
    ) -> dict[str, Any]:
        """A copy of ``record`` with ``fields`` (the non-null ones) moved into tokens.

        Tokens already in the record's ``sealed_fields`` (sealed upstream) are kept.
        """
        out = dict(record)
        tokens: dict[str, str] = dict(record.get(self.sealed_field) or {})
        for field in fields:
            value = out.get(field)
            if value is None:
                continue
            tokens[field] = self.seal_value(subject, field, value)
            out[field] = None
        out[self.sealed_field] = tokens or None
        return out

    def open(
        self,
        record: Mapping[str, Any],
        *,
        subject: str,
        on_shredded: Literal["raise", "null"] = "raise",
    ) -> dict[str, Any]:
        """A copy of ``record`` with every token opened back into its field.

        ``on_shredded="null"`` leaves the fields of destroyed keys null (and their
        tokens dropped) instead of raising SubjectKeyShredded.
        """
        out = dict(record)
        tokens: Mapping[str, str] = record.get(self.sealed_field) or {}
        for field, token in tokens.items():
            try:
                out[field] = self.open_value(subject, field, token)
            except SubjectKeyShredded:
                if on_shredded == "raise":
                    raise
                out[field] = None
        out[self.sealed_field] = None
        return out
