"""Who is a candidate: marked available, and their consent covers matching.

Deny by default. A person is in the pool only when their latest
:class:`~schemas.models.Availability` says available *and* a current consent lets the
party that receives the proposals (their first-responsible party) have, for the purpose
MATCHING_PLACEMENT, their labour-market profile and residence: the same decision the
router takes for a delivery (:func:`hub.router.entitlement.entitlement_for`, the policy
matrix, :func:`consent.decision.decide`). Education is read only when that consent also
allows it; otherwise it is unknown to matching and the explanation says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from consent.decision import CompiledConsent
from consent.policy import PolicyMatrix
from hub.matching.model import Candidate, Opening
from hub.matching.vocabulary import CompetenceVocabulary
from hub.router.entitlement import entitlement_for
from schemas.models import Availability, ClientProfile, Vacancy
from schemas.vocabulary import DataCategory, Purpose
from topics.partners import Partner

__all__ = ["MATCHING_INPUTS", "NEEDED", "candidate", "matching_categories", "opening"]

MATCHING_INPUTS = frozenset(
    {DataCategory.LABOUR_MARKET_PROFILE, DataCategory.RESIDENCE, DataCategory.EDUCATION}
)
"""The categories of a profile matching reads."""
NEEDED = frozenset({DataCategory.LABOUR_MARKET_PROFILE, DataCategory.RESIDENCE})
"""Without these, a person cannot be matched at all: they are not in the pool."""


def matching_categories(
    consents: Sequence[CompiledConsent],
    recipient: Partner,
    *,
    now: datetime,
    policy: PolicyMatrix,
) -> frozenset[DataCategory]:
    """The categories matching may read to propose the person to ``recipient``."""
    entitled = entitlement_for(
        recipient, (Purpose.MATCHING_PLACEMENT,), MATCHING_INPUTS, consents, now=now, policy=policy
    )
    return frozenset() if entitled is None else entitled.allowed & MATCHING_INPUTS


def candidate(
    profile: ClientProfile,
    availability: Availability | None,
    consents: Sequence[CompiledConsent],
    recipient: Partner,
    vocab: CompetenceVocabulary,
    *,
    now: datetime,
    policy: PolicyMatrix,
) -> Candidate | None:
    """The person as a candidate for proposals to ``recipient``, or None (not in the pool)."""
    if availability is None or availability.available is not True:
        return None
    if availability.client_pseudonym != profile.client_pseudonym:
        return None
    allowed = matching_categories(consents, recipient, now=now, policy=policy)
    if not allowed >= NEEDED or profile.region is None:
        return None
    education = DataCategory.EDUCATION in allowed
    history = profile.work_history or []
    hours = availability.hours_per_week
    if hours is None and history:
        hours = history[-1].hours_per_week
    return Candidate(
        pseudonym=profile.client_pseudonym,
        region=profile.region,
        first_responsible=recipient.id,
        competences=vocab.competence_ids([c.name for c in profile.competences or ()]),
        occupations=vocab.occupation_ids([w.job_title for w in history if w.job_title]),
        sectors=frozenset(profile.sectors or ()),
        education_level=profile.education_level if education else None,
        starting_qualification=profile.starting_qualification if education else None,
        language_level=profile.language_level if education else None,
        hours_per_week=hours,
    )


def opening(vacancy: Vacancy, vocab: CompetenceVocabulary) -> Opening:
    """A vacancy as matching reads it (business data: no consent involved)."""
    return Opening(
        vacancy_id=vacancy.vacancy_id,
        employer=vacancy.employer.name,
        employer_kvk=vacancy.employer.kvk_number,
        title=vacancy.title,
        region=vacancy.region,
        sector=vacancy.sector,
        competences=vocab.competence_ids([c.name for c in vacancy.required_competences]),
        occupations=vocab.occupation_ids([vacancy.title]),
        education_level=vacancy.education_level,
        language_level=vacancy.language_level,
        hours_per_week=vacancy.hours_per_week,
        trainable=vacancy.trainable,
        positions=vacancy.positions,
    )
