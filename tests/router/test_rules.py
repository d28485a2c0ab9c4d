"""Every validation rule over the real broker: one bad record among good ones goes to the
dead letters with its reason code (and a rejection notice to its publisher), the good
ones around it are delivered."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from connectors.demo.people import Faker
from connectors.gemeente import import_gemeente
from connectors.gemeente.mapping import COLUMNS
from connectors.uwv import import_uwv
from hub.config import HubSettings
from hub.ids import PartnerId
from hub.router.validation import partition_of
from hub.sdk import PartnerClient
from schemas.menu_card import Instrument
from schemas.models import (
    CanonicalRecord,
    ClientProfile,
    DeadLetter,
    PartyRef,
    PersonalArrangement,
    RejectionNotice,
    StaffSurplus,
)
from schemas.models.enums import DeadLetterReason, ServicePackage
from schemas.regions import Region
from schemas.vocabulary import BenefitStatus, DataCategory, JobSeekerCategory, PartnerKind, Purpose
from tests.helpers.connectors import read_records
from tests.plugins.hub import make_hub
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, delivered_ids

pytestmark = pytest.mark.integration

ALL_BUT_HEALTH = (
    DataCategory.IDENTITY,
    DataCategory.CONTACT,
    DataCategory.RESIDENCE,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.BENEFIT_STATUS,
    DataCategory.INTAKE,
    DataCategory.ARRANGEMENT,
    DataCategory.OUTCOME,
)
GEMEENTE = "gemeente-amsterdam"


MIDDELBURG = "0687"  # in Zeeland
ZEELAND_LATER = {
    "phases": [
        {"phase": 1, "live_from": "2020-11-01", "regions": "others"},
        {"phase": 2, "live_from": "2999-01-01", "regions": ["ZEELAND"]},
    ]
}


@pytest.fixture(scope="module")
def shared(
    hub_settings: HubSettings,
    registry_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Hub]:
    """One hub and one worker for the module (each test uses its own subjects); Zeeland's
    roll-out phase has not started."""
    home = Path(tmp_path_factory.mktemp("rules"))
    rollout = home / "rollout.json"
    rollout.write_text(json.dumps(ZEELAND_LATER), encoding="utf-8")
    made = make_hub(hub_settings.model_copy(update={"rollout_file": rollout}), registry_url, home)
    try:
        made.worker().wait_ready(60)
        yield made
    finally:
        made.close()


def consented(hub: Hub, **profile_changes: object) -> str:
    """A subject with a consent for the gemeente and an accepted profile (published)."""
    who = records.subject()
    hub.grant(
        who,
        to=[GEMEENTE],
        purposes=[Purpose.ARRANGEMENT, Purpose.WARM_HANDOVER, Purpose.MATCHING_PLACEMENT],
        categories=ALL_BUT_HEALTH,
    )
    hub.publish(records.profile(who, **profile_changes))
    return who


def check(
    hub: Hub,
    good_before: list[CanonicalRecord],
    bad: CanonicalRecord,
    good_after: list[CanonicalRecord],
    reason: DeadLetterReason,
    *,
    field: str | None = None,
    publish_bad: Callable[[], None] | None = None,
    publisher: str | None = None,
    told: DeadLetterReason | None = None,
) -> DeadLetter:
    """``told``: the reason of the publisher's notice when not ``reason`` (REASON_WITHHELD:
    the rule read what no consent entitles the publisher to know)."""
    for record in good_before:
        hub.publish(record)
    (publish_bad or (lambda: hub.publish(bad)))()
    for record in good_after:
        hub.publish(record)
    dead = hub.wait_dead_letter(str(getattr(bad, "event_id", "")))
    letter = dead.record
    assert isinstance(letter, DeadLetter)
    assert letter.reason is reason, letter.message
    if field is not None:
        assert letter.field == field
    assert letter.message
    assert letter.original_value is not None
    good = [str(getattr(r, "event_id", "")) for r in (*good_before, *good_after)]
    inbox = hub.wait_for(
        lambda: hub.inbox(GEMEENTE),
        lambda rs: set(good) <= set(delivered_ids(rs)),
        what="the good records",
    )
    assert str(getattr(bad, "event_id", "")) not in delivered_ids(inbox)
    publisher = publisher or str(getattr(bad, "source_partner", "uwv"))
    notices = [
        r.record
        for r in hub.inbox(publisher)
        if isinstance(r.record, RejectionNotice)
        and r.record.rejected_event_id == getattr(bad, "event_id", None)
    ]
    assert len(notices) == 1
    assert notices[0].reason is (told or reason)
    assert notices[0].source_offset == letter.source_offset
    return letter


def test_schema_invalid_missing_required_field(shared: Hub) -> None:
    who = consented(shared)
    bad = records.profile(who, family_name=None)
    check(
        shared,
        [records.referral(who)],
        bad,
        [records.referral(who)],
        DeadLetterReason.SCHEMA_INVALID,
        field="family_name",
    )


def test_withheld_categories_are_for_the_hub_to_fill_in(shared: Hub) -> None:
    who = consented(shared)
    bad = records.referral(who, withheld_categories=[DataCategory.HEALTH])
    check(
        shared,
        [records.referral(who)],
        bad,
        [],
        DeadLetterReason.SCHEMA_INVALID,
        field="withheld_categories",
    )


def test_undecodable_frame_is_a_decode_error(shared: Hub) -> None:
    who = consented(shared)
    bad = records.referral(who)
    letter = check(
        shared,
        [records.referral(who)],
        bad,
        [records.referral(who)],
        DeadLetterReason.DECODE_ERROR,
        publish_bad=lambda: shared.publish(bad, value=b"\x00\x00\x00\x7f\xffgarbage"),
    )
    # kept as it arrived (issue 16): on the outbox, encrypted to the hub with security on
    outbox = shared.read(shared.catalogue.outbox("uwv").name, decode=False)
    (arrived,) = [r for r in outbox if r.headers.get("ce_id") == bad.event_id.encode()]
    assert letter.original_value == arrived.raw
    assert arrived.value == b"\x00\x00\x00\x7f\xffgarbage"


def test_bsn_must_pass_the_eleven_test(shared: Hub) -> None:
    who = consented(shared)
    check(
        shared,
        [records.referral(who)],
        records.profile(who, bsn="123456789"),
        [records.profile(who)],
        DeadLetterReason.BSN_INVALID,
        field="bsn",
    )


def test_municipality_must_be_known(shared: Hub) -> None:
    who = consented(shared)
    letter = check(
        shared,
        [records.referral(who)],
        records.profile(who, municipality_code="0017"),  # Haren, merged into Groningen
        [records.profile(who)],
        DeadLetterReason.MUNICIPALITY_UNKNOWN,
        field="municipality_code",
    )
    assert "historic code of a municipality that merged into another" in letter.message


def test_region_is_derived_from_the_municipality(shared: Hub) -> None:
    who = consented(shared)
    derived = records.profile(who, region=None)
    check(
        shared,
        [derived],
        records.profile(who, region=Region.ZEELAND),
        [records.profile(who)],
        DeadLetterReason.REGION_MISMATCH,
        field="region",
    )
    (got,) = [r.record for r in shared.inbox(GEMEENTE) if r.record.event_id == derived.event_id]  # type: ignore[union-attr]
    assert got.region is Region.GROOT_AMSTERDAM  # type: ignore[union-attr]


def test_a_regional_party_acts_for_residents_of_its_region_only(shared: Hub) -> None:
    who = consented(shared)  # lives in Amsterdam
    elsewhere = records.profile(
        who,
        source_partner="gemeente-rotterdam",
        job_seeker_category=JobSeekerCategory.BIJSTAND_APPLICANT,
    )
    check(
        shared,
        [records.referral(who)],
        elsewhere,
        [records.profile(who)],
        DeadLetterReason.OUTSIDE_REGION,
        field="region",
        publisher="gemeente-rotterdam",
    )


def test_a_region_s_records_wait_for_its_roll_out_phase(shared: Hub) -> None:
    who = consented(shared)
    in_middelburg = records.profile(who, municipality_code=MIDDELBURG, region=None)
    letter = check(
        shared,
        [records.referral(who)],
        in_middelburg,
        [records.profile(who)],
        DeadLetterReason.REGION_NOT_LIVE,
        field="region",
    )
    assert "2999-01-01" in letter.message


def test_a_young_person_is_under_27(shared: Hub) -> None:
    who = consented(shared)
    aged_62 = records.profile(  # the example's cook, born 1964, filed as a young person
        who, source_partner="gemeente-amsterdam", job_seeker_category=JobSeekerCategory.YOUNG_PERSON
    )
    check(
        shared,
        [records.referral(who)],
        aged_62,
        [records.profile(who)],
        DeadLetterReason.CATEGORY_CONTRADICTED,
        field="job_seeker_category",
    )


def test_only_the_first_responsible_party_composes_the_arrangement(shared: Hub) -> None:
    who = consented(shared)  # a WW entrant: UWV is first responsible
    wrong = records.arrangement(
        who, source_partner="gemeente-amsterdam", composed_by=records.GEMEENTE
    )
    check(
        shared,
        [records.arrangement(who)],
        wrong,
        [records.referral(who)],
        DeadLetterReason.PUBLISHER_NOT_ALLOWED,
    )


def test_source_partner_must_own_the_outbox(shared: Hub) -> None:
    who = consented(shared)
    bad = records.referral(who, source_partner="uwv")
    check(
        shared,
        [],
        bad,
        [records.referral(who)],
        DeadLetterReason.PUBLISHER_NOT_ALLOWED,
        field="source_partner",
        publish_bad=lambda: shared.publish(bad, partner="sbb"),
        publisher="sbb",
    )


def test_key_must_be_the_client_pseudonym(shared: Hub) -> None:
    who = consented(shared)
    bad = records.referral(who)
    check(
        shared,
        [records.referral(who)],
        bad,
        [records.referral(who)],
        DeadLetterReason.KEY_MISMATCH,
        publish_bad=lambda: shared.publish(
            bad,
            key=b"someone-else",
            partition=partition_of(who.encode(), shared.settings.topic_partitions),
        ),
    )


def test_a_record_on_another_partition_than_its_key_is_routed_on_its_keys(shared: Hub) -> None:
    """Not refused (PARTITION_MISMATCH, before decision 0015): moved to the partition its
    key hashes to and routed there, with the subject's consents."""
    who = consented(shared)
    moved = records.referral(who)
    right = partition_of(who.encode(), shared.settings.topic_partitions)
    wrong = (right + 1) % shared.settings.topic_partitions
    shared.publish(moved, partition=wrong)
    inbox = shared.wait_for(
        lambda: shared.inbox(GEMEENTE),
        lambda rs: moved.event_id in delivered_ids(rs),
        what="the referral published to another partition",
    )
    (got,) = [r for r in inbox if getattr(r.record, "event_id", None) == moved.event_id]
    assert got.partition == right


