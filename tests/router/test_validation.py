"""Every validation rule, without a broker: a record that breaks it is refused with its
reason code and field, one that keeps it passes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from hub.ids import PartnerId
from hub.router.state import SubjectState
from hub.router.validation import (
    Rejection,
    check_bsn,
    check_municipality,
    derive,
    partition_of,
    responsible_kinds,
    tailored_budget_cents,
    validate,
)
from schemas.identifiers import is_valid_bsn
from schemas.menu_card import Instrument
from schemas.models import CanonicalRecord, ClientProfile, PartyRef
from schemas.models.enums import DeadLetterReason, ServicePackage, ServiceStatus
from schemas.regions import Region
from schemas.rollout import Rollout
from schemas.vocabulary import BenefitStatus, JobSeekerCategory, PartnerKind
from tests.router.helpers import records
from topics.partners import load_partners

DIRECTORY = {p.id: p for p in load_partners()}
UWV = DIRECTORY["uwv"]
GEMEENTE = DIRECTORY["gemeente-amsterdam"]
SBB = DIRECTORY["sbb"]
PARTITIONS = 4
WHO = "psn-validation-1"
TODAY = date(2026, 12, 7)


def known(**changes: Any) -> SubjectState:
    """A WW entrant in Groot Amsterdam whose profile UWV published."""
    base: dict[str, Any] = {
        "job_seeker_category": JobSeekerCategory.WW_ENTRANT,
        "region": Region.GROOT_AMSTERDAM,
        "benefit_status": BenefitStatus.WW,
        "banenafspraak": False,
        "reduced_wage_value": False,
    }
    return SubjectState(**(base | changes))


def run(
    record: CanonicalRecord,
    *,
    publisher: str = "uwv",
    subject: SubjectState | None = None,
    key: bytes | str | None = "natural",
    partition: int | None = None,
    today: date = TODAY,
    rollout: Rollout | None = None,
) -> Rejection | None:
    natural = getattr(record, "client_pseudonym", None) or getattr(record, "vacancy_id", "")
    key_bytes = natural.encode() if key == "natural" else key
    assert not isinstance(key_bytes, str)
    if partition is None:
        partition = partition_of(key_bytes, PARTITIONS) if key_bytes is not None else 0
    return validate(
        record,
        publisher=DIRECTORY[publisher],
        key=key_bytes,
        partition=partition,
        partitions=PARTITIONS,
        subject=subject if subject is not None else SubjectState(),
        directory=DIRECTORY,
        today=today,
        rollout=rollout,
    )


def refused(found: Rejection | None, reason: DeadLetterReason, field: str | None = None) -> None:
    assert found is not None, f"expected {reason}"
    assert found.reason is reason, found
    if field is not None:
        assert found.field == field
    assert found.message


# --- the BSN --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bsn", ["123456782", "111222333", "999999990"])
def test_valid_bsns_pass_the_eleven_test(bsn: str) -> None:
    assert is_valid_bsn(bsn)


@pytest.mark.parametrize(
    "bsn", ["123456789", "12345678", "1234567820", "12345678a", "000000000", "１２３４５６７８２"]
)
def test_invalid_bsns_fail_the_eleven_test(bsn: str) -> None:
    assert not is_valid_bsn(bsn)


def test_a_profile_with_a_bad_bsn_is_refused_without_naming_the_value() -> None:
    found = run(records.profile(WHO, bsn="123456789"))
    refused(found, DeadLetterReason.BSN_INVALID, "bsn")
    assert found is not None
    assert "123456789" not in found.message
    assert check_bsn(records.profile(WHO)) is None


# --- schema and routing ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["bsn", "family_name", "municipality_code", "benefit_status"])
def test_required_fields_of_a_profile(field: str) -> None:
    refused(run(records.profile(WHO, **{field: None})), DeadLetterReason.SCHEMA_INVALID, field)


def test_required_fields_of_every_other_type() -> None:
    cases: list[tuple[CanonicalRecord, str]] = [
        (records.intake(WHO, selected=None), "selected"),
        (records.arrangement(WHO, composed_by=None), "composed_by"),
        (records.referral(WHO, reason=None), "reason"),
        (records.outcome(WHO, outcome=None), "outcome"),
        (records.transfer(WHO, "arr-1", to_party=None), "to_party"),
    ]
    for record, field in cases:
        refused(run(record, subject=known()), DeadLetterReason.SCHEMA_INVALID, field)


def test_withheld_categories_are_not_for_publishers() -> None:
    from schemas.vocabulary import DataCategory  # noqa: PLC0415

    record = records.referral(WHO, withheld_categories=[DataCategory.HEALTH])
    refused(run(record), DeadLetterReason.SCHEMA_INVALID, "withheld_categories")


def test_only_outbox_record_types_are_accepted() -> None:
    from schemas.examples import example  # noqa: PLC0415

    refused(run(example("ConsentChange")), DeadLetterReason.SCHEMA_INVALID)


def test_source_partner_must_be_the_outbox_owner() -> None:
    found = run(records.referral(WHO), publisher="sbb")
    refused(found, DeadLetterReason.PUBLISHER_NOT_ALLOWED, "source_partner")


def test_key_must_be_the_pseudonym_or_vacancy_id() -> None:
    refused(run(records.referral(WHO), key=b"other"), DeadLetterReason.KEY_MISMATCH)
    refused(run(records.referral(WHO), key=None), DeadLetterReason.KEY_MISMATCH)
    job = records.vacancy(source_partner="sp-werkgevers")
    refused(run(job, publisher="sp-werkgevers", key=b"x"), DeadLetterReason.KEY_MISMATCH)
    assert run(job, publisher="sp-werkgevers") is None


def test_record_must_be_in_the_partition_of_its_key() -> None:
    right = partition_of(WHO.encode(), PARTITIONS)
    found = run(records.referral(WHO), partition=(right + 1) % PARTITIONS)
    refused(found, DeadLetterReason.PARTITION_MISMATCH)
    assert run(records.referral(WHO), partition=right) is None


def test_partition_of_is_the_java_clients_murmur2() -> None:
    from consent.outbox import partition_for  # noqa: PLC0415

    for n in range(50):
        key = f"psn-{n}".encode()
        assert partition_of(key, 4) == partition_for(key, 4)


# --- residence ------------------------------------------------------------------------------------


def test_municipality_must_be_a_known_cbs_code() -> None:
    refused(
        run(records.profile(WHO, municipality_code="9999")),
        DeadLetterReason.MUNICIPALITY_UNKNOWN,
        "municipality_code",
    )
    assert check_municipality(records.profile(WHO, municipality_code="0599")) is not None


def test_regression_a_merged_municipalitys_code_was_refused_without_saying_why() -> None:
    """Haren (0017) merged into Groningen in 2019; the dead letter now says the code may
    be the historic code of a merged municipality."""
    rejection = check_municipality(records.profile(WHO, municipality_code="0017"))
    assert rejection is not None
    assert rejection.reason is DeadLetterReason.MUNICIPALITY_UNKNOWN
    assert rejection.field == "municipality_code"
    assert "not in the CBS municipality table of 2026" in rejection.message
    assert "historic code of a municipality that merged into another" in rejection.message


def test_region_is_derived_and_never_contradicts_the_municipality() -> None:
    refused(
        run(records.profile(WHO, region=Region.ZEELAND)),
        DeadLetterReason.REGION_MISMATCH,
        "region",
    )
    open_region = records.profile(WHO, region=None)
    assert run(open_region) is None
    derived = derive(open_region)
    assert isinstance(derived, ClientProfile)
    assert derived.region is Region.GROOT_AMSTERDAM


def test_an_arrangement_is_for_the_region_of_residence() -> None:
    record = records.arrangement(WHO, region=Region.RIJNMOND)
    refused(run(record, subject=known()), DeadLetterReason.REGION_MISMATCH, "region")


# --- the region a party serves, the category claimed ----------------------------------------------

ROTTERDAM = PartyRef(partner_id=PartnerId("gemeente-rotterdam"), kind=PartnerKind.GEMEENTE)


def test_regression_a_regional_party_acted_for_a_resident_of_another_region() -> None:
    """Issue 21: gemeente-rotterdam (Rijnmond) was accepted as first responsible for, and
    composing arrangements in, a region it does not serve."""
    bijstand = {"job_seeker_category": JobSeekerCategory.BIJSTAND_APPLICANT}
    amsterdammer = records.profile(WHO, source_partner="gemeente-rotterdam", **bijstand)
    found = run(amsterdammer, publisher="gemeente-rotterdam")
    refused(found, DeadLetterReason.OUTSIDE_REGION, "region")
    assert found is not None
    assert found.reveals is None
    assert "Rijnmond" in found.message
    assert "Groot Amsterdam" in found.message
    rotterdammer = amsterdammer.model_copy(update={"municipality_code": "0599", "region": None})
    assert run(rotterdammer, publisher="gemeente-rotterdam") is None
    # an arrangement in another region than the party's
    theirs = known(first_responsible=ROTTERDAM)
    elsewhere = records.arrangement(WHO, source_partner="gemeente-rotterdam", composed_by=ROTTERDAM)
    refused(
        run(elsewhere, publisher="gemeente-rotterdam", subject=theirs),
        DeadLetterReason.OUTSIDE_REGION,
        "region",
    )
    # an intake for a person the hub knows lives elsewhere: the refusal reads the state
    intake = records.intake(
        WHO, source_partner="gemeente-rotterdam", first_responsible=ROTTERDAM, **bijstand
    )
    found = run(intake, publisher="gemeente-rotterdam", subject=known(**bijstand))
    refused(found, DeadLetterReason.OUTSIDE_REGION)
    assert found is not None
    assert found.reveals is not None
    assert run(intake, publisher="gemeente-rotterdam", subject=SubjectState(**bijstand)) is None


def test_national_parties_act_in_every_region() -> None:
    elsewhere = records.profile(WHO, municipality_code="0599", region=None)  # Rotterdam
    assert run(elsewhere) is None  # UWV
    assert run(records.arrangement(WHO, region=Region.RIJNMOND), subject=known(region=None)) is None


def test_regression_a_young_person_aged_46_was_accepted() -> None:
    """Issue 21: the category claim was never checked against the date of birth."""
    young = {
        "source_partner": "gemeente-amsterdam",
        "job_seeker_category": JobSeekerCategory.YOUNG_PERSON,
    }
    record = records.profile(WHO, **young)
    day = record.occurred_at.date()
    aged_46 = record.model_copy(update={"date_of_birth": day.replace(year=day.year - 46)})
    refused(
        run(aged_46, publisher="gemeente-amsterdam"),
        DeadLetterReason.CATEGORY_CONTRADICTED,
        "job_seeker_category",
    )
    turns_27 = record.model_copy(update={"date_of_birth": day.replace(year=day.year - 27)})
    refused(run(turns_27, publisher="gemeente-amsterdam"), DeadLetterReason.CATEGORY_CONTRADICTED)
    aged_26 = record.model_copy(
        update={"date_of_birth": day.replace(year=day.year - 27) + timedelta(days=1)}
    )
    assert run(aged_26, publisher="gemeente-amsterdam") is None


def test_regression_a_region_s_records_were_accepted_before_its_roll_out_phase() -> None:
    """Issue 21: appendix 3's phased roll-out was not modelled."""
    rollout = Rollout.model_validate(
        {
            "phases": [
                {"phase": 1, "live_from": "2020-11-01", "regions": ["GROOT_AMSTERDAM"]},
                {"phase": 2, "live_from": "2027-01-01", "regions": "others"},
            ]
        }
    )
    rotterdammer = records.profile(WHO, municipality_code="0599", region=None)
    found = run(rotterdammer, rollout=rollout)
    refused(found, DeadLetterReason.REGION_NOT_LIVE, "region")
    assert found is not None
    assert "2027-01-01" in found.message
    assert found.reveals is None  # read from the record
    assert run(rotterdammer, rollout=rollout, today=date(2027, 1, 1)) is None
    assert run(records.profile(WHO), rollout=rollout) is None  # Groot Amsterdam is live
    in_rijnmond = records.arrangement(WHO, region=Region.RIJNMOND)
    refused(
        run(in_rijnmond, subject=known(region=None), rollout=rollout),
        DeadLetterReason.REGION_NOT_LIVE,
    )
    # a referral: the person's region of residence, from the state (so it is withheld)
    found = run(records.referral(WHO), subject=known(region=Region.RIJNMOND), rollout=rollout)
    refused(found, DeadLetterReason.REGION_NOT_LIVE)
    assert found is not None
    assert found.reveals is not None
    assert run(records.referral(WHO), subject=known(), rollout=rollout) is None


