"""Disclosures for the subject access report, from the router's audit topic.

The hub's router writes one ``nl.rmt.hub.DisclosureEvent`` per record it delivers to a
partner inbox (topic ``<prefix>.audit.disclosures``, keyed by client pseudonym). The
:class:`DisclosureIngester` reads that topic into the consent store's disclosures table
(:func:`disclosure_from_event`), where the access report finds them. It needs no
consumer group: the next offset of every partition is stored in the same transaction as
the disclosures read up to it, and a disclosure id is stored once, so a crash anywhere
neither loses nor doubles one.

**Verification.** With the hub's public keys (``directory``; the runtime passes them when
record security is on) every record is followed along its partition's hash chain and its
hub signature checked (:func:`hub.security.audit_chain.follow`): only genuine hub entries
become disclosures, each with its place on the chain (:class:`consent.model.AuditProof`);
a record that is not the hub's (a forgery by anyone who can write the topic, an altered
entry) is kept apart as an :class:`consent.model.AuditReject`, and where each partition's
chain stands, with its first break, is stored with the offsets. The access report says
what this proves (:mod:`consent.report`).

The value decoder is injectable (:data:`DisclosureDecoder`). :func:`avro_disclosure_decoder`
reads bare Avro (:mod:`schemas.codec`); the router writes the Confluent wire format, which
:func:`disclosure_decoder_for` reads through the configured schema registry (and bare Avro
too) - :class:`consent.runtime.ConsentRuntime` uses it by default.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from consent.model import (
    AuditChainBreak,
    AuditChainState,
    AuditProof,
    AuditReject,
    DisclosureRecord,
)
from consent.store import ConsentStore
from hub.config import HubSettings
from hub.errors import BrokerError, HubError
from hub.ids import ConsentId, EventId
from hub.kafka import consumer, kafka_errors
from hub.metrics import HubMetrics
from hub.security.audit_chain import (
    AuditEntry,
    BreakReason,
    ChainBreak,
    ChainCursor,
    EntryCheck,
    follow,
)
from hub.security.keys import KeyStore, PublicDirectory
from schemas.models.audit import DisclosureEvent

__all__ = [
    "METRICS_GROUP",
    "METRICS_PARTNER",
    "DisclosureDecoder",
    "DisclosureIngester",
    "avro_disclosure_decoder",
    "disclosure_decoder_for",
    "disclosure_from_event",
    "hub_directory",
]

_LOG = logging.getLogger(__name__)

METRICS_PARTNER = "hub"
"""The ``partner`` label of the audit topic's metrics (the hub's router writes it)."""
METRICS_GROUP = "consent-disclosures"
"""The ``group`` label of the ingester's lag (it reads without a consumer group)."""

DisclosureDecoder = Callable[[bytes], DisclosureEvent]


def avro_disclosure_decoder(value: bytes) -> DisclosureEvent:
    """A DisclosureEvent from bare Avro binary."""
    from schemas import codec  # noqa: PLC0415 - loads the schema set on first use

    return codec.decode_as(DisclosureEvent, value)


_WIRE_MAGIC = 0
"""First byte of a Confluent wire-format value. A bare-Avro DisclosureEvent never starts
with it: its first field, the event id, is a non-empty string (length prefix > 0)."""


def disclosure_decoder_for(settings: HubSettings, topic: str) -> DisclosureDecoder:
    """Wire format (the router's on ``topic``, through ``settings``' registry) or bare Avro.

    Without a registry configured, only bare Avro can be read.
    """
    if not settings.schema_registry_url:
        return avro_disclosure_decoder
    from hub.registry import client_for  # noqa: PLC0415 - registry clients only when used
    from hub.serde.canonical import CanonicalCodec, typed_decoder  # noqa: PLC0415

    wire = typed_decoder(CanonicalCodec(client_for(settings)), topic, DisclosureEvent)

    def decode(value: bytes) -> DisclosureEvent:
        if value[:1] == bytes([_WIRE_MAGIC]):
            return wire(value)
        return avro_disclosure_decoder(value)

    return decode