def test_additional_services_are_instruments_of_the_menu_card(shared: Hub) -> None:
    who = consented(shared)
    check(
        shared,
        [records.arrangement(who, records.service(Instrument.JOB_COACH))],
        records.arrangement(who, records.service(None)),
        [records.referral(who)],
        DeadLetterReason.INSTRUMENT_NOT_ON_MENU,
        field="services.0.instrument",
    )


def test_banenafspraak_instruments_only_for_the_target_group(shared: Hub) -> None:
    who = consented(shared, banenafspraak=False)
    check(
        shared,
        [records.arrangement(who, records.service(Instrument.SCHOOLING))],
        records.arrangement(who, records.service(Instrument.NO_RISK_POLICY)),
        [records.referral(who)],
        DeadLetterReason.BANENAFSPRAAK_ONLY,
        field="services.0.instrument",
        told=DeadLetterReason.REASON_WITHHELD,  # no consent names uwv
    )


def test_package_i_only_for_employees_threatened_with_unemployment(shared: Hub) -> None:
    who = consented(shared)  # a WW entrant
    social_plan = records.service(Instrument.SCHOOLING).model_copy(
        update={"package": ServicePackage.I}
    )
    check(
        shared,
        [records.arrangement(who, records.service(Instrument.SCHOOLING))],
        records.arrangement(who, social_plan),
        [records.referral(who)],
        DeadLetterReason.PACKAGE_NOT_ALLOWED,
        field="services.0.package",
        told=DeadLetterReason.REASON_WITHHELD,  # no consent names uwv
    )


