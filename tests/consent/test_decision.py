"""The decision function: default deny, narrowing, special categories, time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from consent.decision import CompiledConsent, Decision, Reason, compile_consent, decide
from consent.model import ConsentStatus, LegalBasis, Recipient
from consent.policy import load_policy
from hub.ids import ConsentId, PartnerId
from schemas.regions import Region
from schemas.vocabulary import SPECIAL_CATEGORIES, DataCategory, PartnerKind, Purpose
from tests.consent.factories import record

POLICY = load_policy()
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
C = DataCategory


def ask(
    consents: list[CompiledConsent],
    categories: list[DataCategory],
    *,
    partner: str = "uwv",
    kind: PartnerKind | None = PartnerKind.UWV,
    region: Region | None = None,
    purpose: Purpose = Purpose.MATCHING_PLACEMENT,
    now: datetime = NOW,
) -> Decision:
    return decide(
        consents,
        partner=partner,
        partner_kind=kind,
        region=region,
        purpose=purpose,
        categories=categories,
        now=now,
        policy=POLICY,
    )


def consent(**overrides: object) -> CompiledConsent:
    return compile_consent(record(valid_from=NOW - timedelta(days=1), **overrides))  # type: ignore[arg-type]


def test_without_consent_everything_is_denied() -> None:
    decision = ask([], [C.CONTACT, C.META])
    assert not decision.allowed
    assert {o.reason for o in decision.outcomes} == {Reason.NO_ACTIVE_CONSENT}
    assert decision.consent_ids == ()


def test_a_consent_allows_what_it_names_and_the_implied_categories() -> None:
    given_ = consent()
    decision = ask([given_], [C.CONTACT, C.LABOUR_MARKET_PROFILE, C.PSEUDONYM, C.META])
    assert decision.allowed
    assert decision.consent_ids == (given_.id,)
    assert all(o.consent_ids == (given_.id,) for o in decision.outcomes)


def test_consent_narrows_the_matrix() -> None:
    decision = ask([consent()], [C.CONTACT, C.IDENTITY])
    assert not decision.allowed
    assert decision.allowed_categories() == {C.CONTACT}
    assert decision.outcomes[1].reason is Reason.NOT_CONSENTED


def test_consent_cannot_widen_the_matrix() -> None:
    # the consent names benefit status for every SBB partner, the matrix never allows it
    wide = consent(
        recipients=[{"partner_kind": "SBB"}],
        purposes=["MATCHING_PLACEMENT"],
        data_categories=["contact", "benefit_status"],
    )
    decision = ask([wide], [C.CONTACT, C.BENEFIT_STATUS], partner="sbb", kind=PartnerKind.SBB)
    assert decision.allowed_categories() == {C.CONTACT}
    assert decision.outcomes[1].reason is Reason.NOT_IN_POLICY


def test_special_category_needs_explicit_consent_naming_it() -> None:
    plain = consent()
    assert ask([plain], [C.HEALTH]).outcomes[0].reason is Reason.SPECIAL_NOT_EXPLICIT
    explicit = consent(data_categories=["contact", "health"], legal_basis="EXPLICIT_CONSENT")
    assert ask([explicit], [C.HEALTH]).allowed
    # defence in depth: a (malformed) consent naming health without the explicit basis
    sloppy = CompiledConsent(
        id=ConsentId("sloppy"),
        status=ConsentStatus.GIVEN,
        valid_from=NOW - timedelta(days=1),
        valid_until=None,
        recipients=(Recipient(partner_id=PartnerId("uwv")),),
        purposes=frozenset({Purpose.MATCHING_PLACEMENT}),
        categories=frozenset({C.HEALTH}),
        legal_basis=LegalBasis.CONSENT,
    )
    assert ask([sloppy], [C.HEALTH]).outcomes[0].reason is Reason.SPECIAL_NOT_EXPLICIT


def test_expiry_applies_at_the_instant() -> None:
    until = NOW + timedelta(hours=1)
    expiring = consent(valid_until=until)
    assert ask([expiring], [C.CONTACT], now=until - timedelta(microseconds=1)).allowed
    at_end = ask([expiring], [C.CONTACT], now=until)
    assert not at_end.allowed
    assert any("expired" in r for r in at_end.reasons)


def test_not_before_valid_from() -> None:
    future = compile_consent(record(valid_from=NOW + timedelta(days=1)))
    decision = ask([future], [C.CONTACT])
    assert not decision.allowed
    assert any("applies only from" in r for r in decision.reasons)


def test_withdrawn_consent_no_longer_applies() -> None:
    withdrawn = replace(
        consent(), status=ConsentStatus.WITHDRAWN, withdrawn_at=NOW - timedelta(minutes=1)
    )
    decision = ask([withdrawn], [C.CONTACT])
    assert not decision.allowed
    assert any("withdrawn" in r for r in decision.reasons)
    # before the withdrawal (an audit of the past) it applied
    assert ask([withdrawn], [C.CONTACT], now=NOW - timedelta(minutes=2)).allowed
    # from the change feed the instant may be unknown: then it never applies
    unknown = replace(withdrawn, withdrawn_at=None)
    assert not ask([unknown], [C.CONTACT], now=NOW - timedelta(days=1)).allowed


def test_a_recorded_expiry_is_still_a_matter_of_time() -> None:
    until = NOW + timedelta(hours=1)
    swept = replace(consent(valid_until=until), status=ConsentStatus.EXPIRED)
    assert ask([swept], [C.CONTACT]).allowed  # asked for a moment inside the period
    assert not ask([swept], [C.CONTACT], now=until).allowed


def test_recipients_by_kind_and_region() -> None:
    regional = consent(recipients=[{"partner_kind": "GEMEENTE", "region": "GROOT_AMSTERDAM"}])
    amsterdam = {"partner": "gemeente-amsterdam", "kind": PartnerKind.GEMEENTE}
    assert ask([regional], [C.CONTACT], **amsterdam, region=Region.GROOT_AMSTERDAM).allowed  # type: ignore[arg-type]
    assert not ask(
        [regional],
        [C.CONTACT],
        partner="gemeente-rotterdam",
        kind=PartnerKind.GEMEENTE,
        region=Region.RIJNMOND,
    ).allowed
    assert not ask([regional], [C.CONTACT]).allowed  # UWV is not a municipality


def test_other_purpose_other_partner_unknown_partner_nothing_asked() -> None:
    given_ = consent()
    assert not ask([given_], [C.CONTACT], purpose=Purpose.SCHOOLING).allowed
    assert not ask([given_], [C.CONTACT], partner="sbb", kind=PartnerKind.SBB).allowed
    unknown = ask([given_], [C.CONTACT], partner="nobody", kind=None)
    assert unknown.outcomes[0].reason is Reason.UNKNOWN_PARTNER
    assert not ask([given_], []).allowed


def test_several_consents_are_combined_per_category() -> None:
    one = consent(data_categories=["contact"])
    two = consent(data_categories=["labour_market_profile"])
    decision = ask([one, two], [C.CONTACT, C.LABOUR_MARKET_PROFILE, C.PSEUDONYM])
    assert decision.allowed
    assert decision.outcomes[0].consent_ids == (one.id,)
    assert decision.outcomes[1].consent_ids == (two.id,)
    assert set(decision.outcomes[2].consent_ids) == {one.id, two.id}


# --- properties -------------------------------------------------------------------------------

_partners = st.sampled_from(
    [
        ("uwv", PartnerKind.UWV, None),
        ("sbb", PartnerKind.SBB, None),
        ("sp-vakbonden", PartnerKind.SOCIAL_PARTNER, None),
        ("gemeente-amsterdam", PartnerKind.GEMEENTE, Region.GROOT_AMSTERDAM),
        ("gemeente-rotterdam", PartnerKind.GEMEENTE, Region.RIJNMOND),
        ("mbo-amsterdam", PartnerKind.EDUCATION, Region.GROOT_AMSTERDAM),
    ]
)
_recipient = st.one_of(
    st.builds(Recipient, partner_id=st.sampled_from([PartnerId("uwv"), PartnerId("sbb")])),
    st.builds(
        Recipient,
        partner_kind=st.sampled_from(list(PartnerKind)),
        region=st.none() | st.sampled_from([Region.GROOT_AMSTERDAM, Region.RIJNMOND]),
    ),
)
_offsets = st.integers(min_value=-3, max_value=3).map(lambda h: NOW + timedelta(hours=h))


@st.composite
def _consents(draw: st.DrawFn) -> CompiledConsent:
    start = draw(_offsets)
    end = draw(st.none() | _offsets.filter(lambda t: t > start))
    return CompiledConsent(
        id=ConsentId(f"c{draw(st.integers(0, 10_000))}"),
        status=draw(st.sampled_from(list(ConsentStatus))),
        valid_from=start,
        valid_until=end,
        withdrawn_at=draw(st.none() | _offsets),
        recipients=tuple(draw(st.lists(_recipient, min_size=1, max_size=3))),
        purposes=frozenset(draw(st.sets(st.sampled_from(list(Purpose)), min_size=1))),
        categories=frozenset(draw(st.sets(st.sampled_from(list(DataCategory)), min_size=1))),
        legal_basis=draw(st.sampled_from(list(LegalBasis))),
    )


@settings(max_examples=400, deadline=None)
@given(
    consents=st.lists(_consents(), max_size=5, unique_by=lambda c: c.id),
    who=_partners,
    purpose=st.sampled_from(list(Purpose)),
    categories=st.lists(st.sampled_from(list(DataCategory)), max_size=8),
)
def test_consent_never_widens_the_matrix_and_denies_by_default(
    consents: list[CompiledConsent],
    who: tuple[str, PartnerKind, Region | None],
    purpose: Purpose,
    categories: list[DataCategory],
) -> None:
    partner, kind, region = who
    decision = ask(consents, categories, partner=partner, kind=kind, region=region, purpose=purpose)
    allowed = decision.allowed_categories()
    # never beyond the matrix
    assert allowed <= POLICY.allowed(kind, purpose)
    by_id = {c.id: c for c in consents}
    for outcome in decision.outcomes:
        if not outcome.allowed:
            assert outcome.consent_ids == ()
            continue
        assert outcome.consent_ids
        for consent_id in outcome.consent_ids:
            used = by_id[consent_id]
            # only active consents for this purpose and recipient are used
            if used.status is ConsentStatus.WITHDRAWN:
                assert used.withdrawn_at is not None
                assert used.withdrawn_at > NOW
            assert used.valid_from <= NOW
            assert used.valid_until is None or used.valid_until > NOW
            assert purpose in used.purposes
            assert any(r.matches(partner, kind, region) for r in used.recipients)
            # a named category, or an implied one; special only named and explicit
            if outcome.category in SPECIAL_CATEGORIES:
                assert outcome.category in used.categories
                assert used.legal_basis is LegalBasis.EXPLICIT_CONSENT
            else:
                assert (
                    outcome.category in used.categories
                    or outcome.category in POLICY.implied_categories
                )
    assert decision.allowed == (bool(categories) and allowed == set(categories))
    if not consents:
        assert not allowed
