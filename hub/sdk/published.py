"""Which event ids are already on a topic: read it to the fetch high watermark.

The SDK de-duplicates publishing by event id. Its memory of what was published is the
topic itself, not a local file: the partner's outbox is the truth, so the answer is
right after a restart, on another machine, with lost local state, and for every
process publishing as the partner. :func:`scan_topic` reads every partition from its
beginning up to the high watermark that the *fetch responses* report (never
``end_offsets()``, which the embedded broker answers wrongly) and hands each record to
a visitor; :func:`published_event_ids` collects the ``ce_id`` headers, optionally only
of one ``ce_source``.

Cost: one read of the topic per client (a partner's outbox is bounded by its retention,
7 days); the ids are held in memory (about 100 bytes each).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.config import HubSettings
from hub.kafka import consumer, kafka_errors
from hub.kafka.reading import read_to_highwater, topic_partitions

__all__ = ["header_value", "published_event_ids", "scan_topic"]

Visitor = Callable[[Any], None]
"""Called with each kafka-python ``ConsumerRecord``."""


def header_value(headers: Any, name: str) -> str | None:
    """The UTF-8 value of the first header called ``name``, or None."""
    for key, raw in headers or ():
        if key == name and raw is not None:
            return bytes(raw).decode("utf-8", "replace")
    return None


def scan_topic(
    settings: HubSettings, topic: str, visit: Visitor, *, timeout_s: float = 60.0
) -> int:
    """Hand every record of ``topic`` up to the high watermark to ``visit``; return the count.

    Raises :class:`TopicError` when the topic does not exist and :class:`BrokerError`
    when it cannot be read to its end within ``timeout_s``.
    """
    reader = consumer(
        settings,
        group_id=None,
        fetch_max_wait_ms=50,
        client_id=f"{settings.client_id}-scan",
    )
    seen = 0
    try:
        with kafka_errors(f"reading {topic}"):
            tps = topic_partitions(reader, topic)
            reader.assign(tps)
            reader.seek_to_beginning(*tps)
            for record in read_to_highwater(reader, tps, what=topic, timeout_s=timeout_s):
                visit(record)
                seen += 1
    finally:
        reader.close()
    return seen


def published_event_ids(
    settings: HubSettings, topic: str, *, source: str | None = None, timeout_s: float = 60.0
) -> set[str]:
    """The ``ce_id`` of every record on ``topic`` (only those from ``source`` if given)."""
    found: set[str] = set()

    def visit(record: Any) -> None:
        headers = record.headers
        if source is not None and header_value(headers, "ce_source") != source:
            return
        event_id = header_value(headers, "ce_id")
        if event_id is not None:
            found.add(event_id)

    scan_topic(settings, topic, visit, timeout_s=timeout_s)
    return found
