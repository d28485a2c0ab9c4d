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
from schemas.vocabulary import BenefitStatus, DataCategory

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

    arrangement_id: str | None = None
    revision: AvroInt | None = None
    composed_by: PartyRef | None = None
    region: Region | None = None
    status: ArrangementStatus | None = None
    agreed_with_client: bool | None = None
    services: list[ArrangementService] | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    withheld_categories: list[DataCategory] = Field(default_factory=list)


class Referral(PersonRecord):
    """A referral or warm handover to another party or desk."""

    avro_name: ClassVar[str] = "nl.rmt.hub.Referral"

    referral_id: str | None = None
    arrangement_id: str | None = None
    from_party: PartyRef | None = None
    to_party: PartyRef | None = None
    desk: str | None = None
    instrument: Instrument | None = None
    service_id: str | None = None
    reason: str | None = None
    warm_handover: bool | None = None
    withheld_categories: list[DataCategory] = Field(default_factory=list)


class ResponsibilityTransfer(PersonRecord):
    """Responsibility for a person (and their arrangement) moves to another party."""

    avro_name: ClassVar[str] = "nl.rmt.hub.ResponsibilityTransfer"

    transfer_id: str | None = None
    arrangement_id: str | None = None
    from_party: PartyRef | None = None
    to_party: PartyRef | None = None
    reason: TransferReason | None = None
    new_benefit_status: BenefitStatus | None = None
    effective_date: date | None = None
    withheld_categories: list[DataCategory] = Field(default_factory=list)
