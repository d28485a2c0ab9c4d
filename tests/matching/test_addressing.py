"""Who receives a proposal and what of it: the first-responsible party under the matching
consent, the vacancy holder only under a consent naming it, each projected. No broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consent.decision import CompiledConsent
from consent.model import ConsentStatus, Recipient
from consent.policy import load_policy
from hub.ids import ConsentId, PartnerId
from hub.matching.addressing import WITHHELD, addressees
from hub.matching.model import Criterion, MatchKind, Proposal
from hub.matching.scoring import score
from schemas.models.enums import LegalBasis
from schemas.vocabulary import DataCategory, Purpose
from tests.matching.test_matching import person, warehouse
from topics.partners import load_partners

NOW = datetime(2026, 11, 1, tzinfo=UTC)
PARTNERS = {p.id: p for p in load_partners()}
EVERYTHING = (DataCategory.LABOUR_MARKET_PROFILE, DataCategory.RESIDENCE, DataCategory.EDUCATION)


def _consent(to: str, *categories: DataCategory) -> CompiledConsent:
    return CompiledConsent(
        id=ConsentId(f"c-{to}"),
        status=ConsentStatus.GIVEN,
        valid_from=NOW - timedelta(days=1),
        valid_until=None,
        recipients=(Recipient(partner_id=PartnerId(to)),),
        purposes=frozenset({Purpose.MATCHING_PLACEMENT}),
        categories=frozenset(categories),
        legal_basis=LegalBasis.CONSENT,
    )


def _trainable() -> Proposal:
    from hub.matching.vocabulary import load_vocabulary as vocab  # noqa: PLC0415

    found = score(person(competences=vocab().competence_ids(["Orderpicken"])), warehouse(), vocab())
    assert found is not None
    assert found.kind is MatchKind.TRAINABLE
    return found


def test_the_holder_gets_nothing_without_a_consent_naming_it() -> None:
    proposal = _trainable()
    (only,) = addressees(
        proposal,
        vacancy_holder="sp-werkgevers",
        consents=[_consent("uwv", *EVERYTHING)],
        partners=PARTNERS,
        now=NOW,
        policy=load_policy(),
    )
    assert only.recipient.id == "uwv"
    assert only.proposal == proposal  # everything allowed: nothing withheld
    assert only.consent_ids == (ConsentId("c-uwv"),)


def test_the_holder_gets_only_the_consented_criteria() -> None:
    proposal = _trainable()
    first, holder = addressees(
        proposal,
        vacancy_holder="sp-werkgevers",
        consents=[
            _consent("uwv", *EVERYTHING),
            _consent("sp-werkgevers", DataCategory.LABOUR_MARKET_PROFILE),
        ],
        partners=PARTNERS,
        now=NOW,
        policy=load_policy(),
    )
    assert (first.recipient.id, holder.recipient.id) == ("uwv", "sp-werkgevers")
    assert holder.withheld == {DataCategory.EDUCATION, DataCategory.RESIDENCE}
    shown = {c.criterion: c for c in holder.proposal.criteria}
    for hidden in (Criterion.EDUCATION, Criterion.LANGUAGE, Criterion.REGION):
        assert (shown[hidden].score, shown[hidden].explanation) == (0.0, WITHHELD)
    assert shown[Criterion.COMPETENCES] == next(
        c for c in proposal.criteria if c.criterion is Criterion.COMPETENCES
    )
    assert holder.proposal.instruments == proposal.instruments


def test_no_consent_no_recipient() -> None:
    assert (
        addressees(
            _trainable(),
            vacancy_holder="sbb",
            consents=[],
            partners=PARTNERS,
            now=NOW,
            policy=load_policy(),
        )
        == []
    )
