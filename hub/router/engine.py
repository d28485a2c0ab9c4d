"""The router engine: partitions, freshness, processing of batches, writing.

The stream layer (:mod:`hub.router.app`) hands the engine the partitions it is assigned
and revoked, and batches of outbox and repartition records; the engine acknowledges a
batch (returns) only once everything it caused is written and acknowledged. Per batch:

0. **Move what is misplaced.** An outbox record on another partition than its key hashes
   to (a producer with another partitioner than murmur2) is moved to that partition of
   the repartition topic and routed from there, by the worker that owns it
   (:mod:`hub.router.repartition`, docs/decisions/0015-partition-agnostic-inbound.md).

1. **Hold while loading.** Each partition of the batch must be loaded
   (:class:`~hub.router.loader.PartitionLoader`): consents, subjects and the ids already
   written, read from the topics up to their high watermark.
2. **Fresh consent.** One ListOffsets request gives the latest offset of the consent
   partition of every partition in the batch, and the engine waits until the loaders
   have applied every consent change below it. The consent service acknowledges a
   withdrawal only once it is on the topic, and publishes one change per produce request
   (so ListOffsets is exact even on the embedded broker, which answers with the start of
   the last batch + 1): a withdrawal reported done is applied before any record processed
   afterwards is routed.
3. **Route.** Pending erasure notices and recovered audit records of those partitions
   first, then every record in offset order through :class:`~hub.router.processing.RouterCore`.
4. **Write** (:class:`~hub.router.writer.BatchWriter`): inboxes, notices, dead letters
   and state, then the audit. When a write fails, the partitions of the batch are loaded
   again from the topics (which now say exactly what landed) and the batch is routed
   again; deterministic ids make that exactly-once in effect.

With record security on (the default; :mod:`hub.router.sealing`), every outbox record is
verified against the signature of the outbox's owner, checked against the replay guard
and decrypted before it is decoded - a refusal is dead-lettered with the verdict's
reason - and everything written is sealed: deliveries encrypted per recipient and
hub-signed, special-category fields sealed per subject, the audit hash-chained. When a
consent that covered special-category data ends, the subject's key is destroyed before
the erasure notices go out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from consent.policy import PolicyMatrix, load_policy
from hub.config import HubSettings
from hub.errors import HubError, RecordError
from hub.metrics import HubMetrics, process_metrics
from hub.registry import RegistryClient
from hub.registry.errors import RegistryError
from hub.router.clients import new_consumer, new_producer
from hub.router.codec import RouterCodec
from hub.router.errors import RouterConfigError, RouterNotReady, WriteFailed
from hub.router.loader import LoaderTopics, PartitionLoader
from hub.router.processing import Inbound, RouterCore, Write
from hub.router.repartition import Forward, arrived, misplaced, moved, origin_id
from hub.router.sealing import RouterSecurity, covers_special
from hub.router.state import ConsentEnded, PartitionState
from hub.router.validation import Rejection
from hub.router.writer import BatchWriter
from hub.security.config import security_enabled
from hub.security.signing import Verdict
from hub.serde import FrameError, SerializationContext
from schemas import load_schemas
from schemas.models import CanonicalRecord, DeadLetter, StaffSurplus, Vacancy
from schemas.models.enums import DeadLetterReason
from schemas.rollout import load_rollout
from topics.catalogue import TopicCatalogue
from topics.partners import PartnerDirectory

__all__ = ["RouterEngine"]

_LOG = logging.getLogger(__name__)


class RouterEngine:
    """One worker's routing: owns its partitions' loaders, the writer and the codec."""

    def __init__(
        self,
        settings: HubSettings,
        *,
        catalogue: TopicCatalogue,
        directory: PartnerDirectory,
        registry: RegistryClient,
        policy: PolicyMatrix | None = None,
        status_file: Path | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        security: bool | None = None,
        metrics: HubMetrics | None = None,
    ) -> None:
        """``security``: sign, encrypt, seal and chain (default: the HUB_SECURITY_ENABLED
        switch); RouterConfigError when on and a partner of the directory has no key.
        ``metrics``: where the engine counts (default: the process's)."""
        self.settings = settings
        self.metrics = metrics if metrics is not None else process_metrics()
        self.metrics_port: int | None = None
        """The port /metrics is served on (reported in the status), when it is."""
        self.catalogue = catalogue
        self.partitions = settings.topic_partitions
        schemas = load_schemas()
        self.codec = RouterCodec(registry, schemas)
        self.core = RouterCore(
            catalogue=catalogue,
            directory=directory,
            policy=policy or load_policy(),
            schemas=schemas,
            partitions=self.partitions,
            clock=clock,
            rollout=load_rollout(settings.rollout_file),
        )
        self.security: RouterSecurity | None = None
        if security_enabled(settings) if security is None else security:
            self.security = RouterSecurity(
                settings, catalogue=catalogue, directory=directory, schemas=schemas
            )
        self.outboxes = tuple(t.name for t in catalogue.outboxes())
        self.repartition = catalogue.repartition.name
        self.sources = (*self.outboxes, self.repartition)
        """Every topic the router routes records from."""
        self.topics = LoaderTopics(
            consent=catalogue.consent_changes.name,
            audit=catalogue.disclosures.name,
            state=catalogue.routing_state.name,
            dead_letter=catalogue.dead_letter.name,
            inboxes=tuple(t.name for t in catalogue.inboxes()),
            # the replay guard of a partition is rebuilt from its outbox partitions
            outboxes=self.outboxes if self.security is not None else (),
            repartition=self.repartition,
        )
        self._clock = clock
        self._status_file = status_file
        self._status_written = ""
        self._loaders: dict[int, PartitionLoader] = {}
        self._lock = asyncio.Lock()
        self._producer: AIOKafkaProducer | None = None
        self._offsets: AIOKafkaConsumer | None = None
        self._writer: BatchWriter | None = None
        self._starting: asyncio.Future[None] | None = None
        self._assignment_seen = False
        self._inboxes = {catalogue.inbox(pid).name: pid for pid in self.core.partners}
        self.group_id = f"{settings.topic_prefix}-router"
        """The consumer group (the lag gauge's label); the stream layer sets its own."""
        self.stats: dict[str, int] = {"records": 0, "batches": 0, "retries": 0, "moved": 0}
        self._waiting: tuple[str, float] | None = None
        """What the batch in hand waits for, and since when (monotonic): a stall names
        itself in the log and the status instead of passing in silence."""
        self._stall_logged = 0.0

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, check the topics, register the schemas the router writes; idempotent
        (concurrent callers wait for the same start)."""
        starting = self._starting
        if starting is None:
            starting = self._starting = asyncio.ensure_future(self._start())
        try:
            await asyncio.shield(starting)
        except BaseException:
            # a failed start has stopped the engine (which forgets it): the next call retries
            if starting.done() and self._starting is starting:
                self._starting = None
            raise

    async def _start(self) -> None:
        written = [
            *self.catalogue.inboxes()[0].value_schemas,
            *self.catalogue.disclosures.value_schemas,
            *self.catalogue.dead_letter.value_schemas,
            *self.catalogue.routing_state.value_schemas,
        ]
        await asyncio.to_thread(self.codec.register, sorted(set(written)))
        self._producer = new_producer(self.settings)
        self._offsets = new_consumer(self.settings, "offsets")
        try:
            await self._producer.start()
            await self._offsets.start()
            await self._check_partitions()
        except KafkaError as exc:
            await self.stop()
            raise RouterConfigError(f"cannot reach the cluster: {exc}") from exc
        except BaseException:
            await self.stop()
            raise
        self._writer = BatchWriter(
            self._producer,
            self.codec,
            audit_topic=self.topics.audit,
            clock=self._clock,
            security=self.security,
        )

    async def _check_partitions(self) -> None:
        assert self._producer is not None
        # Every topic, fresh from the cluster (naming them would create them on Tansu). Not
        # the consumer's own metadata: it holds only topics it asked for, and Apache Kafka
        # answers its bootstrap request with none.
        cluster = await self._producer.client.fetch_all_metadata()
        wrong = []
        for topic in dict.fromkeys((*self.sources, *self.topics.all())):
            parts = cluster.partitions_for_topic(topic)
            if parts is None or len(parts) != self.partitions:
                wrong.append(f"{topic} ({len(parts) if parts else 'missing'})")
        if wrong:
            raise RouterConfigError(
                f"these topics are missing or not co-partitioned ({self.partitions} partitions): "
                + ", ".join(wrong)
                + " - run `rmt-hub topics apply`"
            )

    async def stop(self) -> None:
        for partition in list(self._loaders):
            await self._loaders.pop(partition).stop()
        for client in (self._offsets, self._producer):
            if client is not None:
                with contextlib.suppress(KafkaError, OSError):
                    await client.stop()
        self._offsets = self._producer = None
        self._writer = None
        self._starting = None

    # --- partitions ---------------------------------------------------------------------------

    async def assign(self, partitions: set[int]) -> None:
        """Start loading newly assigned partitions (state is never kept across assignments)."""
        self._assignment_seen = True
        for partition in sorted(partitions):
            self._loader(partition)

    async def revoke(self, partitions: set[int]) -> None:
        """Forget revoked partitions; another worker (or this one, later) loads them afresh."""
        async with self._lock:
            for partition in sorted(partitions):
                loader = self._loaders.pop(partition, None)
                if loader is not None:
                    await loader.stop()
                if self.security is not None:
                    self.security.forget(partition)

    def _loader(self, partition: int) -> PartitionLoader:
        loader = self._loaders.get(partition)
        if loader is None:
            loader = PartitionLoader(
                partition,
                settings=self.settings,
                topics=self.topics,
                codec=self.codec,
                core=self.core,
                security=self.security,
            )
            loader.start()
            self._loaders[partition] = loader
        return loader

    async def _reload(self, partitions: set[int]) -> None:
        for partition in partitions:
            loader = self._loaders.pop(partition, None)
            if loader is not None:
                await loader.stop()
                self._loader(partition)

    @property
    def assigned(self) -> list[int]:
        return sorted(self._loaders)

    # --- batches ------------------------------------------------------------------------------

    async def process(self, batch: Sequence[Inbound]) -> None:
        """Route a batch; returns once all its writes are acknowledged.

        Never raises (but CancelledError): the stream layer may acknowledge the batch only
        when it is done, so a failure is retried - after reloading the partitions from
        the topics, which say exactly what landed - until it succeeds.
        """
        routed = await self._move(batch)
        if routed:
            await self._process(routed)
        try:
            self._count_lag([m for m in batch if m.topic != self.repartition])
        except Exception:  # counting must never make an acknowledged batch retry
            _LOG.exception("counting the lag of a batch failed")

    async def _process(self, batch: Sequence[Inbound]) -> None:
        partitions = {message.routing_partition for message in batch}
        delay = 0.2
        while True:
            try:
                self._wait_for("the engine to start")
                await self.start()
                self._wait_for(f"partitions {sorted(partitions)} to load")
                await self._ready(partitions)
                self._wait_for(f"the consent feed of partitions {sorted(partitions)}")
                await self._fresh(partitions)
                self._wait_for("the lock held by another batch or the flush")
                async with self._lock:
                    loaders = [self._loaders.get(p) for p in partitions]
                    if not all(loader and loader.ready.is_set() for loader in loaders):
                        continue  # a loader started over meanwhile: wait for it again
                    writes = self._drain(partitions)
                    verdicts: dict[str, Verdict] = {}
                    sources: list[float] = []
                    self.core.decisions.clear()
                    writes += self._route(batch, verdicts, sources)
                    assert self._writer is not None
                    self._wait_for(f"the broker to acknowledge {len(writes)} writes")
                    await self._writer.write(writes, origins=verdicts)
                    try:
                        self._count(batch, writes, sources)
                    except Exception:  # counting must never make an acknowledged batch retry
                        _LOG.exception("counting the metrics of a batch failed")
                self.stats["records"] += len(batch)
                self.stats["batches"] += 1
                self._waiting = None
                return
            except asyncio.CancelledError:
                self._waiting = None
                raise
            except (WriteFailed, KafkaError, HubError) as exc:
                _LOG.warning("batch of %d failed (%s): reloading and retrying", len(batch), exc)
            except Exception:
                _LOG.exception("batch of %d failed: reloading and retrying", len(batch))
            self.stats["retries"] += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
            await self._reload(partitions)

    async def _move(self, batch: Sequence[Inbound]) -> list[Inbound]:
        """Move the misplaced outbox records of ``batch`` to the repartition topic (returns
        once every move is acknowledged, retrying until it is); returns the records to
        route here: the others, and the repartition records as they were published."""
        routed: list[Inbound] = []
        forwards: list[Forward] = []
        for read in batch:
            if read.topic == self.repartition:
                message = arrived(read)
                if message is None:
                    _LOG.error("%s/%d@%d: not a moved record; ignored", *_where(read))
                else:
                    routed.append(message)
            elif misplaced(read, self.partitions):
                forwards.append(moved(read, self.partitions))
            else:
                routed.append(read)
        delay = 0.2
        while forwards:
            try:
                await self.start()
                assert self._producer is not None
                futures = [
                    await self._producer.send(
                        self.repartition,
                        key=f.key,
                        value=f.value,
                        headers=f.headers,
                        partition=f.partition,
                        timestamp_ms=f.timestamp_ms,
                    )
                    for f in forwards
                ]
                async with asyncio.timeout(30):
                    await asyncio.gather(*futures)
                self.stats["moved"] += len(forwards)
                break
            except asyncio.CancelledError:
                raise
            except (KafkaError, HubError, TimeoutError) as exc:
                # moved again, a record is a second copy: the first one is routed
                _LOG.warning("moving %d record(s) failed (%s): retrying", len(forwards), exc)
            except Exception:
                _LOG.exception("moving %d record(s) failed: retrying", len(forwards))
            self.stats["retries"] += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
        return routed

    @property
    def busy(self) -> bool:
        """Whether a batch is being routed."""
        return self._waiting is not None

    def _wait_for(self, what: str) -> None:
        self._waiting = (what, time.monotonic())

    def _stalled_for(self, after_s: float = 5.0) -> dict[str, Any] | None:
        """What a batch has waited for longer than ``after_s`` (None: nothing), whole
        seconds: the status does not change, nor is rewritten, while batches flow."""
        if self._waiting is None:
            return None
        what, since = self._waiting
        waited = time.monotonic() - since
        return {"for": what, "s": int(waited)} if waited >= after_s else None

    def _report_stall(self, after_s: float = 15.0) -> None:
        """Log (at most every ``after_s``) what a batch has waited for longer than
        ``after_s``."""
        stalled = self._stalled_for(after_s)
        now = time.monotonic()
        if stalled is not None and now - self._stall_logged >= after_s:
            self._stall_logged = now
            _LOG.warning("a batch has waited %ds for %s", stalled["s"], stalled["for"])

    async def _ready(self, partitions: set[int]) -> None:
        loaders = [self._loader(p) for p in sorted(partitions)]
        await asyncio.gather(*(loader.ready.wait() for loader in loaders))

    async def _fresh(self, partitions: set[int]) -> None:
        """Wait until each partition's consent table has every change acknowledged so far."""
        assert self._offsets is not None
        tps = [TopicPartition(self.topics.consent, p) for p in sorted(partitions)]
        latest = await self._offsets.end_offsets(tps)
        await asyncio.gather(
            *(self._loaders[tp.partition].caught_up(latest[tp]) for tp in tps),
        )

    def _drain(self, partitions: set[int]) -> list[Write]:
        writes: list[Write] = []
        for partition in sorted(partitions):
            loader = self._loaders[partition]
            if loader.recovery:
                writes += loader.recovery
                loader.recovery = []
            refusals = self.core.consent_refusals(loader.state)
            self._count_refusals(refusals)
            writes += refusals
            ended = list(loader.state.pending_erasures)
            writes += self.core.erasures(loader.state)
            if self.security is not None and ended:
                shredded = self.security.shred(
                    (e.subject, e.effective_at) for e in ended if _covered_special(loader.state, e)
                )
                for subject in shredded:  # what a reload would know: the sealed flags are gone
                    found = loader.state.subjects.get(subject)
                    if found is not None:
                        found.forget_special()
        return writes

    def _count_refusals(self, writes: Sequence[Write]) -> None:
        for write in writes:
            letter = write.record
            if isinstance(letter, DeadLetter):
                reason = letter.reason.value
                self.metrics.consent_change_refused(reason)
                self.metrics.dead_letter(
                    letter.source_topic, letter.source_partner or "unknown", reason.lower()
                )

    def _route(
        self, batch: Sequence[Inbound], verdicts: dict[str, Verdict], sources: list[float]
    ) -> list[Write]:
        """The writes of ``batch``; ``verdicts`` collects the accepted signatures by event id
        (the origin of each delivery), ``sources`` the source time (epoch seconds) of each
        inbox delivery (the latency histogram)."""
        writes: list[Write] = []
        for read in batch:
            state = self._loaders[read.routing_partition].state
            if read.moved is not None and not state.seen.moved.first(
                origin_id(read), read.moved.offset
            ):
                continue  # a second copy of a moved record: the first one is routed
            decoded, record_type, message, verdict = self._open_and_decode(read, verdicts)
            try:
                made = self.core.handle(
                    state,
                    message,
                    decoded,
                    record_type=record_type,
                    # with record security, the replay guard knows whether this outbox
                    # partition delivered the event id here before (None: no guard)
                    redelivery=verdict.redelivery if verdict is not None else None,
                )
                writes += made
                source = _source_time(decoded, read)
                if source is not None:
                    sources += [source for w in made if _delivered(w)]
            except (RegistryError, KafkaError):
                raise  # the infrastructure, not the record: retry the batch
            except Exception as exc:  # a bug must not stop every partner's traffic
                _LOG.exception("routing %s/%d@%d failed", *_where(message))
                rejection = Rejection(
                    DeadLetterReason.OTHER, f"the hub failed to route it ({type(exc).__name__})"
                )
                publisher = self.core.publisher_of(message.topic)
                writes += self.core.refuse(
                    state, message, publisher, rejection, record=None, record_type=record_type
                )
        return writes

    def _count(
        self, batch: Sequence[Inbound], writes: Sequence[Write], sources: Sequence[float]
    ) -> None:
        """Count an acknowledged batch: records in and out, dead letters, consent decisions,
        delivery latency and the lag of its partitions (a few local counter updates)."""
        metrics = self.metrics
        ins = Counter((m.topic, str(self.core.publisher_of(m.topic).id)) for m in batch)
        for (topic, publisher), n in ins.items():
            metrics.record_in(topic, publisher, n)
        outs: Counter[tuple[str, str]] = Counter()
        dead: Counter[tuple[str, str, str]] = Counter()
        for write in writes:
            recipient = self._inboxes.get(write.topic)
            if recipient is not None:
                outs[(write.topic, recipient)] += 1
            elif isinstance(write.record, DeadLetter):
                letter = write.record
                reason = str(letter.reason.value).lower()
                dead[(letter.source_topic, letter.source_partner or "unknown", reason)] += 1
        for (topic, recipient_id), n in outs.items():
            metrics.record_out(topic, recipient_id, n)
        for (topic, source, code), n in dead.items():
            metrics.dead_letter(topic, source, code, n)
        for outcome, n in self.core.decisions.items():
            metrics.consent_decision(outcome, n)
        self.core.decisions.clear()
        now = time.time()
        for started in sources:
            metrics.observe_latency(now - started)

    def _count_lag(self, batch: Sequence[Inbound]) -> None:
        """The lag of the outbox partitions of ``batch`` (as read)."""
        positions: dict[tuple[str, int], int] = {}
        highwaters: dict[tuple[str, int], int] = {}
        for m in batch:
            tp = (m.topic, m.partition)
            positions[tp] = max(positions.get(tp, 0), m.offset + 1)
            if m.highwater is not None:
                highwaters[tp] = max(highwaters.get(tp, 0), m.highwater)
        for (topic, partition), highwater in highwaters.items():
            lag = highwater - positions[(topic, partition)]
            self.metrics.set_lag(topic, partition, self.group_id, lag)

    def check_loaded(self) -> None:
        """Readiness: raises RouterNotReady until every assigned partition is loaded (safe
        to call from another thread: it only reads)."""
        loaders = list(self._loaders.items())
        if not self._assignment_seen:
            raise RouterNotReady("no partitions assigned yet")
        loading = sorted(p for p, loader in loaders if not loader.ready.is_set())
        if loading:
            raise RouterNotReady(f"partitions still loading: {loading}")

    def _open_and_decode(
        self, message: Inbound, verdicts: dict[str, Verdict]
    ) -> tuple[CanonicalRecord | Rejection, str | None, Inbound, Verdict | None]:
        """Verify and decrypt (with security on), then decode; returns the message as it
        arrived (what a dead letter keeps: never the decrypted value) and the accepted
        verdict (None: security off, or refused)."""
        accepted: Verdict | None = None
        opened = message
        if self.security is not None:
            opened, verdict = self.security.open(message)
            if isinstance(verdict, Rejection):
                return verdict, _header(message.headers, "ce_type"), message, None
            if verdict.event_id:
                verdicts[verdict.event_id] = verdict
            accepted = verdict
        decoded, record_type = self._decode(opened)
        return decoded, record_type, message, accepted

    def _decode(self, message: Inbound) -> tuple[CanonicalRecord | Rejection, str | None]:
        claimed = _header(message.headers, "ce_type")
        if message.value is None:
            return Rejection(
                DeadLetterReason.SCHEMA_INVALID, "a tombstone (null value) is not a record"
            ), claimed
        ctx = SerializationContext(
            message.topic,
            headers=message.headers,
            partition=message.partition,
            offset=message.offset,
        )
        try:
            record = self.codec.decode(message.value, ctx)
        except FrameError as exc:
            return Rejection(DeadLetterReason.DECODE_ERROR, exc.reason), claimed
        except RecordError as exc:
            field = exc.field if exc.record_type != "CloudEvent" else None
            return Rejection(DeadLetterReason.SCHEMA_INVALID, str(exc), field), claimed
        return record, record.avro_name

    # --- background -------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write pending erasure notices and recovered audits of ready partitions."""
        self._report_stall()
        if self._writer is None:
            try:
                await self.start()
            except HubError as exc:
                _LOG.warning("router not started yet: %s", exc)
                return
        assert self._writer is not None
        if self.security is not None:
            self.security.reload_if_changed()
        ready = {p for p, loader in self._loaders.items() if loader.ready.is_set()}
        if self._lock.locked():  # a batch is writing: its drain covers the same writes
            ready = set()
        try:
            if ready:
                async with self._lock:
                    ready = {p for p in ready if p in self._loaders}
                    ready = {p for p in ready if self._loaders[p].ready.is_set()}
                    writes = self._drain(ready)
                    await self._writer.write(writes)
        except (WriteFailed, KafkaError, HubError) as exc:
            # reloading also resumes the audit chains from what actually landed
            _LOG.warning("writing erasure notices failed (%s): reloading", exc)
            await self._reload(ready)
        self.write_status()

    def status(self) -> dict[str, Any]:
        loaders = self._loaders
        return {
            "pid": os.getpid(),
            "assigned": sorted(loaders),
            "ready": sorted(p for p, loader in loaders.items() if loader.ready.is_set()),
            "consents": {
                str(p): loader.state.consents.snapshot()
                for p, loader in sorted(loaders.items())
                if loader.ready.is_set()
            },
            "stats": dict(self.stats) | {"skipped": self.core.skipped},
            "held": self._held(),
            "waiting": self._stalled_for(),
            "metrics_port": self.metrics_port,
            "security": {
                "enabled": self.security is not None,
                "replay_guard": len(self.security.guard) if self.security else 0,
                "subject_keys_destroyed": self.security.shredded if self.security else 0,
            },
        }

    def _held(self) -> dict[str, int]:
        """How many ids, subjects and consents the worker holds (all partitions). The ids
        grow with every record routed; they are on disk (:mod:`hub.router.seen`, the
        replay guard), with a bounded cache in memory."""
        states = [loader.state for loader in self._loaders.values()]
        return {
            "written_ids": sum(len(s.written) for s in states),
            "applied_ids": sum(len(s.applied) for s in states),
            "audited_ids": sum(len(s.audited) for s in states),
            "subjects": sum(len(s.subjects) for s in states),
            "consents": sum(len(s.consents) for s in states),
            "replay_guard": len(self.security.guard) if self.security else 0,
        }

    def write_status(self) -> None:
        """Write the status file (when there is one and the status changed)."""
        if self._status_file is None:
            return
        text = json.dumps(self.status(), sort_keys=True)
        if text == self._status_written:
            return
        tmp = self._status_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self._status_file)
        self._status_written = text


def _covered_special(state: PartitionState, ended: ConsentEnded) -> bool:
    """Whether the ended consent covered special-category data (unknown: assume so)."""
    for consent in state.consents.consents_of(ended.subject):
        if consent.id == ended.consent_id:
            return covers_special(consent.categories)
    return True


def _delivered(write: Write) -> bool:
    """A delivery to a recipient's inbox (not a notice, state or dead letter)."""
    return write.delivery is not None or isinstance(write.record, Vacancy | StaffSurplus)


def _source_time(decoded: CanonicalRecord | Rejection, read: Inbound) -> float | None:
    """When the source event happened (epoch seconds): the record's ``occurred_at``, else
    the outbox record's timestamp."""
    occurred = getattr(decoded, "occurred_at", None)
    if isinstance(occurred, datetime):
        if occurred.tzinfo is None:
            occurred = occurred.replace(tzinfo=UTC)
        return occurred.timestamp()
    return read.timestamp


def _header(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("utf-8", "replace")
    return None


def _where(message: Inbound) -> tuple[str, int, int]:
    return message.topic, message.partition, message.offset
