"""The consent record and its history, after ISO/IEC TS 27560, W3C DPV and Kantara.

A consent says: for this **data subject** (the client pseudonym; the BSN is kept apart,
encrypted), the **controller** (the first-responsible party that obtained it) lets these
**recipients** (named partners, or every partner of a kind, optionally in one region)
receive these **data categories** for these **purposes**, on this **legal basis**, from
``valid_from`` until ``valid_until``. The **notice** (policy version) shown to the person
and the **proof** (who recorded it, when, how it was collected, a hash over the terms)
make it auditable.

Its status runs ``GIVEN -> WITHDRAWN`` or ``GIVEN -> EXPIRED``; expiry is a matter of
comparing ``valid_until`` with the clock (:meth:`ConsentRecord.status_at`), nobody has to
act for it. Every change is a :class:`ConsentEvent` whose hash chains to the previous
event of the same consent, so a rewritten history does not verify.

Plain pydantic; no I/O.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from schemas.models.enums import ConsentChangeType, LegalBasis
from schemas.regions import Region
from schemas.vocabulary import (
    SPECIAL_CATEGORIES,
    DataCategory,
    JobSeekerCategory,
    PartnerKind,
    Purpose,
)

__all__ = [
    "PARTNER_ID_PATTERN",
    "PSEUDONYM_PATTERN",
    "TERMS_FIELDS",
    "AuditChainBreak",
    "AuditChainState",
    "AuditProof",
    "AuditReject",
    "CollectionMethod",
    "ConsentChangeMessage",
    "ConsentChangeType",
    "ConsentEvent",
    "ConsentRecord",
    "ConsentStatus",
    "ConsentTerms",
    "DisclosureRecord",
    "LegalBasis",
    "Notice",
    "Proof",
    "Recipient",
    "Role",
    "UtcDatetime",
    "Withdrawal",
    "actor_role",
    "canonical_json",
    "chain_hash",
    "new_consent_id",
    "new_event_id",
    "sha256_hex",
    "utc_now",
    "verify_chain",
]

PSEUDONYM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{2,127}$"
"""A client pseudonym: 3-128 URL-safe characters (never a BSN: see the validator)."""
PARTNER_ID_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
"""Same rule as the partner directory (:mod:`topics.partners`)."""


def actor_role(actor: str) -> str:
    """``privacy_officer`` of ``privacy_officer:<name>``: an actor without the person."""
    return actor.partition(":")[0] or "caller"


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. year 1 at +14:00 is in year 0 in UTC
        raise ValueError("out of range once converted to UTC (years 1-9999)") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timestamp that must carry a timezone; normalised to UTC."""


def new_consent_id() -> ConsentId:
    return ConsentId(str(uuid.uuid4()))


def new_event_id() -> EventId:
    return EventId(str(uuid.uuid4()))


class ConsentStatus(StrEnum):
    """Where a consent is in its lifecycle: GIVEN, then WITHDRAWN or EXPIRED."""

    GIVEN = "GIVEN"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"


class Role(StrEnum):
    """What an API key may do."""

    PRIVACY_OFFICER = "privacy_officer"  # record and withdraw consent; read everything
    PARTNER = "partner"  # a partner system: decisions, and the subjects it is party to
    MONITOR = "monitor"  # aggregate figures only, nothing personal


class CollectionMethod(StrEnum):
    """How the consent was obtained from the job seeker (Kantara: collection method)."""

    IN_PERSON_SIGNED = "IN_PERSON_SIGNED"  # signed form during a meeting
    IN_PERSON_VERBAL = "IN_PERSON_VERBAL"  # said in a meeting, noted by the officer
    DIGITAL_SIGNED = "DIGITAL_SIGNED"  # signed in a portal (e.g. with DigiD)
    PAPER_FORM = "PAPER_FORM"  # a returned paper form
    TELEPHONE = "TELEPHONE"
    VIDEO_CALL = "VIDEO_CALL"