def disclosure_from_event(event: DisclosureEvent) -> DisclosureRecord:
    """The store's view of one audit record."""
    return DisclosureRecord(
        disclosure_id=event.event_id,
        subject=event.client_pseudonym,
        recipient=event.recipient,
        recipient_kind=event.recipient_kind,
        purpose=event.purpose,
        data_categories=tuple(event.data_categories),
        consent_ids=tuple(ConsentId(c) for c in event.consent_ids),
        disclosed_at=event.occurred_at,
        record_type=event.record_type,
        source_event_id=EventId(event.source_event_id),
        publisher=event.publisher,
        fields=tuple(event.fields),
        withheld_categories=tuple(event.withheld_categories),
        policy_version=event.policy_version,
    )


def hub_directory(store: KeyStore) -> Callable[[], PublicDirectory]:
    """The key store's public directory (verified), read again when its file changes."""
    held: dict[str, tuple[float, PublicDirectory]] = {}

    def current() -> PublicDirectory:
        mtime = _mtime(store.directory_path)
        hit = held.get("directory")
        if hit is None or hit[0] != mtime:
            held["directory"] = hit = (mtime, store.directory())
        return hit[1]

    return current


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _state(topic: str, partition: int, cursor: ChainCursor) -> AuditChainState:
    found = cursor.first_break
    return AuditChainState(
        topic=topic,
        partition=partition,
        next_seq=cursor.next_seq,
        last_hash=cursor.last_hash,
        first_break=AuditChainBreak(
            partition=found.partition,
            offset=found.offset,
            reason=found.reason.value,
            detail=found.detail,
        )
        if found
        else None,
    )


def _cursor(state: AuditChainState) -> ChainCursor:
    found = state.first_break
    return ChainCursor(
        state.next_seq,
        state.last_hash,
        ChainBreak(found.partition, found.offset, BreakReason(found.reason), found.detail)
        if found
        else None,
    )


