"""Signed records: who published what, provable to anyone holding the public directory.

**What is signed** (version 1, algorithm header ``rmt-sig-alg: ed25519/v1``) is this
byte string (encoding rules in :mod:`hub.security.canonical`)::

    item("rmt-hub/record-signature/v1")
    item(topic)                      the topic the record is written to
    optional(key)                    the record key (absent marker for a null key)
    optional(value)                  the record value exactly as written (absent: tombstone)
    item(key id)                     the signing key's id (also in rmt-sig-key)
    u64(signed at, ms since epoch)   also in rmt-sig-time
    u32(n) then n x (item(name) item(value))
                                     the covered headers, sorted by (name, value):
                                     every ``ce_*`` header (so ce_id = event id,
                                     ce_source = publisher, ce_type, ce_time),
                                     ``content-type``, and every ``rmt-*`` header except
                                     the four ``rmt-sig*`` ones (so envelope and origin
                                     headers are covered too)

The signature is Ed25519 over those bytes, base64 in ``rmt-sig``. Topic, key, value
and event id are therefore all bound: a record copied to another topic, re-keyed,
altered or given another event id no longer verifies.

**Verification** (:class:`RecordVerifier`) answers with a :class:`Verdict` whose reason
is a DeadLetterReason symbol, checked in this order:

==================  =============================================================
UNSIGNED            no ``rmt-sig`` header
SIGNATURE_INVALID   malformed signature headers, a repeated ce_/rmt- header, no
                    ce_id/ce_source, a signature that does not verify (forged,
                    or payload/key/topic/event id/headers altered), or signed more
                    than ``max_future_skew`` in the future
KEY_UNKNOWN         ``rmt-sig-key`` is not in the public directory
KEY_REVOKED         the key is revoked
SIGNER_MISMATCH     the key belongs to another partner than ``ce_source`` or than
                    the expected publisher (the owner of the outbox), or its role is
                    not the expected one (the consent feed: ``consent-service``)
KEY_EXPIRED         signed outside the key's [not_before, not_after], or verified
                    later than not_after + ``expiry_grace``
REPLAYED            the event id was accepted before at another position, or the
                    record was signed before the replay window (cannot be proven new)
DECODE_ERROR        (set by :mod:`hub.security.pipeline`, not here) a correctly signed
                    value that is not encrypted to the reader or does not decrypt
==================  =============================================================

The cheap checks come first; the signature is verified before anything that relies on
the signed time or event id, and only records that pass everything are remembered by
the replay guard (a forged record can never poison it).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cryptography.exceptions import InvalidSignature

from hub.security import canonical
from hub.security.errors import SigningError
from hub.security.headers import (
    CE_ID,
    CE_SOURCE,
    SIG,
    SIG_ALG,
    SIG_HEADERS,
    SIG_KEY,
    SIG_TIME,
    AmbiguousHeader,
    HeaderList,
    header_value,
    replace_headers,
)
from hub.security.keys import KeyRole, KeyStatus, PartnerKeys, PublicDirectory, PublicKeyRecord
from hub.security.replay import ReplayGuard, ReplayResult

__all__ = [
    "SIGNATURE_ALGORITHM",
    "SIGNATURE_LABEL",
    "RecordSigner",
    "RecordVerifier",
    "Verdict",
    "VerdictReason",
    "covered_headers",
    "signed_bytes",
]

SIGNATURE_ALGORITHM = "ed25519/v1"
SIGNATURE_LABEL = b"rmt-hub/record-signature/v1"
_SIGNATURE_BYTES = 64


class VerdictReason(StrEnum):
    """Why a record was refused; each value is a DeadLetterReason symbol."""

    UNSIGNED = "UNSIGNED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    KEY_UNKNOWN = "KEY_UNKNOWN"
    KEY_REVOKED = "KEY_REVOKED"
    SIGNER_MISMATCH = "SIGNER_MISMATCH"
    KEY_EXPIRED = "KEY_EXPIRED"
    REPLAYED = "REPLAYED"
    DECODE_ERROR = "DECODE_ERROR"  # signed, but the value is not encrypted to us / does not open


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of verifying one record.

    ``reason`` is None when ``ok``. ``redelivery`` is True for a record the replay guard
    accepted before at this very position (a consumer re-reading after a restart): it
    is genuine and must be handled idempotently, not dead-lettered.
    """

    ok: bool
    reason: VerdictReason | None = None
    detail: str = ""
    signer: str | None = None
    key_id: str | None = None
    event_id: str | None = None
    signed_at_ms: int | None = None
    redelivery: bool = False

    @property
    def dead_letter_reason(self) -> str:
        """The DeadLetterReason symbol (raises on an accepted record)."""
        if self.reason is None:
            raise ValueError("an accepted record has no dead-letter reason")
        return self.reason.value


