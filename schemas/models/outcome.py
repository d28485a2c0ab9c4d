"""The outcome family: PlacementOutcome."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from schemas.models.base import AvroInt
from schemas.models.common import PersonRecord
from schemas.models.enums import Credential, OutcomeType
from schemas.vocabulary import DataCategory, Sector

__all__ = ["PlacementOutcome"]


class PlacementOutcome(PersonRecord):
    """Placed in work, schooling finished, or another outcome."""

    avro_name: ClassVar[str] = "nl.rmt.hub.PlacementOutcome"

    outcome_id: str | None = None
    arrangement_id: str | None = None
    outcome: OutcomeType | None = None
    started_on: date | None = None
    ended_on: date | None = None
    sector: Sector | None = None
    hours_per_week: AvroInt | None = None
    vacancy_id: str | None = None
    credential: Credential | None = None
    withheld_categories: list[DataCategory] = Field(default_factory=list)
