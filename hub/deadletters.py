"""Dead letters for operators: read, open with the operations key, filter, replay.

The router writes each refused record to the dead-letter topic as a ``DeadLetter``
(the record exactly as it arrived, plus the reason), encrypted to the hub operators'
key (``operations``) and signed by the hub (:mod:`hub.router.sealing`). This module
reverses that: it reads the topic, checks the hub's signature, decrypts with the
operations key from the key store and decodes. :func:`replay` republishes the original
record (same key, value bytes and headers) to the outbox it came from, so the router
routes it again; :func:`replay_refusal` says when that cannot work (why:
[decision 0017](../docs/decisions/0017-dead-letter-replay.md)). ``rmt-hub deadletters``
is the command line over it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from hub.config import HubSettings
from hub.errors import HubError
from hub.kafka import kafka_errors, producer
from hub.security.audit_chain import AuditEntry
from hub.security.audit_log import read_audit_entries
from hub.security.envelope import EnvelopeDecryptor, is_encrypted
from hub.security.errors import EnvelopeError
from hub.security.headers import SIG
from hub.security.hub_identity import HUB_ID, OPERATIONS_ID
from hub.security.keys import KeyStore
from hub.security.signing import RecordVerifier
from hub.serde import SerializationContext
from hub.serde.canonical import CanonicalCodec
from schemas.models import DeadLetter
from schemas.models.enums import DeadLetterReason

__all__ = [
    "BEFORE_THE_REPLAY_GUARD",
    "DeadLetterError",
    "Replayed",
    "StoredDeadLetter",
    "find",
    "operations_decryptor",
    "read_dead_letters",
    "replay",
    "replay_refusal",
    "select",
]

BEFORE_THE_REPLAY_GUARD = frozenset(
    {
        DeadLetterReason.UNSIGNED,
        DeadLetterReason.SIGNATURE_INVALID,
        DeadLetterReason.SIGNER_MISMATCH,
        DeadLetterReason.KEY_UNKNOWN,
        DeadLetterReason.KEY_REVOKED,
        DeadLetterReason.KEY_EXPIRED,
    }
)
"""Reasons the router gives before its replay guard remembers the event id: a signed
record refused for any other reason cannot be routed again under the same event id."""

_CUT_NOTES = ("is cut to its first", "holds the first")  # hub.router.processing, .codec


class DeadLetterError(HubError):
    """A dead letter cannot be read, opened or replayed."""


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    """One record of the dead-letter topic: where it is, and the opened dead letter."""

    topic: str
    partition: int
    offset: int
    letter: DeadLetter | None
    hub_signed: bool
    problem: str | None = None  # why ``letter`` is None, or why the signature fails

    @property
    def where(self) -> str:
        return f"{self.partition}:{self.offset}"


@dataclass(frozen=True, slots=True)
class Replayed:
    """A dead letter's original record, published again."""

    source: StoredDeadLetter
    topic: str
    partition: int
    offset: int


def operations_decryptor(store: KeyStore) -> EnvelopeDecryptor:
    """The operations key's decryptor; DeadLetterError when this key store lacks it."""
    held = store.private_keys(OPERATIONS_ID) if store.directory_path.exists() else []
    if not held:
        raise DeadLetterError(
            f"the operations private key is not in the key store {store.root}: dead letters "
            "are encrypted to it. Run this where the operators' key is held (HUB_KEYS_DIR, "
            "with HUB_KEYS_PASSPHRASE when the key files are sealed)"
        )
    return EnvelopeDecryptor(held)


def _open(
    entry: AuditEntry,
    topic: str,
    *,
    codec: CanonicalCodec,
    decryptor: EnvelopeDecryptor,
    verifier: RecordVerifier,
) -> StoredDeadLetter:
    partition, offset, key, value = entry.partition, entry.offset, entry.key, entry.value
    headers = list(entry.headers)
    verdict = verifier.verify(
        topic=topic, key=key, value=value, headers=headers, expected_signer=HUB_ID
    )
    signed = verdict.ok
    problem = None if signed else f"not signed by the hub ({verdict.reason}: {verdict.detail})"

    def failed(why: str) -> StoredDeadLetter:
        return StoredDeadLetter(topic, partition, offset, None, signed, why)

    if value is None:
        return failed("a tombstone")
    plain = value
    if is_encrypted(headers):
        try:
            plain = decryptor.decrypt(topic=topic, key=key, value=value, headers=headers)
        except EnvelopeError as exc:
            return failed(f"does not decrypt with the operations key: {exc}")
    try:
        record = codec.decode(plain, SerializationContext(topic, partition=partition))
    except (HubError, ValueError) as exc:
        return failed(f"not a dead letter: {type(exc).__name__}")
    if not isinstance(record, DeadLetter):
        return failed(f"not a dead letter but a {record.avro_name}")
    return StoredDeadLetter(topic, partition, offset, record, signed, problem)