class Recipient(BaseModel):
    """Who may receive data: one partner, or every partner of a kind; optionally one region.

    The region limit matches the recipient's own region in the partner directory; a
    national party (no region) never matches a region-limited recipient. Exactly one of
    ``partner_id`` and ``partner_kind`` (the schema says so with ``oneOf``).
    """

    partner_id: PartnerId | None = Field(
        default=None, pattern=PARTNER_ID_PATTERN, max_length=60, description="One partner."
    )
    partner_kind: PartnerKind | None = Field(
        default=None, description="Every partner of this kind (when partner_id is null)."
    )
    region: Region | None = Field(default=None, description="Only partners of this region.")

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["partner_id"],
                    "properties": {
                        "partner_id": {"type": "string"},
                        "partner_kind": {"type": "null"},
                    },
                },
                {
                    "required": ["partner_kind"],
                    "properties": {
                        "partner_kind": {"type": "string"},
                        "partner_id": {"type": "null"},
                    },
                },
            ]
        },
    )

    @model_validator(mode="after")
    def _one_of_id_or_kind(self) -> Recipient:
        if (self.partner_id is None) == (self.partner_kind is None):
            raise ValueError("name exactly one of partner_id and partner_kind")
        return self

    def matches(self, partner: str, kind: PartnerKind, region: Region | None) -> bool:
        """Whether this recipient covers ``partner`` (of ``kind``, serving ``region``)."""
        if self.partner_id is not None:
            if self.partner_id != partner:
                return False
        elif self.partner_kind is not kind:
            return False
        return self.region is None or self.region is region

    def label(self) -> str:
        who = self.partner_id or f"every {self.partner_kind}"
        return f"{who} in {self.region}" if self.region else who


class Notice(BaseModel):
    """The privacy notice (policy text) shown to the job seeker when consenting."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=64, description="e.g. 'rmt-privacy-2026.1'")
    url: str | None = Field(default=None, max_length=500, pattern=r"^https?://\S+$")
    language: str = Field(default="nl", pattern=r"^[a-z]{2}$")


class Proof(BaseModel):
    """Who recorded the consent, when, how it was collected, and a hash over its terms."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recorded_by: str = Field(min_length=1, max_length=200)
    recorded_at: UtcDatetime
    collection_method: CollectionMethod
    terms_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the terms.")


