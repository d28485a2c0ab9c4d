"""The arrangement family: PersonalArrangement, its services, Referral, ResponsibilityTransfer."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from schemas.menu_card import Instrument
from schemas.models.base import AvroInt, CanonicalRecord
from schemas.models.common import Money, PartyRef, PersonRecord
from schemas.models.enums import (
    ArrangementStatus,
    ServiceKind,
    ServicePackage,
    ServiceStatus,
    TransferReason,
)
from schemas.regions import Region
from schemas.vocabulary import BenefitStatus

__all__ = ["ArrangementService", "PersonalArrangement", "Referral", "ResponsibilityTransfer"]


class ArrangementService(CanonicalRecord):
    """One regular or additional service of an arrangement."""

    avro_name: ClassVar[str] = "nl.rmt.hub.ArrangementService"

    service_id: str
    kind: ServiceKind
    instrument: Instrument | None = None
    package: ServicePackage | None = None
    description: str
    provider: str
    cost: Money | None = None
    co_financing: Money | None = None
    status: ServiceStatus
    start_date: date | None = None
    end_date: date | None = None


class PersonalArrangement(PersonRecord):
    """A version of the personal arrangement; it travels with the person."""

    avro_name: ClassVar[str] = "nl.rmt.hub.PersonalArrangement"

    arrangement_id: str
    revision: AvroInt
    composed_by: PartyRef
    region: Region
    status: ArrangementStatus
    agreed_with_client: bool
    services: list[ArrangementService] = Field(default_factory=list)
    valid_from: date
    valid_until: date | None = None


class Referral(PersonRecord):
    """A referral or warm handover to another party or desk."""

    avro_name: ClassVar[str] = "nl.rmt.hub.Referral"

    referral_id: str
    arrangement_id: str | None = None
    from_party: PartyRef
    to_party: PartyRef
    desk: str | None = None
    instrument: Instrument | None = None
    service_id: str | None = None
    reason: str
    warm_handover: bool = True


class ResponsibilityTransfer(PersonRecord):
    """Responsibility for a person (and their arrangement) moves to another party."""

    avro_name: ClassVar[str] = "nl.rmt.hub.ResponsibilityTransfer"

    transfer_id: str
    arrangement_id: str
    from_party: PartyRef
    to_party: PartyRef
    reason: TransferReason
    new_benefit_status: BenefitStatus | None = None
    effective_date: date