def _covered(name: str) -> bool:
    lowered = name.lower()
    if lowered in SIG_HEADERS:
        return False
    return lowered.startswith(("ce_", "rmt-")) or lowered == "content-type"


def covered_headers(headers: HeaderList | None) -> list[tuple[str, bytes]]:
    """The headers a signature covers, in canonical order; AmbiguousHeader on repeats."""
    picked: list[tuple[str, bytes]] = []
    names: set[str] = set()
    for name, value in headers or ():
        if not _covered(name):
            continue
        if name in names:
            raise AmbiguousHeader(name)
        names.add(name)
        picked.append((name, bytes(value) if value is not None else b""))
    picked.sort()
    return picked


def signed_bytes(
    *,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    key_id: str,
    signed_at_ms: int,
    headers: HeaderList | None,
) -> bytes:
    """The exact bytes an ``ed25519/v1`` record signature is made over."""
    return _canonical(topic, key, value, key_id, signed_at_ms, covered_headers(headers))


def _canonical(  # noqa: PLR0917 - the signed fields, in order
    topic: str,
    key: bytes | None,
    value: bytes | None,
    key_id: str,
    signed_at_ms: int,
    covered: list[tuple[str, bytes]],
) -> bytes:
    parts = [
        canonical.item(topic),
        canonical.optional(key),
        canonical.optional(value),
        canonical.item(key_id),
        canonical.u64(signed_at_ms),
        canonical.u32(len(covered)),
    ]
    parts += [canonical.item(name) + canonical.item(val) for name, val in covered]
    return canonical.join(SIGNATURE_LABEL, parts)


class RecordSigner:
    """Signs records with one identity's current Ed25519 key."""

    def __init__(self, keys: PartnerKeys, *, clock: Callable[[], float] = time.time) -> None:
        self.keys = keys
        self._clock = clock

    @property
    def key_id(self) -> str:
        return self.keys.key_id

    def sign(
        self,
        *,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: HeaderList | None,
    ) -> list[tuple[str, bytes]]:
        """``headers`` with the four ``rmt-sig*`` headers set (any old ones replaced).

        ``headers`` must already hold everything the record is sent with (the
        CloudEvents headers, and the envelope headers when the value is encrypted):
        whatever ce_/rmt- header is added afterwards breaks the signature.
        """
        try:
            if header_value(headers, CE_ID) is None or header_value(headers, CE_SOURCE) is None:
                raise SigningError("a signed record needs its ce_id and ce_source headers")
            signed_at_ms = int(self._clock() * 1000)
            data = signed_bytes(
                topic=topic,
                key=key,
                value=value,
                key_id=self.keys.key_id,
                signed_at_ms=signed_at_ms,
                headers=headers,
            )
        except AmbiguousHeader as exc:
            raise SigningError(f"cannot sign: {exc}") from exc
        signature = self.keys.sign(data)
        return replace_headers(
            headers,
            [
                (SIG_ALG, SIGNATURE_ALGORITHM.encode("ascii")),
                (SIG_KEY, self.keys.key_id.encode("ascii")),
                (SIG_TIME, str(signed_at_ms).encode("ascii")),
                (SIG, base64.b64encode(signature)),
            ],
        )


