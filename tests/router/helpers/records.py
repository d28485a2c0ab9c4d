"""Canonical records for router tests: the examples of :mod:`schemas.examples`, about a
subject of the test's choosing, with fresh event ids."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from hub.ids import ClientPseudonym, EventId, PartnerId
from schemas.examples import example
from schemas.menu_card import Instrument
from schemas.models import (
    ArrangementService,
    Availability,
    ClientProfile,
    IntakeDecision,
    Money,
    PartyRef,
    PersonalArrangement,
    PlacementOutcome,
    Referral,
    ResponsibilityTransfer,
    StaffSurplus,
    Vacancy,
)
from schemas.models.enums import ServiceKind, ServiceStatus
from schemas.vocabulary import PartnerKind

__all__ = [
    "GEMEENTE",
    "UWV",
    "arrangement",
    "availability",
    "intake",
    "outcome",
    "profile",
    "referral",
    "service",
    "subject",
    "surplus",
    "transfer",
    "vacancy",
]

UWV = PartyRef(partner_id=PartnerId("uwv"), kind=PartnerKind.UWV)
GEMEENTE = PartyRef(partner_id=PartnerId("gemeente-amsterdam"), kind=PartnerKind.GEMEENTE)


def subject() -> ClientPseudonym:
    return ClientPseudonym(f"psn-{uuid.uuid4().hex[:12]}")


def _eid() -> EventId:
    return EventId(str(uuid.uuid4()))


def profile(who: str, **changes: Any) -> ClientProfile:
    base = example("ClientProfile")
    assert isinstance(base, ClientProfile)
    return base.model_copy(update={"event_id": _eid(), "client_pseudonym": who, **changes})


def intake(who: str, **changes: Any) -> IntakeDecision:
    base = example("IntakeDecision")
    assert isinstance(base, IntakeDecision)
    return base.model_copy(update={"event_id": _eid(), "client_pseudonym": who, **changes})


def service(
    instrument: Instrument | None, cents: int = 10_000, **changes: Any
) -> ArrangementService:
    fields: dict[str, Any] = {
        "service_id": f"s-{uuid.uuid4().hex[:6]}",
        "kind": ServiceKind.ADDITIONAL,
        "instrument": instrument,
        "description": "test service",
        "provider": "uwv",
        "cost": Money(amount_cents=cents),
        "status": ServiceStatus.PLANNED,
    }
    return ArrangementService(**(fields | changes))


def arrangement(who: str, *services: ArrangementService, **changes: Any) -> PersonalArrangement:
    base = example("PersonalArrangement")
    assert isinstance(base, PersonalArrangement)
    update: dict[str, Any] = {
        "event_id": _eid(),
        "client_pseudonym": who,
        "arrangement_id": f"arr-{uuid.uuid4().hex[:8]}",
    }
    if services:
        update["services"] = list(services)
    return base.model_copy(update=update | changes)


def referral(who: str, **changes: Any) -> Referral:
    base = example("Referral")
    assert isinstance(base, Referral)
    return base.model_copy(update={"event_id": _eid(), "client_pseudonym": who, **changes})


def outcome(who: str, **changes: Any) -> PlacementOutcome:
    base = example("PlacementOutcome")
    assert isinstance(base, PlacementOutcome)
    return base.model_copy(update={"event_id": _eid(), "client_pseudonym": who, **changes})


def transfer(who: str, arrangement_id: str, **changes: Any) -> ResponsibilityTransfer:
    base = example("ResponsibilityTransfer")
    assert isinstance(base, ResponsibilityTransfer)
    update = {
        "event_id": _eid(),
        "client_pseudonym": who,
        "arrangement_id": arrangement_id,
        "effective_date": date(2021, 7, 1),
    }
    return base.model_copy(update=update | changes)


def vacancy(**changes: Any) -> Vacancy:
    base = example("Vacancy")
    assert isinstance(base, Vacancy)
    return base.model_copy(
        update={"event_id": _eid(), "vacancy_id": f"vac-{uuid.uuid4().hex[:8]}", **changes}
    )


def surplus(**changes: Any) -> StaffSurplus:
    base = example("StaffSurplus")
    assert isinstance(base, StaffSurplus)
    return base.model_copy(
        update={"event_id": _eid(), "surplus_id": f"sur-{uuid.uuid4().hex[:8]}", **changes}
    )


def availability(who: str, **changes: Any) -> Availability:
    base = example("Availability")
    assert isinstance(base, Availability)
    return base.model_copy(update={"event_id": _eid(), "client_pseudonym": who, **changes})
