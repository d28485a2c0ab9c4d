"""The consent service's /metrics, /healthz and /readyz over real HTTP: the counters move
when changes are published, decisions answered and audit records read."""

from __future__ import annotations

import time
import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from consent.model import utc_now
from schemas import codec
from schemas.models.audit import DisclosureEvent
from tests.consent.factories import grant_body
from tests.consent.helpers.audit import publish_hub_audit
from tests.helpers.consent import ConsentApi


def scrape(api: ConsentApi) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of GET /metrics, by name and labels."""
    with httpx.Client(base_url=api.url, timeout=30) as anonymous:
        response = anonymous.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _audit_record(subject: str, consent_id: str) -> bytes:
    event = DisclosureEvent.model_validate(
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": utc_now(),
            "source_partner": "hub",
            "client_pseudonym": subject,
            "recipient": "uwv",
            "recipient_kind": "UWV",
            "purpose": "MATCHING_PLACEMENT",
            "data_categories": ["contact"],
            "fields": ["email"],
            "withheld_categories": [],
            "consent_ids": [consent_id],
            "policy_version": "2026.1",
            "source_event_id": str(uuid.uuid4()),
            "publisher": "gemeente-amsterdam",
            "record_type": "nl.rmt.hub.ClientProfile",
            "inbox_topic": "rmt.partner.uwv.inbox",
            "payload_sha256": "0" * 64,
        }
    )
    return codec.encode(event)


def test_health_and_readiness(sqlite_consent_api: ConsentApi) -> None:
    with httpx.Client(base_url=sqlite_consent_api.url, timeout=30) as anonymous:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        ready = anonymous.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"store": "ok", "broker": "ok"}}


def test_the_counters_move(sqlite_consent_api: ConsentApi, subject: str) -> None:
    api = sqlite_consent_api
    changes = api.runtime.topic
    assert api.runtime.ingester is not None
    audit = api.runtime.ingester.topic
    before = scrape(api)

    with api.client("officer") as officer:
        granted = officer.post("/v1/consents", json=grant_body(subject))
    assert granted.status_code == 201
    with api.client("uwv") as uwv:
        for categories in (["contact"], ["health"]):
            answer = uwv.post(
                "/v1/decisions",
                json={
                    "subject": subject,
                    "partner_id": "uwv",
                    "purpose": "MATCHING_PLACEMENT",
                    "categories": categories,
                },
            )
            assert answer.status_code == 200

    for payload in (_audit_record(subject, granted.json()["id"]), b"\x00not avro"):
        publish_hub_audit(api.runtime.settings, audit, subject.encode(), payload)
    deadline = time.monotonic() + 20
    while True:
        after = scrape(api)
        read = value(after, "rmt_records_in_total", topic=audit, partner="hub") - value(
            before, "rmt_records_in_total", topic=audit, partner="hub"
        )
        if read >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("rmt_records_out_total", topic=changes, partner="hub") == 1
    assert moved("rmt_consent_decisions_total", outcome="allowed") == 1
    assert moved("rmt_consent_decisions_total", outcome="denied") == 1
    assert moved("rmt_records_in_total", topic=audit, partner="hub") == 2
    assert (
        moved("rmt_records_dead_lettered_total", topic=audit, partner="hub", reason="undecodable")
        == 1
    )
    lags = {
        labels: v
        for (name, labels), v in after.items()
        if name == "rmt_consumer_lag" and dict(labels)["topic"] == audit
    }
    assert lags, "no consumer lag reported for the audit topic"
    assert all(dict(labels)["group"] == "consent-disclosures" for labels in lags)
    assert sum(lags.values()) == 0  # read to the end