def test_wage_dispensation_only_for_wajong_with_reduced_wage_value(shared: Hub) -> None:
    who = consented(shared, banenafspraak=True, benefit_status=BenefitStatus.WW)
    check(
        shared,
        [records.arrangement(who, records.service(Instrument.NO_RISK_POLICY))],
        records.arrangement(who, records.service(Instrument.WAGE_DISPENSATION)),
        [records.referral(who)],
        DeadLetterReason.WAGE_DISPENSATION_NOT_ALLOWED,
        field="services.0.instrument",
        told=DeadLetterReason.REASON_WITHHELD,  # no consent names uwv
    )
    allowed = records.profile(
        who, banenafspraak=True, benefit_status=BenefitStatus.WAJONG, reduced_wage_value=True
    )
    ok = records.arrangement(who, records.service(Instrument.WAGE_DISPENSATION))
    shared.publish(allowed)
    shared.publish(ok)
    shared.wait_for(
        lambda: shared.inbox(GEMEENTE),
        lambda rs: ok.event_id in delivered_ids(rs),
        what="wage dispensation for Wajong with reduced wage value",
    )


# --- what the connectors carry reaches the rules ---------------------------------------------


def _grant(hub: Hub, who: str, to: str = GEMEENTE) -> None:
    hub.grant(
        who,
        to=[to],
        purposes=[Purpose.ARRANGEMENT, Purpose.WARM_HANDOVER],
        categories=ALL_BUT_HEALTH,
    )