class DisclosureIngester:
    """Reads the audit topic into the store, from where it stopped (verifying each record
    with ``directory``, the hub's public keys, when given)."""

    def __init__(
        self,
        store: ConsentStore,
        settings: HubSettings,
        topic: str,
        *,
        decoder: DisclosureDecoder = avro_disclosure_decoder,
        interval_s: float = 1.0,
        metrics: HubMetrics | None = None,
        directory: Callable[[], PublicDirectory] | None = None,
    ) -> None:
        self._store = store
        self._directory = directory
        self._cursors: dict[int, ChainCursor] = {}
        self._metrics = metrics
        self._settings = settings
        self.topic = topic
        self._decoder = decoder
        self._interval_s = interval_s
        self._consumer: KafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ingested = 0
        self.undecodable = 0
        self.rejected = 0

    def _open(self) -> KafkaConsumer:
        if self._consumer is None:
            reader = consumer(self._settings, group_id=None, fetch_max_wait_ms=200)
            try:
                with kafka_errors(f"reading {self.topic}"):
                    numbers = reader.partitions_for_topic(self.topic)
                    if not numbers:
                        raise BrokerError(f"topic {self.topic} does not exist (yet)")
                    self._partitions = [TopicPartition(self.topic, p) for p in sorted(numbers)]
                    reader.assign(self._partitions)
                    stored = self._store.ingest_offsets(self.topic)
                    self._cursors = {
                        c.partition: _cursor(c) for c in self._store.audit_chains(self.topic)
                    }
                    for tp in self._partitions:
                        if tp.partition in stored:
                            reader.seek(tp, stored[tp.partition])
                        else:
                            reader.seek_to_beginning(tp)
            except BaseException:
                reader.close()
                raise
            self._consumer = reader
        return self._consumer

    def poll_once(self, timeout_ms: int = 200) -> int:
        """Read what is there now; store it with the new offsets. Returns how many new."""
        with self._lock:
            reader = self._open()
            with kafka_errors(f"reading {self.topic}"):
                batches: dict[Any, list[Any]] = reader.poll(timeout_ms=timeout_ms)
            records: list[DisclosureRecord] = []
            rejects: list[AuditReject] = []
            cursors = dict(self._cursors)
            offsets: dict[int, int] = {}
            read = 0
            directory = self._directory() if self._directory is not None else None
            for tp, batch in batches.items():
                for message in batch:
                    read += 1
                    offsets[tp.partition] = message.offset + 1
                    taken = self._take(message, cursors, directory)
                    if isinstance(taken, AuditReject):
                        rejects.append(taken)
                    elif taken is not None:
                        records.append(taken)
            if not offsets:
                self._note_lag(reader)
                return 0
            changed = [
                _state(self.topic, p, c) for p, c in cursors.items() if self._cursors.get(p) != c
            ]
            added = self._store.add_disclosures(
                records, topic=self.topic, offsets=offsets, rejects=rejects, chains=changed
            )
            self._cursors = cursors
            self.ingested += added
            self.rejected += len(rejects)
            if self._metrics is not None:
                self._metrics.record_in(self.topic, METRICS_PARTNER, read)
            self._note_lag(reader)
            return added

    def _take(
        self,
        message: Any,
        cursors: dict[int, ChainCursor],
        directory: PublicDirectory | None,
    ) -> DisclosureRecord | AuditReject | None:
        """One audit record: a disclosure, a reject, or None (a duplicate, undecodable)."""
        proof = None
        if directory is not None:
            entry = AuditEntry(
                message.partition,
                message.offset,
                message.key,
                message.value,
                tuple((str(k), bytes(v or b"")) for k, v in message.headers or ()),
            )
            followed, cursors[message.partition] = follow(
                cursors.get(message.partition), entry, directory=directory
            )
            if followed.chain_break is not None:
                _LOG.critical("the audit trail %s is broken: %s", self.topic, followed.chain_break)
            if followed.check is EntryCheck.DUPLICATE:
                return None
            if followed.check is not EntryCheck.VERIFIED or followed.seq is None:
                return self._reject(message, followed.check, followed.detail)
            proof = AuditProof(
                topic=self.topic,
                partition=message.partition,
                offset=message.offset,
                seq=followed.seq,
            )
        try:
            found = disclosure_from_event(self._decoder(message.value))
        except (HubError, ValueError) as exc:
            self.undecodable += 1
            if self._metrics is not None:
                self._metrics.dead_letter(self.topic, METRICS_PARTNER, "undecodable")
            _LOG.warning(  # the error's class only: its text may quote values
                "skipping undecodable record %s/%d@%d (%s)",
                self.topic,
                message.partition,
                message.offset,
                type(exc).__name__,
            )
            return None
        return found.model_copy(update={"proof": proof})

    def _reject(self, message: Any, check: EntryCheck, detail: str) -> AuditReject:
        """A record that is not a genuine hub entry: kept apart, with what it claims."""
        _LOG.critical(
            "audit record %s/%d@%d is not the hub's (%s: %s): not a disclosure",
            self.topic,
            message.partition,
            message.offset,
            check.value,
            detail,
        )
        claimed = None
        with contextlib.suppress(HubError, ValueError, TypeError):
            claimed = disclosure_from_event(self._decoder(message.value))
        return AuditReject(
            topic=self.topic,
            partition=message.partition,
            offset=message.offset,
            check=check.value,
            detail=detail,
            subject=claimed.subject if claimed else None,
            claimed=claimed,
        )

    def _note_lag(self, reader: KafkaConsumer) -> None:
        """The lag of every partition (high watermark - position), when known."""
        if self._metrics is None:
            return
        with kafka_errors(f"reading {self.topic}"):
            for tp in self._partitions:
                highwater = reader.highwater(tp)
                if highwater is not None:
                    lag = highwater - reader.position(tp)
                    self._metrics.set_lag(self.topic, tp.partition, METRICS_GROUP, lag)

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, name="consent-disclosures", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.poll_once(timeout_ms=int(self._interval_s * 1000)) == 0:
                    self._stop.wait(0.05)
            except Exception as exc:  # the loop must survive and retry
                _LOG.warning("disclosure ingester: %s (retrying)", exc)
                with self._lock:
                    if self._consumer is not None:
                        self._consumer.close()
                        self._consumer = None
                self._stop.wait(min(5.0, self._interval_s * 2))

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None
