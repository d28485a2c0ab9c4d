"""The decision: may partner P receive categories C of subject S for purpose U now?

A pure function of (the subject's consents, the partner, its kind and region, the
purpose, the categories asked, ``now``, the policy matrix). Per category:

1. the policy matrix must allow it for the partner's kind and the purpose
   (``NOT_IN_POLICY`` otherwise) - consent can never widen the matrix;
2. some consent must *apply*: ``valid_from <= now < valid_until``, not withdrawn before
   ``now``, the purpose among its purposes, the partner among its recipients
   (``NO_ACTIVE_CONSENT`` otherwise; withdrawn, expired and future consents that would
   have applied are named in the reasons);
3. an applying consent must name the category, or the category is implied (``meta``,
   ``pseudonym``) (``NOT_CONSENTED`` otherwise); a special category (health) must be
   named by a consent on the legal basis EXPLICIT_CONSENT, it is never implied
   (``SPECIAL_NOT_EXPLICIT`` otherwise).

Everything not allowed is denied. Whether a consent applies is a function of time
only (validity period and withdrawal instant), so expiry needs no background job and a
decision asked for a past moment (an audit) sees the consents as they were then. The
decision is allowed only when every category asked is.

Consents enter as :class:`CompiledConsent`, a compact, slotted view of a
:class:`~consent.model.ConsentRecord` whose sets are shared between consents, so that
an in-memory table of a million subjects stays small (see ``bench/consent.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from consent.model import ConsentRecord, ConsentStatus, LegalBasis, Recipient
from consent.policy import PolicyMatrix
from hub.ids import ConsentId
from schemas.regions import Region
from schemas.vocabulary import SPECIAL_CATEGORIES, DataCategory, PartnerKind, Purpose

__all__ = ["CategoryOutcome", "CompiledConsent", "Decision", "Reason", "compile_consent", "decide"]


class Reason(StrEnum):
    """Why one category was allowed or denied."""

    ALLOWED = "ALLOWED"
    NOT_IN_POLICY = "NOT_IN_POLICY"
    NO_ACTIVE_CONSENT = "NO_ACTIVE_CONSENT"
    NOT_CONSENTED = "NOT_CONSENTED"
    SPECIAL_NOT_EXPLICIT = "SPECIAL_NOT_EXPLICIT"
    UNKNOWN_PARTNER = "UNKNOWN_PARTNER"


@dataclass(frozen=True, slots=True)
class CompiledConsent:
    """The parts of a consent a decision reads."""

    id: ConsentId
    status: ConsentStatus
    valid_from: datetime
    valid_until: datetime | None
    recipients: tuple[Recipient, ...]
    purposes: frozenset[Purpose]
    categories: frozenset[DataCategory]
    legal_basis: LegalBasis
    withdrawn_at: datetime | None = None
    """When a WITHDRAWN consent was withdrawn; None: treat it as withdrawn at any time."""


_INTERNED: dict[object, object] = {}
_INTERN_LIMIT = 100_000


_T = TypeVar("_T")


def _intern(value: _T) -> _T:
    """One shared object per distinct value (sets and recipient tuples repeat a lot)."""
    if len(_INTERNED) >= _INTERN_LIMIT:
        _INTERNED.clear()
    return _INTERNED.setdefault(value, value)  # type: ignore[return-value]


def compile_consent(record: ConsentRecord) -> CompiledConsent:
    """The compact view of ``record`` the decision function works on."""
    return CompiledConsent(
        id=record.id,
        status=record.status,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        withdrawn_at=record.withdrawal.withdrawn_at
        if record.status is ConsentStatus.WITHDRAWN and record.withdrawal
        else None,
        recipients=_intern(record.recipients),
        purposes=_intern(frozenset(record.purposes)),
        categories=_intern(frozenset(record.data_categories)),
        legal_basis=record.legal_basis,
    )


@dataclass(frozen=True, slots=True)
class CategoryOutcome:
    """The verdict for one category, and the consents it rests on (when allowed)."""

    category: DataCategory
    allowed: bool
    reason: Reason
    consent_ids: tuple[ConsentId, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """Allowed only when every category asked is allowed."""

    allowed: bool
    outcomes: tuple[CategoryOutcome, ...]
    reasons: tuple[str, ...]
    consent_ids: tuple[ConsentId, ...]
    policy_version: str
    decided_at: datetime

    def allowed_categories(self) -> frozenset[DataCategory]:
        return frozenset(o.category for o in self.outcomes if o.allowed)


def _inactive_note(consent: CompiledConsent, now: datetime) -> str | None:
    """Why a consent does not apply at ``now`` (None when it does).

    Expiry is a matter of time only (an EXPIRED status merely records it), so a decision
    for a moment inside the period still sees the consent; a withdrawal counts from its
    instant when known, else always.
    """
    if consent.status is ConsentStatus.WITHDRAWN and (
        consent.withdrawn_at is None or now >= consent.withdrawn_at
    ):
        return f"consent {consent.id} was withdrawn"
    if consent.valid_until is not None and now >= consent.valid_until:
        return f"consent {consent.id} expired at {consent.valid_until.isoformat()}"
    if consent.status is ConsentStatus.EXPIRED and consent.valid_until is None:
        return f"consent {consent.id} expired"
    if now < consent.valid_from:
        return f"consent {consent.id} applies only from {consent.valid_from.isoformat()}"
    return None


def _covered(
    category: DataCategory, applying: list[CompiledConsent], implied: frozenset[DataCategory]
) -> tuple[CategoryOutcome, str]:
    """The verdict for a category the matrix allows, given the consents that apply."""
    if category in SPECIAL_CATEGORIES:
        ids = tuple(
            c.id
            for c in applying
            if category in c.categories and c.legal_basis is LegalBasis.EXPLICIT_CONSENT
        )
        if not ids:
            return (
                CategoryOutcome(category, False, Reason.SPECIAL_NOT_EXPLICIT),
                f"{category}: special category data needs explicit consent naming it",
            )
    elif category in implied:
        ids = tuple(c.id for c in applying)
    else:
        ids = tuple(c.id for c in applying if category in c.categories)
        if not ids:
            return (
                CategoryOutcome(category, False, Reason.NOT_CONSENTED),
                f"{category}: not among the consented categories",
            )
    return (
        CategoryOutcome(category, True, Reason.ALLOWED, ids),
        f"{category}: allowed by consent {', '.join(ids)}",
    )


def decide(
    consents: Iterable[CompiledConsent],
    *,
    partner: str,
    partner_kind: PartnerKind | None,
    region: Region | None,
    purpose: Purpose,
    categories: Iterable[DataCategory],
    now: datetime,
    policy: PolicyMatrix,
) -> Decision:
    """Decide for every category in ``categories``; default deny.

    ``partner_kind`` is None for a partner the directory does not know: everything is
    denied. ``region`` is the partner's region (None for national parties).
    """
    asked = tuple(dict.fromkeys(categories))
    if partner_kind is None:
        outcomes = tuple(CategoryOutcome(c, False, Reason.UNKNOWN_PARTNER) for c in asked)
        return Decision(False, outcomes, (f"unknown partner '{partner}'",), (), policy.version, now)
    ceiling = policy.allowed(partner_kind, purpose)
    applying: list[CompiledConsent] = []
    notes: list[str] = []
    for consent in consents:
        if purpose not in consent.purposes:
            continue
        if not any(r.matches(partner, partner_kind, region) for r in consent.recipients):
            continue
        note = _inactive_note(consent, now)
        if note is None:
            applying.append(consent)
        else:
            notes.append(note)

    results: list[CategoryOutcome] = []
    reasons: list[str] = []
    used: dict[ConsentId, None] = {}
    for category in asked:
        if category not in ceiling:
            results.append(CategoryOutcome(category, False, Reason.NOT_IN_POLICY))
            reasons.append(
                f"{category}: the policy matrix never lets it flow to {partner_kind} for {purpose}"
            )
        elif not applying:
            results.append(CategoryOutcome(category, False, Reason.NO_ACTIVE_CONSENT))
            reasons.append(f"{category}: no active consent covers {partner} for {purpose}")
        else:
            outcome, reason = _covered(category, applying, policy.implied_categories)
            results.append(outcome)
            reasons.append(reason)
            used.update(dict.fromkeys(outcome.consent_ids))
    if not asked:
        reasons.append("no categories asked")
    allowed = bool(asked) and all(o.allowed for o in results)
    return Decision(
        allowed, tuple(results), tuple(reasons + notes), tuple(used), policy.version, now
    )
