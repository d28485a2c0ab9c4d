"""The router's own family: RoutingState, the per-subject state it keeps on a topic."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from hub.ids import ClientPseudonym, EventId, PartnerId
from schemas.models.arrangement import PersonalArrangement
from schemas.models.base import AvroInt
from schemas.models.common import Envelope, PartyRef
from schemas.models.enums import AgeBand, EducationBand
from schemas.regions import Region
from schemas.vocabulary import BenefitStatus, JobSeekerCategory, Sector

__all__ = ["RoutingState"]


class RoutingState(Envelope):
    """One subject's routing state as of an accepted record (latest per key wins).

    The ``monitor_*`` fields are the state of the router's monitor feed
    (:mod:`hub.router.monitoring`): the person as the national monitor may know them (the
    fields of :class:`hub.monitor.derive.MonitorSubject`, no direct identifier; null
    until a profile was accepted) and, per arrangement, the version before the latest.
    Its health-derived fields are sealed with the subject's key on the topic
    (``sealed_fields``; :meth:`hub.router.sealing.RouterSecurity.seal_fields`).
    """

    avro_name: ClassVar[str] = "nl.rmt.hub.RoutingState"

    client_pseudonym: ClientPseudonym
    source_event_id: EventId
    source_event_partner: PartnerId | None = None
    job_seeker_category: JobSeekerCategory | None = None
    region: Region | None = None
    benefit_status: BenefitStatus | None = None
    banenafspraak: bool | None = None
    reduced_wage_value: bool | None = None
    first_responsible: PartyRef | None = None
    former_responsible: list[str] = Field(default_factory=list)
    arrangements: list[PersonalArrangement] = Field(default_factory=list)
    monitor_pseudonym: str | None = None
    monitor_key_version: AvroInt | None = None
    monitor_region: Region | None = None
    monitor_age_band: AgeBand | None = None
    monitor_education_band: EducationBand | None = None
    monitor_sector: Sector | None = None
    monitor_job_seeker_category: JobSeekerCategory | None = None
    monitor_banenafspraak: bool | None = None
    monitor_prior: list[PersonalArrangement] = Field(default_factory=list)
    sealed_fields: dict[str, str] | None = None
