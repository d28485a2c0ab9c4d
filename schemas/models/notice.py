"""The notice family: RejectionNotice and ErasureNotice, written to partners' inboxes."""

from __future__ import annotations

from typing import ClassVar

from hub.ids import ClientPseudonym, ConsentId, EventId
from schemas.models.base import AvroInt, AvroLong, UtcMillis
from schemas.models.common import Envelope
from schemas.models.enums import ConsentChangeType, DeadLetterReason

__all__ = ["ErasureNotice", "RejectionNotice"]


class RejectionNotice(Envelope):
    """The hub refused a record this partner published (same reason as the dead letter)."""

    avro_name: ClassVar[str] = "nl.rmt.hub.RejectionNotice"

    record_key: str | None = None
    rejected_event_id: EventId | None = None
    record_type: str | None = None
    source_topic: str
    source_partition: AvroInt
    source_offset: AvroLong
    reason: DeadLetterReason
    message: str
    field: str | None = None


class ErasureNotice(Envelope):
    """A consent this recipient received data under ended: erase what it covered."""

    avro_name: ClassVar[str] = "nl.rmt.hub.ErasureNotice"

    client_pseudonym: ClientPseudonym
    consent_id: ConsentId
    change: ConsentChangeType
    effective_at: UtcMillis
    consent_event_id: EventId
    still_covered: bool
