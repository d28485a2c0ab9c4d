"""The consent record: its rules, status in time, hashes, and the change-feed record."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from consent.model import (
    ConsentChangeMessage,
    ConsentChangeType,
    ConsentStatus,
    LegalBasis,
    Recipient,
    utc_now,
)
from consent.outbox import avro_encoder
from schemas import codec
from schemas.models.consent import ConsentChange
from schemas.vocabulary import Purpose
from tests.consent.factories import record, terms

SCHEMAS = Path(__file__).parents[2] / "schemas"


def _locs(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[object, ...]]:
    return [tuple(e["loc"]) for e in exc.value.errors()]


def test_special_categories_need_the_explicit_basis() -> None:
    with pytest.raises(ValidationError) as exc:
        terms(data_categories=["contact", "health"], legal_basis="CONSENT")
    assert _locs(exc) == [("legal_basis",)]
    ok = terms(data_categories=["health"], legal_basis="EXPLICIT_CONSENT")
    assert ok.legal_basis is LegalBasis.EXPLICIT_CONSENT


def test_period_and_time_zones() -> None:
    now = utc_now()
    with pytest.raises(ValidationError) as exc:
        terms(valid_from=now, valid_until=now - timedelta(days=1))
    assert _locs(exc) == [("valid_until",)]
    with pytest.raises(ValidationError) as exc:
        terms(valid_until=datetime(2030, 1, 1))  # naive: refused
    assert _locs(exc) == [("valid_until",)]
    amsterdam = terms(valid_until="2030-01-01T12:00:00+01:00")
    assert amsterdam.valid_until is not None
    assert amsterdam.valid_until.utcoffset() == timedelta(0)
    assert amsterdam.valid_until.hour == 11


def test_recipients_name_a_partner_or_a_kind() -> None:
    with pytest.raises(ValidationError):
        Recipient()
    with pytest.raises(ValidationError):
        Recipient.model_validate({"partner_id": "uwv", "partner_kind": "UWV"})
    assert Recipient.model_validate({"partner_kind": "SBB"}).label() == "every SBB"


def test_no_bsn_as_pseudonym_and_lists_are_normalised() -> None:
    with pytest.raises(ValidationError) as exc:
        terms("123456782")
    assert _locs(exc) == [("subject",)]
    agreed = terms(
        purposes=["SCHOOLING", "ARRANGEMENT", "SCHOOLING"],
        recipients=[{"partner_id": "uwv"}, {"partner_id": "uwv"}],
    )
    assert [str(p) for p in agreed.purposes] == ["ARRANGEMENT", "SCHOOLING"]
    assert len(agreed.recipients) == 1
    with pytest.raises(ValidationError):
        terms(purposes=[])
    with pytest.raises(ValidationError):
        terms(unexpected="field")


def test_status_in_time() -> None:
    now = utc_now()
    consent = record(valid_until=now + timedelta(hours=1))
    assert consent.status_at(now) is ConsentStatus.GIVEN
    assert consent.is_active(now)
    assert consent.status_at(now + timedelta(hours=1)) is ConsentStatus.EXPIRED
    assert not consent.is_active(now + timedelta(hours=1))
    future = record(valid_from=now + timedelta(days=1))
    assert future.status_at(now) is ConsentStatus.GIVEN
    assert not future.is_active(now)


def test_terms_hash_covers_the_terms_only() -> None:
    consent = record()
    assert consent.proof.terms_hash == consent.terms_hash() == consent.terms().terms_hash()
    withdrawn = consent.model_copy(update={"status": ConsentStatus.WITHDRAWN})
    assert withdrawn.terms_hash() == consent.terms_hash()
    changed = consent.model_copy(update={"purposes": (Purpose.SCHOOLING,)})
    assert changed.terms_hash() != consent.terms_hash()


def test_enums_mirror_the_avro_schema() -> None:
    legal = json.loads((SCHEMAS / "legal_basis.avsc").read_text())["symbols"]
    change = json.loads((SCHEMAS / "consent_change_type.avsc").read_text())["symbols"]
    assert [e.value for e in LegalBasis] == legal
    assert [e.value for e in ConsentChangeType] == change
    fields = [
        f["name"] for f in json.loads((SCHEMAS / "consent_change.avsc").read_text())["fields"]
    ]
    assert list(ConsentChangeMessage.model_fields) == fields


def test_the_change_message_round_trips_through_avro() -> None:
    from consent.model import ConsentEvent, chain_hash, new_event_id  # noqa: PLC0415

    consent = record(
        recipients=[{"partner_kind": "GEMEENTE", "region": "RIJNMOND"}, {"partner_id": "uwv"}],
        valid_until=utc_now() + timedelta(days=30),
    )
    now = utc_now()
    content = {
        "event_id": new_event_id(),
        "consent_id": consent.id,
        "subject": consent.subject,
        "change": ConsentChangeType.GIVEN,
        "actor": "officer:x",
        "occurred_at": now,
        "recorded_at": now,
        "record": consent,
    }
    draft = ConsentEvent.model_validate({**content, "event_hash": "0" * 64})
    event = draft.model_copy(
        update={
            "event_hash": chain_hash(
                None, draft.model_dump(mode="json", exclude={"seq", "event_hash"})
            )
        }
    )
    message = ConsentChangeMessage.of(event, "hub")
    decoded = codec.decode("nl.rmt.hub.ConsentChange", avro_encoder(message))
    assert isinstance(decoded, ConsentChange)
    assert decoded.event_id == event.event_id
    assert decoded.subject_pseudonym == consent.subject
    assert decoded.record_hash == event.event_hash
    assert [r.model_dump() for r in decoded.recipients] == [
        r.model_dump() for r in consent.recipients
    ]
    assert decoded.valid_until is not None
    assert consent.valid_until is not None
    assert abs(decoded.valid_until - consent.valid_until) < timedelta(milliseconds=1)
