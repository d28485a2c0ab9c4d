"""Disclosures from the router's audit topic into the store and the access report."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from consent.disclosures import DisclosureIngester
from consent.model import utc_now
from consent.report import build_access_report
from consent.runtime import DISCLOSURE_TOPIC_SUFFIX, _ensure_topics
from consent.service import ConsentService
from consent.store import ConsentStore
from hub.config import HubSettings
from hub.ids import ClientPseudonym
from hub.kafka import producer
from schemas import codec
from schemas.models.audit import DisclosureEvent
from tests.consent.test_store import service_on
from tests.helpers.consent import consent_settings, delete_topic
from topics.partners import load_partners


@pytest.fixture
def audit(
    hub_settings: HubSettings, database_url: str, tmp_path: Path
) -> Iterator[tuple[HubSettings, str]]:
    settings = consent_settings(hub_settings, database_url, tmp_path)
    changes, topic = _ensure_topics(settings, load_partners())
    if topic is None:
        pytest.fail(f"the topic catalogue has no {DISCLOSURE_TOPIC_SUFFIX} topic")
    yield settings, topic
    delete_topic(settings, topic)
    delete_topic(settings, changes)


def _event(subject: str, consent_id: str) -> DisclosureEvent:
    return DisclosureEvent.model_validate(
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": utc_now(),
            "source_partner": "hub",
            "client_pseudonym": subject,
            "recipient": "uwv",
            "recipient_kind": "UWV",
            "purpose": "MATCHING_PLACEMENT",
            "data_categories": ["contact", "meta", "pseudonym"],
            "fields": ["event_id", "client_pseudonym", "email"],
            "withheld_categories": ["health"],
            "consent_ids": [consent_id],
            "policy_version": "2026.1",
            "source_event_id": str(uuid.uuid4()),
            "publisher": "gemeente-amsterdam",
            "record_type": "nl.rmt.hub.ClientProfile",
            "inbox_topic": "rmt.partner.uwv.inbox",
            "payload_sha256": "0" * 64,
        }
    )


def _publish(settings: HubSettings, topic: str, values: list[tuple[str, bytes]]) -> None:
    sender = producer(settings)
    try:
        for key, value in values:
            sender.send(topic, key=key.encode(), value=value).get(timeout=10)
    finally:
        sender.close()


def _drain(ingester: DisclosureIngester, expected: int) -> int:
    total, deadline = 0, time.monotonic() + 20
    while total < expected and time.monotonic() < deadline:
        total += ingester.poll_once()
    return total


def test_audit_records_reach_the_access_report_once(
    store: ConsentStore, audit: tuple[HubSettings, str]
) -> None:
    settings, topic = audit
    service: ConsentService = service_on(store)
    subject = "client-audit-1"
    from tests.consent.factories import terms  # noqa: PLC0415

    consent = service.grant(terms(subject), actor="officer:a")
    first, second = _event(subject, consent.id), _event(subject, consent.id)
    _publish(settings, topic, [(subject, codec.encode(first)), (subject, b"\x00garbage")])

    ingester = DisclosureIngester(store, settings, topic)
    try:
        assert _drain(ingester, 1) == 1
        assert ingester.undecodable == 1
    finally:
        ingester.stop()

    _publish(settings, topic, [(subject, codec.encode(first)), (subject, codec.encode(second))])
    resumed = DisclosureIngester(store, settings, topic)  # a restart: from the stored offsets
    try:
        assert _drain(resumed, 1) == 1  # the repeated first one is not stored twice
        assert resumed.undecodable == 0  # the garbage was not read again
    finally:
        resumed.stop()

    report = build_access_report(service, ClientPseudonym(subject))
    assert sorted(d.recipient for d in report.disclosures) == ["uwv", "uwv"]
    assert report.disclosures[0].basis[0].consent_id == consent.id
    stored = store.disclosures_for(ClientPseudonym(subject))
    assert {d.disclosure_id for d in stored} == {first.event_id, second.event_id}
    assert stored[0].withheld_categories == ("health",)
    assert stored[0].fields == ("event_id", "client_pseudonym", "email")
