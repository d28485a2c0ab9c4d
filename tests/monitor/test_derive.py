"""Canonical records -> monitor events: generalised attributes, steps, budget movements."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hub.monitor.derive import (
    DeriveContext,
    MonitorSubject,
    age_band,
    derive,
    education_band,
    subject_from_profile,
)
from hub.monitor.errors import MonitorInputError
from hub.monitor.pseudonym import MonitorKeyring, MonitorPseudonymiser
from schemas.examples import EXAMPLE_BSN, example
from schemas.menu_card import Instrument
from schemas.models import (
    ArrangementService,
    ClientProfile,
    IntakeDecision,
    Money,
    MonitorEvent,
    PersonalArrangement,
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
from schemas.regions import Region
from schemas.vocabulary import EducationLevel, JobSeekerCategory, PartnerKind, Sector

KEYS = MonitorPseudonymiser(MonitorKeyring({1: b"\x07" * 32}))
PROFILE = example("ClientProfile")
assert isinstance(PROFILE, ClientProfile)
SUBJECT = subject_from_profile(PROFILE, KEYS)


def _ctx(
    previous: PersonalArrangement | None = None, subject: MonitorSubject = SUBJECT
) -> DeriveContext:
    return DeriveContext(
        subject=subject,
        publisher_kind=PartnerKind.UWV,
        pseudonymiser=KEYS,
        previous_arrangement=previous,
    )


def _service(
    sid: str, status: ServiceStatus, cost: int | None = 100_000, **more: object
) -> ArrangementService:
    return ArrangementService(
        service_id=sid,
        kind=ServiceKind.ADDITIONAL if cost is not None else ServiceKind.REGULAR,
        instrument=more.pop("instrument", Instrument.SCHOOLING),  # type: ignore[arg-type]
        description="vrije tekst die nooit mee mag",
        provider="mbo-amsterdam",
        cost=None if cost is None else Money(amount_cents=cost),
        status=status,
        **more,  # type: ignore[arg-type]
    )


def _version(
    revision: int, status: ArrangementStatus, *services: ArrangementService, day: int = 1
) -> PersonalArrangement:
    base = example("PersonalArrangement")
    assert isinstance(base, PersonalArrangement)
    return base.model_copy(
        update={
            "revision": revision,
            "status": status,
            "services": list(services),
            "event_id": f"00000000-0000-4000-8000-{revision:012d}",
            "occurred_at": datetime(2021, 5, day, 11, tzinfo=UTC),
        }
    )


def _movements(events: list[MonitorEvent]) -> list[tuple[int, int | None, int | None]]:
    return [
        (
            e.uses,
            e.committed.amount_cents if e.committed else None,
            e.paid.amount_cents if e.paid else None,
        )
        for e in events
        if e.event_type is MonitorEventType.INSTRUMENT_USED
    ]


def _types(events: list[MonitorEvent]) -> list[MonitorEventType]:
    return [e.event_type for e in events]


# --- generalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (date(1994, 5, 2), AgeBand.UNDER_27),  # 26 on 2021-05-01
        (date(1994, 5, 1), AgeBand.FROM_27_TO_54),  # 27 that day
        (date(1966, 5, 2), AgeBand.FROM_27_TO_54),  # 54
        (date(1966, 5, 1), AgeBand.FROM_55),
    ],
)
def test_age_bands_follow_the_selection_boundaries(born: date, band: AgeBand) -> None:
    assert age_band(born, date(2021, 5, 1)) is band


@pytest.mark.parametrize(
    ("level", "qualified", "band"),
    [
        (EducationLevel.NONE, None, EducationBand.NO_STARTING_QUALIFICATION),
        (EducationLevel.MBO_1, None, EducationBand.NO_STARTING_QUALIFICATION),
        (EducationLevel.MBO_2, True, EducationBand.MIDDLE),
        (EducationLevel.MBO_3, False, EducationBand.NO_STARTING_QUALIFICATION),
        (EducationLevel.HAVO_VWO, None, EducationBand.MIDDLE),
        (EducationLevel.WO, True, EducationBand.HIGHER),
        (None, True, EducationBand.MIDDLE),
        (None, None, None),
    ],
)
def test_education_bands(
    level: EducationLevel | None, qualified: bool | None, band: EducationBand | None
) -> None:
    assert education_band(level, qualified) is band


def test_the_subject_is_generalised_and_holds_no_identifier() -> None:
    assert SUBJECT.monitor_pseudonym == KEYS.pseudonym(EXAMPLE_BSN)
    assert SUBJECT.region is Region.GROOT_AMSTERDAM
    assert SUBJECT.age_band is AgeBand.FROM_55
    assert SUBJECT.education_band is EducationBand.MIDDLE
    assert SUBJECT.sector is Sector.HOSPITALITY
    assert SUBJECT.shrinking_sector
    text = repr(SUBJECT)
    for secret in (
        EXAMPLE_BSN,
        "Fatima",
        "Amrani",
        "1964",
        PROFILE.client_pseudonym,
        "Kinkerstraat",
    ):
        assert secret not in text


def test_a_subject_round_trips_as_a_dict() -> None:
    assert MonitorSubject.from_dict(SUBJECT.to_dict()) == SUBJECT
    with pytest.raises(MonitorInputError):
        MonitorSubject.from_dict({"monitor_pseudonym": "m1-x", "key_version": 1, "region": "MARS"})


def test_a_later_profile_keeps_what_it_does_not_say() -> None:
    thin = PROFILE.model_copy(
        update={
            "bsn": None,
            "date_of_birth": None,
            "region": None,
            "municipality_code": None,
            "education_level": None,
            "starting_qualification": None,
            "work_history": None,
            "sectors": None,
            "banenafspraak": True,
        }
    )
    later = subject_from_profile(thin, KEYS, SUBJECT)
    assert later.monitor_pseudonym == SUBJECT.monitor_pseudonym
    assert later.region is SUBJECT.region
    assert later.age_band is SUBJECT.age_band
    assert later.banenafspraak
    with pytest.raises(MonitorInputError):
        subject_from_profile(thin, KEYS)


def test_the_region_comes_from_the_municipality_when_not_given() -> None:
    assert subject_from_profile(PROFILE.model_copy(update={"region": None}), KEYS).region is (
        Region.GROOT_AMSTERDAM
    )


# --- steps ---------------------------------------------------------------------------------------


def test_a_profile_is_no_step() -> None:
    assert derive(PROFILE, _ctx()) == []


def test_intake_and_selection() -> None:
    intake = example("IntakeDecision")
    assert isinstance(intake, IntakeDecision)
    events = derive(intake, _ctx())
    assert _types(events) == [MonitorEventType.INTAKE, MonitorEventType.SELECTION]
    first = events[0]
    assert first.period == "2021-03/04"
    assert first.occurred_at == datetime(2021, 3, 9, tzinfo=UTC)  # the day, no time
    assert first.monitor_pseudonym == KEYS.period_pseudonym(intake.client_pseudonym, first.period)
    assert first.linkage_pseudonym == KEYS.linkage_pseudonym(intake.client_pseudonym)  # linked
    assert events[1].linkage_pseudonym is None  # a selection does not
    assert first.partner_kind is PartnerKind.UWV
    assert first.job_seeker_category is JobSeekerCategory.WW_ENTRANT
    not_selected = intake.model_copy(update={"selected": False})
    assert _types(derive(not_selected, _ctx())) == [MonitorEventType.INTAKE]


def test_deriving_twice_gives_the_same_event_ids_and_nothing_identifying() -> None:
    for name in ("IntakeDecision", "Referral", "PlacementOutcome", "ResponsibilityTransfer"):
        record = example(name)
        assert isinstance(
            record, IntakeDecision | Referral | PlacementOutcome | ResponsibilityTransfer
        )
        once, twice = derive(record, _ctx()), derive(record, _ctx())
        assert [e.event_id for e in once] == [e.event_id for e in twice]
        for event in once:
            text = event.model_dump_json()
            for secret in (
                EXAMPLE_BSN,
                PROFILE.client_pseudonym,
                record.event_id,
                "Taalhuis",
                "horeca",
                "intake-uwv",
                "ref-uwv",
                "out-gemeente",
                "trf-uwv",
            ):
                assert secret not in text, (name, secret)


def test_a_corrected_record_counts_as_the_same_step() -> None:
    outcome = example("PlacementOutcome")
    assert isinstance(outcome, PlacementOutcome)
    corrected = outcome.model_copy(
        update={"event_id": "00000000-0000-4000-8000-000000000099", "hours_per_week": 36}
    )
    assert derive(outcome, _ctx())[0].event_id == derive(corrected, _ctx())[0].event_id
    other_person = outcome.model_copy(update={"client_pseudonym": "psn-someone-else"})
    assert derive(outcome, _ctx())[0].event_id != derive(other_person, _ctx())[0].event_id


def test_outcomes_placements_referrals_transfers() -> None:
    outcome = example("PlacementOutcome")
    assert isinstance(outcome, PlacementOutcome)
    (placed,) = derive(outcome, _ctx())
    assert placed.event_type is MonitorEventType.PLACEMENT
    assert placed.outcome is OutcomeType.PLACED_IN_WORK
    assert placed.period == "2021-09/10"  # started_on
    (own,) = derive(outcome.model_copy(update={"outcome": OutcomeType.SELF_EMPLOYED}), _ctx())
    assert own.event_type is MonitorEventType.PLACEMENT
    (school,) = derive(
        outcome.model_copy(update={"outcome": OutcomeType.SCHOOLING_FINISHED}), _ctx()
    )
    assert school.event_type is MonitorEventType.OUTCOME
    referral = example("Referral")
    assert isinstance(referral, Referral)
    (ref,) = derive(referral, _ctx())
    assert ref.event_type is MonitorEventType.REFERRAL
    assert ref.instrument is Instrument.LANGUAGE_EDUCATION
    transfer = example("ResponsibilityTransfer")
    assert isinstance(transfer, ResponsibilityTransfer)
    (moved,) = derive(transfer, _ctx())
    assert moved.partner_kind is PartnerKind.GEMEENTE  # the party now responsible
    assert moved.period == "2021-07/08"  # effective date


def test_no_region_no_events() -> None:
    lost = MonitorSubject(SUBJECT.monitor_pseudonym, 1)
    with pytest.raises(MonitorInputError, match="region"):
        derive(example("Referral"), _ctx(subject=lost))  # type: ignore[arg-type]


# --- arrangements and the budget ----------------------------------------------------------------


def test_a_draft_counts_nothing_and_agreeing_starts_and_commits() -> None:
    draft = _version(1, ArrangementStatus.DRAFT, _service("a", ServiceStatus.PLANNED))
    assert derive(draft, _ctx()) == []
    agreed = _version(
        2,
        ArrangementStatus.AGREED,
        _service("a", ServiceStatus.PLANNED),
        _service("b", ServiceStatus.PLANNED, cost=None, instrument=Instrument.WORKSHOP),
    )
    events = derive(agreed, _ctx(draft))
    assert _types(events)[0] is MonitorEventType.ARRANGEMENT_STARTED
    assert _movements(events) == [(1, 100_000, None), (1, None, None)]  # regular: no money
    used = [e for e in events if e.event_type is MonitorEventType.INSTRUMENT_USED]
    assert used[0].service_kind is ServiceKind.ADDITIONAL
    assert used[0].cost == Money(amount_cents=100_000)
    assert used[1].service_kind is ServiceKind.REGULAR
    for event in events:
        assert "vrije tekst" not in event.model_dump_json()


def test_co_financing_is_not_charged_to_the_budget() -> None:
    service = _service("a", ServiceStatus.PLANNED, co_financing=Money(amount_cents=30_000))
    events = derive(_version(1, ArrangementStatus.ACTIVE, service), _ctx())
    assert _movements(events) == [(1, 70_000, None)]


def test_a_cost_change_a_cancellation_and_a_payment() -> None:
    v1 = _version(
        1,
        ArrangementStatus.AGREED,
        _service("a", ServiceStatus.PLANNED),
        _service("b", ServiceStatus.PLANNED, cost=50_000),
    )
    v2 = _version(
        2,
        ArrangementStatus.ACTIVE,
        _service("a", ServiceStatus.STARTED, cost=120_000),
        _service("b", ServiceStatus.CANCELLED, cost=50_000),
    )
    events = derive(v2, _ctx(v1))
    assert _types(events)[0] is MonitorEventType.ARRANGEMENT_CHANGED
    assert _movements(events) == [(0, 20_000, None), (0, -50_000, None)]
    v3 = _version(
        3,
        ArrangementStatus.FINISHED,
        _service("a", ServiceStatus.FINISHED, cost=120_000),
        _service("b", ServiceStatus.CANCELLED, cost=50_000),
    )
    events = derive(v3, _ctx(v2))
    assert _types(events)[0] is MonitorEventType.ARRANGEMENT_FINISHED
    assert _movements(events) == [(0, None, 120_000)]
    # a paid service is settled: a later correction moves no money
    v4 = _version(4, ArrangementStatus.FINISHED, _service("a", ServiceStatus.FINISHED, cost=90_000))
    assert _movements(derive(v4, _ctx(v3))) == []


def test_cancelling_the_arrangement_releases_what_is_not_delivered() -> None:
    v1 = _version(
        1,
        ArrangementStatus.ACTIVE,
        _service("a", ServiceStatus.STARTED),
        _service("b", ServiceStatus.FINISHED, cost=30_000),
    )
    v2 = _version(
        2,
        ArrangementStatus.CANCELLED,
        _service("a", ServiceStatus.STARTED),
        _service("b", ServiceStatus.FINISHED, cost=30_000),
    )
    events = derive(v2, _ctx(v1))
    assert MonitorEventType.ARRANGEMENT_FINISHED in _types(events)
    assert _movements(events) == [(0, -100_000, None)]


def test_a_first_version_that_is_already_finished_starts_finishes_commits_and_pays() -> None:
    done = _version(1, ArrangementStatus.FINISHED, _service("a", ServiceStatus.FINISHED))
    events = derive(done, _ctx())
    assert _types(events)[:2] == [
        MonitorEventType.ARRANGEMENT_STARTED,
        MonitorEventType.ARRANGEMENT_FINISHED,
    ]
    assert _movements(events) == [(1, 100_000, 100_000)]


def test_the_same_version_again_derives_nothing_new() -> None:
    v1 = _version(1, ArrangementStatus.ACTIVE, _service("a", ServiceStatus.STARTED))
    assert derive(v1, _ctx(v1)) == []


def test_previous_must_be_the_same_arrangement() -> None:
    v1 = _version(1, ArrangementStatus.ACTIVE)
    other = v1.model_copy(update={"arrangement_id": "arr-other"})
    with pytest.raises(MonitorInputError):
        derive(v1, _ctx(other))


def test_a_subject_of_an_older_key_version_is_rekeyed() -> None:
    rotated = MonitorPseudonymiser(MonitorKeyring({1: b"\x07" * 32, 2: b"\x08" * 32}))
    ctx = DeriveContext(subject=SUBJECT, publisher_kind=PartnerKind.UWV, pseudonymiser=rotated)
    intake = example("IntakeDecision")
    event, _ = derive(intake, ctx)  # type: ignore[arg-type]
    assert event.key_version == 2
    assert event.linkage_pseudonym == rotated.linkage_pseudonym(intake.client_pseudonym)
    assert event.linkage_pseudonym.startswith("m2-")
    assert event.monitor_pseudonym == rotated.period_pseudonym(
        intake.client_pseudonym, event.period
    )
    assert event.monitor_pseudonym.startswith("m2-")


def test_regression_one_person_s_events_in_two_periods_shared_their_pseudonym() -> None:
    """Issue 20: every monitor event carried the person's lifelong pseudonym, so anyone
    reading the events linked all of a person's steps. Each period has its own now; only
    the steps of figures across periods carry the person's (linkage) pseudonym."""
    referral = example("Referral")
    assert isinstance(referral, Referral)
    march = referral.model_copy(update={"occurred_at": datetime(2021, 3, 9, tzinfo=UTC)})
    july = referral.model_copy(
        update={"occurred_at": datetime(2021, 7, 9, tzinfo=UTC), "referral_id": "ref-2"}
    )
    (first,) = derive(march, _ctx())
    (second,) = derive(july, _ctx())
    assert (first.period, second.period) == ("2021-03/04", "2021-07/08")
    assert first.monitor_pseudonym != second.monitor_pseudonym
    assert SUBJECT.monitor_pseudonym not in {first.monitor_pseudonym, second.monitor_pseudonym}
    assert first.linkage_pseudonym is second.linkage_pseudonym is None
    (again,) = derive(march.model_copy(update={"referral_id": "ref-3"}), _ctx())
    assert again.monitor_pseudonym == first.monitor_pseudonym  # same person, same period


def test_regression_the_linkage_pseudonym_was_the_one_the_routing_state_keeps() -> None:
    """Issue 20: an event's linkage pseudonym was the person's monitor pseudonym under the
    monitor key itself, the value the routing state keeps beside the client pseudonym, so
    that topic was a table from the monitor's events to the hub's clients. It is now under
    a key of its own."""
    intake = example("IntakeDecision")
    event, _ = derive(intake, _ctx())  # type: ignore[arg-type]
    assert event.linkage_pseudonym is not None
    assert event.linkage_pseudonym != SUBJECT.monitor_pseudonym
    assert event.linkage_pseudonym != KEYS.pseudonym(EXAMPLE_BSN)
