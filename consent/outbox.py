"""The consent feed: a transactional outbox and the relay that publishes it.

(The module's name is the pattern's; in the glossary of docs/architecture.md this is the
*consent feed*, not a partner's *outbox*.) Why the router gets consent this way:
docs/decisions/0002-consent-stream-table-join.md; why there are no broker transactions:
docs/decisions/0001-deterministic-ids-not-transactions.md.

* A consent change, its event and its outbox row are committed in one database
  transaction (:meth:`StoreTransaction.append`); the relay publishes committed rows
  only, in commit order (``seq``), key = client pseudonym, to an explicit partition
  (murmur2 of the key), with an idempotent kafka-python producer and ``acks=all``, and
  marks a row published (partition, offset) only after the acknowledgement: at least
  once. Every record carries the change's stable ``event_id``.
* **Reconcile** whenever the relay (re)gains leadership or a send ended in doubt: for
  each partition with unpublished rows, read from just after the highest recorded offset
  up to the fetch high watermark (never ``end_offsets()``) and mark every unpublished row
  found there as published at that offset. Only then send the rest.
* **Rebuild a lost feed**: on the same occasions and every ``verify_interval_s``
  (:meth:`OutboxRelay.verify_feed`), check that the record at the last recorded offset
  of each partition is still there with the same event id; if not, or if the broker
  acknowledges a send at an offset not above the last recorded one, requeue every change
  of that partition and republish it in register order.
* **One relay at a time**: a lease row (``consent_leases``), renewed every cycle and
  before a send once a third of its TTL has passed; a holder on this host whose process
  is gone loses it at once, otherwise it expires after its TTL. A relay that is not the
  leader waits for the leader to mark the row it needs. Correctness rests on the
  reconciliation, which every new leader runs first.
* **Signed, in the hub's header scheme**: every record carries the CloudEvents headers
  of every hub topic and, with record security on, the consent service's signature and
  the subject's chain link (:mod:`hub.security.consent_feed`): the hash of the subject's
  previous change in the register, looked up when the row is sent, so a republished feed
  chains as the first did. A feed whose last record is unsigned while this relay signs
  is republished. The router applies nothing else.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.partitioner.default import murmur2

from consent.errors import ConsentStoreError, PublishTimeout
from consent.faults import CRASH_AFTER_PUBLISH, crash_point
from consent.model import ConsentChangeMessage, utc_now
from consent.store import ConsentStore, OutboxRow
from hub.config import HubSettings
from hub.errors import BrokerError, HubError
from hub.ids import EventId
from hub.kafka import consumer, discard_producer, kafka_errors, producer
from hub.metrics import HubMetrics
from hub.security.consent_feed import ConsentFeedSigner
from hub.security.headers import CE_ID, SIG
from hub.serde.canonical import CanonicalCodec
from hub.serde.cloudevents import ce_headers
from schemas.models.consent import ConsentChange

__all__ = [
    "EVENT_ID_HEADER",
    "LEASE_NAME",
    "METRICS_PARTNER",
    "ChangeEncoder",
    "OutboxRelay",
    "avro_encoder",
    "json_encoder",
    "partition_for",
    "wire_encoder",
]

_LOG = logging.getLogger(__name__)

METRICS_PARTNER = "hub"
"""The ``partner`` label of the change feed's metrics: the hub's own topic."""

ChangeEncoder = Callable[[ConsentChangeMessage], bytes]
"""Turns a change into the record value (swap in the Confluent wire-format serializer)."""

EVENT_ID_HEADER = CE_ID
"""The header holding a change's event id (CloudEvents, as on every hub topic)."""
_OLD_EVENT_ID_HEADER = "event_id"  # what relays wrote before the feed used ce_id
LEASE_NAME = "consent-outbox-relay"
_BATCH = 100


def avro_encoder(message: ConsentChangeMessage) -> bytes:
    """Bare Avro binary of ``nl.rmt.hub.ConsentChange`` (schemas.codec, no framing)."""
    from schemas import codec  # noqa: PLC0415 - loads the schema set on first use

    return codec.encode(_as_record(message))


