"""The router's own family: RoutingState, the per-subject state it keeps on a topic."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from hub.ids import ClientPseudonym, EventId
from schemas.models.arrangement import PersonalArrangement
from schemas.models.common import Envelope, PartyRef
from schemas.regions import Region
from schemas.vocabulary import BenefitStatus, JobSeekerCategory

__all__ = ["RoutingState"]


class RoutingState(Envelope):
    """One subject's routing state as of an accepted record (latest per key wins)."""

    avro_name: ClassVar[str] = "nl.rmt.hub.RoutingState"

    client_pseudonym: ClientPseudonym
    source_event_id: EventId
    job_seeker_category: JobSeekerCategory | None = None
    region: Region | None = None
    benefit_status: BenefitStatus | None = None
    banenafspraak: bool | None = None
    reduced_wage_value: bool | None = None
    first_responsible: PartyRef | None = None
    former_responsible: list[str] = Field(default_factory=list)
    arrangements: list[PersonalArrangement] = Field(default_factory=list)