def _uwv_line(bsn: str, name: str, *, reduced_wage_value: bool) -> str:
    return json.dumps(
        {
            "bsn": bsn,
            "voornamen": name,
            "achternaam": "Jansen",
            "geboortedatum": "2001-05-17",
            "gemeentecode": "0363",
            "ww_ingangsdatum": "2026-09-01",
            "opleidingsniveau": "mbo 1",
            "uitkering": "Wajong-2015",
            "verminderde_loonwaarde": reduced_wage_value,
            "arbeidsbeperking": True,
            "banenafspraak": True,
            "arrangement": {
                "id": f"arr-uwv-{bsn}",
                "startdatum": "2026-09-15",
                "diensten": [
                    {
                        "id": "s1",
                        "instrument": "loondispensatie",
                        "omschrijving": "Loondispensatie bij plaatsing",
                        "aanbieder": "uwv",
                    }
                ],
            },
        }
    )


def test_regression_no_connector_carried_wajong_with_reduced_wage_value(
    shared: Hub, tmp_path: Path
) -> None:
    """The UWV connector wrote benefit WW for everyone, so wage dispensation for a
    Wajonger was refused. Now ``uitkering`` and ``verminderde_loonwaarde`` reach the
    router: with a reduced wage value the arrangement is delivered, without it refused."""
    fake = Faker(random.Random("routed-uwv"))
    allowed_bsn, refused_bsn = fake.bsn(), fake.bsn()
    path = tmp_path / "uwv.jsonl"
    path.write_text(
        _uwv_line(allowed_bsn, "Anouk", reduced_wage_value=True)
        + "\n"
        + _uwv_line(refused_bsn, "Bram", reduced_wage_value=False)
        + "\n",
        encoding="utf-8",
    )
    with PartnerClient(shared.settings, "uwv") as client:
        allowed, refused = client.pseudonym(allowed_bsn), client.pseudonym(refused_bsn)
        _grant(shared, allowed)
        _grant(shared, refused)
        report = import_uwv(client, path, progress=False)
    assert (report.rows, report.published, report.rejected_rows) == (2, 4, 0)

    outbox = [
        r
        for _, r, _ in read_records(
            shared.settings,
            shared.catalogue.outbox("uwv").name,
            keys={allowed.encode(), refused.encode()},  # not the garbage of the decode test
        )
    ]
    profiles = {r.client_pseudonym: r for r in outbox if isinstance(r, ClientProfile)}
    assert profiles[allowed].benefit_status is BenefitStatus.WAJONG
    assert profiles[allowed].reduced_wage_value is True
    assert profiles[allowed].banenafspraak is True
    assert profiles[refused].reduced_wage_value is False
    arrangements = {r.client_pseudonym: r for r in outbox if isinstance(r, PersonalArrangement)}

    letter = shared.wait_dead_letter(str(arrangements[refused].event_id)).record
    assert isinstance(letter, DeadLetter)
    assert letter.reason is DeadLetterReason.WAGE_DISPENSATION_NOT_ALLOWED, letter.message
    assert letter.field == "services.0.instrument"
    ok = str(arrangements[allowed].event_id)
    inbox = shared.wait_for(
        lambda: shared.inbox(GEMEENTE),
        lambda rs: ok in delivered_ids(rs),
        what="wage dispensation for a Wajonger with reduced wage value",
    )
    assert str(arrangements[refused].event_id) not in delivered_ids(inbox)


