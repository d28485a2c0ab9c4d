"""Self-check: one example record of every message schema, through the real broker.

Each record is encoded in the Confluent wire format (its schema registered with the
registry in use), produced with its CloudEvents headers to the self-check topic,
consumed back over the same socket, decoded by the schema id in its frame and compared
with what was sent. The result says, per schema, whether the round trip was exact, how
many bytes it took and how long it took.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from hub.config import HubSettings
from hub.errors import BrokerError, SchemaError
from hub.kafka import consumer, kafka_errors, producer
from hub.serde import CloudEvent, SerializationContext
from hub.serde.canonical import CanonicalCodec, cloud_event_headers
from schemas import load_schemas
from schemas.examples import example
from schemas.models import CanonicalRecord

__all__ = ["RoundTrip", "run_selfcheck"]

SCHEMA_HEADER = "rmt-schema"
RUN_HEADER = "rmt-selfcheck-run"


@dataclass(frozen=True)
class RoundTrip:
    """The outcome for one schema."""

    schema: str
    size: int
    latency_ms: float
    ok: bool
    detail: str = ""


def run_selfcheck(
    settings: HubSettings, topic: str, codec: CanonicalCodec, timeout_s: float = 15.0
) -> list[RoundTrip]:
    """Round-trip one example of every message schema through ``topic``, one at a time.

    The consumer is positioned before anything is sent, so each latency is the time from
    send to receipt of that record. Records of other runs are told apart by a header,
    never by offsets (the embedded broker reports end offsets imprecisely).
    """
    run_id = uuid.uuid4().hex.encode()
    results: list[RoundTrip] = []
    prod = producer(settings, linger_ms=0)
    cons = consumer(settings, group_id=None)
    try:
        with kafka_errors(f"self-check on {topic}"):
            partitions = cons.partitions_for_topic(topic) or {0}
            cons.assign([TopicPartition(topic, p) for p in sorted(partitions)])
            cons.seek_to_end()
            for tp in cons.assignment():
                cons.position(tp)
            for fullname in load_schemas().messages():
                results.append(
                    _round_trip(
                        prod,
                        cons,
                        codec,
                        topic=topic,
                        fullname=fullname,
                        run_id=run_id,
                        timeout_s=timeout_s,
                    )
                )
    finally:
        prod.close()
        cons.close()
    if results and not any(r.ok for r in results):
        raise BrokerError(f"self-check: no record came back intact from {topic}: {results[0]}")
    return results


def _round_trip(
    prod: KafkaProducer,
    cons: KafkaConsumer,
    codec: CanonicalCodec,
    *,
    topic: str,
    fullname: str,
    run_id: bytes,
    timeout_s: float,
) -> RoundTrip:
    record = example(fullname)
    encoded = codec.encode(record, topic)
    ce_sent = cloud_event_headers(record)
    started = time.perf_counter()
    prod.send(
        topic,
        key=fullname.encode(),
        value=encoded,
        headers=[*ce_sent, (SCHEMA_HEADER, fullname.encode()), (RUN_HEADER, run_id)],
    ).get(timeout=timeout_s)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for batch in cons.poll(timeout_ms=100).values():
            for message in batch:
                received = dict(message.headers or [])
                if received.get(RUN_HEADER) == run_id and received.get(SCHEMA_HEADER) == (
                    fullname.encode()
                ):
                    latency_ms = (time.perf_counter() - started) * 1000
                    return _verdict(codec, record, message, ce_sent=ce_sent, latency_ms=latency_ms)
    return RoundTrip(fullname, len(encoded), 0.0, False, f"not received within {timeout_s:.0f}s")


def _verdict(
    codec: CanonicalCodec,
    record: CanonicalRecord,
    message: ConsumerRecord,
    *,
    ce_sent: list[tuple[str, bytes]],
    latency_ms: float,
) -> RoundTrip:
    fullname = record.avro_name
    value: bytes = message.value or b""
    if CloudEvent.from_headers(message.headers) != CloudEvent.from_headers(ce_sent):
        return RoundTrip(fullname, len(value), latency_ms, False, "CloudEvents headers differ")
    ctx = SerializationContext(
        message.topic, headers=message.headers, partition=message.partition, offset=message.offset
    )
    encoded = len(value)
    try:
        decoded = codec.decode(value, ctx)
    except SchemaError as exc:
        return RoundTrip(fullname, encoded, latency_ms, False, str(exc))
    if decoded != record:
        return RoundTrip(fullname, encoded, latency_ms, False, "decoded record differs")
    return RoundTrip(fullname, encoded, latency_ms, True)
