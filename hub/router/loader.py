"""Building a partition's state from the topics, then following its consent feed.

When a worker is assigned partition *p* of the outboxes, a :class:`PartitionLoader`
reads partition *p* of every co-partitioned topic the router depends on from the
beginning up to its **fetch high watermark** (never ``end_offsets()``, which the
embedded broker answers wrongly): the consent changes (the consent table), the routing
state (the subjects; its sealed health flags opened with the subject keys), the audit
topic, the dead letters and every partner inbox (the ids already written, and the
disclosures an inbox holds: with record security only the router's own sealed copies
count). Until that is done the partition is not ready and its records are held, neither
delivered nor dropped (fail closed while loading).

It also reads partition *p* of the repartition topic, where the router moved the outbox
records whose key hashes to *p* but were published to another partition
(:mod:`hub.router.repartition`): which copy of a record moved twice is routed.

With record security on, the loader also reads partition *p* of every outbox, to rebuild
the replay guard of the partition from every record routed on *p* (published there or
moved there; every record's signature is verified and accepted event ids are remembered
where they were published: re-reading them later is a redelivery, a copy elsewhere a
replay), and resumes the audit chain of the partition after the last record of the
audit topic.

Afterwards the loader keeps reading the consent partition and applies every change as it
arrives. With record security on, a change applies only when the consent service signed
it (a ``consent-service`` key) and it follows its subject's chain; anything else has no
effect and is logged CRITICAL and dead-lettered
(:attr:`PartitionState.refused_changes`). :meth:`PartitionLoader.caught_up` waits until
it has applied everything below a given offset. A signed consent record that cannot be
decoded, or breaks its subject's chain, blocks every delivery for its subject (fail
closed): it might be a withdrawal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from hub.config import HubSettings
from hub.errors import HubError
from hub.registry.errors import RegistryError
from hub.router.clients import new_consumer
from hub.router.codec import DISCLOSURE_HEADER, RouterCodec
from hub.router.processing import Inbound, RouterCore, Write
from hub.router.repartition import arrived, misplaced, origin_id
from hub.router.sealing import RouterSecurity
from hub.router.state import ConsentRefusal, PartitionState, SubjectState
from hub.security.audit_chain import AuditEntry
from hub.security.consent_feed import previous_hash
from hub.security.errors import EnvelopeError, NotTheHubs
from hub.security.headers import HeaderList
from hub.serde import SerializationContext
from schemas.models import DisclosureEvent, RoutingState
from schemas.models.enums import DeadLetterReason

__all__ = ["CE_ID_HEADER", "LoaderTopics", "PartitionLoader", "header"]

_LOG = logging.getLogger(__name__)

_AUDIT_TAIL = 64
"""How many of an audit partition's last records are kept to find the hub's last entry."""

CE_ID_HEADER = "ce_id"


def _headers(raw: Iterable[tuple[str, bytes | None]] | None) -> tuple[tuple[str, bytes], ...]:
    return tuple((str(k), bytes(v or b"")) for k, v in raw or ())


def _inbound(topic: str, record: Any) -> Inbound:
    return Inbound(
        topic=topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        headers=_headers(record.headers),
    )


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", "replace")


def header(headers: Iterable[tuple[str, bytes]] | None, name: str) -> bytes | None:
    """The first header called ``name``, or None."""
    for key, value in headers or ():
        if key == name:
            return value
    return None


@dataclass(frozen=True)
class LoaderTopics:
    """The co-partitioned topics a partition's state is built from."""

    consent: str
    audit: str
    state: str
    dead_letter: str
    inboxes: tuple[str, ...]
    outboxes: tuple[str, ...] = ()
    """Read only to rebuild the replay guard (record security on)."""
    repartition: str | None = None
    """Outbox records moved to the partition their key hashes to."""

    def all(self) -> tuple[str, ...]:
        return (
            self.consent,
            self.audit,
            self.state,
            self.dead_letter,
            *self.inboxes,
            *self.outboxes,
            *((self.repartition,) if self.repartition else ()),
        )


