"""Helper records shared by several families, and the envelope of the message records."""

from __future__ import annotations

from typing import ClassVar

from hub.ids import ClientPseudonym, EventId, PartnerId
from schemas.models.base import AvroInt, AvroLong, CanonicalRecord, UtcMillis
from schemas.models.enums import Currency
from schemas.vocabulary import PartnerKind

__all__ = ["Competence", "Envelope", "Money", "PartyRef", "PersonRecord"]


class Money(CanonicalRecord):
    """An amount in whole euro cents."""

    avro_name: ClassVar[str] = "nl.rmt.hub.Money"

    amount_cents: AvroLong
    currency: Currency = Currency.EUR


class PartyRef(CanonicalRecord):
    """A party of the mobility team: partner id and kind."""

    avro_name: ClassVar[str] = "nl.rmt.hub.PartyRef"

    partner_id: PartnerId
    kind: PartnerKind


class Competence(CanonicalRecord):
    """A competence a person has or a vacancy requires."""

    avro_name: ClassVar[str] = "nl.rmt.hub.Competence"

    name: str
    code: str | None = None
    years_experience: AvroInt | None = None


class Envelope(CanonicalRecord):
    """The technical fields (category ``meta``) every published message starts with."""

    event_id: EventId
    occurred_at: UtcMillis
    source_partner: PartnerId


class PersonRecord(Envelope):
    """A message about one job seeker, keyed by the client pseudonym."""

    client_pseudonym: ClientPseudonym
