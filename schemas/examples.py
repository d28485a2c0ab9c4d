"""One realistic, deterministic example record of every message type.

The story: a cook from Amsterdam (municipality 0363, region Groot Amsterdam), 56, enters
WW after seventeen years in hospitality, a shrinking sector. UWV is first responsible,
selects her, and composes an arrangement with practical learning in mbo towards logistics
work, language education at the municipality and a tailored budget; she is placed in a
vacancy from demand in view. Used by the self-check and by tests; the BSN passes the
eleven-test and is a well-known test number, the partner ids are the built-in directory's.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, date, datetime

from hub.errors import RecordError
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from schemas import codec
from schemas.loader import fullname_of
from schemas.menu_card import Instrument
from schemas.models import (
    ArrangementService,
    Availability,
    CanonicalRecord,
    ClientProfile,
    Competence,
    ConsentChange,
    Contact,
    CriterionAssessment,
    DeadLetter,
    DisclosureEvent,
    Employer,
    ErasureNotice,
    IntakeDecision,
    Money,
    MonitorEvent,
    PartyRef,
    PersonalArrangement,
    PlacementOutcome,
    Recipient,
    Referral,
    RejectionNotice,
    ResponsibilityTransfer,
    RoutingState,
    StaffSurplus,
    Vacancy,
    WorkHistoryEntry,
    two_month_period,
)
from schemas.models.enums import (
    AgeBand,
    ArrangementStatus,
    ConsentChangeType,
    DeadLetterReason,
    EducationBand,
    LegalBasis,
    MonitorEventType,
    OutcomeType,
    SelectionCriterion,
    ServiceKind,
    ServicePackage,
    ServiceStatus,
    TransferReason,
)
from schemas.regions import region_of_municipality
from schemas.vocabulary import (
    BenefitStatus,
    DataCategory,
    EducationLevel,
    JobSeekerCategory,
    LanguageLevel,
    PartnerKind,
    Purpose,
    Sector,
)

__all__ = ["EXAMPLE_BSN", "EXAMPLE_MUNICIPALITY", "example", "examples"]

EXAMPLE_BSN = "123456782"
"""Passes the eleven-test."""
EXAMPLE_MUNICIPALITY = "0363"
"""Amsterdam (CBS code); region Groot Amsterdam."""

_CLIENT = ClientPseudonym("psn-uwv-7f3a9e21c4b8")
_REGION = region_of_municipality(EXAMPLE_MUNICIPALITY)
_UWV = PartyRef(partner_id=PartnerId("uwv"), kind=PartnerKind.UWV)
_GEMEENTE = PartyRef(partner_id=PartnerId("gemeente-amsterdam"), kind=PartnerKind.GEMEENTE)
_MBO = PartyRef(partner_id=PartnerId("mbo-amsterdam"), kind=PartnerKind.EDUCATION)
_ARRANGEMENT_ID = "arr-uwv-2021-000417"
_VACANCY_ID = "vac-sp-werkgevers-2021-0042"


def _at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2021, month, day, hour, minute, tzinfo=UTC)


def _event(n: int) -> EventId:
    return EventId(f"00000000-0000-4000-8000-{n:012d}")


def _profile() -> ClientProfile:
    return ClientProfile(
        event_id=_event(1),
        occurred_at=_at(3, 2, 9, 30),
        source_partner=_UWV.partner_id,
        client_pseudonym=_CLIENT,
        bsn=EXAMPLE_BSN,
        given_name="Fatima",
        family_name_prefix="el",
        family_name="Amrani",
        date_of_birth=date(1964, 9, 3),
        contact=Contact(
            street="Kinkerstraat",
            house_number="112-2",
            postal_code="1053 ED",
            city="Amsterdam",
            phone="+31 6 12345678",
            email="f.elamrani@example.nl",
        ),
        municipality_code=EXAMPLE_MUNICIPALITY,
        region=_REGION,
        job_seeker_category=JobSeekerCategory.WW_ENTRANT,
        competences=[
            Competence(name="Koken volgens HACCP", years_experience=17),
            Competence(name="Voorraadbeheer", years_experience=8),
        ],
        sectors=[Sector.HOSPITALITY],
        work_history=[
            WorkHistoryEntry(
                job_title="Kok",
                sector=Sector.HOSPITALITY,
                start_date=date(2004, 3, 1),
                end_date=date(2021, 1, 31),
                hours_per_week=36,
            )
        ],
        education_level=EducationLevel.MBO_2,
        starting_qualification=True,
        language_level=LanguageLevel.B1,
        benefit_status=BenefitStatus.WW,
        has_debts=False,
    )


def _intake() -> IntakeDecision:
    applies = (
        SelectionCriterion.OWN_NEED_MOTIVATION,
        SelectionCriterion.SHRINKING_SECTOR,
        SelectionCriterion.ONE_SIDED_WORK_HISTORY,
        SelectionCriterion.LANGUAGE_BELOW_B2,
        SelectionCriterion.AGE_OVER_55,
    )
    return IntakeDecision(
        event_id=_event(2),
        occurred_at=_at(3, 9, 14),
        source_partner=_UWV.partner_id,
        client_pseudonym=_CLIENT,
        intake_id="intake-uwv-2021-003311",
        intake_date=date(2021, 3, 9),
        job_seeker_category=JobSeekerCategory.WW_ENTRANT,
        first_responsible=_UWV,
        selected=True,
        criteria=[
            *(CriterionAssessment(criterion=c, applies=True) for c in applies),
            CriterionAssessment(
                criterion=SelectionCriterion.NO_STARTING_QUALIFICATION,
                applies=False,
                note="mbo 2 horeca",
            ),
        ],
        reasons=["17 jaar in de horeca", "wil omscholen naar logistiek"],
    )


def _arrangement() -> PersonalArrangement:
    return PersonalArrangement(
        event_id=_event(3),
        occurred_at=_at(3, 23, 11),
        source_partner=_UWV.partner_id,
        client_pseudonym=_CLIENT,
        arrangement_id=_ARRANGEMENT_ID,
        revision=1,
        composed_by=_UWV,
        region=_REGION,
        status=ArrangementStatus.ACTIVE,
        agreed_with_client=True,
        services=[
            ArrangementService(
                service_id="s1",
                kind=ServiceKind.REGULAR,
                package=ServicePackage.III,
                description="WW-begeleiding en sollicitatieondersteuning",
                provider="uwv",
                status=ServiceStatus.STARTED,
                start_date=date(2021, 3, 23),
            ),
            ArrangementService(
                service_id="s2",
                kind=ServiceKind.ADDITIONAL,
                instrument=Instrument.PRACTICAL_LEARNING_MBO,
                package=ServicePackage.II,
                description="Praktijkleren mbo 2 logistiek medewerker (praktijkverklaring)",
                provider="mbo-amsterdam",
                cost=Money(amount_cents=250_000),
                co_financing=Money(amount_cents=100_000),
                status=ServiceStatus.PLANNED,
                start_date=date(2021, 4, 12),
                end_date=date(2021, 8, 27),
            ),
            ArrangementService(
                service_id="s3",
                kind=ServiceKind.ADDITIONAL,
                instrument=Instrument.LANGUAGE_EDUCATION,
                package=ServicePackage.III,
                description="Taaltraject mondeling Nederlands naar B2",
                provider="gemeente-amsterdam",
                cost=Money(amount_cents=60_000),
                status=ServiceStatus.PLANNED,
                start_date=date(2021, 4, 6),
            ),
            ArrangementService(
                service_id="s4",
                kind=ServiceKind.ADDITIONAL,
                instrument=Instrument.TAILORED_BUDGET,
                package=ServicePackage.III,
                description="Veiligheidsschoenen en VCA-examen",
                provider="uwv",
                cost=Money(amount_cents=42_500),
                status=ServiceStatus.PLANNED,
            ),
        ],
        valid_from=date(2021, 3, 23),
        valid_until=date(2021, 12, 31),
    )


def _referral() -> Referral:
    return Referral(
        event_id=_event(4),
        occurred_at=_at(3, 24, 10),
        source_partner=_UWV.partner_id,
        client_pseudonym=_CLIENT,
        referral_id="ref-uwv-2021-000881",
        arrangement_id=_ARRANGEMENT_ID,
        from_party=_UWV,
        to_party=_GEMEENTE,
        desk="Taalhuis",
        instrument=Instrument.LANGUAGE_EDUCATION,
        service_id="s3",
        reason="mondeling Nederlands B1; taaltraject naast de praktijkopleiding",
    )


def _vacancy() -> Vacancy:
    return Vacancy(
        event_id=_event(5),
        occurred_at=_at(3, 1, 8),
        source_partner=PartnerId("sp-werkgevers"),
        vacancy_id=_VACANCY_ID,
        employer=Employer(name="Logistiek Centrum Westpoort B.V.", kvk_number="12345678"),
        title="Logistiek medewerker",
        sector=Sector.LOGISTICS,
        region=_REGION,
        required_competences=[
            Competence(name="Heftruck rijden"),
            Competence(name="Orderpicken"),
        ],
        education_level=EducationLevel.MBO_2,
        language_level=LanguageLevel.B1,
        hours_per_week=32,
        positions=3,
        trainable=True,
        open_until=date(2021, 9, 30),
    )


def _outcome() -> PlacementOutcome:
    return PlacementOutcome(
        event_id=_event(6),
        occurred_at=_at(8, 30, 16),
        source_partner=_GEMEENTE.partner_id,
        client_pseudonym=_CLIENT,
        outcome_id="out-gemeente-amsterdam-2021-0193",
        arrangement_id=_ARRANGEMENT_ID,
        outcome=OutcomeType.PLACED_IN_WORK,
        started_on=date(2021, 9, 1),
        ended_on=date(2022, 8, 31),
        sector=Sector.LOGISTICS,
        hours_per_week=32,
        vacancy_id=_VACANCY_ID,
    )


def _transfer() -> ResponsibilityTransfer:
    return ResponsibilityTransfer(
        event_id=_event(7),
        occurred_at=_at(6, 28, 9),
        source_partner=_UWV.partner_id,
        client_pseudonym=_CLIENT,
        transfer_id="trf-uwv-2021-000052",
        arrangement_id=_ARRANGEMENT_ID,
        from_party=_UWV,
        to_party=_GEMEENTE,
        reason=TransferReason.BENEFIT_CHANGED,
        new_benefit_status=BenefitStatus.BIJSTAND,
        effective_date=date(2021, 7, 1),
    )


def _consent() -> ConsentChange:
    consent_id = ConsentId("cns-uwv-2021-004512")
    given = _at(3, 9, 14, 20)
    digest = hashlib.sha256(f"{consent_id}|{_CLIENT}|GIVEN|{given.isoformat()}".encode())
    return ConsentChange(
        event_id=_event(8),
        occurred_at=given,
        source_partner=_UWV.partner_id,
        consent_id=consent_id,
        subject_pseudonym=_CLIENT,
        change=ConsentChangeType.GIVEN,
        controller=_UWV.partner_id,
        recipients=[
            Recipient(partner_id=_GEMEENTE.partner_id),
            Recipient(partner_kind=PartnerKind.EDUCATION, region=_REGION),
        ],
        purposes=[Purpose.ARRANGEMENT, Purpose.SCHOOLING, Purpose.WARM_HANDOVER],
        data_categories=[
            DataCategory.IDENTITY,
            DataCategory.CONTACT,
            DataCategory.LABOUR_MARKET_PROFILE,
            DataCategory.EDUCATION,
            DataCategory.ARRANGEMENT,
        ],
        legal_basis=LegalBasis.CONSENT,
        valid_from=given,
        valid_until=datetime(2022, 3, 9, 23, 59, 59, tzinfo=UTC),
        actor="uwv:adviseur-0815",
        recorded_at=_at(3, 9, 14, 21),
        record_hash=digest.hexdigest(),
    )


def _monitor() -> MonitorEvent:
    digest = hmac.new(b"example-monitor-key", EXAMPLE_BSN.encode(), hashlib.sha256).digest()
    modhex = "cbdefghijklnrtuv"  # hub.monitor.pseudonym: ModHex, no digits
    pseudonym = "m1-" + "".join(modhex[b >> 4] + modhex[b & 15] for b in digest[:16])
    return MonitorEvent(
        event_id=_event(9),
        occurred_at=_at(4, 12, 8),
        source_partner=_UWV.partner_id,
        monitor_pseudonym=pseudonym,
        event_type=MonitorEventType.INSTRUMENT_USED,
        region=_REGION,
        period=two_month_period(date(2021, 4, 12)),
        partner_kind=PartnerKind.UWV,
        age_band=AgeBand.FROM_55,
        sector=Sector.HOSPITALITY,
        education_band=EducationBand.MIDDLE,
        job_seeker_category=JobSeekerCategory.WW_ENTRANT,
        shrinking_sector=Sector.HOSPITALITY.shrinking,
        instrument=Instrument.PRACTICAL_LEARNING_MBO,
        cost=Money(amount_cents=250_000),
        key_version=1,
        service_kind=ServiceKind.ADDITIONAL,
        uses=1,
        committed=Money(amount_cents=250_000),
    )


def _dead_letter() -> DeadLetter:
    refused = _profile().model_copy(update={"bsn": "123456789", "event_id": _event(10)})
    return DeadLetter(
        source_topic="rmt.partner.uwv.outbox",
        source_partition=2,
        source_offset=1187,
        source_partner=_UWV.partner_id,
        record_type=ClientProfile.avro_name,
        original_key=_CLIENT.encode(),
        original_value=codec.encode(refused),
        reason=DeadLetterReason.BSN_INVALID,
        message="bsn fails the eleven-test",
        field="bsn",
        event_id=refused.event_id,
        failed_at=_at(3, 2, 9, 31),
    )


def _disclosure() -> DisclosureEvent:
    profile = _profile()
    return DisclosureEvent(
        event_id=_event(11),
        occurred_at=_at(3, 2, 9, 31),
        source_partner=PartnerId("hub"),
        client_pseudonym=_CLIENT,
        recipient=_GEMEENTE.partner_id,
        recipient_kind=PartnerKind.GEMEENTE,
        purpose=Purpose.ARRANGEMENT,
        data_categories=[
            DataCategory.META,
            DataCategory.PSEUDONYM,
            DataCategory.IDENTITY,
            DataCategory.CONTACT,
            DataCategory.LABOUR_MARKET_PROFILE,
            DataCategory.EDUCATION,
        ],
        fields=[
            "event_id",
            "occurred_at",
            "source_partner",
            "client_pseudonym",
            "bsn",
            "given_name",
            "family_name_prefix",
            "family_name",
            "date_of_birth",
            "contact",
            "competences",
            "sectors",
            "work_history",
            "education_level",
            "starting_qualification",
            "language_level",
            "withheld_categories",
        ],
        withheld_categories=[DataCategory.BENEFIT_STATUS, DataCategory.DEBTS],
        consent_ids=["cns-uwv-2021-004512"],
        policy_version="2026.1",
        source_event_id=profile.event_id,
        publisher=_UWV.partner_id,
        record_type=ClientProfile.avro_name,
        inbox_topic="rmt.partner.gemeente-amsterdam.inbox",
        payload_sha256=hashlib.sha256(codec.encode(profile)).hexdigest(),
    )


def _rejection() -> RejectionNotice:
    return RejectionNotice(
        event_id=_event(12),
        occurred_at=_at(3, 2, 9, 31),
        source_partner=PartnerId("hub"),
        record_key=_CLIENT,
        rejected_event_id=_event(10),
        record_type=ClientProfile.avro_name,
        source_topic="rmt.partner.uwv.outbox",
        source_partition=2,
        source_offset=1187,
        reason=DeadLetterReason.BSN_INVALID,
        message="bsn fails the eleven-test",
        field="bsn",
    )


def _erasure() -> ErasureNotice:
    return ErasureNotice(
        event_id=_event(13),
        occurred_at=_at(9, 1, 12),
        source_partner=PartnerId("hub"),
        client_pseudonym=_CLIENT,
        consent_id=ConsentId("cns-uwv-2021-004512"),
        change=ConsentChangeType.WITHDRAWN,
        effective_at=_at(9, 1, 11, 58),
        consent_event_id=_event(14),
        still_covered=False,
    )


def _routing_state() -> RoutingState:
    return RoutingState(
        event_id=_event(15),
        occurred_at=_at(3, 23, 11, 1),
        source_partner=PartnerId("hub"),
        client_pseudonym=_CLIENT,
        source_event_id=_event(3),
        job_seeker_category=JobSeekerCategory.WW_ENTRANT,
        region=_REGION,
        benefit_status=BenefitStatus.WW,
        banenafspraak=False,
        reduced_wage_value=False,
        first_responsible=_UWV,
        arrangements=[_arrangement()],
    )


def _surplus() -> StaffSurplus:
    return StaffSurplus(
        event_id=_event(16),
        occurred_at=_at(2, 15, 9),
        source_partner=PartnerId("sp-werkgevers"),
        surplus_id="sur-sp-werkgevers-2021-0007",
        employer=Employer(name="Grand Hotel Amstel Events B.V.", kvk_number="87654321"),
        sector=Sector.HOSPITALITY,
        region=_REGION,
        announced_on=date(2021, 2, 15),
        expected_from=date(2021, 4, 1),
        expected_until=date(2021, 6, 30),
        staff_count=40,
        occupations=["Kok", "Bediening", "Magazijnmedewerker"],
        competences=[
            Competence(name="Koken"),
            Competence(name="Voorraadbeheer"),
            Competence(name="Orderpicken"),
        ],
    )


def _availability() -> Availability:
    return Availability(
        event_id=_event(17),
        occurred_at=_at(3, 23, 11, 30),
        source_partner=_UWV.partner_id,
        client_pseudonym=_CLIENT,
        availability_id="avl-uwv-2021-000233",
        available=True,
        available_from=date(2021, 4, 1),
        hours_per_week=32,
    )


_BUILDERS: dict[str, Callable[[], CanonicalRecord]] = {
    model.avro_name: build
    for model, build in (
        (ClientProfile, _profile),
        (IntakeDecision, _intake),
        (PersonalArrangement, _arrangement),
        (Referral, _referral),
        (Vacancy, _vacancy),
        (PlacementOutcome, _outcome),
        (ResponsibilityTransfer, _transfer),
        (ConsentChange, _consent),
        (MonitorEvent, _monitor),
        (DeadLetter, _dead_letter),
        (DisclosureEvent, _disclosure),
        (RejectionNotice, _rejection),
        (ErasureNotice, _erasure),
        (RoutingState, _routing_state),
        (StaffSurplus, _surplus),
        (Availability, _availability),
    )
}


def example(fullname: str) -> CanonicalRecord:
    """The example record of a message type (short names are accepted)."""
    try:
        build = _BUILDERS[fullname_of(fullname)]
    except KeyError:
        raise RecordError(fullname, "no example for this record type") from None
    return build()


def examples() -> dict[str, CanonicalRecord]:
    """The example of every message type, by fullname."""
    return {name: build() for name, build in _BUILDERS.items()}
