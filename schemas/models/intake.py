"""The intake family: IntakeDecision and CriterionAssessment."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from schemas.models.base import CanonicalRecord
from schemas.models.common import PartyRef, PersonRecord
from schemas.models.enums import SelectionCriterion
from schemas.vocabulary import DataCategory, JobSeekerCategory

__all__ = ["CriterionAssessment", "IntakeDecision"]


class CriterionAssessment(CanonicalRecord):
    """How one selection criterion was weighed."""

    avro_name: ClassVar[str] = "nl.rmt.hub.CriterionAssessment"

    criterion: SelectionCriterion
    applies: bool
    note: str | None = None


class IntakeDecision(PersonRecord):
    """The intake and selection decision of the first-responsible party."""

    avro_name: ClassVar[str] = "nl.rmt.hub.IntakeDecision"

    intake_id: str | None = None
    intake_date: date | None = None
    job_seeker_category: JobSeekerCategory | None = None
    first_responsible: PartyRef | None = None
    selected: bool | None = None
    criteria: list[CriterionAssessment] | None = None
    banenafspraak_eligible: bool | None = None
    reasons: list[str] | None = None
    withheld_categories: list[DataCategory] = Field(default_factory=list)
    sealed_fields: dict[str, str] | None = None
