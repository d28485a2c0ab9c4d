"""Moving an outbox record to the partition its key hashes to, and reading it back.

A partner's producer picks the partition of each record; only murmur2 (the Java
client's and kafka-python's default) puts it where the router joins the subject's
consents. The worker that reads a record from partition *q* of an outbox whose key
hashes to *p* != *q* (:func:`misplaced`) moves it (:func:`moved`): the same key, value
and headers, plus one header saying where it was published, to partition *p* of the
hub's repartition topic, which the router reads with the outboxes. Reading it back
(:func:`arrived`) gives the record exactly as it was published, at its outbox
coordinates, routed on partition *p*
(docs/decisions/0015-partition-agnostic-inbound.md).

Plain Python: no Kafka, no faust.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hub.router.processing import Inbound, Moved
from hub.router.validation import partition_of

__all__ = ["MOVED_FROM", "Forward", "arrived", "misplaced", "moved", "origin_id"]

MOVED_FROM = "rmt-moved-from"
"""The header the router adds to a moved record: ``<outbox topic>:<partition>:<offset>``
where it was published (Kafka topic names hold no ``:``). Always the last header: a
header of that name the publisher sent stays part of the record."""


@dataclass(frozen=True, slots=True)
class Forward:
    """A record to write to the repartition topic."""

    partition: int
    key: bytes
    value: bytes | None
    headers: list[tuple[str, bytes]]
    timestamp_ms: int | None


def misplaced(message: Inbound, partitions: int) -> bool:
    """Whether an outbox record is on another partition than its key hashes to (a record
    without a key is routed where it is: the rules refuse it there)."""
    return message.key is not None and partition_of(message.key, partitions) != message.partition


def moved(message: Inbound, partitions: int) -> Forward:
    """The repartition record of the misplaced outbox record ``message``."""
    assert message.key is not None
    origin = f"{message.topic}:{message.partition}:{message.offset}".encode("ascii")
    stamp = None if message.timestamp is None else round(message.timestamp * 1000)
    return Forward(
        partition=partition_of(message.key, partitions),
        key=message.key,
        value=message.value,
        headers=[*message.headers, (MOVED_FROM, origin)],
        timestamp_ms=stamp,
    )


def arrived(read: Inbound) -> Inbound | None:
    """The outbox record a repartition record carries: its outbox topic, partition,
    offset and headers, routed on the partition it was read from. None when ``read`` is
    no moved record (no trailing MOVED_FROM header that parses)."""
    if not read.headers:
        return None
    name, raw = read.headers[-1]
    if name != MOVED_FROM:
        return None
    try:
        topic, partition, offset = raw.decode("ascii").rsplit(":", 2)
        origin = (topic, int(partition), int(offset))
    except (UnicodeDecodeError, ValueError):
        return None
    if not topic or origin[1] < 0 or origin[2] < 0:
        return None
    return replace(
        read,
        topic=origin[0],
        partition=origin[1],
        offset=origin[2],
        headers=read.headers[:-1],
        highwater=None,
        moved=Moved(partition=read.partition, offset=read.offset),
    )


def origin_id(message: Inbound) -> str:
    """What identifies an outbox record however often it was moved: where it was
    published."""
    return f"{message.topic}:{message.partition}:{message.offset}"