def wire_encoder(codec: CanonicalCodec, topic: str) -> ChangeEncoder:
    """Encodes changes in the Confluent wire format through ``codec``'s registry."""

    def encode(message: ConsentChangeMessage) -> bytes:
        return codec.encode(_as_record(message), topic)

    return encode


def _as_record(message: ConsentChangeMessage) -> ConsentChange:
    return ConsentChange.model_validate(message.model_dump())


def json_encoder(message: ConsentChangeMessage) -> bytes:
    """The change as JSON (for debugging and tools without Avro)."""
    return message.model_dump_json().encode()


def partition_for(key: bytes, partitions: int) -> int:
    """The partition the Java client's default partitioner picks for ``key``."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


def _event_id(record: Any) -> str | None:
    """The event id header of a feed record (``ce_id``, or what older relays wrote)."""
    headers = {name: raw for name, raw in record.headers or [] if raw is not None}
    raw = headers.get(EVENT_ID_HEADER, headers.get(_OLD_EVENT_ID_HEADER))
    return None if raw is None else bytes(raw).decode("utf-8", "replace")


def _signed(record: Any) -> bool:
    return any(name == SIG for name, _ in record.headers or [])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OutboxRelay:
    """Publishes the outbox to ``topic``; see the module docstring for the guarantees."""

    def __init__(
        self,
        store: ConsentStore,
        settings: HubSettings,
        topic: str,
        *,
        encoder: ChangeEncoder = avro_encoder,
        clock: Callable[[], datetime] = utc_now,
        lease_ttl_s: float = 5.0,
        ack_timeout_s: float = 10.0,
        interval_s: float = 0.5,
        scan_timeout_s: float = 30.0,
        verify_interval_s: float | None = 5.0,
        periodic: Callable[[], object] | None = None,
        metrics: HubMetrics | None = None,
        signer: ConsentFeedSigner | None = None,
    ) -> None:
        """``signer``: signs every change (record security on); None publishes unsigned
        changes, which a router with record security on refuses."""
        self._store = store
        self._signer = signer
        self._metrics = metrics
        self._settings = settings
        self.topic = topic
        self._encoder = encoder
        self._clock = clock
        self._lease_ttl_s = lease_ttl_s
        self._ack_timeout_s = ack_timeout_s
        self._interval_s = interval_s
        self._scan_timeout_s = scan_timeout_s
        self._verify_interval_s = verify_interval_s
        self._verified_at = time.monotonic()
        self._periodic = periodic
        self._host = socket.gethostname()
        self.holder = f"{self._host}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._lock = threading.RLock()
        self._producer: KafkaProducer | None = None
        self._verifier: KafkaConsumer | None = None
        self._partitions: int | None = None
        self._leader = False
        self._in_doubt = True  # reconcile before the first send
        self._renewed_at = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._marked = threading.Condition()
        self.published = 0
        self.reconciled = 0
        self.requeued = 0
        self.last_error: HubError | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def set_periodic(self, periodic: Callable[[], object] | None) -> None:
        """Something to run after every background cycle (the service's expiry sweep)."""
        self._periodic = periodic

    def start(self) -> None:
        """Publish in the background every ``interval_s`` (and whenever notified)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="consent-outbox", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """Wake the background loop (a change was committed)."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the loop, give up the lease, close the producer; idempotent."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        if not self._lock.acquire(timeout=timeout_s):
            _LOG.warning("outbox relay still busy after %.0fs; its lease will expire", timeout_s)
            return
        try:
            if self._leader:
                try:
                    self._store.release_lease(LEASE_NAME, self.holder)
                except HubError as exc:
                    _LOG.warning("could not release the outbox lease: %s", exc)
                self._leader = False
            if self._producer is not None:
                self._producer.close(timeout=5)
                self._producer = None
            self._close_verifier()
        finally:
            self._lock.release()

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.run_once()
                if self._verification_due() and self.verify_feed():
                    self.run_once()  # republish what the topic lost, now
                if self._periodic is not None:
                    self._periodic()
                failures = 0
                self.last_error = None
            except Exception as exc:  # the loop must survive and retry
                failures += 1
                self.last_error = exc if isinstance(exc, HubError) else HubError(repr(exc))
                log = _LOG.warning if failures in (1, 10) or failures % 100 == 0 else _LOG.debug
                log("consent outbox relay: %s (attempt %d, retrying)", exc, failures)
            self._wake.wait(self._interval_s if failures == 0 else min(5.0, 0.2 * failures))
            self._wake.clear()

    # --- leadership --------------------------------------------------------------------------
    def _dead_holder(self) -> str | None:
        holder = self._store.lease_holder(LEASE_NAME)
        if holder is None or holder == self.holder:
            return None
        host, _, rest = holder.partition(":")
        pid, _, _ = rest.partition(":")
        if host == self._host and pid.isdigit() and not _pid_alive(int(pid)):
            return holder
        return None

    def _lead(self) -> bool:
        """Take or renew the lease; on a new term, distrust what the last holder did."""
        now = self._clock()
        acquired = self._store.acquire_lease(LEASE_NAME, self.holder, now, self._lease_ttl_s)
        if not acquired:
            dead = self._dead_holder()
            if dead is not None:
                _LOG.info("taking the outbox lease over from %s (its process is gone)", dead)
                acquired = self._store.acquire_lease(
                    LEASE_NAME, self.holder, now, self._lease_ttl_s, steal_from=dead
                )
        if acquired and not self._leader:
            self._in_doubt = True
        self._leader = acquired
        self._renewed_at = time.monotonic()
        return acquired

    def _still_leading(self) -> bool:
        if time.monotonic() - self._renewed_at < self._lease_ttl_s / 3:
            return True
        return self._lead()

    # --- publishing --------------------------------------------------------------------------
    def _get_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = producer(
                self._settings,
                enable_idempotence=True,
                linger_ms=0,
                max_block_ms=int(self._ack_timeout_s * 1000),
                bootstrap_timeout_ms=int(self._ack_timeout_s * 1000),
            )
        return self._producer

    def has_pending(self) -> bool:
        """Whether committed changes still wait to be published."""
        return bool(self._store.pending_outbox(1))

    def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            discard_producer(producer)

    def _partition_count(self) -> int:
        if self._partitions is None:
            with kafka_errors(f"reading the partitions of {self.topic}"):
                parts = self._get_producer().partitions_for(self.topic)
            if not parts:
                raise BrokerError(f"topic {self.topic} has no partitions (does it exist?)")
            self._partitions = len(parts)
        return self._partitions

    def run_once(self) -> int:
        """If leader: reconcile when in doubt, then publish every pending row. Returns sent."""
        with self._lock:
            if not self._lead():
                return 0
            if self._in_doubt:
                self.reconcile()
            sent = 0
            while True:
                rows = self._store.pending_outbox(_BATCH)
                if not rows:
                    return sent
                for row in rows:
                    if not self._still_leading():
                        return sent
                    self._publish(row)
                    sent += 1

    def _publish(self, row: OutboxRow) -> None:
        key = row.key.encode()
        value = self._encoder(row.message)
        partition = partition_for(key, self._partition_count())
        headers = self._headers(row, key, value)
        self._in_doubt = True  # until the ack is in and the row is marked
        try:
            with kafka_errors(f"publishing consent change {row.event_id}"):
                future = self._get_producer().send(
                    self.topic, key=key, value=value, headers=headers, partition=partition
                )
                metadata = future.get(timeout=self._ack_timeout_s)
        except BrokerError:
            self._partitions = None  # re-read the metadata next time
            # A fresh producer next time: an idempotent producer that lived through a broker
            # restart keeps asking for its old producer id and never sends again.
            self._drop_producer()
            raise
        if self._metrics is not None:  # on the topic now, whatever happens next
            self._metrics.record_out(self.topic, METRICS_PARTNER)
        crash_point(CRASH_AFTER_PUBLISH)
        last = self._store.last_published_offset(self.topic, metadata.partition)
        if last is not None and metadata.offset <= last:
            # offsets only grow: the partition lost its log (topic recreated, broker restarted)
            requeued = self._store.requeue(self.topic, metadata.partition)
            self.requeued += requeued
            _LOG.warning(
                "%s/%d acknowledged offset %d after %d: the partition lost its log; "
                "republishing %d change(s)",
                self.topic,
                metadata.partition,
                metadata.offset,
                last,
                requeued,
            )
            raise BrokerError(f"{self.topic}/{metadata.partition} lost its log; rebuilding it")
        self._store.mark_published(
            row.event_id, self.topic, metadata.partition, metadata.offset, self._clock()
        )
        self._in_doubt = False
        self.published += 1
        with self._marked:
            self._marked.notify_all()
        _LOG.debug("published %s at %s/%d@%d", row.event_id, self.topic, partition, metadata.offset)

    def _headers(self, row: OutboxRow, key: bytes, value: bytes) -> list[tuple[str, bytes]]:
        """The CloudEvents headers of the change, signed and chained when there is a signer."""
        message = row.message
        headers = ce_headers(
            event_id=message.event_id,
            source=self._signer.source if self._signer is not None else message.source_partner,
            record_type=ConsentChange.avro_name,
            time=message.occurred_at,
        )
        if self._signer is None:
            return headers
        return self._signer.sign(
            topic=self.topic,
            key=key,
            value=value,
            headers=headers,
            previous=self._store.previous_hash(row.event_id),
        )

    # --- verifying the feed ----------------------------------------------------------------------
    def _verification_due(self) -> bool:
        if self._verify_interval_s is None:
            return False
        return time.monotonic() - self._verified_at >= self._verify_interval_s

    def verify_feed(self) -> int:
        """Check that the topic still holds what the outbox published; requeue what it lost.

        Per partition, one read: is the record at the last offset the outbox recorded still
        there, with the same event id? Where it is not (the topic was deleted and
        recreated, or a memory-only broker restarted), every change of that partition is
        queued again, to be republished in register order by the next :meth:`run_once`
        (the background loop runs it at once). Returns how many changes were requeued;
        0 when the feed is intact or this relay is not the leader (the leader verifies).
        Raises :class:`BrokerError` when the topic cannot be read.
        """
        with self._lock:
            self._verified_at = time.monotonic()
            if not self._lead():
                return 0
            try:
                requeued = self._requeue_lost(self._verifier_reader())
            except BaseException:
                self._close_verifier()  # a fresh client next time
                raise
            if requeued:
                self._in_doubt = True  # reconcile (find what is already there) before sending
            return requeued

    def _requeue_lost(self, reader: KafkaConsumer) -> int:
        """Requeue every partition whose last recorded record is gone; return how many rows."""
        total = 0
        for partition in range(self._partition_count()):
            last = self._store.last_published_offset(self.topic, partition)
            if last is None or self._still_there(partition, last, reader):
                continue
            requeued = self._store.requeue(self.topic, partition)
            total += requeued
            _LOG.warning(
                "%s/%d lost what the outbox published there; republishing %d change(s)",
                self.topic,
                partition,
                requeued,
            )
        self.requeued += total
        return total

    def _verifier_reader(self) -> KafkaConsumer:
        if self._verifier is None:
            self._verifier = self._reader()
        return self._verifier

    def _close_verifier(self) -> None:
        if self._verifier is not None:
            try:
                self._verifier.close()
            except Exception as exc:  # closing must never fail a stop
                _LOG.debug("closing the feed verifier: %s", exc)
            self._verifier = None

    # --- reconciliation --------------------------------------------------------------------------
    def reconcile(self) -> int:
        """Bring the outbox in line with the topic; return how many rows were found there.

        First, for every partition the outbox has published to, the record at the last
        recorded offset must still be there with the same event id; if the topic lost it
        (recreated, or a memory-only broker restarted) every row of that partition is
        queued again, so the feed is rebuilt from the register. Then pending rows that
        already reached the topic are marked published.
        """
        with self._lock:
            count = self._partition_count()
            reader = self._reader()
            try:
                self._requeue_lost(reader)
            finally:
                reader.close()
            self._verified_at = time.monotonic()
            pending = self._store.pending_outbox(10_000)
            wanted: dict[int, set[str]] = {}
            for row in pending:
                wanted.setdefault(partition_for(row.key.encode(), count), set()).add(row.event_id)
            marked = 0
            for partition, event_ids in sorted(wanted.items()):
                last = self._store.last_published_offset(self.topic, partition)
                start = 0 if last is None else last + 1
                for event_id, offset in self._scan(partition, start, event_ids).items():
                    if self._store.mark_published(
                        EventId(event_id), self.topic, partition, offset, self._clock()
                    ):
                        marked += 1
            if marked:
                _LOG.info(
                    "outbox reconciliation: %d change(s) were already on %s", marked, self.topic
                )
            self.reconciled += marked
            self._in_doubt = False
            return marked

    def _reader(self) -> KafkaConsumer:
        return consumer(
            self._settings,
            group_id=None,
            fetch_max_wait_ms=100,
            bootstrap_timeout_ms=int(self._ack_timeout_s * 1000),
        )

    def _still_there(self, partition: int, offset: int, reader: KafkaConsumer) -> bool:
        """Whether the topic still holds, at ``offset``, the event the outbox put there."""
        expected = self._store.event_at(self.topic, partition, offset)
        tp = TopicPartition(self.topic, partition)
        with kafka_errors(f"checking {self.topic}/{partition}"):
            reader.assign([tp])
            reader.seek(tp, offset)
            deadline = time.monotonic() + self._scan_timeout_s
            while True:
                records = reader.poll(timeout_ms=200, max_records=1).get(tp, [])
                if records:
                    first = records[0]
                    if first.offset < offset:  # reset to the start: offset is gone
                        return False
                    if first.offset > offset:  # the log starts later (retention)
                        return True
                    if self._signer is not None and not _signed(first):
                        return False  # published unsigned: the router refuses it
                    found = _event_id(first)
                    return found is not None and found == expected
                high = reader.highwater(tp)
                if high is not None and high <= offset:
                    return False
                if time.monotonic() > deadline:
                    raise BrokerError(f"could not read {self.topic}/{partition}@{offset}")

    def _scan(self, partition: int, start: int, wanted: set[str]) -> dict[str, int]:
        """Event ids in ``wanted`` found from ``start`` up to the high watermark -> offset."""
        tp = TopicPartition(self.topic, partition)
        found: dict[str, int] = {}
        reader = self._reader()
        try:
            with kafka_errors(f"reading {self.topic}/{partition} to reconcile the outbox"):
                reader.assign([tp])
                reader.seek(tp, start)
                deadline = time.monotonic() + self._scan_timeout_s
                while True:
                    batch: dict[Any, list[Any]] = reader.poll(timeout_ms=200, max_records=500)
                    for record in batch.get(tp, []):
                        event_id = _event_id(record)
                        if event_id in wanted and (self._signer is None or _signed(record)):
                            found.setdefault(event_id, record.offset)
                    high = reader.highwater(tp)
                    if high is not None and reader.position(tp) >= high:
                        return found
                    if time.monotonic() > deadline:
                        raise BrokerError(
                            f"could not read {self.topic}/{partition} up to its high watermark "
                            f"within {self._scan_timeout_s:.0f}s"
                        )
        finally:
            reader.close()

    # --- waiting for a change -------------------------------------------------------------------
    def ensure_published(self, event_id: EventId, timeout_s: float) -> OutboxRow:
        """Return once the change is on the topic; PublishTimeout after ``timeout_s``.

        With the background loop running, the caller only wakes it and waits (so a
        request never blocks on the broker longer than ``timeout_s``); without it, the
        caller publishes itself when this relay can lead.
        """
        deadline = time.monotonic() + timeout_s
        background = self._thread is not None and self._thread.is_alive()
        last_error: HubError | None = None
        while True:
            row = self._store.outbox_row(event_id)
            if row is None:
                raise ConsentStoreError(f"no outbox row for event {event_id}")
            if row.published_at is not None:
                return row
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                error = last_error or self.last_error
                why = f" (last error: {error})" if error else ""
                raise PublishTimeout(
                    f"change {event_id} is stored but not yet published to {self.topic}{why}; "
                    "the relay keeps trying, repeating the request is safe"
                )
            if background:
                self.notify()
                with self._marked:
                    self._marked.wait(min(0.05, remaining))
                continue
            try:
                self.run_once()
                if not self._leader:
                    time.sleep(min(0.05, remaining))
            except HubError as exc:
                last_error = exc
                time.sleep(min(0.2, max(remaining, 0)))
