"""The brokering family: StaffSurplus (business data, keyed by surplus id) and
Availability (a person marked available for placement, keyed by client pseudonym)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from schemas.models.base import AvroInt
from schemas.models.common import Competence, Envelope, PersonRecord
from schemas.models.vacancy import Employer
from schemas.regions import Region
from schemas.vocabulary import DataCategory, Sector

__all__ = ["Availability", "StaffSurplus"]


class StaffSurplus(Envelope):
    """A company's staff surplus: how many, which occupations and competences, when."""

    avro_name: ClassVar[str] = "nl.rmt.hub.StaffSurplus"

    surplus_id: str
    employer: Employer
    sector: Sector
    region: Region
    announced_on: date
    expected_from: date
    expected_until: date | None = None
    staff_count: AvroInt
    occupations: list[str] = Field(default_factory=list)
    competences: list[Competence] = Field(default_factory=list)


class Availability(PersonRecord):
    """A person marked available (or not) for placement by the first-responsible party."""

    avro_name: ClassVar[str] = "nl.rmt.hub.Availability"

    availability_id: str | None = None
    available: bool | None = None
    available_from: date | None = None
    hours_per_week: AvroInt | None = None
    withheld_categories: list[DataCategory] = Field(default_factory=list)
