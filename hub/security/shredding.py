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

:class:`SubjectKeyStore` (SQLite in ``data_dir``) is the hub's key service: keys wrapped
under a master key (0600 file in the keys dir), destroyed keys overwritten in place
(``PRAGMA secure_delete``) and kept as tombstones, so a token of a destroyed key fails
with :class:`SubjectKeyShredded`. Other processes reach keys through a
:class:`SubjectKeyProvider`: :class:`CachedSubjectKeys` caches what a fetch function
returns for a bounded time; grants travel wrapped to the partner's X25519 key
(:func:`wrap_subject_key`).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.security import canonical
from hub.security.envelope import EnvelopeDecryptor, EnvelopeEncryptor
from hub.security.errors import (
    EnvelopeError,
    ShreddingError,
    SubjectKeyShredded,
    SubjectKeyUnknown,
)
from hub.security.keys import PartnerKeys, PublicKeyRecord
from schemas.vocabulary import SPECIAL_CATEGORIES, DataCategory

__all__ = [
    "SEALED_FIELD",
    "TOKEN_PREFIX",
    "CachedSubjectKeys",
    "FieldSealer",
    "SubjectKey",
    "SubjectKeyInfo",
    "SubjectKeyProvider",
    "SubjectKeyStore",
    "is_token",
    "sealed_field_aad",
    "sealed_field_schema",
    "special_fields",
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


class SubjectKeyStore:
    """The hub's subject keys: SQLite, wrapped at rest under ``master_key``.

    ``cache_ttl_s`` bounds how long a key read from the database is used without
    looking again (another process sharing the file may destroy it); a destroy through
    this instance takes effect at once.
    """

    def __init__(
        self,
        path: Path,
        master_key: bytes,
        *,
        cache_ttl_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(master_key) != _KEY:
            raise ShreddingError("the subject key store's master key must be 32 bytes")
        self.path = path
        self._kek = AESGCM(master_key)
        self._ttl = cache_ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[SubjectKey, float]] = {}
        self._current: dict[str, str] = {}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.execute("PRAGMA busy_timeout = 5000")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS subject_keys (key_id TEXT PRIMARY KEY, subject "
                "TEXT NOT NULL, wrapped BLOB, created_at_ms INTEGER NOT NULL, destroyed_at_ms "
                "INTEGER)"
            )
            self._db.execute(
                "CREATE INDEX IF NOT EXISTS subject_keys_subject ON subject_keys (subject)"
            )
        except sqlite3.Error as exc:
            raise ShreddingError(f"subject key store {path}: {exc}") from exc
        os.chmod(path, 0o600)

    def __repr__(self) -> str:
        return f"SubjectKeyStore(path={str(self.path)!r}, master_key=**********)"

    def close(self) -> None:
        with self._lock:
            self._cache.clear()
            self._db.close()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _aad(self, subject: str, key_id: str) -> bytes:
        return canonical.join(_STORE_LABEL, [canonical.item(subject), canonical.item(key_id)])

    def _cached(self, key_id: str) -> SubjectKey | None:
        hit = self._cache.get(key_id)
        if hit is None or self._clock() - hit[1] > self._ttl:
            return None
        return hit[0]

    def current_key(self, subject: str) -> SubjectKey:
        with self._lock:
            key_id = self._current.get(subject)
            if key_id is not None:
                cached = self._cached(key_id)
                if cached is not None:
                    return cached
            try:
                row = self._db.execute(
                    "SELECT key_id, wrapped FROM subject_keys WHERE subject = ? AND wrapped IS "
                    "NOT NULL ORDER BY created_at_ms DESC LIMIT 1",
                    (subject,),
                ).fetchone()
                if row is not None:
                    key = self._unwrap(subject, str(row[0]), bytes(row[1]))
                else:
                    key = self._create(subject)
            except sqlite3.Error as exc:
                raise ShreddingError(f"subject key store {self.path}: {exc}") from exc
            self._cache[key.key_id] = (key, self._clock())
            self._current[subject] = key.key_id
            return key

    def _create(self, subject: str) -> SubjectKey:
        key_id = os.urandom(_KEY_ID).hex()
        secret = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE)
        wrapped = nonce + self._kek.encrypt(nonce, secret, self._aad(subject, key_id))
        self._db.execute(
            "INSERT INTO subject_keys (key_id, subject, wrapped, created_at_ms) VALUES (?,?,?,?)",
            (key_id, subject, wrapped, self._now_ms()),
        )
        return SubjectKey(subject, key_id, secret)

    def _unwrap(self, subject: str, key_id: str, wrapped: bytes) -> SubjectKey:
        try:
            secret = self._kek.decrypt(
                wrapped[:_NONCE], wrapped[_NONCE:], self._aad(subject, key_id)
            )
        except InvalidTag as exc:
            raise ShreddingError(
                f"subject key {key_id} does not open with the master key (wrong key file?)"
            ) from exc
        return SubjectKey(subject, key_id, secret)

    def key(self, subject: str, key_id: str) -> SubjectKey:
        with self._lock:
            cached = self._cached(key_id)
            if cached is not None and cached.subject == subject:
                return cached
            try:
                row = self._db.execute(
                    "SELECT subject, wrapped FROM subject_keys WHERE key_id = ?", (key_id,)
                ).fetchone()
            except sqlite3.Error as exc:
                raise ShreddingError(f"subject key store {self.path}: {exc}") from exc
            if row is None or row[0] != subject:
                raise SubjectKeyUnknown(f"no key {key_id} for subject {subject}")
            if row[1] is None:
                raise SubjectKeyShredded(subject, key_id)
            key = self._unwrap(subject, key_id, bytes(row[1]))
            self._cache[key_id] = (key, self._clock())
            return key

    def destroy(self, subject: str) -> int:
        """Destroy every key of ``subject``; returns how many were live."""
        with self._lock:
            for key_id in [k for k, (v, _) in self._cache.items() if v.subject == subject]:
                del self._cache[key_id]
            self._current.pop(subject, None)
            try:
                cursor = self._db.execute(
                    "UPDATE subject_keys SET wrapped = NULL, destroyed_at_ms = ? "
                    "WHERE subject = ? AND wrapped IS NOT NULL",
                    (self._now_ms(), subject),
                )
            except sqlite3.Error as exc:
                raise ShreddingError(f"subject key store {self.path}: {exc}") from exc
            return int(cursor.rowcount)

    def keys_of(self, subject: str) -> list[SubjectKeyInfo]:
        """The subject's keys, oldest first (never the secrets)."""
        try:
            rows = self._db.execute(
                "SELECT key_id, created_at_ms, destroyed_at_ms FROM subject_keys "
                "WHERE subject = ? ORDER BY created_at_ms",
                (subject,),
            ).fetchall()
        except sqlite3.Error as exc:
            raise ShreddingError(f"subject key store {self.path}: {exc}") from exc
        return [SubjectKeyInfo(subject, str(r[0]), int(r[1]), r[2]) for r in rows]

    def is_shredded(self, subject: str) -> bool:
        """True when the subject had keys and none is live."""
        infos = self.keys_of(subject)
        return bool(infos) and all(i.destroyed for i in infos)


class CachedSubjectKeys:
    """A provider for processes outside the hub: ``fetch`` asks the hub's key service.

    ``fetch(subject, key_id)`` returns the key (``key_id`` None: the current one) or
    raises SubjectKeyShredded. Answers are kept ``ttl_s`` seconds (default 60), so a
    destroy reaches this process within that time; shredded answers are kept too.
    """

    def __init__(
        self,
        fetch: Callable[[str, str | None], SubjectKey],
        *,
        ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str | None], tuple[SubjectKey | None, float]] = {}

    def _get(self, subject: str, key_id: str | None) -> SubjectKey:
        now = self._clock()
        with self._lock:
            hit = self._keys.get((subject, key_id))
        if hit is not None and now - hit[1] <= self._ttl:
            if hit[0] is None:
                raise SubjectKeyShredded(subject, key_id)
            return hit[0]
        try:
            key = self._fetch(subject, key_id)
        except SubjectKeyShredded:
            with self._lock:
                self._keys[(subject, key_id)] = (None, now)
            raise
        with self._lock:
            self._keys[(subject, key_id)] = (key, now)
            self._keys[(subject, key.key_id)] = (key, now)
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
