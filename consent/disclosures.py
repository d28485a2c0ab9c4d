"""Disclosures for the subject access report, from the router's audit topic.

The hub's router writes one ``nl.rmt.hub.DisclosureEvent`` per record it delivers to a
partner inbox (topic ``<prefix>.audit.disclosures``, keyed by client pseudonym). The
:class:`DisclosureIngester` reads that topic into the consent store's disclosures table
(:func:`disclosure_from_event`), where the access report finds them. It needs no
consumer group: the next offset of every partition is stored in the same transaction as
the disclosures read up to it, and a disclosure id is stored once, so a crash anywhere
neither loses nor doubles one.

The value decoder is injectable (:data:`DisclosureDecoder`). :func:`avro_disclosure_decoder`
reads bare Avro (:mod:`schemas.codec`); the router writes the Confluent wire format, which
:func:`disclosure_decoder_for` reads through the configured schema registry (and bare Avro
too) - :class:`consent.runtime.ConsentRuntime` uses it by default.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from consent.model import DisclosureRecord
from consent.store import ConsentStore
from hub.config import HubSettings
from hub.errors import BrokerError, HubError
from hub.ids import ConsentId, EventId
from hub.kafka import consumer, kafka_errors
from hub.metrics import HubMetrics
from schemas.models.audit import DisclosureEvent

__all__ = [
    "METRICS_GROUP",
    "METRICS_PARTNER",
    "DisclosureDecoder",
    "DisclosureIngester",
    "avro_disclosure_decoder",
    "disclosure_decoder_for",
    "disclosure_from_event",
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


class DisclosureIngester:
    """Reads the audit topic into the store, from where it stopped."""

    def __init__(
        self,
        store: ConsentStore,
        settings: HubSettings,
        topic: str,
        *,
        decoder: DisclosureDecoder = avro_disclosure_decoder,
        interval_s: float = 1.0,
        metrics: HubMetrics | None = None,
    ) -> None:
        self._store = store
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
            offsets: dict[int, int] = {}
            read = 0
            for tp, batch in batches.items():
                for message in batch:
                    read += 1
                    offsets[tp.partition] = message.offset + 1
                    try:
                        records.append(disclosure_from_event(self._decoder(message.value)))
                    except (HubError, ValueError) as exc:
                        self.undecodable += 1
                        if self._metrics is not None:
                            self._metrics.dead_letter(self.topic, METRICS_PARTNER, "undecodable")
                        _LOG.warning(  # the error's class only: its text may quote values
                            "skipping undecodable record %s/%d@%d (%s)",
                            self.topic,
                            tp.partition,
                            message.offset,
                            type(exc).__name__,
                        )
            if not offsets:
                self._note_lag(reader)
                return 0
            added = self._store.add_disclosures(records, topic=self.topic, offsets=offsets)
            self.ingested += added
            if self._metrics is not None:
                self._metrics.record_in(self.topic, METRICS_PARTNER, read)
            self._note_lag(reader)
            return added

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
