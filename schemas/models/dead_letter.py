"""The dead-letter family: DeadLetter, a refused record and why."""

from __future__ import annotations

from typing import ClassVar

from hub.ids import EventId, PartnerId
from schemas.models.base import AvroInt, AvroLong, CanonicalRecord, UtcMillis
from schemas.models.enums import DeadLetterReason

__all__ = ["DeadLetter"]


class DeadLetter(CanonicalRecord):
    """A record the hub refused; ``original_value`` counts as health data (any category)."""

    avro_name: ClassVar[str] = "nl.rmt.hub.DeadLetter"

    source_topic: str
    source_partition: AvroInt
    source_offset: AvroLong
    source_partner: PartnerId | None = None
    record_type: str | None = None
    original_key: bytes | None = None
    original_value: bytes | None = None
    reason: DeadLetterReason
    message: str
    field: str | None = None
    event_id: EventId | None = None
    failed_at: UtcMillis
