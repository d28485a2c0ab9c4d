"""Deterministic ids of everything the router writes.

Every record the router writes to a co-partitioned topic carries a ``ce_id`` header that
is a function of what caused it, never of time or of the worker: a delivery is
``UUIDv5(source event id, recipient)``, a dead letter ``UUIDv5(topic, partition,
offset)`` of the refused record, an erasure notice ``UUIDv5(consent change event id,
recipient)``. Processing a record again (after a crash, a rebalance, or a partner
publishing the same event twice) therefore produces the same ids, and the worker skips
every id it already finds on the topics: exactly-once effect without transactions
(docs/decisions/0001-deterministic-ids-not-transactions.md).
"""

from __future__ import annotations

import uuid

__all__ = [
    "ROUTER_NAMESPACE",
    "dead_letter_id",
    "delivery_id",
    "erasure_id",
    "rejection_id",
    "state_id",
    "tombstone_id",
]

ROUTER_NAMESPACE = uuid.UUID("3c1f7a52-9d0e-5b8a-a6f4-71e2c0d9b8a3")
"""The UUIDv5 namespace of the router's ids (a fixed constant)."""

_SEP = "\x1f"


def _uuid(*parts: str | int) -> str:
    return str(uuid.uuid5(ROUTER_NAMESPACE, _SEP.join(str(p) for p in parts)))


def delivery_id(source_event_id: str, recipient: str) -> str:
    """The id of delivering the record ``source_event_id`` to ``recipient``."""
    return _uuid("delivery", source_event_id, recipient)


def dead_letter_id(topic: str, partition: int, offset: int) -> str:
    """The id of the dead letter of the record at this position."""
    return _uuid("dead-letter", topic, partition, offset)


def rejection_id(topic: str, partition: int, offset: int) -> str:
    """The id of the rejection notice about the record at this position."""
    return _uuid("rejection", topic, partition, offset)


def erasure_id(consent_event_id: str, recipient: str) -> str:
    """The id of the erasure notice to ``recipient`` for an ended consent."""
    return _uuid("erasure", consent_event_id, recipient)


def tombstone_id(consent_event_id: str, recipient: str) -> str:
    """The id (``ce_id`` header) of the tombstone that follows an erasure notice."""
    return _uuid("tombstone", consent_event_id, recipient)


def state_id(source_event_id: str) -> str:
    """The id of the routing-state snapshot written for an accepted record."""
    return _uuid("state", source_event_id)
