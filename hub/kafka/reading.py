"""Reading a topic to its end: up to the **fetch high watermark** of each partition.

The end is what fetch responses report, never ``end_offsets()``, which the embedded
broker answered wrongly (docs/decisions/0003-fail-closed-loading.md). Callers assign the
partitions and seek; :func:`read_to_highwater` polls until each is read to its end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from hub.config import HubSettings
from hub.errors import BrokerError, TopicError
from hub.kafka import consumer, kafka_errors

__all__ = ["read_to_highwater", "read_topic", "topic_partitions"]


def topic_partitions(
    reader: KafkaConsumer, topic: str, wait_s: float = 0.0
) -> list[TopicPartition]:
    """The partitions of ``topic``, waiting up to ``wait_s`` for the metadata to show it;
    :class:`TopicError` when it does not exist."""
    deadline = time.monotonic() + wait_s
    partitions = reader.partitions_for_topic(topic)
    while not partitions and time.monotonic() < deadline:
        time.sleep(0.1)
        partitions = reader.partitions_for_topic(topic)
    if not partitions:
        raise TopicError(f"topic {topic} does not exist (apply the topic catalogue)")
    return [TopicPartition(topic, p) for p in sorted(partitions)]


def read_to_highwater(
    reader: KafkaConsumer,
    tps: list[TopicPartition],
    *,
    what: str,
    timeout_s: float,
    max_records: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Any]:
    """Yield each record ``reader`` polls until every partition of ``tps`` is read up to
    its fetch high watermark; :class:`BrokerError` naming ``what`` after ``timeout_s``.
    ``progress`` is called with the count read so far after each batch."""
    pending = set(tps)
    deadline = time.monotonic() + timeout_s
    seen = 0
    while pending:
        for records in reader.poll(timeout_ms=100, max_records=max_records).values():
            yield from records
            seen += len(records)
            if progress is not None:
                progress(seen)
        for tp in list(pending):
            high = reader.highwater(tp)
            if high is not None and reader.position(tp) >= high:
                pending.discard(tp)
        if pending and time.monotonic() > deadline:
            raise BrokerError(
                f"could not read {what} up to its high watermark within {timeout_s:.0f}s "
                f"({len(pending)} partition(s) behind)"
            )


def read_topic(
    settings: HubSettings,
    topic: str,
    *,
    timeout_s: float = 60.0,
    metadata_wait_s: float = 0.0,
    client_id: str | None = None,
) -> list[Any]:
    """Every record of ``topic`` from its beginning to its end, in (partition, offset)
    order. :class:`TopicError` when it does not exist (after ``metadata_wait_s``)."""
    reader = consumer(
        settings,
        group_id=None,
        fetch_max_wait_ms=50,
        client_id=client_id or f"{settings.client_id}-read",
    )
    try:
        with kafka_errors(f"reading {topic}"):
            tps = topic_partitions(reader, topic, metadata_wait_s)
            reader.assign(tps)
            reader.seek_to_beginning(*tps)
            records = list(read_to_highwater(reader, tps, what=topic, timeout_s=timeout_s))
    finally:
        reader.close()
    return sorted(records, key=lambda r: (r.partition, r.offset))