# --- who may publish ------------------------------------------------------------------------------


def test_first_responsible_kinds() -> None:
    assert responsible_kinds(JobSeekerCategory.WW_ENTRANT) == {PartnerKind.UWV}
    assert responsible_kinds(JobSeekerCategory.YOUNG_PERSON) == {PartnerKind.GEMEENTE}
    assert responsible_kinds(JobSeekerCategory.THREATENED_EMPLOYEE) == {
        PartnerKind.SOCIAL_PARTNER,
        PartnerKind.UWV,
    }


def test_a_profile_comes_from_the_party_its_category_makes_responsible() -> None:
    gemeente_profile = records.profile(WHO, source_partner="gemeente-amsterdam")
    refused(
        run(gemeente_profile, publisher="gemeente-amsterdam"),
        DeadLetterReason.PUBLISHER_NOT_ALLOWED,
    )
    bijstand = records.profile(
        WHO,
        source_partner="gemeente-amsterdam",
        job_seeker_category=JobSeekerCategory.BIJSTAND_APPLICANT,
    )
    assert run(bijstand, publisher="gemeente-amsterdam") is None


def test_an_arrangement_needs_a_known_first_responsible_party() -> None:
    refused(run(records.arrangement(WHO)), DeadLetterReason.PUBLISHER_NOT_ALLOWED)
    assert run(records.arrangement(WHO), subject=known()) is None
    other = records.arrangement(
        WHO, source_partner="gemeente-amsterdam", composed_by=records.GEMEENTE
    )
    refused(
        run(other, publisher="gemeente-amsterdam", subject=known()),
        DeadLetterReason.PUBLISHER_NOT_ALLOWED,
    )
    mismatch = records.arrangement(WHO, composed_by=records.GEMEENTE)
    refused(run(mismatch, subject=known()), DeadLetterReason.PUBLISHER_NOT_ALLOWED, "composed_by")


