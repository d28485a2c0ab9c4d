"""Consents as ISO/IEC TS 27560 records in W3C DPV JSON-LD: the mapping (no broker, a
SQLite register in memory) and the endpoint (on both databases, over HTTP)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from consent.dpv import CONTEXT, consent_record_jsonld
from consent.model import ConsentRecord, utc_now
from consent.service import ConsentService
from consent.store import open_store
from tests.consent.factories import grant_body, terms
from tests.consent.test_store import service_on
from tests.helpers.consent import ConsentApi

BSN = "111222333"


@pytest.fixture
def service() -> Iterator[ConsentService]:
    store = open_store("sqlite:///:memory:")
    store.migrate()
    try:
        yield service_on(store)
    finally:
        store.close()


def _terms_used(node: Any) -> set[str]:
    """Every compact term (``prefix:name``) used as a key or @id/@type value."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if not key.startswith("@") and key != "@context":
                found.add(key)
            if key in ("@id", "@type"):
                found.update(value if isinstance(value, list) else [value])
            elif key != "@context":
                found |= _terms_used(value)
    elif isinstance(node, list):
        for item in node:
            found |= _terms_used(item)
    return found


def test_a_given_consent_is_a_dpv_consent_record(service: ConsentService) -> None:
    record = service.grant(terms("client-dpv-1"), actor="privacy_officer:o1")
    document = consent_record_jsonld(record, now=utc_now())
    assert document["@type"] == "dpv:ConsentRecord"
    assert document["dpv:hasConsentStatus"] == {"@id": "dpv:ConsentGiven"}
    assert document["dpv:hasDataSubject"]["@id"] == "rmt:subject/client-dpv-1"
    (purpose,) = document["dpv:hasPurpose"]
    assert purpose["@id"] == "rmt:purpose/MATCHING_PLACEMENT"
    assert purpose["dpv:hasLegalBasis"] == {"@id": "eu-gdpr:A6-1-a"}
    assert purpose["dpv:hasDataController"] == {"@id": "rmt:partner/gemeente-amsterdam"}
    assert [r["@id"] for r in purpose["dpv:hasRecipient"]] == ["rmt:partner/uwv"]
    assert {d["@id"] for d in purpose["dpv:hasPersonalData"]} == {
        "rmt:category/contact",
        "rmt:category/labour_market_profile",
    }
    assert document["rmt:termsHash"] == record.proof.terms_hash
    # every compact IRI uses a prefix of the context; plain JSON round-trips
    prefixes = {t.split(":", 1)[0] for t in _terms_used(document) if ":" in t}
    assert prefixes - {"https", "http", "urn"} <= set(CONTEXT)
    assert json.loads(json.dumps(document)) == document


def test_withdrawn_and_expired_consents_say_so_with_their_dates(service: ConsentService) -> None:
    withdrawn = service.grant(terms("client-dpv-2"), actor="privacy_officer:o1")
    withdrawn = service.withdraw(withdrawn.id, actor="privacy_officer:o1", reason="asked")
    document = consent_record_jsonld(withdrawn, now=utc_now())
    assert document["dpv:hasConsentStatus"] == {"@id": "dpv:ConsentWithdrawn"}
    assert [e["@type"] for e in document["dct:hasPart"]] == [
        "dpv:ConsentGiven",
        "dpv:ConsentWithdrawn",
    ]

    ending = utc_now() + timedelta(days=2)
    expiring: ConsentRecord = service.grant(
        terms("client-dpv-3", valid_until=ending), actor="privacy_officer:o1"
    )
    later = consent_record_jsonld(expiring, now=ending + timedelta(seconds=1))
    assert later["dpv:hasConsentStatus"] == {"@id": "dpv:ConsentExpired"}
    assert later["dct:hasPart"][-1]["@type"] == "dpv:ConsentExpired"
    assert later["dct:valid"]["dct:end"]["@value"] == ending.isoformat()


def test_explicit_consent_for_health_is_article_9(service: ConsentService) -> None:
    record = service.grant(
        terms(
            "client-dpv-4",
            data_categories=["contact", "health"],
            legal_basis="EXPLICIT_CONSENT",
        ),
        actor="privacy_officer:o1",
    )
    document = consent_record_jsonld(record, now=utc_now())
    assert document["dpv:hasPurpose"][0]["dpv:hasLegalBasis"] == {"@id": "eu-gdpr:A9-2-a"}
    assert document["dct:hasPart"][0]["@type"] == [
        "dpv:ConsentGiven",
        "dpv:ExplicitlyExpressedConsent",
    ]


def test_the_endpoint_serves_json_ld_to_the_officer_and_to_a_party_without_names(
    consent_api: ConsentApi, subject: str
) -> None:
    with consent_api.client("officer") as officer:
        made = officer.post("/v1/consents", json={**grant_body(subject), "bsn": BSN})
        assert made.status_code == 201, made.text
        consent_id = made.json()["id"]
        answer = officer.get(f"/v1/consents/{consent_id}/record.jsonld")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/ld+json")
    assert answer.json()["dpv:hasIdentifier"] == consent_id
    assert answer.json()["dct:hasPart"][0]["rmt:recordedBy"] == "privacy_officer:officer-1"
    assert not re.search(BSN, answer.text)  # the register's pseudonym only

    with consent_api.client("uwv") as uwv:  # a recipient: party to the consent
        party = uwv.get(f"/v1/consents/{consent_id}/record.jsonld")
    assert party.status_code == 200, party.text
    assert "rmt:recordedBy" not in party.text

    with consent_api.client("sbb") as sbb:  # not party to it
        assert sbb.get(f"/v1/consents/{consent_id}/record.jsonld").status_code in (403, 404)