def test_gemeente_csv_carries_wajong_and_reduced_wage_value_to_the_router(
    shared: Hub, tmp_path: Path
) -> None:
    fake = Faker(random.Random("routed-gemeente"))
    bsn = fake.bsn()
    row = dict.fromkeys(COLUMNS, "") | {
        "BSN": bsn,
        "Voornamen": "Chantal",
        "Achternaam": "de Vries",
        "Geboortedatum": "12-03-2004",
        "Gemeentecode": "0363",
        "Doelgroep": "jongere",
        "Uitkering": "wajong",
        "Aanmelddatum": "02-11-2026",
        "Opleidingsniveau": "entree",
        "Banenafspraak": "ja",
        "Verminderde loonwaarde": "ja",
    }
    path = tmp_path / "gemeente.csv"
    path.write_text(";".join(row) + "\n" + ";".join(row.values()) + "\n", encoding="utf-8")
    with PartnerClient(shared.settings, GEMEENTE) as client:
        who = client.pseudonym(bsn)
        _grant(shared, who, to="uwv")
        report = import_gemeente(client, path, progress=False)
    assert (report.published, report.rejected_rows) == (1, 0)
    (profile,) = [
        r
        for _, r, _ in read_records(shared.settings, shared.catalogue.outbox(GEMEENTE).name)
        if isinstance(r, ClientProfile) and r.client_pseudonym == who
    ]
    assert profile.benefit_status is BenefitStatus.WAJONG
    assert profile.reduced_wage_value is True

    party = PartyRef(partner_id=PartnerId(GEMEENTE), kind=PartnerKind.GEMEENTE)
    dispensation = records.arrangement(
        who,
        records.service(Instrument.WAGE_DISPENSATION, provider=GEMEENTE),
        source_partner=PartnerId(GEMEENTE),
        composed_by=party,
        region=Region.GROOT_AMSTERDAM,
    )
    shared.publish(dispensation)
    shared.wait_for(
        lambda: shared.inbox("uwv"),
        lambda rs: str(dispensation.event_id) in delivered_ids(rs),
        what="wage dispensation composed by the gemeente",
    )


def test_tailored_budget_is_capped_per_person_over_all_arrangements(shared: Hub) -> None:
    who = consented(shared)
    first = records.arrangement(who, records.service(Instrument.TAILORED_BUDGET, 60_000))
    revised = first.model_copy(
        update={
            "event_id": records.arrangement(who).event_id,
            "revision": 2,
            "services": [records.service(Instrument.TAILORED_BUDGET, 70_000)],
        }
    )
    over = records.arrangement(who, records.service(Instrument.TAILORED_BUDGET, 40_000))
    letter = check(
        shared,
        [first, revised],  # a new revision replaces the old one: 700, not 1300
        over,  # 700 + 400 > 1000
        [records.arrangement(who, records.service(Instrument.TAILORED_BUDGET, 30_000))],
        DeadLetterReason.TAILORED_BUDGET_EXCEEDED,
        told=DeadLetterReason.REASON_WITHHELD,  # no consent names uwv
    )
    assert "1100.00 EUR" in letter.message


def test_a_transfer_names_an_accepted_arrangement(shared: Hub) -> None:
    who = consented(shared)
    known = records.arrangement(who)
    check(
        shared,
        [known],
        records.transfer(who, "arr-never-published"),
        [records.referral(who)],
        DeadLetterReason.ARRANGEMENT_UNKNOWN,
        field="arrangement_id",
        told=DeadLetterReason.REASON_WITHHELD,  # no consent names uwv
    )


