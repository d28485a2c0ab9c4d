"""Entitlement: through the consent service's decision function, default deny."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consent.decision import CompiledConsent
from consent.model import ConsentStatus, Recipient
from consent.policy import load_policy
from hub.ids import ConsentId
from hub.router.entitlement import (
    RECORD_PURPOSES,
    entitlement_for,
    entitlements,
    vacancy_recipients,
)
from schemas.models import ClientProfile, PersonalArrangement
from schemas.models.enums import LegalBasis
from schemas.regions import Region
from schemas.vocabulary import DataCategory, PartnerKind, Purpose
from topics.partners import load_partners

NOW = datetime(2026, 11, 1, tzinfo=UTC)
POLICY = load_policy()
PARTNERS = tuple(load_partners())
BY_ID = {p.id: p for p in PARTNERS}
CARRIED = frozenset(
    {
        DataCategory.META,
        DataCategory.PSEUDONYM,
        DataCategory.IDENTITY,
        DataCategory.LABOUR_MARKET_PROFILE,
        DataCategory.HEALTH,
        DataCategory.DEBTS,
    }
)


def consent(
    *recipients: Recipient,
    purposes: tuple[Purpose, ...] = (Purpose.ARRANGEMENT,),
    categories: tuple[DataCategory, ...] = (
        DataCategory.IDENTITY,
        DataCategory.LABOUR_MARKET_PROFILE,
    ),
    status: ConsentStatus = ConsentStatus.GIVEN,
    legal_basis: LegalBasis = LegalBasis.CONSENT,
    until: datetime | None = None,
) -> CompiledConsent:
    return CompiledConsent(
        id=ConsentId(f"c-{len(recipients)}-{status}"),
        status=status,
        valid_from=NOW - timedelta(days=1),
        valid_until=until,
        recipients=recipients,
        purposes=frozenset(purposes),
        categories=frozenset(categories),
        legal_basis=legal_basis,
    )


def test_every_person_record_type_has_purposes_and_never_monitoring() -> None:
    from topics.catalogue import PERSON_RECORDS  # noqa: PLC0415

    assert set(RECORD_PURPOSES) == set(PERSON_RECORDS)
    for purposes in RECORD_PURPOSES.values():
        assert purposes
        assert Purpose.MONITORING not in purposes


def test_consented_categories_only_and_health_needs_explicit_consent() -> None:
    given = consent(Recipient(partner_id="gemeente-amsterdam"))
    found = entitlement_for(
        BY_ID["gemeente-amsterdam"],
        RECORD_PURPOSES[ClientProfile.avro_name],
        CARRIED,
        [given],
        now=NOW,
        policy=POLICY,
    )
    assert found is not None
    assert found.purpose is Purpose.ARRANGEMENT
    assert found.allowed == {
        DataCategory.META,
        DataCategory.PSEUDONYM,
        DataCategory.IDENTITY,
        DataCategory.LABOUR_MARKET_PROFILE,
    }
    assert found.consent_ids == (given.id,)


def test_health_flows_only_on_explicit_consent_naming_it() -> None:
    explicit = consent(
        Recipient(partner_id="gemeente-amsterdam"),
        categories=(DataCategory.IDENTITY, DataCategory.HEALTH),
        legal_basis=LegalBasis.EXPLICIT_CONSENT,
    )
    found = entitlement_for(
        BY_ID["gemeente-amsterdam"],
        (Purpose.ARRANGEMENT,),
        CARRIED,
        [explicit],
        now=NOW,
        policy=POLICY,
    )
    assert found is not None
    assert DataCategory.HEALTH in found.allowed


def test_no_consent_no_delivery() -> None:
    others = consent(Recipient(partner_id="gemeente-amsterdam"))
    assert (
        entitlements(
            ClientProfile.avro_name, CARRIED, [], PARTNERS, publisher="uwv", now=NOW, policy=POLICY
        )
        == []
    )
    found = entitlements(
        ClientProfile.avro_name,
        CARRIED,
        [others],
        PARTNERS,
        publisher="uwv",
        now=NOW,
        policy=POLICY,
    )
    assert [e.recipient.id for e in found] == ["gemeente-amsterdam"]


def test_withdrawn_expired_and_future_consents_do_not_apply() -> None:
    who = Recipient(partner_id="gemeente-amsterdam")
    for dead in (
        consent(who, status=ConsentStatus.WITHDRAWN),
        consent(who, status=ConsentStatus.EXPIRED),
        consent(who, until=NOW - timedelta(seconds=1)),
    ):
        assert (
            entitlement_for(
                BY_ID["gemeente-amsterdam"],
                (Purpose.ARRANGEMENT,),
                CARRIED,
                [dead],
                now=NOW,
                policy=POLICY,
            )
            is None
        )


def test_the_policy_matrix_caps_what_consent_can_give() -> None:
    # SBB may never get identity for ARRANGEMENT; with only that consented, nothing flows.
    sbb = consent(Recipient(partner_id="sbb"), categories=(DataCategory.IDENTITY,))
    assert (
        entitlement_for(
            BY_ID["sbb"], (Purpose.ARRANGEMENT,), CARRIED, [sbb], now=NOW, policy=POLICY
        )
        is None
    )


def test_the_purpose_that_lets_most_through_is_chosen() -> None:
    both = consent(
        Recipient(partner_kind=PartnerKind.GEMEENTE, region=Region.GROOT_AMSTERDAM),
        purposes=(Purpose.WARM_HANDOVER, Purpose.MATCHING_PLACEMENT),
        categories=(DataCategory.IDENTITY, DataCategory.LABOUR_MARKET_PROFILE, DataCategory.DEBTS),
    )
    found = entitlement_for(
        BY_ID["gemeente-amsterdam"],
        RECORD_PURPOSES[ClientProfile.avro_name],
        CARRIED,
        [both],
        now=NOW,
        policy=POLICY,
    )
    assert found is not None
    # WARM_HANDOVER: identity + debts; MATCHING_PLACEMENT: identity + labour market. A tie:
    # the first purpose of the record type's list wins.
    assert found.purpose is Purpose.MATCHING_PLACEMENT
    assert (
        entitlement_for(
            BY_ID["gemeente-rotterdam"],
            RECORD_PURPOSES[ClientProfile.avro_name],
            CARRIED,
            [both],
            now=NOW,
            policy=POLICY,
        )
        is None
    )  # another region


def test_publisher_and_former_responsible_are_excluded() -> None:
    every = consent(
        Recipient(partner_id="uwv"),
        Recipient(partner_id="gemeente-amsterdam"),
        categories=(DataCategory.ARRANGEMENT,),
    )
    arrangement = frozenset({DataCategory.META, DataCategory.PSEUDONYM, DataCategory.ARRANGEMENT})
    found = entitlements(
        PersonalArrangement.avro_name,
        arrangement,
        [every],
        PARTNERS,
        publisher="gemeente-amsterdam",
        excluded=frozenset({"uwv"}),
        now=NOW,
        policy=POLICY,
    )
    assert found == []


def test_vacancies_go_to_their_region_and_national_partners() -> None:
    got = {p.id for p in vacancy_recipients(Region.RIJNMOND, PARTNERS, publisher="uwv")}
    assert got == {"sbb", "sp-werkgevers", "sp-vakbonden", "gemeente-rotterdam"}
