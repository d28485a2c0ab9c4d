"""The audit trail: one :class:`~schemas.models.DisclosureEvent` per delivered record.

A disclosure event says what reached whom: subject, recipient, purpose, the categories
and fields disclosed and those withheld, the consents it rested on, the source event,
the time, and the SHA-256 of the value exactly as written to the inbox - so an auditor
can check an inbox record against its event. Its id is the delivery's id (the same as
the delivered record's ``ce_id``), so it is written at most once per delivery.

The consent service reads the audit topic into its store for the subject access report
(:mod:`consent.disclosures`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from hub.ids import ClientPseudonym, EventId, PartnerId
from hub.router.projection import Projection
from hub.router.state import HUB_SOURCE
from schemas.models import DisclosureEvent
from schemas.vocabulary import Purpose
from topics.partners import Partner

__all__ = ["Delivery", "disclosure_event", "payload_hash"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a delivery discloses; completed into a DisclosureEvent once the value is encoded."""

    subject: ClientPseudonym
    recipient: Partner
    purpose: Purpose
    projection: Projection
    consent_ids: tuple[str, ...]
    policy_version: str
    source_event_id: str
    publisher: str


def payload_hash(value: bytes) -> str:
    """Hex SHA-256 of a record value as written to the topic."""
    return hashlib.sha256(value).hexdigest()


def disclosure_event(
    delivery: Delivery, *, event_id: str, inbox_topic: str, value: bytes, now: datetime
) -> DisclosureEvent:
    """The audit record of writing ``value`` to ``inbox_topic``."""
    projection = delivery.projection
    return DisclosureEvent(
        event_id=EventId(event_id),
        occurred_at=now,
        source_partner=HUB_SOURCE,
        client_pseudonym=delivery.subject,
        recipient=delivery.recipient.id,
        recipient_kind=delivery.recipient.kind,
        purpose=delivery.purpose,
        data_categories=sorted(projection.categories),
        fields=list(projection.fields),
        withheld_categories=sorted(projection.withheld),
        consent_ids=sorted(delivery.consent_ids),
        policy_version=delivery.policy_version,
        source_event_id=EventId(delivery.source_event_id),
        publisher=PartnerId(delivery.publisher),
        record_type=projection.record.avro_name,
        inbox_topic=inbox_topic,
        payload_sha256=payload_hash(value),
    )
