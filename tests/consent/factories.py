"""Building consents for the tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from consent.model import (
    CollectionMethod,
    ConsentRecord,
    ConsentTerms,
    Proof,
    utc_now,
)
from hub.ids import ConsentId

__all__ = ["grant_body", "record", "terms"]


def grant_body(subject: str, **overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/consents body: gemeente-amsterdam lets UWV match and place."""
    body: dict[str, Any] = {
        "subject": subject,
        "controller": "gemeente-amsterdam",
        "job_seeker_category": "BIJSTAND_APPLICANT",
        "recipients": [{"partner_id": "uwv"}],
        "purposes": ["MATCHING_PLACEMENT"],
        "data_categories": ["contact", "labour_market_profile"],
        "legal_basis": "CONSENT",
        "notice": {"version": "rmt-privacy-2026.1", "url": "https://example.org/privacy"},
        "collection_method": "IN_PERSON_SIGNED",
    }
    body.update(overrides)
    return body


def terms(subject: str = "client-0001", **overrides: Any) -> ConsentTerms:
    body = grant_body(subject, **overrides)
    return ConsentTerms.model_validate(body)


def record(
    subject: str = "client-0001",
    *,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    **overrides: Any,
) -> ConsentRecord:
    """A GIVEN consent record (not stored)."""
    now = utc_now()
    agreed = terms(
        subject,
        valid_from=valid_from or now - timedelta(hours=1),
        valid_until=valid_until,
        **overrides,
    )
    return ConsentRecord.model_validate(
        {
            **agreed.model_dump(),
            "id": ConsentId(str(uuid.uuid4())),
            "proof": Proof(
                recorded_by="test",
                recorded_at=now,
                collection_method=CollectionMethod.IN_PERSON_SIGNED,
                terms_hash=agreed.terms_hash(),
            ),
        }
    )
