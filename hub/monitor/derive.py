"""Canonical records -> monitor events: generalise, pseudonymise, never copy identifiers.

Pure functions (no I/O, no clock): the router calls them for every record it accepts.

* :func:`subject_from_profile` turns a :class:`ClientProfile` into a
  :class:`MonitorSubject`: the monitor pseudonym (keyed hash of the BSN, see
  :mod:`hub.monitor.pseudonym`) and the generalised attributes - region, age band, education
  band, sector of last work, category, target-group flags. The router keeps the subject of
  each person (it holds no direct identifier) and passes it with every later record.
* :func:`derive` turns one accepted record about that person into monitor events.

What a monitor event gets, and never gets:

* dates only as the day of the step (``occurred_at`` at midnight UTC) and its two-month
  period; the date of birth only as an age band;
* education only as a band, work history only as the sector of the last job (and
  whether it is a shrinking sector);
* enums and amounts only: no BSN, name, date of birth, contact or address, no client
  pseudonym, no partner ids of records (intake, arrangement, service, referral ids), no
  free text (reasons, notes, descriptions, desks, providers, job titles).

Event ids are keyed hashes of the step's business key (:meth:`MonitorPseudonymiser.event_id`),
so deriving the same record twice - a replay, a redelivery, a re-sent revision - gives
the same events, which the aggregator counts once; and a corrected version of an intake,
referral, outcome or transfer counts once, as its first version did.

Steps derived from a :class:`PersonalArrangement` compare it with the previous accepted
version of the same arrangement (``DeriveContext.previous_arrangement``):

* ``ARRANGEMENT_STARTED`` when it comes into force (AGREED, ACTIVE or FINISHED) from
  nothing, DRAFT or CANCELLED; ``ARRANGEMENT_CHANGED`` for a new revision while in force;
  ``ARRANGEMENT_FINISHED`` when it ends (FINISHED or CANCELLED) after being in force.
* ``INSTRUMENT_USED`` per service with a menu-card instrument. A service is *used* while
  its arrangement is in force and it is PLANNED, STARTED or FINISHED (a FINISHED service
  stays used when the arrangement is cancelled later). Its *charge* to the region's
  pooled budget is cost less co-financing for an ADDITIONAL service, zero for a REGULAR
  one. The first event of a use has ``uses=1`` and commits the charge; later versions
  give ``uses=0`` events with the signed change of the commitment (cost changed, or the
  whole charge released when the service is cancelled or dropped); when the service is
  FINISHED its charge is ``paid``. A paid service is settled: later versions of it
  move no money (corrections go through the cashier, not the monitor).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any

from hub.ids import PartnerId
from hub.monitor.errors import MonitorInputError
from hub.monitor.periods import period_of
from hub.monitor.pseudonym import MonitorPseudonymiser
from schemas.menu_card import Instrument
from schemas.models import (
    ArrangementService,
    ClientProfile,
    IntakeDecision,
    Money,
    MonitorEvent,
    PersonalArrangement,
    PersonRecord,
    PlacementOutcome,
    Referral,
    ResponsibilityTransfer,
)
from schemas.models.enums import (
    AgeBand,
    ArrangementStatus,
    EducationBand,
    MonitorEventType,
    OutcomeType,
    ServiceKind,
    ServiceStatus,
)
from schemas.regions import Region, region_of_municipality
from schemas.vocabulary import (
    YOUNG_PERSON_AGE_LIMIT,
    EducationLevel,
    JobSeekerCategory,
    PartnerKind,
    Sector,
    age_on,
)

__all__ = [
    "IN_FORCE",
    "WORK_OUTCOMES",
    "DeriveContext",
    "MonitorSubject",
    "age_band",
    "derive",
    "education_band",
    "service_charge",
    "subject_from_profile",
]

IN_FORCE = frozenset(
    {ArrangementStatus.AGREED, ArrangementStatus.ACTIVE, ArrangementStatus.FINISHED}
)
"""Arrangement statuses in which its services count as used."""
WORK_OUTCOMES = frozenset({OutcomeType.PLACED_IN_WORK, OutcomeType.SELF_EMPLOYED})
"""Outcomes that are work ("from work to work"): PLACEMENT events; the rest are OUTCOME."""
_USED = frozenset({ServiceStatus.PLANNED, ServiceStatus.STARTED, ServiceStatus.FINISHED})
_ENDED = frozenset({ArrangementStatus.FINISHED, ArrangementStatus.CANCELLED})
_RUNNING = frozenset({ArrangementStatus.AGREED, ArrangementStatus.ACTIVE})
_OLDER_FROM = 55
_NO_QUALIFICATION = frozenset({EducationLevel.NONE, EducationLevel.VMBO, EducationLevel.MBO_1})
_HIGHER = frozenset({EducationLevel.HBO, EducationLevel.WO})


# --- generalisation ---------------------------------------------------------------------------


def age_band(date_of_birth: date, on: date) -> AgeBand:
    """The age band on ``on``: under 27, 27 to 54, 55 and over (the selection boundaries)."""
    years = age_on(date_of_birth, on)
    if years < YOUNG_PERSON_AGE_LIMIT:
        return AgeBand.UNDER_27
    if years < _OLDER_FROM:
        return AgeBand.FROM_27_TO_54
    return AgeBand.FROM_55


def education_band(
    level: EducationLevel | None, starting_qualification: bool | None
) -> EducationBand | None:
    """No starting qualification / middle (mbo 2-4, havo, vwo) / higher (hbo, wo)."""
    if level is None:
        return (
            None
            if starting_qualification is None
            else (
                EducationBand.MIDDLE
                if starting_qualification
                else EducationBand.NO_STARTING_QUALIFICATION
            )
        )
    if level in _NO_QUALIFICATION or starting_qualification is False:
        return EducationBand.NO_STARTING_QUALIFICATION
    if level in _HIGHER:
        return EducationBand.HIGHER
    return EducationBand.MIDDLE


def _last_sector(profile: ClientProfile) -> Sector | None:
    history = profile.work_history or []
    if history:
        # the job still going on, else the one that ended last; ties by start date
        last = max(
            history,
            key=lambda job: (job.end_date is None, job.end_date or date.min, job.start_date),
        )
        return last.sector
    return profile.sectors[0] if profile.sectors else None


def _region(profile: ClientProfile) -> Region | None:
    if profile.region is not None:
        return profile.region
    if profile.municipality_code:
        try:
            return region_of_municipality(profile.municipality_code)
        except KeyError:
            return None
    return None


# --- the subject ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonitorSubject:
    """What the monitor may know of one person: a monitor pseudonym and generalised attributes.

    Holds no direct identifier; the router keeps one per client pseudonym, made from the
    person's latest :class:`ClientProfile` by :func:`subject_from_profile`.
    """

    monitor_pseudonym: str
    key_version: int
    region: Region | None = None
    age_band: AgeBand | None = None
    education_band: EducationBand | None = None
    sector: Sector | None = None
    job_seeker_category: JobSeekerCategory | None = None
    banenafspraak: bool = False

    @property
    def shrinking_sector(self) -> bool:
        return self.sector is not None and self.sector.shrinking

    def to_dict(self) -> dict[str, str | int | bool | None]:
        """A JSON-safe dict, for a router that keeps subjects on a topic or in a store."""
        return {
            "monitor_pseudonym": self.monitor_pseudonym,
            "key_version": self.key_version,
            "region": self.region.value if self.region else None,
            "age_band": self.age_band.value if self.age_band else None,
            "education_band": self.education_band.value if self.education_band else None,
            "sector": self.sector.value if self.sector else None,
            "job_seeker_category": (
                self.job_seeker_category.value if self.job_seeker_category else None
            ),
            "banenafspraak": self.banenafspraak,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitorSubject:
        """The subject of :meth:`to_dict` (MonitorInputError when malformed)."""
        try:
            return cls(
                monitor_pseudonym=str(data["monitor_pseudonym"]),
                key_version=int(data["key_version"]),
                region=Region(data["region"]) if data.get("region") else None,
                age_band=AgeBand(data["age_band"]) if data.get("age_band") else None,
                education_band=(
                    EducationBand(data["education_band"]) if data.get("education_band") else None
                ),
                sector=Sector(data["sector"]) if data.get("sector") else None,
                job_seeker_category=(
                    JobSeekerCategory(data["job_seeker_category"])
                    if data.get("job_seeker_category")
                    else None
                ),
                banenafspraak=bool(data.get("banenafspraak", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MonitorInputError(f"not a monitor subject: {exc}") from None


def subject_from_profile(
    profile: ClientProfile,
    pseudonymiser: MonitorPseudonymiser,
    previous: MonitorSubject | None = None,
) -> MonitorSubject:
    """The subject as of ``profile``; fields the profile lacks are kept from ``previous``.

    The age band is the age on the day the profile was recorded. MonitorInputError when
    there is neither a BSN in the profile nor a previous subject.
    """
    if profile.bsn:
        pseudonym, version = pseudonymiser.pseudonym(profile.bsn), pseudonymiser.key_version
    elif previous is not None:
        pseudonym, version = previous.monitor_pseudonym, previous.key_version
    else:
        raise MonitorInputError("a profile without BSN, and no earlier subject: no pseudonym")
    base = previous or MonitorSubject(pseudonym, version)
    band = (
        age_band(profile.date_of_birth, profile.occurred_at.date())
        if profile.date_of_birth is not None
        else base.age_band
    )
    return replace(
        base,
        monitor_pseudonym=pseudonym,
        key_version=version,
        region=_region(profile) or base.region,
        age_band=band,
        education_band=education_band(profile.education_level, profile.starting_qualification)
        or base.education_band,
        sector=_last_sector(profile) or base.sector,
        job_seeker_category=profile.job_seeker_category or base.job_seeker_category,
        banenafspraak=base.banenafspraak
        if profile.banenafspraak is None
        else profile.banenafspraak,
    )


# --- deriving events -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeriveContext:
    """What :func:`derive` needs besides the record.

    ``subject``: the person's :class:`MonitorSubject` (from their latest profile).
    ``publisher_kind``: the kind of the partner that published the record (used when the
    record does not name the party that took the step). ``previous_arrangement``: for a
    :class:`PersonalArrangement`, the previous accepted version with the same
    ``arrangement_id`` (None for the first). ``pseudonymiser``: the monitor keys.
    """

    subject: MonitorSubject
    publisher_kind: PartnerKind
    pseudonymiser: MonitorPseudonymiser
    previous_arrangement: PersonalArrangement | None = None


@dataclass(frozen=True, slots=True)
class _Step:
    """One step of a record, before it becomes a MonitorEvent."""

    event_type: MonitorEventType
    day: date
    key: tuple[str, ...]
    partner_kind: PartnerKind
    region: Region | None = None
    job_seeker_category: JobSeekerCategory | None = None
    banenafspraak: bool | None = None
    instrument: Instrument | None = None
    cost: int | None = None
    service_kind: ServiceKind | None = None
    uses: int = 1
    committed: int | None = None
    paid: int | None = None
    outcome: OutcomeType | None = None


def derive(record: PersonRecord, context: DeriveContext) -> list[MonitorEvent]:
    """The monitor events of one accepted record about ``context.subject``.

    A :class:`ClientProfile` is no step (it updates the subject: see
    :func:`subject_from_profile`) and gives none. MonitorInputError when the region of the
    step is unknown.
    """
    steps: list[_Step]
    if isinstance(record, IntakeDecision):
        steps = list(_intake(record, context))
    elif isinstance(record, PersonalArrangement):
        steps = list(_arrangement(record, context))
    elif isinstance(record, Referral):
        steps = [
            _Step(
                MonitorEventType.REFERRAL,
                _day(None, record),
                ("referral", record.referral_id or record.event_id),
                record.from_party.kind if record.from_party else context.publisher_kind,
                instrument=record.instrument,
            )
        ]
    elif isinstance(record, PlacementOutcome):
        work = record.outcome in WORK_OUTCOMES
        steps = [
            _Step(
                MonitorEventType.PLACEMENT if work else MonitorEventType.OUTCOME,
                _day(record.started_on or record.ended_on, record),
                ("outcome", record.outcome_id or record.event_id),
                context.publisher_kind,
                outcome=record.outcome,
            )
        ]
    elif isinstance(record, ResponsibilityTransfer):
        steps = [
            _Step(
                MonitorEventType.RESPONSIBILITY_TRANSFER,
                _day(record.effective_date, record),
                ("transfer", record.transfer_id or record.event_id),
                record.to_party.kind if record.to_party else context.publisher_kind,
            )
        ]
    else:
        steps = []
    return [_event(record, context, step) for step in steps]


def _day(day: date | None, record: PersonRecord) -> date:
    return day if day is not None else record.occurred_at.date()


def _event(record: PersonRecord, context: DeriveContext, step: _Step) -> MonitorEvent:
    subject = context.subject
    region = step.region or subject.region
    if region is None:
        raise MonitorInputError(
            f"{record.avro_name}: no region known for the subject (no residence in its profile)"
        )
    keys = context.pseudonymiser
    period = period_of(step.day)
    linkage = keys.linkage_pseudonym(record.client_pseudonym) if _linked(step) else None
    event_id = keys.event_id(
        record.client_pseudonym,
        record.source_partner,
        record.avro_name,
        *step.key,
        step.event_type.value,
    )
    return MonitorEvent(
        event_id=event_id,
        occurred_at=datetime.combine(step.day, time(), tzinfo=UTC),
        source_partner=PartnerId(record.source_partner),
        monitor_pseudonym=keys.period_pseudonym(record.client_pseudonym, period),
        event_type=step.event_type,
        region=region,
        period=period,
        partner_kind=step.partner_kind,
        age_band=subject.age_band,
        sector=subject.sector,
        education_band=subject.education_band,
        job_seeker_category=step.job_seeker_category or subject.job_seeker_category,
        banenafspraak=subject.banenafspraak if step.banenafspraak is None else step.banenafspraak,
        shrinking_sector=subject.shrinking_sector,
        instrument=step.instrument,
        cost=None if step.cost is None else Money(amount_cents=step.cost),
        key_version=keys.key_version,
        service_kind=step.service_kind,
        uses=step.uses,
        committed=None if step.committed is None else Money(amount_cents=step.committed),
        paid=None if step.paid is None else Money(amount_cents=step.paid),
        outcome=step.outcome,
        linkage_pseudonym=linkage,
    )


def _linked(step: _Step) -> bool:
    """Whether the step feeds a figure across periods, so its event carries the person's
    linkage pseudonym: an intake and a placement (days from first intake to work), a
    budget movement (people new to the region's ledger)."""
    if step.event_type in (MonitorEventType.INTAKE, MonitorEventType.PLACEMENT):
        return True
    return step.event_type is MonitorEventType.INSTRUMENT_USED and bool(step.committed or step.paid)


def _intake(record: IntakeDecision, context: DeriveContext) -> Iterator[_Step]:
    day = _day(record.intake_date, record)
    kind = record.first_responsible.kind if record.first_responsible else context.publisher_kind
    key = ("intake", record.intake_id or record.event_id)
    banenafspraak = context.subject.banenafspraak or bool(record.banenafspraak_eligible)
    types = [MonitorEventType.INTAKE]
    if record.selected:
        types.append(MonitorEventType.SELECTION)
    for event_type in types:
        yield _Step(
            event_type,
            day,
            key,
            kind,
            job_seeker_category=record.job_seeker_category,
            banenafspraak=banenafspraak,
        )


# --- arrangements and the budget ---------------------------------------------------------------


def service_charge(service: ArrangementService) -> int:
    """What ``service`` charges the pooled budget, in cents (additional: cost less co-financing)."""
    if service.kind is not ServiceKind.ADDITIONAL or service.cost is None:
        return 0
    co_financing = service.co_financing.amount_cents if service.co_financing else 0
    return max(0, service.cost.amount_cents - co_financing)


@dataclass(frozen=True, slots=True)
class _Use:
    used: bool
    charge: int
    paid: bool


_UNUSED = _Use(used=False, charge=0, paid=False)


def _use(arrangement: PersonalArrangement | None, service: ArrangementService | None) -> _Use:
    if arrangement is None or service is None or service.instrument is None:
        return _UNUSED
    finished = service.status is ServiceStatus.FINISHED
    in_force = arrangement.status in IN_FORCE
    if (in_force and service.status in _USED) or (
        finished and arrangement.status is ArrangementStatus.CANCELLED
    ):
        return _Use(used=True, charge=service_charge(service), paid=finished)
    return _UNUSED


def _services(arrangement: PersonalArrangement | None) -> dict[str, ArrangementService]:
    if arrangement is None:
        return {}
    return {s.service_id: s for s in arrangement.services or [] if s.instrument is not None}


def _lifecycle(
    record: PersonalArrangement, previous: PersonalArrangement | None
) -> list[tuple[MonitorEventType, tuple[str, ...]]]:
    status, before = record.status, previous.status if previous is not None else None
    ident = record.arrangement_id or record.event_id
    steps: list[tuple[MonitorEventType, tuple[str, ...]]] = []
    if status in IN_FORCE and before not in IN_FORCE:
        steps.append((MonitorEventType.ARRANGEMENT_STARTED, ("arrangement", ident)))
    elif (
        status in _RUNNING
        and before in _RUNNING
        and previous is not None
        and previous.revision != record.revision
    ):
        revision = str(record.revision) if record.revision is not None else record.event_id
        steps.append((MonitorEventType.ARRANGEMENT_CHANGED, ("arrangement", ident, revision)))
    if (
        status in _ENDED
        and before not in _ENDED
        and (before in _RUNNING or status is ArrangementStatus.FINISHED)
    ):
        steps.append((MonitorEventType.ARRANGEMENT_FINISHED, ("arrangement-end", ident)))
    return steps


def _arrangement(record: PersonalArrangement, context: DeriveContext) -> Iterator[_Step]:
    previous = context.previous_arrangement
    if previous is not None and previous.arrangement_id != record.arrangement_id:
        raise MonitorInputError(
            "previous_arrangement is a version of another arrangement than the record"
        )
    if record.status is None:
        return
    day = _day(None, record)
    kind = record.composed_by.kind if record.composed_by else context.publisher_kind
    for event_type, key in _lifecycle(record, previous):
        yield _Step(event_type, day, key, kind, region=record.region)
    ident = record.arrangement_id or record.event_id
    revision = str(record.revision) if record.revision is not None else record.event_id
    before, after = _services(previous), _services(record)
    for service_id in sorted(before.keys() | after.keys()):
        old = _use(previous, before.get(service_id))
        new = _use(record, after.get(service_id))
        if old.paid or not (old.used or new.used):
            continue  # settled, or never used
        first = new.used and not old.used
        committed = new.charge - old.charge if new.used else -old.charge
        paid = new.charge if new.paid and new.charge else None
        if not first and not committed and paid is None:
            continue
        service = after.get(service_id) or before[service_id]
        yield _Step(
            MonitorEventType.INSTRUMENT_USED,
            day,
            ("service", ident, revision, service_id),
            kind,
            region=record.region,
            instrument=service.instrument,
            service_kind=service.kind,
            cost=new.charge if new.used else old.charge,
            uses=1 if first else 0,
            committed=committed or None,
            paid=paid,
        )
