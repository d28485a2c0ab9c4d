"""The consent family: ConsentChange and Recipient."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from hub.ids import ClientPseudonym, ConsentId, PartnerId
from schemas.models.base import CanonicalRecord, UtcMillis
from schemas.models.common import Envelope
from schemas.models.enums import ConsentChangeType, LegalBasis
from schemas.regions import Region
from schemas.vocabulary import DataCategory, PartnerKind, Purpose

__all__ = ["ConsentChange", "Recipient"]


class Recipient(CanonicalRecord):
    """A named partner, or every partner of a kind, optionally in one region."""

    avro_name: ClassVar[str] = "nl.rmt.hub.Recipient"

    partner_id: PartnerId | None = None
    partner_kind: PartnerKind | None = None
    region: Region | None = None


class ConsentChange(Envelope):
    """A change in a subject's consent state."""

    avro_name: ClassVar[str] = "nl.rmt.hub.ConsentChange"

    consent_id: ConsentId
    subject_pseudonym: ClientPseudonym
    change: ConsentChangeType
    controller: PartnerId
    recipients: list[Recipient] = Field(default_factory=list)
    purposes: list[Purpose] = Field(default_factory=list)
    data_categories: list[DataCategory] = Field(default_factory=list)
    legal_basis: LegalBasis
    valid_from: UtcMillis
    valid_until: UtcMillis | None = None
    actor: str
    recorded_at: UtcMillis
    record_hash: str
