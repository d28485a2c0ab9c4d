"""The monitor family: MonitorEvent (pseudonymised, generalised attributes only)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from schemas.menu_card import Instrument
from schemas.models.base import AvroInt
from schemas.models.common import Envelope, Money
from schemas.models.enums import (
    AgeBand,
    EducationBand,
    MonitorEventType,
    OutcomeType,
    ServiceKind,
)
from schemas.regions import Region
from schemas.vocabulary import JobSeekerCategory, PartnerKind, Sector

__all__ = ["MonitorEvent", "two_month_period"]


def two_month_period(day: date) -> str:
    """The bi-monthly reporting period of ``day``: ``2021-03-15`` -> ``"2021-03/04"``."""
    first = day.month - (day.month - 1) % 2
    return f"{day.year:04d}-{first:02d}/{first + 1:02d}"


class MonitorEvent(Envelope):
    """A pseudonymised event for the national monitor: no direct identifiers.

    ``monitor_pseudonym`` (one per person and period), ``linkage_pseudonym`` (one per
    person, only on the events of figures that need it) and ``event_id`` are keyed hashes
    made with the monitor key of version ``key_version`` (:mod:`hub.monitor.pseudonym`).
    For ``INSTRUMENT_USED``:
    ``uses`` is 1 on the first event of a service and 0 on its later budget movements;
    ``committed`` is the signed change of the region's commitments, ``paid`` a payment.
    """

    avro_name: ClassVar[str] = "nl.rmt.hub.MonitorEvent"

    monitor_pseudonym: str
    event_type: MonitorEventType
    region: Region
    period: str
    partner_kind: PartnerKind
    age_band: AgeBand | None = None
    sector: Sector | None = None
    education_band: EducationBand | None = None
    job_seeker_category: JobSeekerCategory | None = None
    banenafspraak: bool = False
    shrinking_sector: bool = False
    instrument: Instrument | None = None
    cost: Money | None = None
    key_version: AvroInt = 1
    service_kind: ServiceKind | None = None
    uses: AvroInt = 1
    committed: Money | None = None
    paid: Money | None = None
    outcome: OutcomeType | None = None
    linkage_pseudonym: str | None = None
