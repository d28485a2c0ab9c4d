"""Self-check: one example record of every message schema, through the real broker.

Each record is encoded to Avro, produced to the self-check topic, consumed back over
the same socket, decoded and compared with what was sent. The result says, per schema,
whether the round trip was exact, how many bytes it took and how long it took.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from hub.config import HubSettings
from hub.errors import BrokerError, SchemaError
from hub.kafka import consumer, kafka_errors, producer
from schemas import codec, load_schemas
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


def run_selfcheck(settings: HubSettings, topic: str, timeout_s: float = 15.0) -> list[RoundTrip]:
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
    *,
    topic: str,
    fullname: str,
    run_id: bytes,
    timeout_s: float,
) -> RoundTrip:
    record = example(fullname)
    encoded = codec.encode(record)
    started = time.perf_counter()
    prod.send(
        topic,
        key=fullname.encode(),
        value=encoded,
        headers=[(SCHEMA_HEADER, fullname.encode()), (RUN_HEADER, run_id)],
    ).get(timeout=timeout_s)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for batch in cons.poll(timeout_ms=100).values():
            for message in batch:
                headers = dict(message.headers or [])
                if headers.get(RUN_HEADER) == run_id and headers.get(SCHEMA_HEADER) == (
                    fullname.encode()
                ):
                    latency_ms = (time.perf_counter() - started) * 1000
                    return _verdict(fullname, record, encoded, message.value, latency_ms)
    return RoundTrip(fullname, len(encoded), 0.0, False, f"not received within {timeout_s:.0f}s")


def _verdict(
    fullname: str, record: CanonicalRecord, encoded: bytes, value: bytes | None, latency_ms: float
) -> RoundTrip:
    if value != encoded:
        return RoundTrip(fullname, len(encoded), latency_ms, False, "bytes differ after transport")
    try:
        decoded = codec.decode(fullname, value)
    except SchemaError as exc:
        return RoundTrip(fullname, len(encoded), latency_ms, False, str(exc))
    if decoded != record:
        return RoundTrip(fullname, len(encoded), latency_ms, False, "decoded record differs")
    return RoundTrip(fullname, len(encoded), latency_ms, True)
