"""The demand-in-view family: Vacancy and Employer (business data, keyed by vacancy id)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from schemas.models.base import AvroInt, CanonicalRecord
from schemas.models.common import Competence, Envelope
from schemas.regions import Region
from schemas.vocabulary import EducationLevel, LanguageLevel, Sector

__all__ = ["Employer", "Vacancy"]


class Employer(CanonicalRecord):
    """An employer organisation."""

    avro_name: ClassVar[str] = "nl.rmt.hub.Employer"

    name: str
    kvk_number: str | None = None


class Vacancy(Envelope):
    """A vacancy from demand in view."""

    avro_name: ClassVar[str] = "nl.rmt.hub.Vacancy"

    vacancy_id: str
    employer: Employer
    title: str
    sector: Sector
    region: Region
    required_competences: list[Competence] = Field(default_factory=list)
    education_level: EducationLevel | None = None
    language_level: LanguageLevel | None = None
    hours_per_week: AvroInt
    positions: AvroInt = 1
    trainable: bool
    open_until: date | None = None
