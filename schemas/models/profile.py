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
    DataCategory,
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

    Every field but the envelope and the pseudonym is nullable, so the hub can deliver
    the record without the categories a recipient may not see (``withheld_categories``
    names them). What a publisher must fill in is checked by the router's validation.
    """

    avro_name: ClassVar[str] = "nl.rmt.hub.ClientProfile"

    bsn: str | None = None
    given_name: str | None = None
    family_name_prefix: str | None = None
    family_name: str | None = None
    date_of_birth: date | None = None
    contact: Contact | None = None
    municipality_code: str | None = None
    region: Region | None = None
    job_seeker_category: JobSeekerCategory | None = None
    competences: list[Competence] | None = None
    sectors: list[Sector] | None = None
    work_history: list[WorkHistoryEntry] | None = None
    education_level: EducationLevel | None = None
    starting_qualification: bool | None = None
    language_level: LanguageLevel | None = None
    benefit_status: BenefitStatus | None = None
    reduced_wage_value: bool | None = None
    work_limitation: bool | None = None
    banenafspraak: bool | None = None
    health_needs: list[HealthNeed] | None = None
    has_debts: bool | None = None
    withheld_categories: list[DataCategory] = Field(default_factory=list)
    sealed_fields: dict[str, str] | None = None