def test_after_a_transfer_only_the_new_party_composes() -> None:
    moved = known(first_responsible=records.GEMEENTE, former_responsible={"uwv"})
    refused(run(records.arrangement(WHO), subject=moved), DeadLetterReason.PUBLISHER_NOT_ALLOWED)
    theirs = records.arrangement(
        WHO, source_partner="gemeente-amsterdam", composed_by=records.GEMEENTE
    )
    assert run(theirs, publisher="gemeente-amsterdam", subject=moved) is None


def test_intake_is_by_the_first_responsible_party_itself() -> None:
    wrong = records.intake(WHO, first_responsible=records.GEMEENTE)
    refused(run(wrong), DeadLetterReason.PUBLISHER_NOT_ALLOWED, "first_responsible")
    assert run(records.intake(WHO)) is None


def test_a_referral_comes_from_its_referring_party_to_a_known_one() -> None:
    assert run(records.referral(WHO)) is None
    stranger = PartyRef(partner_id=PartnerId("nobody"), kind=PartnerKind.GEMEENTE)
    refused(
        run(records.referral(WHO, to_party=stranger)),
        DeadLetterReason.PUBLISHER_NOT_ALLOWED,
        "to_party",
    )
    refused(
        run(records.referral(WHO, from_party=records.GEMEENTE)),
        DeadLetterReason.PUBLISHER_NOT_ALLOWED,
        "from_party",
    )