@dataclass
class _Warmup:
    remaining: set[TopicPartition]
    records: int = 0
    audit_tail: deque[AuditEntry] = field(default_factory=lambda: deque(maxlen=_AUDIT_TAIL))
    """The last records of the audit partition: its chain resumes after the last of them
    the hub wrote (a record anyone else put there is skipped)."""


class PartitionLoader:
    """Loads one partition's state, then follows its consent feed until stopped."""

    def __init__(
        self,
        partition: int,
        *,
        settings: HubSettings,
        topics: LoaderTopics,
        codec: RouterCodec,
        core: RouterCore,
        security: RouterSecurity | None = None,
    ) -> None:
        self.partition = partition
        self.state = PartitionState(partition)
        self.ready = asyncio.Event()
        self.recovery: list[Write] = []
        """Writes found missing while loading (audit records); the engine writes them."""
        self.loaded_in_s: float | None = None
        self._settings = settings
        self._topics = topics
        self._codec = codec
        self._core = core
        self._security = security
        self._outboxes = frozenset(topics.outboxes)
        self._partitions = settings.topic_partitions
        self._consent_tp = TopicPartition(topics.consent, partition)
        self._position = 0
        self._advanced = asyncio.Condition()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.failed: BaseException | None = None

    @property
    def consent_position(self) -> int:
        """Offset after the last consent change applied."""
        return self._position

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"router-loader-{self.partition}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        await self._close()
        self.state.close()

    async def _close(self) -> None:
        if self._consumer is not None:
            with contextlib.suppress(KafkaError, OSError, HubError):
                await self._consumer.stop()
            self._consumer = None

    async def _run(self) -> None:
        delay = 0.2
        while True:
            try:
                await self._load_and_follow()
            except asyncio.CancelledError:
                raise
            except (KafkaError, OSError, HubError) as exc:
                # Start over from scratch: a half-loaded state must never be used.
                self.failed = exc
                self.ready.clear()
                self.state.close()
                self.state = PartitionState(self.partition)
                self._position = 0
                _LOG.warning("partition %d: loading failed (%s), retrying", self.partition, exc)
                await self._close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _load_and_follow(self) -> None:
        started = time.monotonic()
        if self._security is not None:
            self._security.forget(self.partition)
        consumer = self._consumer = new_consumer(self._settings, f"loader-{self.partition}")
        await consumer.start()
        tps = {TopicPartition(topic, self.partition) for topic in self._topics.all()}
        consumer.assign(list(tps))
        await consumer.seek_to_beginning(*tps)
        warmup = _Warmup(remaining=set(tps))
        while warmup.remaining:
            batch = await consumer.getmany(*warmup.remaining, timeout_ms=200, max_records=5000)
            for tp, records in batch.items():
                for record in records:
                    self._load(tp.topic, record, warmup)
            for tp in list(warmup.remaining):
                high = consumer.highwater(tp)
                if high is not None and await consumer.position(tp) >= high:
                    warmup.remaining.discard(tp)
                    if tp != self._consent_tp:
                        consumer.pause(tp)
        if self._security is not None:
            self._security.resume_audit(self.partition, self._chain_tail(warmup.audit_tail))
        self.recovery = self._core.missing_audits(self.state, self._unaudited())
        self.state.pending_erasures.extend(self.state.consents.ended())
        self.loaded_in_s = time.monotonic() - started
        _LOG.info(
            "partition %d loaded in %.2fs: %d records, %d consents, %d subjects, %d ids",
            self.partition,
            self.loaded_in_s,
            warmup.records,
            len(self.state.consents),
            len(self.state.subjects),
            len(self.state.written),
        )
        self.ready.set()
        while True:
            batch = await consumer.getmany(self._consent_tp, timeout_ms=500, max_records=1000)
            for record in batch.get(self._consent_tp, []):
                self._apply_consent(record, live=True)
            if batch:
                async with self._advanced:
                    self._advanced.notify_all()

    async def caught_up(self, target: int) -> None:
        """Return once every consent change below offset ``target`` is applied."""
        async with self._advanced:
            await self._advanced.wait_for(lambda: self._position >= target)

    def _chain_tail(self, tail: deque[AuditEntry]) -> HeaderList | None:
        """The headers of the hub's last entry among the audit partition's last records."""
        assert self._security is not None
        for entry in reversed(tail):
            if self._security.hub_audit_entry(entry):
                return entry.headers
        if tail:
            _LOG.warning(
                "partition %d: none of the last %d audit records is signed by the hub "
                "(offsets %d-%d; written before the chain existed, or not by the hub): "
                "the audit chain starts again",
                self.partition,
                len(tail),
                tail[0].offset,
                tail[-1].offset,
            )
        return None

    # --- applying what was read ------------------------------------------------------------------

    def _ctx(self, record: Any) -> SerializationContext:
        return SerializationContext(
            record.topic,
            headers=tuple(record.headers or ()),
            partition=record.partition,
            offset=record.offset,
        )

    def _apply_consent(self, record: Any, *, live: bool) -> None:
        self._position = record.offset + 1
        if record.value is None:
            return
        previous: str | None = None
        signer: str | None = None
        if self._security is not None:
            headers = _headers(record.headers)
            verdict = self._security.verify_consent(
                topic=record.topic, key=record.key, value=record.value, headers=headers
            )
            if not verdict.ok:
                self._refuse_consent(
                    record,
                    DeadLetterReason(verdict.dead_letter_reason),
                    verdict.detail,
                    signer=verdict.signer,
                    event_id=verdict.event_id or _text(header(headers, CE_ID_HEADER)),
                )
                return
            previous, signer = previous_hash(headers), verdict.signer
        try:
            change = self._codec.decode_consent(record.value, self._ctx(record))
        except RegistryError:
            raise  # the registry, not the record: load again from scratch
        except HubError as exc:
            subject = (record.key or b"").decode("utf-8", "replace")
            self.state.consents.block(subject)
            _LOG.error(
                "partition %d: consent change at offset %d cannot be read (%s); no deliveries "
                "for its subject until it can",
                self.partition,
                record.offset,
                exc,
            )
            return
        if self._security is not None and not self.state.consents.follows(change, previous):
            # the consent service's, but not after what was applied: a change is missing or
            # out of order; nothing about the subject is delivered until the feed is whole
            self.state.consents.block(change.subject_pseudonym)
            self._refuse_consent(
                record,
                DeadLetterReason.CHAIN_BROKEN,
                f"the change links to {previous or 'no change before it'}, not to the last "
                f"change applied for its subject; no deliveries for the subject",
                signer=signer,
                event_id=change.event_id,
            )
            return
        ended = self.state.consents.apply(change)
        if live and ended is not None:
            self.state.pending_erasures.append(ended)

    def _refuse_consent(
        self,
        record: Any,
        reason: DeadLetterReason,
        detail: str,
        *,
        signer: str | None,
        event_id: str | None,
    ) -> None:
        """A consent feed record with no effect: logged CRITICAL, dead-lettered later."""
        _LOG.critical(
            "consent change REFUSED at %s partition %d offset %d: %s (%s); it has no effect",
            record.topic,
            record.partition,
            record.offset,
            reason.value,
            detail,
        )
        self.state.refused_changes.append(
            ConsentRefusal(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                value=record.value,
                headers=_headers(record.headers),
                reason=reason,
                detail=detail,
                signer=signer,
                event_id=event_id,
            )
        )

    def _load(self, topic: str, record: Any, warmup: _Warmup) -> None:
        warmup.records += 1
        topics = self._topics
        if topic == topics.consent:
            self._apply_consent(record, live=False)
            return
        if topic in self._outboxes:
            # (read only with record security on) routed here unless moved elsewhere
            read = _inbound(topic, record)
            if self._security is not None and not misplaced(read, self._partitions):
                self._security.remember(read)
            return
        if topic == topics.repartition:
            self._load_moved(_inbound(topic, record))
            return
        ce_id = header(record.headers, CE_ID_HEADER)
        if topic == topics.audit:
            if self._security is not None:
                warmup.audit_tail.append(
                    AuditEntry(
                        record.partition,
                        record.offset,
                        record.key,
                        record.value,
                        _headers(record.headers),
                    )
                )
            self._load_audit(record)
        elif topic == topics.state:
            self._load_state(record)
        elif ce_id is not None:  # the dead letters and the inboxes
            self.state.written.add(ce_id.decode("utf-8", "replace"))
            disclosure = self._disclosure(record)
            if disclosure is not None:
                try:
                    event = self._codec.decode_disclosure(disclosure)
                except HubError as exc:
                    _LOG.warning("%s: unreadable disclosure header: %s", topic, exc)
                else:
                    # who received what under which consent; whether the audit topic has
                    # the event is known once it is read too (:meth:`_unaudited`)
                    self.state.record_disclosure(
                        event.client_pseudonym, event.recipient, tuple(event.consent_ids)
                    )
                    self.state.seen.stage_delivery(event.event_id, disclosure)

    def _disclosure(self, record: Any) -> bytes | None:
        """A delivery's DisclosureEvent (bare Avro): the router's sealed copy
        (``rmt-hub-disclosure``; one that does not open - forged, altered, moved - is
        ignored with a CRITICAL line), else the plain header of a hub without record
        security, or of a delivery written before the disclosure was sealed (with record
        security, only when the hub signed the record)."""
        plain = header(record.headers, DISCLOSURE_HEADER)
        if self._security is None:
            return plain
        headers = _headers(record.headers)
        try:
            sealed = self._security.open_disclosure(record.topic, record.key, headers)
            if sealed is not None or plain is None:
                return sealed
            verdict = self._security.hub.verify_own(
                topic=record.topic, key=record.key, value=record.value, headers=headers
            )
            if not verdict.ok:
                raise NotTheHubs(f"{verdict.reason}: {verdict.detail}")
        except (EnvelopeError, NotTheHubs) as exc:
            _LOG.critical(
                "%s partition %d offset %d: a disclosure the hub did not write (%s); ignored",
                record.topic,
                record.partition,
                record.offset,
                exc,
            )
            return None
        return plain

    def _load_moved(self, read: Inbound) -> None:
        message = arrived(read)
        if message is None:
            _LOG.error("%s@%d: not a record the router moved; ignored", read.topic, read.offset)
            return
        if not self.state.seen.moved.first(origin_id(message), read.offset):
            return  # a second copy (moved again after a failure): never routed
        if self._security is not None and message.topic in self._outboxes:
            self._security.remember(message)

    def _unaudited(self) -> Iterator[DisclosureEvent]:
        """The deliveries read from the inboxes whose disclosure is not on the audit topic
        (a crash between the two writes)."""
        for disclosure in self.state.seen.unaudited():
            yield self._codec.decode_disclosure(disclosure)

    def _load_audit(self, record: Any) -> None:
        if record.value is None:
            return
        try:
            event = self._codec.decode(record.value, self._ctx(record))
        except RegistryError:
            raise
        except HubError as exc:
            _LOG.warning("audit record at offset %d cannot be read: %s", record.offset, exc)
            return
        if isinstance(event, DisclosureEvent):
            self.state.audited.add(event.event_id)
            self.state.record_disclosure(
                event.client_pseudonym, event.recipient, tuple(event.consent_ids)
            )

    def _load_state(self, record: Any) -> None:
        if record.value is None:
            return
        try:
            value = record.value
            if self._security is not None:
                headers = [(str(k), bytes(v)) for k, v in record.headers or ()]
                value = self._security.open_internal(record.topic, record.key, value, headers)
            snapshot = self._codec.decode(value, self._ctx(record))
        except RegistryError:
            raise
        except NotTheHubs as exc:
            _LOG.critical(
                "partition %d: routing state at offset %d ignored: %s",
                self.partition,
                record.offset,
                exc,
            )
            return
        except HubError as exc:
            _LOG.warning("routing state at offset %d cannot be read: %s", record.offset, exc)
            return
        if isinstance(snapshot, RoutingState):
            if self._security is not None:
                # sealed with the subject's key; a destroyed key leaves the flags unknown.
                # The key store unavailable: KeyServiceUnavailable, the load starts over
                snapshot = self._security.open_fields(snapshot)
            self.state.subjects[snapshot.client_pseudonym] = SubjectState.from_record(snapshot)
            self.state.applied[snapshot.source_event_id] = snapshot.source_event_partner
            self.state.written.add(snapshot.event_id)
