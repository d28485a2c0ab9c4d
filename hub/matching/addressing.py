"""Who receives a proposal, and what of it: consent first.

A proposal goes to the person's first-responsible party under the consent the gate
already asked (MATCHING_PLACEMENT), and to the vacancy holder (the partner that
published the vacancy) only when a consent names that partner for that purpose. Each
recipient gets the proposal projected to the categories its consent allows, as the
router projects a record: a criterion whose data category is not allowed keeps neither
its score nor its explanation (:data:`CRITERION_CATEGORIES`), and the instruments of a
trainable proposal travel only with the labour-market profile. Plain Python; the stream
process writes and audits what this decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from consent.decision import CompiledConsent
from consent.policy import PolicyMatrix
from hub.ids import ConsentId
from hub.matching.gate import MATCHING_INPUTS
from hub.matching.model import Criterion, CriterionScore, Proposal
from hub.router.entitlement import entitlement_for
from schemas.vocabulary import DataCategory, Purpose
from topics.partners import Partner

__all__ = ["CRITERION_CATEGORIES", "WITHHELD", "Addressed", "addressees", "project"]

CRITERION_CATEGORIES: dict[Criterion, DataCategory] = {
    Criterion.COMPETENCES: DataCategory.LABOUR_MARKET_PROFILE,
    Criterion.OCCUPATION: DataCategory.LABOUR_MARKET_PROFILE,
    Criterion.SECTOR: DataCategory.LABOUR_MARKET_PROFILE,
    Criterion.HOURS: DataCategory.LABOUR_MARKET_PROFILE,
    Criterion.EDUCATION: DataCategory.EDUCATION,
    Criterion.LANGUAGE: DataCategory.EDUCATION,
    Criterion.REGION: DataCategory.RESIDENCE,
}
"""The data category each criterion's score and explanation reveal."""
WITHHELD = "achtergehouden: geen toestemming voor deze ontvanger"


@dataclass(frozen=True, slots=True)
class Addressed:
    """One recipient of a proposal, what it may see, and on which consents."""

    recipient: Partner
    allowed: frozenset[DataCategory]
    consent_ids: tuple[ConsentId, ...]
    policy_version: str
    proposal: Proposal

    @property
    def withheld(self) -> frozenset[DataCategory]:
        return MATCHING_INPUTS - self.allowed


def project(proposal: Proposal, allowed: frozenset[DataCategory]) -> Proposal:
    """``proposal`` with what ``allowed`` does not cover withheld."""
    criteria = tuple(
        c
        if CRITERION_CATEGORIES[c.criterion] in allowed
        else CriterionScore(c.criterion, 0.0, c.weight, WITHHELD)
        for c in proposal.criteria
    )
    profile = DataCategory.LABOUR_MARKET_PROFILE in allowed
    return replace(proposal, criteria=criteria, instruments=proposal.instruments if profile else ())


def addressees(
    proposal: Proposal,
    *,
    vacancy_holder: str | None,
    consents: Sequence[CompiledConsent],
    partners: Mapping[str, Partner],
    now: datetime,
    policy: PolicyMatrix,
) -> list[Addressed]:
    """The recipients of ``proposal``: first-responsible party first, then the vacancy
    holder when a consent names it; none when no consent applies (deny by default)."""
    found: list[Addressed] = []
    names = [proposal.first_responsible]
    if vacancy_holder is not None and vacancy_holder != proposal.first_responsible:
        names.append(vacancy_holder)
    for name in names:
        partner = partners.get(name)
        if partner is None:
            continue
        entitled = entitlement_for(
            partner,
            (Purpose.MATCHING_PLACEMENT,),
            MATCHING_INPUTS,
            consents,
            now=now,
            policy=policy,
        )
        if entitled is None:
            continue
        allowed = entitled.allowed & MATCHING_INPUTS
        found.append(
            Addressed(
                partner,
                allowed,
                entitled.consent_ids,
                entitled.policy_version,
                project(proposal, allowed),
            )
        )
    return found