def test_transfer_rules() -> None:
    arrangement = records.arrangement(WHO)
    assert arrangement.arrangement_id is not None
    state = known(
        first_responsible=records.UWV, arrangements={arrangement.arrangement_id: arrangement}
    )
    assert run(records.transfer(WHO, arrangement.arrangement_id), subject=state) is None
    refused(
        run(records.transfer(WHO, "arr-unknown"), subject=state),
        DeadLetterReason.ARRANGEMENT_UNKNOWN,
        "arrangement_id",
    )
    sbb = PartyRef(partner_id=PartnerId("sbb"), kind=PartnerKind.SBB)
    refused(
        run(records.transfer(WHO, arrangement.arrangement_id, to_party=sbb), subject=state),
        DeadLetterReason.PUBLISHER_NOT_ALLOWED,
        "to_party",
    )
    not_theirs = known(first_responsible=records.GEMEENTE, arrangements=state.arrangements)
    refused(
        run(records.transfer(WHO, arrangement.arrangement_id), subject=not_theirs),
        DeadLetterReason.PUBLISHER_NOT_ALLOWED,
        "from_party",
    )


# --- the menu card --------------------------------------------------------------------------------


def test_additional_services_need_a_menu_card_instrument() -> None:
    record = records.arrangement(WHO, records.service(Instrument.JOB_COACH), records.service(None))
    refused(
        run(record, subject=known()),
        DeadLetterReason.INSTRUMENT_NOT_ON_MENU,
        "services.1.instrument",
    )


