"""Reading the consent changes topic in tests (up to the fetch high watermark)."""

from __future__ import annotations

import time
from typing import Any

from kafka import TopicPartition

from consent.outbox import EVENT_ID_HEADER
from hub.config import HubSettings
from hub.kafka import consumer

__all__ = ["event_ids", "read_topic"]


def read_topic(settings: HubSettings, topic: str, timeout_s: float = 20.0) -> list[Any]:
    """Every record on ``topic`` now, in partition-then-offset order."""
    reader = consumer(settings, group_id=None, fetch_max_wait_ms=100)
    try:
        deadline = time.monotonic() + timeout_s
        partitions = reader.partitions_for_topic(topic)
        while not partitions:
            if time.monotonic() > deadline:
                raise AssertionError(f"topic {topic} has no partitions")
            time.sleep(0.1)
            partitions = reader.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        reader.assign(tps)
        reader.seek_to_beginning(*tps)
        records: dict[int, list[Any]] = {tp.partition: [] for tp in tps}
        while True:
            for tp, batch in reader.poll(timeout_ms=200).items():
                records[tp.partition].extend(batch)
            highs = {tp: reader.highwater(tp) for tp in tps}
            if all(h is not None and reader.position(tp) >= h for tp, h in highs.items()):
                return [r for p in sorted(records) for r in records[p]]
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end")
    finally:
        reader.close()


def event_ids(records: list[Any]) -> list[str]:
    """The event id header of each record."""
    ids = []
    for record in records:
        headers = dict(record.headers or [])
        ids.append(headers[EVENT_ID_HEADER].decode())
    return ids
