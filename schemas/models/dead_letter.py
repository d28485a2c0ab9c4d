"""The dead-letter family: DeadLetter, a refused record and why."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from hub.ids import EventId, PartnerId
from schemas.models.base import AvroInt, AvroLong, CanonicalRecord, UtcMillis
from schemas.models.enums import DeadLetterReason

__all__ = ["DeadLetter", "RecordHeader"]


class RecordHeader(CanonicalRecord):
    """One Kafka record header, exactly as it was on the record."""

    avro_name: ClassVar[str] = "nl.rmt.hub.RecordHeader"

    name: str
    value: bytes


class DeadLetter(CanonicalRecord):
    """A record the hub refused, as it arrived (key, value and headers: never a decrypted
    value); ``original_value`` counts as health data (any category)."""

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
    original_headers: list[RecordHeader] = Field(default_factory=list)
