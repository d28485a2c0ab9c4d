"""Reading an audit topic back from Kafka: every entry, or the head of each partition.

Reading stops at the fetch high watermark of each partition (:mod:`hub.kafka.reading`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.config import HubSettings
from hub.kafka import consumer, kafka_errors
from hub.kafka.reading import read_to_highwater, topic_partitions
from hub.security.audit_chain import AuditChainer, AuditEntry, ChainHead

__all__ = ["read_audit_entries", "resume_chainer"]


def _reader(settings: HubSettings) -> Any:
    return consumer(
        settings,
        group_id=None,
        fetch_max_wait_ms=50,
        client_id=f"{settings.client_id}-audit",
    )


def _entry(record: Any) -> AuditEntry:
    return AuditEntry(
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        headers=tuple((str(k), bytes(v or b"")) for k, v in record.headers or ()),
    )


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
            tps = topic_partitions(reader, topic, min(timeout_s, 10.0))
            reader.assign(tps)
            reader.seek_to_beginning(*tps)
            records = read_to_highwater(
                reader, tps, what=topic, timeout_s=timeout_s, max_records=5000, progress=progress
            )
            entries = [_entry(r) for r in records]
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
                wanted = [
                    tp.partition for tp in topic_partitions(reader, topic, min(timeout_s, 10.0))
                ]
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
