"""Enums of the canonical schemas that are not part of the shared domain vocabulary.

Each mirrors the Avro enum of the same name (values are the Avro symbols, in order; a
test keeps them equal). The shared ones live in :mod:`schemas.vocabulary`,
:mod:`schemas.regions` and :mod:`schemas.menu_card`.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AgeBand",
    "ArrangementStatus",
    "ConsentChangeType",
    "Credential",
    "Currency",
    "DeadLetterReason",
    "EducationBand",
    "HealthNeed",
    "LegalBasis",
    "MonitorEventType",
    "OutcomeType",
    "SelectionCriterion",
    "ServiceKind",
    "ServicePackage",
    "ServiceStatus",
    "TransferReason",
]


class Currency(StrEnum):
    EUR = "EUR"


class ServiceKind(StrEnum):
    """Regular service of a party, or additional service from the pooled budget."""

    REGULAR = "REGULAR"
    ADDITIONAL = "ADDITIONAL"


class ServicePackage(StrEnum):
    """I: employer's social plan; II: national recovery package; III: partners' portfolio."""

    I = "I"  # noqa: E741 - the package numbers of the working document
    II = "II"
    III = "III"


class ServiceStatus(StrEnum):
    PLANNED = "PLANNED"
    STARTED = "STARTED"
    FINISHED = "FINISHED"
    CANCELLED = "CANCELLED"


class ArrangementStatus(StrEnum):
    DRAFT = "DRAFT"
    AGREED = "AGREED"
    ACTIVE = "ACTIVE"
    FINISHED = "FINISHED"
    CANCELLED = "CANCELLED"


class SelectionCriterion(StrEnum):
    """Criteria weighed together at intake (banenafspraak has its own, health, field)."""

    OWN_NEED_MOTIVATION = "OWN_NEED_MOTIVATION"
    SHRINKING_SECTOR = "SHRINKING_SECTOR"
    NO_STARTING_QUALIFICATION = "NO_STARTING_QUALIFICATION"
    MBO_LEVEL = "MBO_LEVEL"
    SCHOOL_LEAVER = "SCHOOL_LEAVER"
    ONE_SIDED_WORK_HISTORY = "ONE_SIDED_WORK_HISTORY"
    LANGUAGE_BELOW_B2 = "LANGUAGE_BELOW_B2"
    AGE_UNDER_27 = "AGE_UNDER_27"
    AGE_OVER_55 = "AGE_OVER_55"


class HealthNeed(StrEnum):
    """Coded health-related support needs (special category data)."""

    WORKPLACE_ADAPTATION = "WORKPLACE_ADAPTATION"
    JOB_COACHING = "JOB_COACHING"
    ADJUSTED_HOURS = "ADJUSTED_HOURS"
    TRANSPORT = "TRANSPORT"
    MENTAL_HEALTH_SUPPORT = "MENTAL_HEALTH_SUPPORT"
    OTHER = "OTHER"


class OutcomeType(StrEnum):
    PLACED_IN_WORK = "PLACED_IN_WORK"
    SCHOOLING_FINISHED = "SCHOOLING_FINISHED"
    SELF_EMPLOYED = "SELF_EMPLOYED"
    NO_PLACEMENT = "NO_PLACEMENT"
    DROPPED_OUT = "DROPPED_OUT"
    OTHER = "OTHER"


class Credential(StrEnum):
    DIPLOMA = "DIPLOMA"
    CERTIFICATE = "CERTIFICATE"
    PRACTICE_STATEMENT = "PRACTICE_STATEMENT"


class TransferReason(StrEnum):
    BENEFIT_CHANGED = "BENEFIT_CHANGED"
    PROVIDER_CHANGED = "PROVIDER_CHANGED"
    RESIDENCE_CHANGED = "RESIDENCE_CHANGED"
    OTHER = "OTHER"


class ConsentChangeType(StrEnum):
    GIVEN = "GIVEN"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"


class LegalBasis(StrEnum):
    """GDPR art. 6(1) grounds; EXPLICIT_CONSENT is art. 9(2)(a) for special categories."""

    CONSENT = "CONSENT"
    EXPLICIT_CONSENT = "EXPLICIT_CONSENT"
    CONTRACT = "CONTRACT"
    LEGAL_OBLIGATION = "LEGAL_OBLIGATION"
    VITAL_INTERESTS = "VITAL_INTERESTS"
    PUBLIC_TASK = "PUBLIC_TASK"
    LEGITIMATE_INTERESTS = "LEGITIMATE_INTERESTS"


class MonitorEventType(StrEnum):
    INTAKE = "INTAKE"
    SELECTION = "SELECTION"
    ARRANGEMENT_STARTED = "ARRANGEMENT_STARTED"
    ARRANGEMENT_CHANGED = "ARRANGEMENT_CHANGED"
    ARRANGEMENT_FINISHED = "ARRANGEMENT_FINISHED"
    INSTRUMENT_USED = "INSTRUMENT_USED"
    REFERRAL = "REFERRAL"
    PLACEMENT = "PLACEMENT"
    OUTCOME = "OUTCOME"
    RESPONSIBILITY_TRANSFER = "RESPONSIBILITY_TRANSFER"


class AgeBand(StrEnum):
    UNDER_27 = "UNDER_27"
    FROM_27_TO_54 = "FROM_27_TO_54"
    FROM_55 = "FROM_55"


class EducationBand(StrEnum):
    NO_STARTING_QUALIFICATION = "NO_STARTING_QUALIFICATION"
    MIDDLE = "MIDDLE"  # starting qualification up to mbo 4, havo, vwo
    HIGHER = "HIGHER"  # hbo, wo


class DeadLetterReason(StrEnum):
    SCHEMA_INVALID = "SCHEMA_INVALID"
    BSN_INVALID = "BSN_INVALID"
    MUNICIPALITY_UNKNOWN = "MUNICIPALITY_UNKNOWN"
    PUBLISHER_NOT_ALLOWED = "PUBLISHER_NOT_ALLOWED"
    INSTRUMENT_NOT_ON_MENU = "INSTRUMENT_NOT_ON_MENU"
    BANENAFSPRAAK_ONLY = "BANENAFSPRAAK_ONLY"
    WAGE_DISPENSATION_NOT_ALLOWED = "WAGE_DISPENSATION_NOT_ALLOWED"
    TAILORED_BUDGET_EXCEEDED = "TAILORED_BUDGET_EXCEEDED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    REPLAYED = "REPLAYED"
    DECODE_ERROR = "DECODE_ERROR"
    OTHER = "OTHER"
    KEY_MISMATCH = "KEY_MISMATCH"  # record key is not the record's pseudonym / vacancy id
    PARTITION_MISMATCH = "PARTITION_MISMATCH"  # not in the partition its key hashes to
    REGION_MISMATCH = "REGION_MISMATCH"  # a region that contradicts the residence
    ARRANGEMENT_UNKNOWN = "ARRANGEMENT_UNKNOWN"  # a transfer of an arrangement never accepted
    UNSIGNED = "UNSIGNED"  # no record signature
    KEY_UNKNOWN = "KEY_UNKNOWN"  # signed with a key not in the public directory
    KEY_REVOKED = "KEY_REVOKED"  # signed with a revoked key
    KEY_EXPIRED = "KEY_EXPIRED"  # signed outside the key's validity
    SIGNER_MISMATCH = "SIGNER_MISMATCH"  # signed by another partner than the outbox owner
    CHAIN_BROKEN = "CHAIN_BROKEN"  # a consent change that does not follow its subject's last
    REASON_WITHHELD = "REASON_WITHHELD"  # notices only: a rule read what the publisher may not know
    OUTSIDE_REGION = "OUTSIDE_REGION"  # a regional party acting for another region's resident
    CATEGORY_CONTRADICTED = "CATEGORY_CONTRADICTED"  # a category its own record's data contradicts
    REGION_NOT_LIVE = "REGION_NOT_LIVE"  # the region's roll-out phase has not started
    PACKAGE_NOT_ALLOWED = "PACKAGE_NOT_ALLOWED"  # package I (social plan) for a non-employee