class RecordVerifier:
    """Verifies record signatures against the public directory (and a replay guard).

    ``max_future_skew``: how far in the future a signing time may lie (clock skew).
    ``expiry_grace``: how long after a key's not_after a record signed while it was
    valid is still accepted (records in flight during a rotation or an outage).
    """

    def __init__(
        self,
        directory: PublicDirectory,
        *,
        replay_guard: ReplayGuard | None = None,
        clock: Callable[[], float] = time.time,
        max_future_skew: timedelta = timedelta(minutes=5),
        expiry_grace: timedelta = timedelta(minutes=10),
    ) -> None:
        self.directory = directory
        self.replay_guard = replay_guard
        self._clock = clock
        self._skew_ms = int(max_future_skew.total_seconds() * 1000)
        self._grace_ms = int(expiry_grace.total_seconds() * 1000)

    def verify(
        self,
        *,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: HeaderList | None,
        expected_signer: str | None = None,
        expected_role: KeyRole | None = None,
        partition: int | None = None,
        offset: int | None = None,
        at_rest: bool = False,
    ) -> Verdict:
        """The verdict on one record as read from ``topic``.

        ``at_rest``: the record is the hub's own stored state, read back maybe long after
        it was written: it must have been signed while its key was valid, but the key's
        expiry since then does not refuse it (a record in transit is refused then).

        ``expected_signer``: the partner that may write this topic (the outbox owner;
        for inbox records the hub). ``expected_role``: the role the signing key must
        have in the directory. ``partition``/``offset``: where it was read, for the
        replay guard (without them, or without a guard, replays are not checked).
        """
        parsed = _read_signature(headers)
        if isinstance(parsed, Verdict):
            return parsed
        refusal = self._check_key(parsed, topic, expected_signer, expected_role)
        if refusal is not None:
            return refusal
        record = self.directory.get(parsed.key_id)
        data = _canonical(topic, key, value, parsed.key_id, parsed.signed_at_ms, parsed.covered)
        try:
            self.directory.verifying_key(parsed.key_id).verify(parsed.signature, data)
        except InvalidSignature:
            return parsed.refuse(
                VerdictReason.SIGNATURE_INVALID,
                "the signature does not verify: forged, or topic, key, value, event id or "
                "headers changed after signing",
                record.partner_id,
            )
        now_ms = int(self._clock() * 1000)
        refusal = self._check_time(parsed, record.partner_id, record, now_ms, at_rest=at_rest)
        if refusal is not None:
            return refusal
        refusal, redelivery = self._check_replay(
            parsed, record.partner_id, topic, partition, offset, now_ms
        )
        if refusal is not None:
            return refusal
        return Verdict(
            True,
            signer=record.partner_id,
            key_id=parsed.key_id,
            event_id=parsed.event_id,
            signed_at_ms=parsed.signed_at_ms,
            redelivery=redelivery,
        )

    def _check_replay(  # noqa: PLR0917
        self,
        parsed: _SignatureHeaders,
        signer: str,
        topic: str,
        partition: int | None,
        offset: int | None,
        now_ms: int,
    ) -> tuple[Verdict | None, bool]:
        """(refusal or None, whether it is a redelivery); remembers fresh records."""
        guard = self.replay_guard
        if guard is None or partition is None or offset is None:
            return None, False
        result = guard.check(
            topic,
            partition,
            parsed.event_id,
            signed_at_ms=parsed.signed_at_ms,
            offset=offset,
            now_ms=now_ms,
        )
        if result is ReplayResult.REPLAYED:
            detail = f"event {parsed.event_id} was already accepted at another offset"
            return parsed.refuse(VerdictReason.REPLAYED, detail, signer), False
        if result is ReplayResult.STALE:
            detail = (
                f"signed at {_iso(parsed.signed_at_ms)}, before the replay window: "
                "cannot be proven new"
            )
            return parsed.refuse(VerdictReason.REPLAYED, detail, signer), False
        if result is ReplayResult.FRESH:
            guard.remember(
                topic, partition, parsed.event_id, signed_at_ms=parsed.signed_at_ms, offset=offset
            )
        return None, result is ReplayResult.REDELIVERY

    def _check_key(
        self,
        parsed: _SignatureHeaders,
        topic: str,
        expected_signer: str | None,
        expected_role: KeyRole | None = None,
    ) -> Verdict | None:
        record = self.directory.find(parsed.key_id)
        if record is None:
            return parsed.refuse(
                VerdictReason.KEY_UNKNOWN, f"key {parsed.key_id} is not in the directory"
            )
        signer = record.partner_id
        if record.status is KeyStatus.REVOKED:
            return parsed.refuse(
                VerdictReason.KEY_REVOKED, f"key {parsed.key_id} of {signer} is revoked", signer
            )
        if signer != parsed.source:
            return parsed.refuse(
                VerdictReason.SIGNER_MISMATCH,
                f"signed with a key of {signer}, but ce_source says {parsed.source}",
                signer,
            )
        if expected_signer is not None and signer != expected_signer:
            return parsed.refuse(
                VerdictReason.SIGNER_MISMATCH,
                f"signed by {signer}, but only {expected_signer} may write {topic}",
                signer,
            )
        if expected_role is not None and record.role is not expected_role:
            return parsed.refuse(
                VerdictReason.SIGNER_MISMATCH,
                f"signed by {signer}, a {record.role.value} key, but only a "
                f"{expected_role.value} key may write {topic}",
                signer,
            )
        return None

    def _check_time(
        self,
        parsed: _SignatureHeaders,
        signer: str,
        record: PublicKeyRecord,
        now_ms: int,
        *,
        at_rest: bool = False,
    ) -> Verdict | None:
        if parsed.signed_at_ms > now_ms + self._skew_ms:
            return parsed.refuse(
                VerdictReason.SIGNATURE_INVALID,
                "signed in the future (beyond the allowed clock skew)",
                signer,
            )
        not_before_ms = _ms(record.not_before)
        not_after_ms = _ms(record.not_after)
        if not not_before_ms <= parsed.signed_at_ms <= not_after_ms:
            return parsed.refuse(
                VerdictReason.KEY_EXPIRED,
                f"signed at {_iso(parsed.signed_at_ms)}, outside the validity of key "
                f"{parsed.key_id} ({_iso(not_before_ms)} to {_iso(not_after_ms)})",
                signer,
            )
        if not at_rest and now_ms > not_after_ms + self._grace_ms:
            return parsed.refuse(
                VerdictReason.KEY_EXPIRED,
                f"key {parsed.key_id} expired at {_iso(not_after_ms)}",
                signer,
            )
        return None


