"""The audit family: DisclosureEvent, one per record the router delivered."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from hub.ids import ClientPseudonym, EventId, PartnerId
from schemas.models.common import Envelope
from schemas.vocabulary import DataCategory, PartnerKind, Purpose

__all__ = ["DisclosureEvent"]


class DisclosureEvent(Envelope):
    """What reached which recipient about a subject, for which purpose, on which consents."""

    avro_name: ClassVar[str] = "nl.rmt.hub.DisclosureEvent"

    client_pseudonym: ClientPseudonym
    recipient: PartnerId
    recipient_kind: PartnerKind
    purpose: Purpose
    data_categories: list[DataCategory] = Field(default_factory=list)
    fields: list[str] = Field(default_factory=list)
    withheld_categories: list[DataCategory] = Field(default_factory=list)
    consent_ids: list[str] = Field(default_factory=list)
    policy_version: str
    source_event_id: EventId
    publisher: PartnerId
    record_type: str
    inbox_topic: str
    payload_sha256: str
