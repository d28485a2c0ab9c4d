"""Self-check: one example record of every message schema, through the real broker.

Each record is encoded to Avro, produced to the self-check topic, consumed back over
the same socket, decoded and compared with what was sent. The result says, per schema,
whether the round trip was exact, how many bytes it took and how long it took.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from kafka import TopicPartition

from hub.config import HubSettings
from hub.errors import BrokerError, SchemaError
from hub.kafka import consumer, kafka_errors, producer
from schemas import codec, load_schemas
from schemas.examples import example

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
    """Round-trip one example of every message schema through ``topic``."""
    run_id = uuid.uuid4().hex
    sent: dict[str, tuple[object, bytes, float]] = {}
    positions: dict[TopicPartition, int] = {}
    prod = producer(settings)
    try:
        with kafka_errors(f"producing the self-check records to {topic}"):
            for fullname in load_schemas().messages():
                record = example(fullname)
                value = codec.encode(record)
                started = time.perf_counter()
                metadata = prod.send(
                    topic,
                    key=fullname.encode(),
                    value=value,
                    headers=[(SCHEMA_HEADER, fullname.encode()), (RUN_HEADER, run_id.encode())],
                ).get(timeout=timeout_s)
                tp = TopicPartition(metadata.topic, metadata.partition)
                positions[tp] = min(positions.get(tp, metadata.offset), metadata.offset)
                sent[fullname] = (record, value, started)
    finally:
        prod.close()

    received: dict[str, RoundTrip] = {}
    cons = consumer(settings, group_id=None, enable_auto_commit=False)
    try:
        with kafka_errors(f"consuming the self-check records from {topic}"):
            cons.assign(list(positions))
            for tp, offset in positions.items():
                cons.seek(tp, offset)
            deadline = time.monotonic() + timeout_s
            while len(received) < len(sent) and time.monotonic() < deadline:
                for batch in cons.poll(timeout_ms=200).values():
                    for message in batch:
                        headers = dict(message.headers or [])
                        if headers.get(RUN_HEADER) != run_id.encode():
                            continue
                        fullname = headers[SCHEMA_HEADER].decode()
                        received[fullname] = _compare(fullname, sent[fullname], message.value)
    finally:
        cons.close()

    missing = [
        RoundTrip(name, len(value), 0.0, False, f"not received within {timeout_s:.0f}s")
        for name, (_, value, _) in sent.items()
        if name not in received
    ]
    if len(missing) == len(sent) and sent:
        raise BrokerError(f"self-check: nothing came back from {topic} within {timeout_s:.0f}s")
    return [received[name] for name in sent if name in received] + missing


def _compare(fullname: str, sent: tuple[object, bytes, float], value: bytes | None) -> RoundTrip:
    record, encoded, started = sent
    latency_ms = (time.perf_counter() - started) * 1000
    if value != encoded:
        return RoundTrip(fullname, len(encoded), latency_ms, False, "bytes differ after transport")
    try:
        decoded = codec.decode(fullname, value)
    except SchemaError as exc:
        return RoundTrip(fullname, len(encoded), latency_ms, False, str(exc))
    if decoded != record:
        return RoundTrip(fullname, len(encoded), latency_ms, False, "decoded record differs")
    return RoundTrip(fullname, len(encoded), latency_ms, True)
