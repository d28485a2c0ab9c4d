"""The labour-market profile family: ClientProfile, Contact, WorkHistoryEntry."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from schemas.models.base import AvroInt, CanonicalRecord
from schemas.models.common import Competence, PersonRecord
from schemas.models.enums import HealthNeed
from schemas.regions import Region
from schemas.vocabulary import (
    BenefitStatus,
    EducationLevel,
    JobSeekerCategory,
    LanguageLevel,
    Sector,
)

__all__ = ["ClientProfile", "Contact", "WorkHistoryEntry"]


class Contact(CanonicalRecord):
    """How to reach a person (category contact)."""

    avro_name: ClassVar[str] = "nl.rmt.hub.Contact"

    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    phone: str | None = None
    email: str | None = None


class WorkHistoryEntry(CanonicalRecord):
    """One job in a person's work history."""

    avro_name: ClassVar[str] = "nl.rmt.hub.WorkHistoryEntry"

    job_title: str
    sector: Sector
    start_date: date
    end_date: date | None = None
    hours_per_week: AvroInt | None = None


class ClientProfile(PersonRecord):
    """The labour-market profile of a job seeker.

    ``reduced_wage_value`` has category ``health`` (it follows from a medical assessment
    of the work limitation); ``job_seeker_category`` has ``benefit_status`` (it reveals
    WW or bijstand).
    """

    avro_name: ClassVar[str] = "nl.rmt.hub.ClientProfile"

    bsn: str
    given_name: str
    family_name_prefix: str | None = None
    family_name: str
    date_of_birth: date
    contact: Contact | None = None
    municipality_code: str
    region: Region
    job_seeker_category: JobSeekerCategory
    competences: list[Competence] = Field(default_factory=list)
    sectors: list[Sector] = Field(default_factory=list)
    work_history: list[WorkHistoryEntry] = Field(default_factory=list)
    education_level: EducationLevel
    starting_qualification: bool
    language_level: LanguageLevel | None = None
    benefit_status: BenefitStatus
    reduced_wage_value: bool = False
    work_limitation: bool = False
    banenafspraak: bool = False
    health_needs: list[HealthNeed] = Field(default_factory=list)
    has_debts: bool | None = None