def test_regression_a_rejection_notice_told_an_unconsented_partner_who_is_first_responsible(
    shared: Hub,
) -> None:
    """gemeente-utrecht, named by no consent, sent an arrangement about UWV's client and
    was told the first-responsible party; now a worker tells it nothing of the person,
    and the dead letter keeps the reason."""
    who = consented(shared)
    stranger = records.subject()
    utrecht = PartyRef(partner_id=PartnerId("gemeente-utrecht"), kind=PartnerKind.GEMEENTE)

    def probe(subject: str) -> CanonicalRecord:
        return records.arrangement(
            subject,
            source_partner="gemeente-utrecht",
            composed_by=utrecht,
            region=Region.MIDDEN_UTRECHT,  # its own region: a regional party acts there only
        )

    about_client = probe(who)
    letter = check(
        shared,
        [records.arrangement(who)],
        about_client,
        [records.referral(who)],
        DeadLetterReason.PUBLISHER_NOT_ALLOWED,
        publisher="gemeente-utrecht",
        told=DeadLetterReason.REASON_WITHHELD,
    )
    assert "(uwv)" in letter.message
    about_stranger = probe(stranger)
    shared.publish(about_stranger)
    inbox = shared.wait_for(
        lambda: shared.inbox("gemeente-utrecht"),
        lambda rs: any(
            getattr(r.record, "rejected_event_id", None) == about_stranger.event_id for r in rs
        ),
        what="the notice about the stranger",
    )
    notices = {
        r.record.rejected_event_id: r.record for r in inbox if isinstance(r.record, RejectionNotice)
    }
    client, unknown = notices[about_client.event_id], notices[about_stranger.event_id]
    assert (client.reason, client.message, client.field) == (
        unknown.reason,
        unknown.message,
        unknown.field,
    )
    assert "uwv" not in client.message


# --- brokering: staff surplus (business data) and availability ---


def test_a_staff_surplus_reaches_its_region_and_a_bad_one_is_dead_lettered(
    shared: Hub,
) -> None:
    social = {"source_partner": "sp-werkgevers"}
    good = [records.surplus(**social), records.surplus(**social)]
    bad = records.surplus(**social, expected_from=date(2021, 6, 1), expected_until=date(2021, 5, 1))
    check(
        shared,
        good[:1],
        bad,
        good[1:],
        DeadLetterReason.SCHEMA_INVALID,
        field="expected_until",
    )
    # business data: unchanged to the region's partners and the national ones, not to
    # another region's, not back to the publisher
    wanted = {g.event_id for g in good}
    for partner in ("mbo-amsterdam", "uwv", "sp-vakbonden"):
        inbox = shared.wait_for(
            lambda p=partner: shared.inbox(p),  # type: ignore[misc]
            lambda rs: wanted <= set(delivered_ids(rs)),
            what=f"the surpluses at {partner}",
        )
        got = [r.record for r in inbox if isinstance(r.record, StaffSurplus)]
        assert {g.event_id for g in got} >= wanted
        assert all(g.region is Region.GROOT_AMSTERDAM for g in got)
    for partner in ("gemeente-rotterdam", "sp-werkgevers"):
        assert not wanted & set(delivered_ids(shared.inbox(partner)))


def test_only_a_social_partner_or_uwv_announces_a_surplus(shared: Hub) -> None:
    check(
        shared,
        [records.surplus(source_partner="sp-vakbonden")],
        records.surplus(source_partner="sbb"),
        [records.surplus(source_partner="uwv")],
        DeadLetterReason.PUBLISHER_NOT_ALLOWED,
        field="source_partner",
    )


def test_only_the_first_responsible_party_marks_a_person_available(shared: Hub) -> None:
    who = consented(shared)  # a WW entrant: UWV is first responsible
    check(
        shared,
        [records.availability(who)],
        records.availability(who, source_partner="gemeente-amsterdam"),
        [records.availability(who, available=False)],
        DeadLetterReason.PUBLISHER_NOT_ALLOWED,
        field="source_partner",
    )
    # delivered under MATCHING_PLACEMENT, which the consent names for the gemeente
    inbox = shared.inbox(GEMEENTE)
    assert any(getattr(r.record, "client_pseudonym", None) == who for r in inbox)
