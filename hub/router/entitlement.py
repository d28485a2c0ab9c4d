"""Entitlement: which partners may receive a record, for which purpose, which categories.

For a record about a person, every partner of the directory except the publisher is a
candidate. For each candidate the router asks :func:`consent.decision.decide` - the
consent service's own pure decision function, the same policy matrix - once per purpose
the record type serves (:data:`RECORD_PURPOSES`), for the categories the record carries,
and keeps the purpose that lets the most categories through (ties: the first purpose
listed, the record type's primary purpose). A partner is entitled only when a current,
affirmative consent applies *and* lets at least one category beyond the envelope and the
pseudonym through; otherwise it receives nothing (default deny, fail closed).

The purposes per record type (first = primary):

============================  ========================================================
ClientProfile                 INTAKE_DIAGNOSIS, ARRANGEMENT, MATCHING_PLACEMENT,
                              SCHOOLING, WARM_HANDOVER
IntakeDecision                INTAKE_DIAGNOSIS, ARRANGEMENT
PersonalArrangement           ARRANGEMENT, BUDGET_ADMINISTRATION, SCHOOLING,
                              MATCHING_PLACEMENT
Referral                      WARM_HANDOVER, ARRANGEMENT
PlacementOutcome              MATCHING_PLACEMENT, SCHOOLING, ARRANGEMENT,
                              BUDGET_ADMINISTRATION
Availability                  MATCHING_PLACEMENT
ResponsibilityTransfer        ARRANGEMENT; to the two parties of the transfer also
                              RESPONSIBILITY_TRANSFER (:data:`PARTY_PURPOSES`)
arrangement handed over on a  RESPONSIBILITY_TRANSFER, ARRANGEMENT
transfer (to the new party)   (:data:`HANDOVER_PURPOSES`)
============================  ========================================================

RESPONSIBILITY_TRANSFER covers the handover and nothing else: the transfer itself to the
party handing over and the party taking over, and the arrangement re-sent to the party
taking over when the transfer is routed. A consent naming only that purpose lets no
profile, intake, referral or outcome through, nor an arrangement when it is published.

MONITORING is never a purpose of a delivery: the monitor gets its own pseudonymised
stream, never partner records.

A **vacancy** (demand in view) or a **staff surplus** is business data about an
employer, not about a person: no consent is asked (the policy matrix keeps ``business``
out of consent). It goes to every partner serving the record's region and to the
national partners, except the publisher, unchanged, and it is not a disclosure of
personal data, so it is not audited.

Plain Python: no Kafka, no faust.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from consent.decision import CompiledConsent, decide
from consent.model import ConsentStatus
from consent.policy import PolicyMatrix
from hub.ids import ConsentId
from schemas.models import (
    Availability,
    ClientProfile,
    IntakeDecision,
    PersonalArrangement,
    PlacementOutcome,
    Referral,
    ResponsibilityTransfer,
)
from schemas.regions import Region
from schemas.vocabulary import DataCategory, Purpose
from topics.partners import Partner

__all__ = [
    "HANDOVER_PURPOSES",
    "PARTY_PURPOSES",
    "RECORD_PURPOSES",
    "Entitlement",
    "entitlement_for",
    "entitlements",
    "may_know",
    "vacancy_recipients",
]

RECORD_PURPOSES: dict[str, tuple[Purpose, ...]] = {
    ClientProfile.avro_name: (
        Purpose.INTAKE_DIAGNOSIS,
        Purpose.ARRANGEMENT,
        Purpose.MATCHING_PLACEMENT,
        Purpose.SCHOOLING,
        Purpose.WARM_HANDOVER,
    ),
    IntakeDecision.avro_name: (Purpose.INTAKE_DIAGNOSIS, Purpose.ARRANGEMENT),
    PersonalArrangement.avro_name: (
        Purpose.ARRANGEMENT,
        Purpose.BUDGET_ADMINISTRATION,
        Purpose.SCHOOLING,
        Purpose.MATCHING_PLACEMENT,
    ),
    Referral.avro_name: (Purpose.WARM_HANDOVER, Purpose.ARRANGEMENT),
    PlacementOutcome.avro_name: (
        Purpose.MATCHING_PLACEMENT,
        Purpose.SCHOOLING,
        Purpose.ARRANGEMENT,
        Purpose.BUDGET_ADMINISTRATION,
    ),
    ResponsibilityTransfer.avro_name: (Purpose.ARRANGEMENT,),
    Availability.avro_name: (Purpose.MATCHING_PLACEMENT,),
}
"""The purposes a record type is disclosed for, primary first (see the module docstring)."""

PARTY_PURPOSES: dict[str, tuple[Purpose, ...]] = {
    ResponsibilityTransfer.avro_name: (Purpose.RESPONSIBILITY_TRANSFER, Purpose.ARRANGEMENT),
}
"""The purposes a record type is disclosed for to the parties it names (instead of
:data:`RECORD_PURPOSES`): a transfer to the party handing over and the party taking over."""

HANDOVER_PURPOSES: tuple[Purpose, ...] = (Purpose.RESPONSIBILITY_TRANSFER, Purpose.ARRANGEMENT)
"""Purposes of re-sending the arrangement to the party responsibility moved to."""


@dataclass(frozen=True, slots=True)
class Entitlement:
    """One partner may receive these categories of the record, for this purpose."""

    recipient: Partner
    purpose: Purpose
    allowed: frozenset[DataCategory]
    consent_ids: tuple[ConsentId, ...]
    policy_version: str


def _may_apply(consents: Sequence[CompiledConsent], partner: Partner) -> bool:
    """Cheap pre-filter: some consent that is not ended names this partner."""
    return any(
        consent.status is ConsentStatus.GIVEN
        and any(r.matches(partner.id, partner.kind, partner.region) for r in consent.recipients)
        for consent in consents
    )


def entitlement_for(
    partner: Partner,
    purposes: Sequence[Purpose],
    carried: frozenset[DataCategory],
    consents: Sequence[CompiledConsent],
    *,
    now: datetime,
    policy: PolicyMatrix,
) -> Entitlement | None:
    """What ``partner`` may receive of a record carrying ``carried``, or None."""
    if not consents or not _may_apply(consents, partner):
        return None
    consented = frozenset().union(*(c.purposes for c in consents))
    implied = policy.implied_categories
    best: Entitlement | None = None
    best_size = 0
    for purpose in purposes:
        if purpose not in consented:
            continue  # no consent names it: decide() would deny everything
        decision = decide(
            consents,
            partner=partner.id,
            partner_kind=partner.kind,
            region=partner.region,
            purpose=purpose,
            categories=carried,
            now=now,
            policy=policy,
        )
        allowed = decision.allowed_categories()
        size = len(allowed - implied)
        if size > best_size:
            ids = tuple(sorted({i for o in decision.outcomes if o.allowed for i in o.consent_ids}))
            best = Entitlement(partner, purpose, allowed, ids, decision.policy_version)
            best_size = size
    return best


def may_know(
    partner: Partner,
    record_type: str,
    categories: frozenset[DataCategory],
    consents: Sequence[CompiledConsent],
    *,
    now: datetime,
    policy: PolicyMatrix,
) -> bool:
    """Whether ``partner`` may receive every one of ``categories`` of a ``record_type``
    record about the subject of ``consents``, for one purpose of that record type: whether
    it is entitled to know what the hub learned from such records (a rejection notice
    tells a rule's reason only then)."""
    if not consents or not _may_apply(consents, partner):
        return False
    for purpose in RECORD_PURPOSES.get(record_type, ()):
        decision = decide(
            consents,
            partner=partner.id,
            partner_kind=partner.kind,
            region=partner.region,
            purpose=purpose,
            categories=categories,
            now=now,
            policy=policy,
        )
        if categories <= decision.allowed_categories():
            return True
    return False


def entitlements(
    record_type: str,
    carried: frozenset[DataCategory],
    consents: Sequence[CompiledConsent],
    partners: Iterable[Partner],
    *,
    publisher: str,
    excluded: frozenset[str] = frozenset(),
    parties: frozenset[str] = frozenset(),
    now: datetime,
    policy: PolicyMatrix,
) -> list[Entitlement]:
    """Every partner entitled to the record, with its purpose and allowed categories.

    ``excluded`` are partners that must not receive it whatever their consents say
    (a former first-responsible party, for arrangement updates); ``parties`` are the
    partners the record names as its parties (:data:`PARTY_PURPOSES`).
    """
    purposes = RECORD_PURPOSES.get(record_type, ())
    if not consents or not purposes:
        return []
    for_parties = PARTY_PURPOSES.get(record_type, purposes)
    found: list[Entitlement] = []
    for partner in partners:
        if partner.id == publisher or partner.id in excluded:
            continue
        served = for_parties if partner.id in parties else purposes
        entitled = entitlement_for(partner, served, carried, consents, now=now, policy=policy)
        if entitled is not None:
            found.append(entitled)
    return found


def vacancy_recipients(
    region: Region | None, partners: Iterable[Partner], *, publisher: str
) -> list[Partner]:
    """Partners a vacancy or staff surplus goes to: those of its region and the national
    ones."""
    return [
        p
        for p in partners
        if p.id != publisher and (p.region is None or region is None or p.region is region)
    ]
