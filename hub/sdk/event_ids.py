"""Deterministic event ids: the same record from the same partner always gets the same id.

``event_id = UUIDv5(EVENT_NAMESPACE, partner | record type | business key | sha256(content))``

* *partner*: the publishing partner's id, so two partners never share an id;
* *record type*: the Avro fullname;
* *business key*: what the record is about (client pseudonym, vacancy id, intake id, ...),
  never where it came from: the file name, line number and import time are not part of
  it, so re-importing the same data from a renamed or re-exported file yields the same
  ids;
* *content*: the record's JSON without ``event_id`` and without fields at their default,
  so adding an optional field with a default to a schema does not change the ids of
  existing data. A corrected row (different content) is a new event.

Re-publishing is made a no-op by the SDK's de-duplication on these ids
(:mod:`hub.sdk.published`).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TypeVar

from hub.ids import EventId, PartnerId
from schemas.models import CanonicalRecord, Envelope

__all__ = ["EVENT_NAMESPACE", "business_key", "derive_event_id", "event_id_for", "with_event_id"]

EVENT_NAMESPACE = uuid.UUID("6f1d3c2e-5b7a-5e0c-9a43-2d8e61b0c7f4")
"""The UUIDv5 namespace of the hub's derived event ids (a fixed constant)."""

_KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "nl.rmt.hub.ClientProfile": ("client_pseudonym",),
    "nl.rmt.hub.IntakeDecision": ("intake_id",),
    "nl.rmt.hub.PersonalArrangement": ("arrangement_id", "revision"),
    "nl.rmt.hub.Referral": ("referral_id",),
    "nl.rmt.hub.PlacementOutcome": ("outcome_id",),
    "nl.rmt.hub.ResponsibilityTransfer": ("transfer_id",),
    "nl.rmt.hub.Vacancy": ("vacancy_id",),
    "nl.rmt.hub.StaffSurplus": ("surplus_id",),
    "nl.rmt.hub.Availability": ("availability_id",),
    "nl.rmt.hub.ConsentChange": ("consent_id",),
    "nl.rmt.hub.MonitorEvent": ("monitor_pseudonym", "event_type"),
}
_SEP = "\x1f"

E = TypeVar("E", bound=Envelope)


def business_key(record: CanonicalRecord) -> str:
    """What the record is about, e.g. the client pseudonym of a profile."""
    names = _KEY_FIELDS.get(record.avro_name, ())
    return _SEP.join(str(getattr(record, name)) for name in names)


def derive_event_id(partner_id: str, *parts: str | bytes) -> EventId:
    """A UUIDv5 event id over the partner id and ``parts`` (for records without envelope)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return EventId(str(uuid.uuid5(EVENT_NAMESPACE, f"{partner_id}{_SEP}{digest.hexdigest()}")))


def event_id_for(record: Envelope, partner_id: PartnerId | str) -> EventId:
    """The deterministic event id of ``record`` published by ``partner_id``."""
    content = record.model_dump_json(exclude={"event_id"}, exclude_defaults=True)
    return derive_event_id(partner_id, record.avro_name, business_key(record), content)


def with_event_id(record: E, partner_id: PartnerId | str) -> E:
    """``record`` with its derived event id."""
    return record.model_copy(update={"event_id": event_id_for(record, partner_id)})
