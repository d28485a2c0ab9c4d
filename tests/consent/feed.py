"""Reading the consent changes topic in tests (up to the fetch high watermark)."""

from __future__ import annotations

from typing import Any

from consent.outbox import EVENT_ID_HEADER
from hub.config import HubSettings
from hub.kafka.reading import read_topic as read_to_end

__all__ = ["event_ids", "read_topic"]


def read_topic(settings: HubSettings, topic: str, timeout_s: float = 20.0) -> list[Any]:
    """Every record on ``topic`` now, in partition-then-offset order."""
    return read_to_end(settings, topic, timeout_s=timeout_s, metadata_wait_s=timeout_s)


def event_ids(records: list[Any]) -> list[str]:
    """The event id header of each record."""
    ids = []
    for record in records:
        headers = dict(record.headers or [])
        ids.append(headers[EVENT_ID_HEADER].decode())
    return ids