class Withdrawal(BaseModel):
    """Who withdrew the consent (on the job seeker's behalf), when, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    withdrawn_at: UtcDatetime
    withdrawn_by: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=1000)


_E = TypeVar("_E", bound=StrEnum)


def _sorted_unique(values: tuple[_E, ...]) -> tuple[_E, ...]:
    return tuple(sorted(set(values)))


TERMS_FIELDS: frozenset[str] = frozenset(
    {
        "subject",
        "controller",
        "job_seeker_category",
        "recipients",
        "purposes",
        "data_categories",
        "legal_basis",
        "valid_from",
        "valid_until",
        "notice",
        "collection_method",
    }
)
"""The fields of :class:`ConsentTerms`: what the job seeker agreed to (and is hashed)."""


class ConsentTerms(BaseModel):
    """What was agreed with the job seeker; immutable once given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: ClientPseudonym = Field(
        pattern=PSEUDONYM_PATTERN,
        description="The client pseudonym (never the BSN: 8 or 9 digits are refused).",
        json_schema_extra={"not": {"pattern": "^[0-9]{8,9}$"}},
    )
    controller: PartnerId = Field(
        pattern=PARTNER_ID_PATTERN,
        max_length=60,
        description="Partner id of the first-responsible party that obtained the consent.",
    )
    job_seeker_category: JobSeekerCategory | None = Field(
        default=None,
        description="When given, the controller must be of its first-responsible kind.",
    )
    recipients: tuple[Recipient, ...] = Field(min_length=1, max_length=50)
    purposes: tuple[Purpose, ...] = Field(min_length=1)
    data_categories: tuple[DataCategory, ...] = Field(
        min_length=1,
        description="Each must be allowed by the policy matrix (GET /v1/policy) for at least "
        "one recipient and purpose: a consent only narrows the matrix.",
    )
    legal_basis: LegalBasis = Field(
        default=LegalBasis.CONSENT,
        validate_default=True,  # the special-category rule holds when it is left out too
        description="EXPLICIT_CONSENT when data_categories holds a special category (GDPR art. 9).",
    )
    valid_from: UtcDatetime = Field(
        default_factory=utc_now,
        description="Start of validity (default: now). With a time zone; in UTC it must "
        "fall in the years 1-9999.",
    )
    valid_until: UtcDatetime | None = Field(
        default=None,
        description="End of validity (exclusive); null for no end date. Must be after "
        "valid_from and in the future when granted; with a time zone, years 1-9999 in UTC.",
    )
    notice: Notice
    collection_method: CollectionMethod

    @field_validator("subject")
    @classmethod
    def _not_a_bsn(cls, value: str) -> str:
        if value.isdigit() and len(value) in (8, 9):
            raise ValueError("looks like a BSN; use the client pseudonym (send the BSN as 'bsn')")
        return value

    @field_validator("purposes", "data_categories")
    @classmethod
    def _normalise(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        return _sorted_unique(value)

    @field_validator("recipients")
    @classmethod
    def _unique_recipients(cls, value: tuple[Recipient, ...]) -> tuple[Recipient, ...]:
        return tuple(dict.fromkeys(value))

    @field_validator("legal_basis")
    @classmethod
    def _explicit_for_special(cls, value: LegalBasis, info: ValidationInfo) -> LegalBasis:
        special = SPECIAL_CATEGORIES.intersection(info.data.get("data_categories", ()))
        if special and value is not LegalBasis.EXPLICIT_CONSENT:
            names = ", ".join(sorted(special))
            raise ValueError(
                f"special category data ({names}) needs legal_basis EXPLICIT_CONSENT "
                "(GDPR art. 9(2)(a))"
            )
        return value

    @field_validator("valid_until")
    @classmethod
    def _after_valid_from(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("valid_from")
        if value is not None and start is not None and value <= start:
            raise ValueError("must be after valid_from")
        return value

    def terms(self) -> ConsentTerms:
        """Just the terms (for subclasses: without id, proof and status)."""
        return ConsentTerms.model_validate(self.model_dump(include=set(TERMS_FIELDS)))

    def terms_hash(self) -> str:
        """SHA-256 (hex) over the canonical JSON of the terms."""
        return sha256_hex(canonical_json(self.model_dump(mode="json", include=set(TERMS_FIELDS))))


class ConsentRecord(ConsentTerms):
    """A consent as the register holds it: its terms, id, proof and current status."""

    id: ConsentId
    proof: Proof
    status: ConsentStatus = ConsentStatus.GIVEN
    withdrawal: Withdrawal | None = None
    expired_recorded_at: UtcDatetime | None = Field(
        default=None, description="When the register noted the expiry (it applied anyway)."
    )
    version: int = Field(default=1, ge=1, description="Number of events so far.")

    def status_at(self, now: datetime) -> ConsentStatus:
        """The status at ``now``: a consent past ``valid_until`` is EXPIRED at that instant."""
        if (
            self.status is ConsentStatus.GIVEN
            and self.valid_until is not None
            and now >= self.valid_until
        ):
            return ConsentStatus.EXPIRED
        return self.status

    def is_active(self, now: datetime) -> bool:
        """Given, not withdrawn, and ``valid_from <= now < valid_until``."""
        return self.status_at(now) is ConsentStatus.GIVEN and self.valid_from <= now


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes (sorted keys, no spaces) for hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ConsentEvent(BaseModel):
    """One change of a consent, as appended to the register (never updated)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: EventId
    seq: int = Field(default=0, ge=0, description="Position in the register (set by the store).")
    consent_id: ConsentId
    subject: ClientPseudonym
    change: ConsentChangeType
    actor: str = Field(min_length=1, max_length=200)
    occurred_at: UtcDatetime
    recorded_at: UtcDatetime
    reason: str | None = None
    record: ConsentRecord = Field(description="The consent as it is after this change.")
    prev_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    event_hash: str = Field(pattern=r"^[0-9a-f]{64}$")

    def computed_hash(self) -> str:
        """The hash this event must carry: over ``prev_hash`` and its own content."""
        return chain_hash(
            self.prev_hash, self.model_dump(mode="json", exclude={"seq", "event_hash"})
        )


def chain_hash(prev_hash: str | None, content: dict[str, Any]) -> str:
    """SHA-256 over the previous event's hash and this event's canonical content."""
    return sha256_hex((prev_hash or "").encode() + b"\n" + canonical_json(content))


def verify_chain(events: list[ConsentEvent]) -> bool:
    """True when every event's hash is right and chains to its predecessor (same consent)."""
    last: dict[str, str] = {}
    for event in events:
        if event.prev_hash != last.get(event.consent_id):
            return False
        if event.computed_hash() != event.event_hash:
            return False
        if event.record.terms_hash() != event.record.proof.terms_hash:
            return False
        last[event.consent_id] = event.event_hash
    return True


class ConsentChangeMessage(BaseModel):
    """The change-feed record, field for field the Avro record ``nl.rmt.hub.ConsentChange``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: EventId
    occurred_at: UtcDatetime
    source_partner: str
    consent_id: ConsentId
    subject_pseudonym: ClientPseudonym
    change: ConsentChangeType
    controller: PartnerId
    recipients: tuple[Recipient, ...]
    purposes: tuple[Purpose, ...]
    data_categories: tuple[DataCategory, ...]
    legal_basis: LegalBasis
    valid_from: UtcDatetime
    valid_until: UtcDatetime | None
    actor: str
    recorded_at: UtcDatetime
    record_hash: str

    @classmethod
    def of(cls, event: ConsentEvent, source_partner: str) -> ConsentChangeMessage:
        record = event.record
        return cls(
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            source_partner=source_partner,
            consent_id=event.consent_id,
            subject_pseudonym=event.subject,
            change=event.change,
            controller=record.controller,
            recipients=record.recipients,
            purposes=record.purposes,
            data_categories=record.data_categories,
            legal_basis=record.legal_basis,
            valid_from=record.valid_from,
            valid_until=record.valid_until,
            actor=event.actor,
            recorded_at=event.recorded_at,
            record_hash=event.event_hash,
        )


class AuditProof(BaseModel):
    """Where on the audit trail a disclosure's verified entry is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    partition: int
    offset: int
    seq: int


class DisclosureRecord(BaseModel):
    """One disclosure: data about a subject that reached a recipient, and on which basis.

    Stored through :meth:`consent.service.ConsentService.record_disclosure`, or read from
    the router's audit topic (``DisclosureEvent`` records) by
    :class:`consent.disclosures.DisclosureIngester`. The subject access report is built
    from these.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    disclosure_id: EventId = Field(default_factory=new_event_id)
    subject: ClientPseudonym = Field(pattern=PSEUDONYM_PATTERN)
    recipient: PartnerId = Field(pattern=PARTNER_ID_PATTERN, max_length=60)
    recipient_kind: PartnerKind
    purpose: Purpose
    data_categories: tuple[DataCategory, ...] = Field(min_length=1)
    consent_ids: tuple[ConsentId, ...] = Field(
        default=(), description="The consents the decision to disclose rested on."
    )
    disclosed_at: UtcDatetime
    record_type: str | None = Field(
        default=None, max_length=200, description="e.g. nl.rmt.hub.ClientProfile"
    )
    source_event_id: EventId | None = Field(
        default=None, description="Event id of the forwarded record."
    )
    publisher: PartnerId | None = Field(default=None, description="Who published the record.")
    fields: tuple[str, ...] = Field(default=(), description="The record's fields disclosed.")
    withheld_categories: tuple[DataCategory, ...] = Field(
        default=(), description="Categories the record held that were withheld."
    )
    policy_version: str | None = None
    proof: AuditProof | None = Field(
        default=None,
        description="The hub-signed, chained audit entry it was read from (None: recorded "
        "directly, or read without the hub's key: not verified).",
    )

    @field_validator("data_categories", "withheld_categories")
    @classmethod
    def _normalise(cls, value: tuple[DataCategory, ...]) -> tuple[DataCategory, ...]:
        return _sorted_unique(value)


class AuditChainBreak(BaseModel):
    """The first break found in one partition of the audit trail."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    partition: int
    offset: int | None
    reason: str  # removed, reordered, changed
    detail: str


class AuditChainState(BaseModel):
    """How far the consent service followed one partition of the audit trail."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    partition: int
    next_seq: int = 0
    last_hash: str
    first_break: AuditChainBreak | None = None


class AuditReject(BaseModel):
    """A record on the audit trail that is not a genuine hub entry (never a disclosure)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    partition: int
    offset: int
    check: str  # unchained, changed, unsigned, bad signature, undecodable
    detail: str
    subject: ClientPseudonym | None = None
    claimed: DisclosureRecord | None = None  # what it claims, when it decodes