def read_dead_letters(
    settings: HubSettings,
    topic: str,
    *,
    store: KeyStore,
    codec: CanonicalCodec,
    timeout_s: float = 120.0,
    progress: Callable[[int], None] | None = None,
) -> list[StoredDeadLetter]:
    """Every record of ``topic`` up to its high watermark, opened (in partition, offset
    order); DeadLetterError first when the operations key is not held."""
    decryptor = operations_decryptor(store)
    verifier = RecordVerifier(store.directory())
    entries = read_audit_entries(settings, topic, timeout_s=timeout_s, progress=progress)
    return [_open(e, topic, codec=codec, decryptor=decryptor, verifier=verifier) for e in entries]


def select(
    found: Iterable[StoredDeadLetter],
    *,
    reason: DeadLetterReason | None = None,
    partner: str | None = None,
    since: datetime | None = None,
) -> list[StoredDeadLetter]:
    """The opened dead letters that match every filter given."""
    out = []
    for stored in found:
        letter = stored.letter
        if letter is None:
            continue
        if reason is not None and letter.reason is not reason:
            continue
        if partner is not None and letter.source_partner != partner:
            continue
        if since is not None and letter.failed_at < since:
            continue
        out.append(stored)
    return out


def find(found: Iterable[StoredDeadLetter], where: str) -> StoredDeadLetter:
    """The dead letter at ``PARTITION:OFFSET``, or at ``OFFSET`` when one partition has it."""
    text = where.strip()
    part, _, off = text.rpartition(":")
    try:
        offset = int(off)
        partition = int(part) if part else None
    except ValueError as exc:
        raise DeadLetterError(f"{where!r}: give PARTITION:OFFSET or OFFSET") from exc
    hits = [
        s for s in found if s.offset == offset and (partition is None or s.partition == partition)
    ]
    if not hits:
        raise DeadLetterError(f"no dead letter at {where}")
    if len(hits) > 1:
        raise DeadLetterError(
            f"offset {offset} is in partitions {', '.join(str(h.partition) for h in hits)}: "
            "give PARTITION:OFFSET"
        )
    return hits[0]


def replay_refusal(stored: StoredDeadLetter, outboxes: Iterable[str]) -> str | None:
    """Why replaying ``stored`` cannot work (None: it can)."""
    letter = stored.letter
    if letter is None:
        return f"dead letter {stored.where} cannot be opened: {stored.problem}"
    if not stored.hub_signed:
        return f"dead letter {stored.where} is {stored.problem}: it may be forged"
    if letter.source_topic not in set(outboxes):
        return (
            f"dead letter {stored.where} came from {letter.source_topic}, not a partner's "
            "outbox: only outbox records are replayed"
        )
    if any(note in letter.message for note in _CUT_NOTES):
        return (
            f"dead letter {stored.where} holds a cut copy of the record ({letter.message}): "
            "ask the partner to publish it again"
        )
    signed = any(h.name == SIG for h in letter.original_headers)
    if signed and letter.reason not in BEFORE_THE_REPLAY_GUARD:
        return (
            f"dead letter {stored.where} ({letter.reason.value}): the router accepted the "
            f"signature of event {letter.event_id or '?'} before refusing it, so its replay "
            "guard holds that event id and would refuse a copy as REPLAYED; ask "
            f"{letter.source_partner or 'the partner'} to publish it again (a new event id)"
        )
    return None


def replay(
    settings: HubSettings, chosen: Iterable[StoredDeadLetter], *, timeout_s: float = 30.0
) -> list[Replayed]:
    """Publish each dead letter's original record again, exactly as it arrived (key,
    value bytes and headers, to its source topic and partition); check
    :func:`replay_refusal` first."""
    out: list[Replayed] = []
    writer = producer(settings)
    try:
        with kafka_errors("replaying dead letters"):
            for stored in chosen:
                letter = stored.letter
                if letter is None:
                    raise DeadLetterError(f"dead letter {stored.where} cannot be opened")
                meta = writer.send(
                    letter.source_topic,
                    key=letter.original_key,
                    value=letter.original_value,
                    headers=[(h.name, h.value) for h in letter.original_headers],
                    partition=letter.source_partition,
                ).get(timeout=timeout_s)
                out.append(Replayed(stored, meta.topic, meta.partition, meta.offset))
            writer.flush(timeout=timeout_s)
    finally:
        writer.close(timeout=5)
    return out
