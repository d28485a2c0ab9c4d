"""Pydantic models of the canonical records, one module per record family.

Each model has the field names, order, types and defaults of its Avro schema, and its
fullname in ``avro_name``. Enums come from :mod:`schemas.vocabulary`,
:mod:`schemas.regions`, :mod:`schemas.menu_card` and :mod:`schemas.models.enums`.
"""

from __future__ import annotations

from schemas.models.arrangement import (
    ArrangementService,
    PersonalArrangement,
    Referral,
    ResponsibilityTransfer,
)
from schemas.models.audit import DisclosureEvent
from schemas.models.base import CanonicalRecord
from schemas.models.brokering import Availability, StaffSurplus
from schemas.models.common import Competence, Envelope, Money, PartyRef, PersonRecord
from schemas.models.consent import ConsentChange, Recipient
from schemas.models.dead_letter import DeadLetter, RecordHeader
from schemas.models.intake import CriterionAssessment, IntakeDecision
from schemas.models.monitor import MonitorEvent, two_month_period
from schemas.models.notice import ErasureNotice, RejectionNotice
from schemas.models.outcome import PlacementOutcome
from schemas.models.profile import ClientProfile, Contact, WorkHistoryEntry
from schemas.models.routing import RoutingState
from schemas.models.vacancy import Employer, Vacancy

__all__ = [
    "RECORD_MODELS",
    "ArrangementService",
    "Availability",
    "CanonicalRecord",
    "ClientProfile",
    "Competence",
    "ConsentChange",
    "Contact",
    "CriterionAssessment",
    "DeadLetter",
    "DisclosureEvent",
    "Employer",
    "Envelope",
    "ErasureNotice",
    "IntakeDecision",
    "Money",
    "MonitorEvent",
    "PartyRef",
    "PersonRecord",
    "PersonalArrangement",
    "PlacementOutcome",
    "Recipient",
    "RecordHeader",
    "Referral",
    "RejectionNotice",
    "ResponsibilityTransfer",
    "RoutingState",
    "StaffSurplus",
    "Vacancy",
    "WorkHistoryEntry",
    "two_month_period",
]

RECORD_MODELS: tuple[type[CanonicalRecord], ...] = (
    # message records
    ClientProfile,
    IntakeDecision,
    PersonalArrangement,
    Referral,
    Vacancy,
    PlacementOutcome,
    ResponsibilityTransfer,
    ConsentChange,
    MonitorEvent,
    DeadLetter,
    DisclosureEvent,
    RejectionNotice,
    ErasureNotice,
    RoutingState,
    StaffSurplus,
    Availability,
    # helper records
    Money,
    PartyRef,
    Competence,
    Contact,
    WorkHistoryEntry,
    CriterionAssessment,
    ArrangementService,
    Employer,
    Recipient,
    RecordHeader,
)
"""Every concrete model, one per Avro record type."""
