"""Reading an audit topic back from Kafka: every entry, or the head of each partition.

Reading stops at the **fetch high watermark** of each partition (what fetch responses
report), never at ``end_offsets()``, which the embedded broker gets wrong.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kafka import TopicPartition

from hub.config import HubSettings
from hub.errors import BrokerError, TopicError
from hub.kafka import consumer, kafka_errors
from hub.security.audit_chain import AuditChainer, AuditEntry, ChainHead

__all__ = ["read_audit_entries", "resume_chainer"]


def _reader(settings: HubSettings) -> Any:
    return consumer(
        settings,
        group_id=None,
        fetch_max_wait_ms=50,
        client_id=f"{settings.client_id}-audit",
    )


def _partitions(reader: Any, topic: str, timeout_s: float) -> list[TopicPartition]:
    deadline = time.monotonic() + min(timeout_s, 10.0)
    partitions = reader.partitions_for_topic(topic)
    while not partitions and time.monotonic() < deadline:
        time.sleep(0.1)
        partitions = reader.partitions_for_topic(topic)
    if not partitions:
        raise TopicError(f"topic {topic} does not exist")
    return [TopicPartition(topic, p) for p in sorted(partitions)]


def _entry(record: Any) -> AuditEntry:
    return AuditEntry(
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        headers=tuple((str(k), bytes(v or b"")) for k, v in record.headers or ()),
    )


def _read_to_highwater(
    reader: Any,
    tps: list[TopicPartition],
    topic: str,
    timeout_s: float,
    progress: Callable[[int], None] | None = None,
) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    pending = set(tps)
    deadline = time.monotonic() + timeout_s
    while pending:
        for records in reader.poll(timeout_ms=100, max_records=5000).values():
            entries.extend(_entry(r) for r in records)
            if progress is not None:
                progress(len(entries))
        for tp in list(pending):
            high = reader.highwater(tp)
            if high is not None and reader.position(tp) >= high:
                pending.discard(tp)
        if pending and time.monotonic() > deadline:
            raise BrokerError(
                f"could not read {topic} up to its high watermark within {timeout_s:.0f}s "
                f"({len(pending)} partition(s) behind)"
            )
    return entries


def read_audit_entries(
    settings: HubSettings,
    topic: str,
    *,
    timeout_s: float = 120.0,
    progress: Callable[[int], None] | None = None,
) -> list[AuditEntry]:
    """Every record of ``topic``, partition by partition in offset order (any topic: the
    dead-letter reader uses it too); ``progress`` is called with the count read so far."""
    reader = _reader(settings)
    try:
        with kafka_errors(f"reading {topic}"):
            tps = _partitions(reader, topic, timeout_s)
            reader.assign(tps)
            reader.seek_to_beginning(*tps)
            entries = _read_to_highwater(reader, tps, topic, timeout_s, progress)
    finally:
        reader.close()
    entries.sort(key=lambda e: (e.partition, e.offset))
    return entries


def resume_chainer(
    settings: HubSettings,
    topic: str,
    chainer: AuditChainer,
    partitions: list[int] | None = None,
    *,
    timeout_s: float = 60.0,
) -> dict[int, ChainHead | None]:
    """Resume ``chainer`` on ``partitions`` (all) from the last chained entry of each.

    For kafka-python writers; an asyncio writer does the same with its own consumer:
    read the partition's tail and call :meth:`AuditChainer.resume_from_headers` with the
    last chained record (or ``resume(p, None)`` for an empty partition).
    """
    entries = read_audit_entries(settings, topic, timeout_s=timeout_s)
    heads: dict[int, ChainHead | None] = {}
    wanted = partitions
    if wanted is None:
        reader = _reader(settings)
        try:
            with kafka_errors(f"describing {topic}"):
                wanted = [tp.partition for tp in _partitions(reader, topic, timeout_s)]
        finally:
            reader.close()
    for partition in wanted:
        tail = [e for e in entries if e.partition == partition]
        if not tail:
            chainer.resume(partition, None)
            heads[partition] = None
            continue
        heads[partition] = chainer.resume_from_headers(partition, tail[-1].headers)
    return heads
