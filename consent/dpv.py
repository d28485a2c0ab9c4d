"""A consent as an ISO/IEC TS 27560 consent record in JSON-LD, in the W3C Data Privacy
Vocabulary (DPV 2): what a privacy officer hands to an auditor or another system.

Plain data in, plain data out: the mapping reads a :class:`ConsentRecord` and the time
of the answer; the hub's own terms (purposes, data categories, partners) are IRIs in the
hub's namespace, typed with the DPV concept they are (docs/operations.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from consent.model import ConsentRecord, ConsentStatus, Recipient
from schemas.models.enums import LegalBasis

__all__ = ["CONTEXT", "HUB_VOCAB", "consent_record_jsonld"]

HUB_VOCAB = "urn:rmt-hub:"
"""The namespace of the hub's own terms (purposes, categories, partners, consents)."""

CONTEXT: dict[str, str] = {
    "dpv": "https://w3id.org/dpv#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "dct": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "rmt": HUB_VOCAB,
}

_STATUS = {
    ConsentStatus.GIVEN: "dpv:ConsentGiven",
    ConsentStatus.WITHDRAWN: "dpv:ConsentWithdrawn",
    ConsentStatus.EXPIRED: "dpv:ConsentExpired",
}

_LEGAL_BASIS = {
    LegalBasis.CONSENT: "eu-gdpr:A6-1-a",
    LegalBasis.EXPLICIT_CONSENT: "eu-gdpr:A9-2-a",
    LegalBasis.CONTRACT: "eu-gdpr:A6-1-b",
    LegalBasis.LEGAL_OBLIGATION: "eu-gdpr:A6-1-c",
    LegalBasis.VITAL_INTERESTS: "eu-gdpr:A6-1-d",
    LegalBasis.PUBLIC_TASK: "eu-gdpr:A6-1-e",
}


def _when(value: datetime) -> dict[str, str]:
    return {"@type": "xsd:dateTime", "@value": value.isoformat()}


def _recipient(recipient: Recipient) -> dict[str, Any]:
    if recipient.partner_id is not None:
        node: dict[str, Any] = {"@id": f"rmt:partner/{recipient.partner_id}"}
    else:
        node = {"@id": f"rmt:partner-kind/{recipient.partner_kind}"}
    node["@type"] = "dpv:Recipient"
    if recipient.region is not None:
        node["rmt:region"] = str(recipient.region)
    return node


def consent_record_jsonld(record: ConsentRecord, *, now: datetime) -> dict[str, Any]:
    """``record`` as a 27560 consent record in DPV, its status as of ``now``."""
    status = record.status_at(now)
    given: Any = "dpv:ConsentGiven"
    if record.legal_basis is LegalBasis.EXPLICIT_CONSENT:
        given = ["dpv:ConsentGiven", "dpv:ExplicitlyExpressedConsent"]
    events: list[dict[str, Any]] = [
        {
            "@type": given,
            "dct:date": _when(record.proof.recorded_at),
            "rmt:recordedBy": record.proof.recorded_by,
            "rmt:collectionMethod": str(record.proof.collection_method),
        }
    ]
    if record.withdrawal is not None:
        events.append(
            {
                "@type": "dpv:ConsentWithdrawn",
                "dct:date": _when(record.withdrawal.withdrawn_at),
                "rmt:recordedBy": record.withdrawal.withdrawn_by,
            }
        )
    elif status is ConsentStatus.EXPIRED and record.valid_until is not None:
        events.append({"@type": "dpv:ConsentExpired", "dct:date": _when(record.valid_until)})
    # as in the 27560 example with DPV: each purpose carries who handles what, on what basis
    handled: dict[str, Any] = {
        "dpv:hasDataController": {"@id": f"rmt:partner/{record.controller}"},
        "dpv:hasRecipient": [_recipient(r) for r in record.recipients],
        "dpv:hasPersonalData": [
            {"@id": f"rmt:category/{c}", "@type": "dpv:PersonalData"}
            for c in record.data_categories
        ],
        "dpv:hasLegalBasis": {"@id": _LEGAL_BASIS[record.legal_basis]},
        "dpv:hasJurisdiction": {"@id": "https://w3id.org/dpv/loc#NL"},
    }
    purposes = [
        {"@id": f"rmt:purpose/{p}", "@type": "dpv:Purpose", **handled} for p in record.purposes
    ]
    notice: dict[str, Any] = {"@type": "dpv:PrivacyNotice", "dct:hasVersion": record.notice.version}
    if record.notice.url:
        notice["@id"] = record.notice.url
    notice["dct:language"] = record.notice.language
    out: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": f"rmt:consent/{record.id}",
        "@type": "dpv:ConsentRecord",
        "dct:conformsTo": "ISO/IEC TS 27560:2023",
        "dpv:hasIdentifier": str(record.id),
        "dpv:hasDataSubject": {"@id": f"rmt:subject/{record.subject}", "@type": "dpv:DataSubject"},
        "dpv:hasConsentStatus": {"@id": _STATUS[status]},
        "dpv:hasNotice": notice,
        "dpv:hasPurpose": purposes,
        "dct:valid": {
            "dct:start": _when(record.valid_from),
            **({"dct:end": _when(record.valid_until)} if record.valid_until else {}),
        },
        "dct:hasPart": events,
        "rmt:termsHash": record.proof.terms_hash,
    }
    return out
