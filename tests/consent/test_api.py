"""The consent service over real HTTP (uvicorn on a socket), on SQLite and PostgreSQL,
with the real broker behind the change feed."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from consent.model import ConsentStatus, DisclosureRecord, utc_now
from hub.ids import ClientPseudonym, ConsentId, PartnerId
from schemas import codec
from schemas.vocabulary import DataCategory, PartnerKind, Purpose
from tests.consent.factories import grant_body
from tests.consent.feed import event_ids, read_topic
from tests.helpers.consent import ConsentApi, granted


def _decide(
    api: ConsentApi,
    subject: str,
    categories: list[str],
    *,
    who: str = "uwv",
    partner: str = "uwv",
    purpose: str = "MATCHING_PLACEMENT",
    **extra: Any,
) -> dict[str, Any]:
    with api.client(who) as client:
        response = client.post(
            "/v1/decisions",
            json={
                "subject": subject,
                "partner_id": partner,
                "purpose": purpose,
                "categories": categories,
                **extra,
            },
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _locs(response: Any) -> list[list[Any]]:
    return [d["loc"] for d in response.json()["detail"]]


def test_grant_then_the_decision_allows(consent_api: ConsentApi, subject: str) -> None:
    consent = granted(consent_api, subject)
    assert consent["status_now"] == "GIVEN"
    assert consent["proof"]["recorded_by"] == "privacy_officer:officer-1"
    decision = _decide(consent_api, subject, ["contact", "labour_market_profile", "pseudonym"])
    assert decision["allowed"] is True
    assert decision["consent_ids"] == [consent["id"]]
    assert all(o["reason"] == "ALLOWED" for o in decision["outcomes"])


def test_withdraw_then_the_decision_denies(consent_api: ConsentApi, subject: str) -> None:
    consent = granted(consent_api, subject)
    with consent_api.client("officer") as officer:
        response = officer.post(
            f"/v1/consents/{consent['id']}/withdraw", json={"reason": "asked by the client"}
        )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == body["status_now"] == "WITHDRAWN"
    assert body["withdrawal"]["reason"] == "asked by the client"
    # it returned only once stored AND published: the feed has it now
    store = consent_api.runtime.store
    withdrawal = store.events(consent_id=ConsentId(consent["id"]))[-1]
    row = store.outbox_row(withdrawal.event_id)
    assert row is not None
    assert row.published_at is not None
    decision = _decide(consent_api, subject, ["contact"])
    assert decision["allowed"] is False
    assert decision["outcomes"][0]["reason"] == "NO_ACTIVE_CONSENT"
    assert any("withdrawn" in r for r in decision["reasons"])


def test_withdrawing_twice_is_idempotent(consent_api: ConsentApi, subject: str) -> None:
    consent = granted(consent_api, subject)
    with consent_api.client("officer") as officer:
        first = officer.post(f"/v1/consents/{consent['id']}/withdraw")
        second = officer.post(f"/v1/consents/{consent['id']}/withdraw", json={"reason": "again"})
        history = officer.get(f"/v1/consents/{consent['id']}/history").json()
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert [e["change"] for e in history] == ["GIVEN", "WITHDRAWN"]
    records = read_topic(consent_api.runtime.settings, consent_api.runtime.topic)
    mine = [r for r in records if r.key == subject.encode()]
    assert sorted(event_ids(mine)) == sorted(e["event_id"] for e in history)


def test_expiry_needs_nobody(consent_api: ConsentApi, subject: str) -> None:
    until = utc_now() + timedelta(seconds=1.5)
    consent = granted(consent_api, subject, valid_until=until.isoformat())
    assert _decide(consent_api, subject, ["contact"])["allowed"] is True
    time.sleep(max(0.0, (until - utc_now()).total_seconds()) + 0.05)
    decision = _decide(consent_api, subject, ["contact"])
    assert decision["allowed"] is False
    assert any("expired" in r for r in decision["reasons"])
    with consent_api.client("officer") as officer:
        shown = officer.get(f"/v1/consents/{consent['id']}").json()
    assert shown["status_now"] == "EXPIRED"
    # a decision asked for a moment inside the period still allows
    during = (until - timedelta(seconds=1)).isoformat()
    assert _decide(consent_api, subject, ["contact"], at=during)["allowed"] is True


def test_consent_narrows_the_policy_matrix(consent_api: ConsentApi, subject: str) -> None:
    granted(
        consent_api,
        subject,
        recipients=[{"partner_id": "uwv"}, {"partner_kind": "SBB"}],
        data_categories=["contact", "benefit_status"],
    )
    # UWV: both consented and in the matrix; identity is in the matrix but not consented
    uwv = _decide(consent_api, subject, ["contact", "benefit_status", "identity"])
    assert [o["reason"] for o in uwv["outcomes"]] == ["ALLOWED", "ALLOWED", "NOT_CONSENTED"]
    # SBB: benefit status is consented, but the matrix never lets it flow to SBB
    sbb = _decide(consent_api, subject, ["contact", "benefit_status"], who="sbb", partner="sbb")
    assert [o["reason"] for o in sbb["outcomes"]] == ["ALLOWED", "NOT_IN_POLICY"]
    assert sbb["allowed"] is False


def test_a_consent_beyond_the_matrix_is_refused(consent_api: ConsentApi, subject: str) -> None:
    with consent_api.client("officer") as officer:
        response = officer.post(
            "/v1/consents",
            json=grant_body(
                subject,
                recipients=[{"partner_kind": "SBB"}],
                data_categories=["contact", "debts"],
            ),
        )
    assert response.status_code == 422
    assert _locs(response) == [["body", "data_categories"]]
    assert "debts" in response.json()["detail"][0]["msg"]


def test_special_category_needs_explicit_consent(consent_api: ConsentApi, subject: str) -> None:
    granted(consent_api, subject)
    denied = _decide(consent_api, subject, ["contact", "health"])
    assert [o["reason"] for o in denied["outcomes"]] == ["ALLOWED", "SPECIAL_NOT_EXPLICIT"]
    with consent_api.client("officer") as officer:
        refused = officer.post(
            "/v1/consents", json=grant_body(subject, data_categories=["contact", "health"])
        )
    assert refused.status_code == 422
    assert _locs(refused) == [["body", "legal_basis"]]
    explicit = granted(
        consent_api, subject, data_categories=["health"], legal_basis="EXPLICIT_CONSENT"
    )
    allowed = _decide(consent_api, subject, ["contact", "health"])
    assert allowed["allowed"] is True
    assert allowed["outcomes"][1]["consent_ids"] == [explicit["id"]]


def test_partner_keys_are_confined(consent_api: ConsentApi, subject: str) -> None:
    consent = granted(consent_api, subject)  # controller Amsterdam, recipient UWV
    path = f"/v1/consents/{consent['id']}"
    with consent_api.client("sbb") as sbb:
        assert sbb.get(path).status_code == 403
        assert sbb.get(f"/v1/subjects/{subject}/consents").status_code == 403
        assert sbb.post(f"{path}/withdraw").status_code == 403
        assert sbb.post("/v1/consents", json=grant_body(subject)).status_code == 403
        asked_for_uwv = sbb.post(
            "/v1/decisions",
            json={
                "subject": subject,
                "partner_id": "uwv",
                "purpose": "MATCHING_PLACEMENT",
                "categories": ["contact"],
            },
        )
        assert asked_for_uwv.status_code == 403
        assert sbb.get(f"/v1/subjects/{subject}/access-report").status_code == 403
    for who in ("uwv", "amsterdam"):  # recipient and controller may read it
        with consent_api.client(who) as party:
            assert party.get(path).status_code == 200
            listed = party.get(f"/v1/subjects/{subject}/consents").json()
            assert [c["id"] for c in listed["consents"]] == [consent["id"]]
            assert listed["bsn_on_file"] is None
            assert party.post(f"{path}/withdraw").status_code == 403
            assert party.post("/v1/subjects/lookup", json={"bsn": "111222333"}).status_code == 403
    with consent_api.client("monitor") as monitor:
        assert monitor.get(path).status_code == 403
        assert monitor.get(f"/v1/subjects/{subject}/consents").status_code == 403
        stats = monitor.get("/v1/stats")
        assert stats.status_code == 200
        assert set(stats.json()["consents_by_status"]) == {s.value for s in ConsentStatus}
        assert monitor.get("/v1/policy").status_code == 200
    with consent_api.client("nobody") as anonymous:
        response = anonymous.get(path)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "ApiKey"
    with consent_api.client("nobody") as bearer:
        ok = bearer.get(path, headers={"Authorization": f"Bearer {consent_api.keys['uwv']}"})
        assert ok.status_code == 200
        bad = bearer.get(path, headers={"X-API-Key": "rmtc_nope_nope"})
        assert bad.status_code == 401


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"purposes": []}, ["body", "purposes"]),
        ({"purposes": ["SELLING"]}, ["body", "purposes", 0]),
        ({"data_categories": ["shoe_size"]}, ["body", "data_categories", 0]),
        ({"subject": "x"}, ["body", "subject"]),
        ({"subject": "123456782"}, ["body", "subject"]),
        ({"valid_until": "2031-01-01T00:00:00"}, ["body", "valid_until"]),
        ({"valid_until": "2020-01-01T00:00:00Z"}, ["body", "valid_until"]),
        ({"recipients": [{"partner_id": "uwv", "partner_kind": "UWV"}]}, ["body", "recipients", 0]),
        ({"recipients": [{"partner_id": "nobody"}]}, ["body", "recipients", 0, "partner_id"]),
        ({"controller": "nobody"}, ["body", "controller"]),
        ({"controller": "uwv"}, ["body", "controller"]),  # not first-responsible for bijstand
        ({"bsn": "123456789"}, ["body", "bsn"]),
        ({"colour": "blue"}, ["body", "colour"]),
        ({"notice": None}, ["body", "notice"]),
    ],
)
def test_invalid_payloads_name_the_field(
    consent_api: ConsentApi, subject: str, change: dict[str, Any], loc: list[Any]
) -> None:
    with consent_api.client("officer") as officer:
        response = officer.post("/v1/consents", json={**grant_body(subject), **change})
    assert response.status_code == 422, response.text
    assert loc in _locs(response)
    assert "123456789" not in response.text  # never echoes input (a BSN)


def test_invalid_decision_and_path(consent_api: ConsentApi, subject: str) -> None:
    with consent_api.client("officer") as officer:
        response = officer.post(
            "/v1/decisions",
            json={"subject": subject, "partner_id": "uwv", "purpose": "X", "categories": []},
        )
        assert response.status_code == 422
        assert {("body", "purpose"), ("body", "categories")} <= {
            tuple(loc) for loc in _locs(response)
        }
        assert officer.get("/v1/subjects/a b/consents").status_code == 422


def test_unknown_ids_are_not_found(consent_api: ConsentApi) -> None:
    with consent_api.client("officer") as officer:
        for response in (
            officer.get("/v1/consents/does-not-exist"),
            officer.get("/v1/consents/does-not-exist/history"),
            officer.post("/v1/consents/does-not-exist/withdraw"),
        ):
            assert response.status_code == 404
            assert response.json()["error"] == "not_found"
    with consent_api.client("uwv") as uwv:
        assert uwv.get("/v1/consents/does-not-exist").status_code == 404


def test_bsn_lookup_and_subject_listing(consent_api: ConsentApi, subject: str) -> None:
    granted(consent_api, subject, bsn="012345672")
    with consent_api.client("officer") as officer:
        found = officer.post("/v1/subjects/lookup", json={"bsn": "12345672"})
        assert found.status_code == 200
        assert subject in found.json()["subjects"]
        listed = officer.get(f"/v1/subjects/{subject}/consents").json()
    assert listed["bsn_on_file"] is True
    assert "012345672" not in str(listed)


def test_subject_access_report(consent_api: ConsentApi, subject: str) -> None:
    consent = granted(consent_api, subject)
    consent_api.runtime.service.record_disclosure(
        DisclosureRecord(
            subject=ClientPseudonym(subject),
            recipient=PartnerId("uwv"),
            recipient_kind=PartnerKind.UWV,
            purpose=Purpose.MATCHING_PLACEMENT,
            data_categories=(DataCategory.CONTACT, DataCategory.LABOUR_MARKET_PROFILE),
            consent_ids=(ConsentId(consent["id"]),),
            disclosed_at=utc_now(),
            record_type="nl.rmt.hub.ClientProfile <script>",
        )
    )
    with consent_api.client("officer") as officer:
        report = officer.get(f"/v1/subjects/{subject}/access-report")
        page = officer.get(f"/v1/subjects/{subject}/access-report.html?lang=en")
    assert report.status_code == 200
    body = report.json()
    assert [d["recipient"] for d in body["disclosures"]] == ["uwv"]
    assert body["disclosures"][0]["basis"] == [
        {"consent_id": consent["id"], "legal_basis": "CONSENT", "status_now": "GIVEN"}
    ]
    assert [c["consent_id"] for c in body["consents"]] == [consent["id"]]
    assert [e["change"] for e in body["history"]] == ["GIVEN"]
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "UWV (employee insurance agency" in page.text
    assert consent["id"] in page.text
    assert "<script>" not in page.text  # escaped
    assert "MATCHING_PLACEMENT" in page.text


def test_openapi_and_health(consent_api: ConsentApi) -> None:
    with consent_api.client("nobody") as anonymous:
        spec = anonymous.get("/openapi.json")
        assert spec.status_code == 200
        paths = spec.json()["paths"]
        assert {"/v1/consents", "/v1/decisions", "/v1/subjects/{subject}/access-report"} <= set(
            paths
        )
        assert anonymous.get("/docs").status_code == 200
        health = anonymous.get("/health").json()
        assert health["status"] == "ok"
        assert health["schema_version"] >= 2


def test_the_feed_carries_avro_consent_changes(consent_api: ConsentApi, subject: str) -> None:
    consent = granted(consent_api, subject)
    records = read_topic(consent_api.runtime.settings, consent_api.runtime.topic)
    mine = [r for r in records if r.key == subject.encode()]
    assert len(mine) == 1
    change = codec.decode("nl.rmt.hub.ConsentChange", mine[0].value)
    assert change.consent_id == consent["id"]  # type: ignore[attr-defined]
    assert change.source_partner == "hub"  # type: ignore[attr-defined]