@pytest.mark.parametrize(
    "instrument",
    [
        Instrument.NO_RISK_POLICY,
        Instrument.WAGE_COST_SUBSIDY,
        Instrument.SOCIAL_WORK_COMPANY,
        Instrument.WAGE_DISPENSATION,
    ],
)
def test_banenafspraak_instruments_only_for_the_target_group(instrument: Instrument) -> None:
    record = records.arrangement(WHO, records.service(instrument))
    refused(run(record, subject=known()), DeadLetterReason.BANENAFSPRAAK_ONLY)
    refused(run(record, subject=known(banenafspraak=None)), DeadLetterReason.BANENAFSPRAAK_ONLY)
    target_group = known(
        banenafspraak=True, benefit_status=BenefitStatus.WAJONG, reduced_wage_value=True
    )
    assert run(record, subject=target_group) is None


@pytest.mark.parametrize(
    ("benefit", "reduced"),
    [(BenefitStatus.WW, True), (BenefitStatus.WAJONG, False), (BenefitStatus.WIA, True)],
)
def test_wage_dispensation_only_for_wajong_with_reduced_wage_value(
    benefit: BenefitStatus, reduced: bool
) -> None:
    record = records.arrangement(WHO, records.service(Instrument.WAGE_DISPENSATION))
    state = known(banenafspraak=True, benefit_status=benefit, reduced_wage_value=reduced)
    refused(run(record, subject=state), DeadLetterReason.WAGE_DISPENSATION_NOT_ALLOWED)


def test_tailored_budget_cap_over_all_arrangements() -> None:
    earlier = records.arrangement(WHO, records.service(Instrument.TAILORED_BUDGET, 70_000))
    assert earlier.arrangement_id is not None
    state = known(arrangements={earlier.arrangement_id: earlier})
    over = records.arrangement(WHO, records.service(Instrument.TAILORED_BUDGET, 30_001))
    refused(run(over, subject=state), DeadLetterReason.TAILORED_BUDGET_EXCEEDED, "services")
    exact = records.arrangement(WHO, records.service(Instrument.TAILORED_BUDGET, 30_000))
    assert run(exact, subject=state) is None
    # a new version of the same arrangement replaces its old budget
    revised = earlier.model_copy(
        update={"revision": 2, "services": [records.service(Instrument.TAILORED_BUDGET, 100_000)]}
    )
    assert run(revised, subject=state) is None
    # cancelled services do not count
    cancelled = records.service(Instrument.TAILORED_BUDGET, 90_000, status=ServiceStatus.CANCELLED)
    assert tailored_budget_cents(records.arrangement(WHO, cancelled)) == 0
    assert run(records.arrangement(WHO, cancelled), subject=state) is None


def test_regression_package_i_was_accepted_for_a_ww_entrant() -> None:
    """Issue 21: package I (the employer's social plan) is for employees threatened with
    unemployment; a WW entrant's arrangement with it was accepted."""
    social_plan = records.service(Instrument.SCHOOLING).model_copy(
        update={"package": ServicePackage.I}
    )
    arrangement = records.arrangement(WHO, social_plan)
    refused(
        run(arrangement, subject=known()),
        DeadLetterReason.PACKAGE_NOT_ALLOWED,
        "services.0.package",
    )
    threatened = known(
        job_seeker_category=JobSeekerCategory.THREATENED_EMPLOYEE, first_responsible=records.UWV
    )
    assert run(arrangement, subject=threatened) is None
    recovery = social_plan.model_copy(update={"package": ServicePackage.II})
    assert run(records.arrangement(WHO, recovery), subject=known()) is None
