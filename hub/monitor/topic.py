"""Monitor events on Kafka: the wire format, publishing, and reading a topic to its end;
and publishing a report to the reports topic, the only one the monitor's analysts read.

Values are Avro in the Confluent wire format (subject ``nl.rmt.hub.MonitorEvent``,
RecordNameStrategy, as everywhere in the hub), keys the monitor pseudonym, headers the
CloudEvents attributes. :func:`read_events` reads every partition from the beginning to
the **fetch high watermark** it saw when it started (never ``end_offsets()``, which the
embedded broker gets wrong for batches of several records).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from kafka import TopicPartition

from hub.config import HubSettings
from hub.errors import HubError
from hub.kafka import consumer, kafka_errors, producer
from hub.monitor.errors import MonitorReadError
from hub.monitor.report import Report, render_json
from hub.registry import RegistryClient
from hub.serde import (
    AvroDeserializer,
    AvroSerializer,
    CloudEvent,
    SerializationContext,
    self_contained_schema,
)
from schemas import codec, load_schemas
from schemas.models import MonitorEvent

__all__ = [
    "MonitorCodec",
    "headers_of",
    "publish_events",
    "publish_report",
    "publish_reports",
    "read_events",
    "report_key",
]

_NAME = MonitorEvent.avro_name
_METADATA_WAIT_S = 5.0


class MonitorCodec:
    """MonitorEvent <-> Confluent wire format through a schema registry."""

    def __init__(self, registry: RegistryClient) -> None:
        schema = self_contained_schema(_NAME, load_schemas().raw)
        self._serializer = AvroSerializer(registry, schema, to_dict=_to_avro)
        self._deserializer = AvroDeserializer(registry, reader_schema=schema)

    def serialize(self, event: MonitorEvent, topic: str) -> bytes:
        data = self._serializer(event, SerializationContext(topic))
        assert data is not None  # only None serializes to None
        return data

    def deserialize(self, data: bytes, ctx: SerializationContext) -> MonitorEvent:
        """The event in ``data``; MonitorReadError (naming topic, partition, offset) if none."""
        try:
            decoded = self._deserializer.decode(data, ctx)
            if decoded.record_type != _NAME:
                raise MonitorReadError(
                    f"{ctx.where()}: a {decoded.record_type} on the monitor topic"
                )
            event = codec.from_avro(_NAME, decoded.value)
        except MonitorReadError:
            raise
        except HubError as exc:
            raise MonitorReadError(f"{ctx.where()}: not a readable MonitorEvent: {exc}") from exc
        assert isinstance(event, MonitorEvent)
        return event


def _to_avro(event: Any, _ctx: SerializationContext) -> Any:
    return codec.to_avro(event)


def headers_of(event: MonitorEvent) -> list[tuple[str, bytes]]:
    """The CloudEvents headers of ``event``."""
    return CloudEvent(
        id=event.event_id, source=event.source_partner, type=_NAME, time=event.occurred_at
    ).to_headers()


def publish_events(
    settings: HubSettings, topic: str, events: Iterable[MonitorEvent], codec_: MonitorCodec
) -> int:
    """Write ``events`` to ``topic`` (key: the monitor pseudonym); returns how many."""
    count = 0
    with kafka_errors(f"publishing monitor events to {topic}"):
        writer = producer(settings, linger_ms=20, batch_size=256 * 1024)
        try:
            for event in events:
                writer.send(
                    topic,
                    key=event.monitor_pseudonym.encode("ascii"),
                    value=codec_.serialize(event, topic),
                    headers=headers_of(event),
                )
                count += 1
            writer.flush()
        finally:
            writer.close()
    return count


def report_key(report: Report) -> str:
    """The reports topic's key of ``report``: its period, and ``|REGION`` when cut to one
    (compaction keeps the latest report per key)."""
    return report.period if report.region is None else f"{report.period}|{report.region.value}"


def publish_report(settings: HubSettings, topic: str, report: Report) -> str:
    """Write ``report`` (suppressed, as JSON: :func:`render_json`) to the reports topic;
    returns its key."""
    key = report_key(report)
    publish_reports(settings, topic, [(key, render_json(report))])
    return key


def publish_reports(settings: HubSettings, topic: str, reports: list[tuple[str, str]]) -> None:
    """Write (key, JSON report) pairs to the reports topic, all acknowledged on return."""
    keys = ", ".join(key for key, _ in reports)
    with kafka_errors(f"publishing the reports {keys} to {topic}"):
        writer = producer(settings)
        try:
            for key, text in reports:
                writer.send(topic, key=key.encode("utf-8"), value=text.encode("utf-8"))
            writer.flush()
        finally:
            writer.close()


def read_events(
    settings: HubSettings,
    topic: str,
    codec_: MonitorCodec,
    *,
    timeout_s: float = 60.0,
) -> Iterator[MonitorEvent]:
    """Every event on ``topic`` up to the fetch high watermark of each partition.

    The high watermark is taken from the first fetch answer of each partition, so events
    written while reading are not waited for. MonitorReadError on a bad record or when
    the topic does not answer within ``timeout_s``.
    """
    with kafka_errors(f"reading {topic}"):
        reader = consumer(settings, enable_auto_commit=False, group_id=None)
    try:
        with kafka_errors(f"reading {topic}"):
            partitions = reader.partitions_for_topic(topic)
            known_by = time.monotonic() + min(timeout_s, _METADATA_WAIT_S)
            while not partitions and time.monotonic() < known_by:
                time.sleep(0.1)
                partitions = reader.partitions_for_topic(topic)
            if not partitions:
                raise MonitorReadError(f"topic {topic} does not exist")
            deadline = time.monotonic() + timeout_s
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            reader.assign(tps)
            reader.seek_to_beginning(*tps)
            targets: dict[TopicPartition, int] = {}
            while len(targets) < len(tps) or any(
                reader.position(tp) < high for tp, high in targets.items()
            ):
                if time.monotonic() > deadline:
                    raise MonitorReadError(f"{topic}: not read to its end in {timeout_s:.0f}s")
                batch = reader.poll(timeout_ms=200, max_records=5000)
                for tp in tps:
                    if tp not in targets:
                        high = reader.highwater(tp)
                        if high is not None:
                            targets[tp] = high
                for tp, records in batch.items():
                    high = targets.get(tp)
                    for record in records:
                        if high is not None and record.offset >= high:
                            break
                        ctx = SerializationContext(
                            record.topic,
                            headers=tuple(record.headers or ()),
                            partition=record.partition,
                            offset=record.offset,
                        )
                        if record.value is None:
                            continue
                        yield codec_.deserialize(record.value, ctx)
                deadline = max(deadline, time.monotonic() + (5.0 if batch else 0.0))
    finally:
        reader.close()