@dataclass(frozen=True, slots=True)
class _SignatureHeaders:
    key_id: str
    signed_at_ms: int
    signature: bytes
    event_id: str
    source: str
    covered: list[tuple[str, bytes]]

    def refuse(self, reason: VerdictReason, detail: str, signer: str | None = None) -> Verdict:
        return Verdict(
            False,
            reason,
            detail,
            signer=signer,
            key_id=self.key_id,
            event_id=self.event_id,
            signed_at_ms=self.signed_at_ms,
        )


def _read_signature(headers: HeaderList | None) -> _SignatureHeaders | Verdict:  # noqa: PLR0911
    """One pass over the headers: the signature headers and the covered ones."""
    invalid = VerdictReason.SIGNATURE_INVALID
    found: dict[str, bytes] = {}
    covered: list[tuple[str, bytes]] = []
    names: set[str] = set()
    for name, value in headers or ():
        raw = bytes(value) if value is not None else b""
        if name in SIG_HEADERS:
            if name in found:
                return Verdict(False, invalid, f"ambiguous record: header {name!r} repeated")
            found[name] = raw
        elif _covered(name):
            if name in names:
                return Verdict(False, invalid, f"ambiguous record: header {name!r} repeated")
            names.add(name)
            covered.append((name, raw))
    raw_sig = found.get(SIG)
    if raw_sig is None:
        return Verdict(False, VerdictReason.UNSIGNED, "the record has no rmt-sig header")
    texts = dict(covered)
    try:
        key_id = found.get(SIG_KEY, b"").decode("ascii")
        alg = found.get(SIG_ALG, b"").decode("ascii")
        time_text = found.get(SIG_TIME, b"").decode("ascii")
        event_id = texts.get(CE_ID, b"").decode("utf-8")
        source = texts.get(CE_SOURCE, b"").decode("utf-8")
    except UnicodeDecodeError:
        return Verdict(False, invalid, "signature or CloudEvents headers are not text")
    if alg != SIGNATURE_ALGORITHM:
        return Verdict(False, invalid, f"unsupported rmt-sig-alg {alg!r}", key_id=key_id or None)
    if not key_id or not time_text.isdigit() or len(time_text) > 18:
        return Verdict(False, invalid, "rmt-sig-key or rmt-sig-time missing or malformed")
    if not event_id or not source:
        return Verdict(False, invalid, "a signed record needs ce_id and ce_source", key_id=key_id)
    try:
        signature = base64.b64decode(raw_sig, validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != _SIGNATURE_BYTES:
        return Verdict(False, invalid, "rmt-sig is not a base64 Ed25519 signature", key_id=key_id)
    covered.sort()
    return _SignatureHeaders(key_id, int(time_text), signature, event_id, source, covered)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
