"""Request and response bodies of the HTTP API (what OpenAPI shows)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, WithJsonSchema, field_validator

from consent.bulk import BulkOutcome, BulkPlan, BulkSelection
from consent.decision import Decision, Reason
from consent.model import (
    PARTNER_ID_PATTERN,
    PSEUDONYM_PATTERN,
    ConsentChangeType,
    ConsentEvent,
    ConsentRecord,
    ConsentStatus,
    ConsentTerms,
    UtcDatetime,
    canonical_json,
    sha256_hex,
)
from consent.subject_keys import SubjectKeyGrant
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from schemas.identifiers import normalise_bsn
from schemas.vocabulary import DataCategory, Purpose

__all__ = [
    "BSN_FORMAT",
    "BsnLookupRequest",
    "BsnLookupResponse",
    "BulkPreviewView",
    "BulkWithdrawRequest",
    "BulkWithdrawalView",
    "CategoryOutcomeView",
    "ConsentView",
    "DecisionRequest",
    "DecisionView",
    "ErrorView",
    "EventView",
    "ExpiringPage",
    "GrantRequest",
    "Health",
    "InvalidView",
    "PolicyView",
    "ProblemView",
    "StatsView",
    "SubjectConsents",
    "SubjectKeyGrantView",
    "WithdrawRequest",
]


BSN_FORMAT = "bsn"
"""The OpenAPI ``format`` of a citizen service number (a generator can register it)."""

Bsn = Annotated[
    SecretStr,
    WithJsonSchema(
        {
            "type": "string",
            "format": BSN_FORMAT,
            "pattern": r"^[0-9]{8,9}$",
            "writeOnly": True,
            "description": "Citizen service number: nine digits (or eight, read with a "
            "leading zero) passing the eleven-test: 9*d1 + 8*d2 + ... + 2*d8 - d9 is a "
            "multiple of 11 (and not 0). Never returned, never echoed in an error.",
            "examples": ["111222333"],
        }
    ),
]


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _valid_bsn(value: SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    return SecretStr(normalise_bsn(value.get_secret_value()))


class GrantRequest(ConsentTerms):
    """A consent to record. ``bsn`` is optional; it is stored only encrypted."""

    bsn: Bsn | None = Field(
        default=None, description="Citizen service number (stored encrypted, never returned)."
    )

    _check_bsn = field_validator("bsn")(_valid_bsn)

    def terms_only(self) -> ConsentTerms:
        return ConsentTerms.model_validate(self.model_dump(exclude={"bsn"}))

    def fingerprint(self) -> str:
        """SHA-256 of the terms as sent (defaults such as ``valid_from`` = now left out,
        so a retry has the same fingerprint; the BSN is not part of it)."""
        sent = self.model_dump(mode="json", exclude_unset=True, exclude={"bsn"})
        return sha256_hex(canonical_json(sent))


class WithdrawRequest(_Body):
    reason: str | None = Field(default=None, max_length=1000)


class ConsentView(ConsentRecord):
    """A consent with its status at the time of the answer."""

    status_now: ConsentStatus

    @classmethod
    def of(cls, record: ConsentRecord, now: datetime) -> ConsentView:
        return cls.model_validate({**record.model_dump(), "status_now": record.status_at(now)})


class SubjectConsents(_Body):
    subject: ClientPseudonym
    bsn_on_file: bool | None = Field(description="Only shown to privacy officers.")
    consents: list[ConsentView]


class ExpiringPage(_Body):
    """GIVEN consents ending within ``days`` days, soonest first, one page."""

    days: int
    consents: list[ConsentView]
    next_cursor: str | None = Field(
        description="Pass as ``cursor`` for the next page; null once a page is not full."
    )


class BulkPreviewView(_Body):
    """What a bulk withdrawal would affect; execute it with ``token`` before ``expires_at``."""

    token: str = Field(description="Shown once; only its hash is stored.")
    expires_at: datetime
    selection: BulkSelection
    count: int
    consent_ids: list[ConsentId]
    subjects: list[ClientPseudonym]

    @classmethod
    def of(cls, plan: BulkPlan) -> BulkPreviewView:
        return cls(
            token=plan.token,
            expires_at=plan.expires_at,
            selection=plan.selection,
            count=len(plan.consent_ids),
            consent_ids=list(plan.consent_ids),
            subjects=list(plan.subjects),
        )


class BulkWithdrawRequest(_Body):
    token: str = Field(min_length=20, max_length=200, description="The preview's token.")
    reason: str = Field(min_length=1, max_length=1000)


class BulkWithdrawalView(_Body):
    """An executed bulk withdrawal (the same answer for every repeat of it)."""

    selection: BulkSelection
    count: int
    consent_ids: list[ConsentId]
    reason: str | None
    executed_at: datetime

    @classmethod
    def of(cls, outcome: BulkOutcome) -> BulkWithdrawalView:
        return cls(
            selection=outcome.selection,
            count=len(outcome.consent_ids),
            consent_ids=list(outcome.consent_ids),
            reason=outcome.reason,
            executed_at=outcome.executed_at,
        )


class EventView(_Body):
    seq: int
    event_id: EventId
    consent_id: ConsentId
    change: ConsentChangeType
    actor: str
    occurred_at: datetime
    recorded_at: datetime
    reason: str | None
    prev_hash: str | None
    event_hash: str

    @classmethod
    def of(cls, event: ConsentEvent) -> EventView:
        return cls.model_validate(event.model_dump(exclude={"subject", "record"}))


class BsnLookupRequest(_Body):
    bsn: Bsn

    _check_bsn = field_validator("bsn")(_valid_bsn)


class BsnLookupResponse(_Body):
    subjects: list[ClientPseudonym]


class DecisionRequest(_Body):
    """May ``partner_id`` receive ``categories`` of ``subject`` for ``purpose`` (at ``at``)?"""

    subject: ClientPseudonym = Field(pattern=PSEUDONYM_PATTERN)
    partner_id: PartnerId = Field(pattern=PARTNER_ID_PATTERN, max_length=60)
    purpose: Purpose
    categories: list[DataCategory] = Field(min_length=1)
    at: UtcDatetime | None = Field(default=None, description="Default: now.")


class CategoryOutcomeView(_Body):
    category: DataCategory
    allowed: bool
    reason: Reason
    consent_ids: list[ConsentId]


class DecisionView(_Body):
    allowed: bool
    subject: ClientPseudonym
    partner_id: PartnerId
    purpose: Purpose
    decided_at: datetime
    policy_version: str
    outcomes: list[CategoryOutcomeView]
    reasons: list[str]
    consent_ids: list[ConsentId]

    @classmethod
    def of(cls, request: DecisionRequest, decision: Decision) -> DecisionView:
        return cls(
            allowed=decision.allowed,
            subject=request.subject,
            partner_id=request.partner_id,
            purpose=request.purpose,
            decided_at=decision.decided_at,
            policy_version=decision.policy_version,
            outcomes=[
                CategoryOutcomeView(
                    category=o.category,
                    allowed=o.allowed,
                    reason=o.reason,
                    consent_ids=list(o.consent_ids),
                )
                for o in decision.outcomes
            ],
            reasons=list(decision.reasons),
            consent_ids=list(decision.consent_ids),
        )


class PolicyView(_Body):
    version: str
    implied_categories: list[DataCategory]
    matrix: dict[str, dict[str, list[str]]]


class StatsView(_Body):
    """Aggregates only: nothing personal."""

    generated_at: datetime
    consents_by_status: dict[str, int]
    policy_version: str


class ProblemView(_Body):
    """One problem of an invalid request; ``loc`` names the field, the input is never
    echoed."""

    loc: list[str | int]
    msg: str
    type: str
    ctx: dict[str, str] | None = None


class InvalidView(_Body):
    """An invalid request (422)."""

    error: str = Field(description="invalid")
    detail: list[ProblemView]


class ErrorView(_Body):
    """Every refusal other than a validation error: a code and a sentence."""

    error: str = Field(description="unauthenticated, forbidden, not_found, conflict, ...")
    detail: str


class Health(_Body):
    status: str
    schema_version: int


class SubjectKeyGrantView(_Body):
    """A subject key wrapped for the asking partner: the envelope of a grant
    (docs/partner-protocol.md section 8, docs/test-vectors/subject-key-grants.json)."""

    subject: ClientPseudonym
    key_id: str = Field(description="The subject key's id (32 hex digits), as in the tokens.")
    recipient: PartnerId
    recipient_key_id: str = Field(description="The partner key (X25519) the grant is wrapped to.")
    blob_b64: str = Field(
        description="base64 of the envelope value: nonce | AES-256-GCM(DEK, key id | key)."
    )
    headers: list[tuple[str, str]] = Field(
        description="The envelope headers (rmt-enc-alg, rmt-enc-key, rmt-enc-dek), in order."
    )
    consent_ids: list[ConsentId] = Field(description="The consents that entitle the partner.")
    cache_for_s: float = Field(
        description="Keep the key at most this long; ask again after (a withdrawal or "
        "erasure is refused from then on)."
    )

    @classmethod
    def of(cls, grant: SubjectKeyGrant) -> SubjectKeyGrantView:
        return cls(
            subject=grant.subject,
            key_id=grant.key_id,
            recipient=grant.recipient,
            recipient_key_id=grant.recipient_key_id,
            blob_b64=base64.b64encode(grant.blob).decode("ascii"),
            headers=[(name, value.decode("ascii")) for name, value in grant.headers],
            consent_ids=list(grant.consent_ids),
            cache_for_s=grant.cache_for_s,
        )
