"""The officer's work over HTTP, on SQLite and PostgreSQL: consents about to expire,
exports of disclosures and consent events, and bulk withdrawal with a preview."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from consent.model import DisclosureRecord, utc_now
from hub.ids import ClientPseudonym, ConsentId, PartnerId
from schemas.vocabulary import DataCategory, PartnerKind, Purpose
from tests.consent.feed import event_ids, read_topic
from tests.helpers.consent import ConsentApi, granted

OFFICER_ROUTES = [
    ("GET", "/v1/consents/expiring", None),
    ("GET", "/v1/exports/disclosures", None),
    ("GET", "/v1/exports/consent-events", None),
    ("POST", "/v1/bulk-withdrawals/preview", {"recipient": "uwv"}),
    ("POST", "/v1/bulk-withdrawals", {"token": "x" * 40, "reason": "partner leaves"}),
]


def _expiring(api: ConsentApi, **params: Any) -> list[dict[str, Any]]:
    """Every page of the expiring list."""
    found: list[dict[str, Any]] = []
    cursor = None
    with api.client("officer") as officer:
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            response = officer.get("/v1/consents/expiring", params=query)
            assert response.status_code == 200, response.text
            page = response.json()
            found += page["consents"]
            cursor = page["next_cursor"]
            if cursor is None:
                return found


@pytest.mark.parametrize(("method", "path", "body"), OFFICER_ROUTES)
@pytest.mark.parametrize("who", ["uwv", "monitor"])
def test_only_a_privacy_officer_may(
    consent_api: ConsentApi, who: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    with consent_api.client(who) as client:
        response = client.request(method, path, json=body)
    assert response.status_code == 403, response.text


# --- expiring ---------------------------------------------------------------------------------
def test_expiring_lists_given_consents_ending_within_the_days_soonest_first(
    consent_api: ConsentApi, subject: str
) -> None:
    now = utc_now()
    late = granted(consent_api, subject, valid_until=(now + timedelta(days=20)).isoformat())
    soon = granted(consent_api, subject, valid_until=(now + timedelta(days=3)).isoformat())
    beyond = granted(consent_api, subject, valid_until=(now + timedelta(days=45)).isoformat())
    no_end = granted(consent_api, subject)
    gone = granted(consent_api, subject, valid_until=(now + timedelta(days=5)).isoformat())
    with consent_api.client("officer") as officer:
        assert officer.post(f"/v1/consents/{gone['id']}/withdraw").status_code == 200

    listed = [c["id"] for c in _expiring(consent_api, limit=1) if c["subject"] == subject]
    assert listed == [soon["id"], late["id"]]
    default = [c["id"] for c in _expiring(consent_api) if c["subject"] == subject]
    assert default == [soon["id"], late["id"]]
    wider = [c["id"] for c in _expiring(consent_api, days=60) if c["subject"] == subject]
    assert wider == [soon["id"], late["id"], beyond["id"]]
    assert no_end["id"] not in wider
    assert gone["id"] not in wider


def test_expiring_pages_do_not_skip_or_repeat_consents_ending_at_the_same_moment(
    consent_api: ConsentApi, subject: str
) -> None:
    until = (utc_now() + timedelta(days=2)).replace(microsecond=0).isoformat()
    made = {granted(consent_api, subject, valid_until=until)["id"] for _ in range(5)}
    listed = [c["id"] for c in _expiring(consent_api, days=3, limit=2) if c["subject"] == subject]
    assert sorted(listed) == sorted(made)
    assert listed == sorted(listed)  # the same moment: by id


@pytest.mark.parametrize(
    "params", [{"days": 0}, {"days": 367}, {"limit": 0}, {"cursor": "not-a-cursor"}]
)
def test_expiring_refuses_bad_parameters(consent_api: ConsentApi, params: dict[str, Any]) -> None:
    with consent_api.client("officer") as officer:
        response = officer.get("/v1/consents/expiring", params=params)
    assert response.status_code == 422, response.text


def test_the_expiring_gauge_counts_consents_ending_within_30_days(
    consent_api: ConsentApi, subject: str
) -> None:
    granted(consent_api, subject, valid_until=(utc_now() + timedelta(days=10)).isoformat())
    counted = consent_api.runtime.service.refresh_expiring_metric()
    assert counted == len(_expiring(consent_api, days=30))
    with consent_api.client("anonymous") as client:
        metrics = client.get("/metrics").text
    assert f"rmt_consents_expiring {float(counted)}" in metrics


# --- exports ----------------------------------------------------------------------------------
def _disclosure(subject: str, recipient: str, at_days: int, **overrides: Any) -> DisclosureRecord:
    values: dict[str, Any] = {
        "subject": ClientPseudonym(subject),
        "recipient": PartnerId(recipient),
        "recipient_kind": PartnerKind.UWV,
        "purpose": Purpose.MATCHING_PLACEMENT,
        "data_categories": (DataCategory.CONTACT,),
        "consent_ids": (ConsentId("c-1"),),
        "disclosed_at": utc_now() - timedelta(days=at_days),
        **overrides,
    }
    return DisclosureRecord.model_validate(values)


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_disclosures_export_filters_by_partner_subject_and_period(
    consent_api: ConsentApi, subject: str
) -> None:
    store = consent_api.runtime.store
    old = _disclosure(subject, "uwv", 40)
    recent = _disclosure(subject, "uwv", 2)
    other = _disclosure(subject, "sbb", 2, recipient_kind=PartnerKind.SBB)
    store.add_disclosures([old, recent, other])
    since = (utc_now() - timedelta(days=10)).isoformat()
    with consent_api.client("officer") as officer:
        everything = officer.get("/v1/exports/disclosures", params={"subject": subject})
        filtered = officer.get(
            "/v1/exports/disclosures",
            params={"subject": subject, "partner": "uwv", "from": since, "format": "json"},
        )
    assert everything.status_code == 200, everything.text
    assert everything.headers["content-type"].startswith("text/csv")
    assert "attachment" in everything.headers["content-disposition"]
    rows = _csv(everything.text)
    assert [r["disclosure_id"] for r in rows] == [
        old.disclosure_id,
        recent.disclosure_id,
        other.disclosure_id,
    ]
    assert filtered.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in filtered.text.splitlines()]
    assert [line["disclosure_id"] for line in lines] == [recent.disclosure_id]


def test_consent_events_export_filters_by_partner_and_subject(
    consent_api: ConsentApi, subject: str
) -> None:
    to_sbb = granted(consent_api, subject, recipients=[{"partner_id": "sbb"}])
    to_uwv = granted(consent_api, subject)
    with consent_api.client("officer") as officer:
        assert officer.post(f"/v1/consents/{to_uwv['id']}/withdraw").status_code == 200
        mine = officer.get("/v1/exports/consent-events", params={"subject": subject})
        for_sbb = officer.get(
            "/v1/exports/consent-events",
            params={"subject": subject, "partner": "sbb", "format": "json"},
        )
    rows = _csv(mine.text)
    assert [(r["consent_id"], r["change"]) for r in rows] == [
        (to_sbb["id"], "GIVEN"),
        (to_uwv["id"], "GIVEN"),
        (to_uwv["id"], "WITHDRAWN"),
    ]
    assert rows[0]["recipients"] == "sbb"
    events = [json.loads(line) for line in for_sbb.text.splitlines()]
    assert [e["consent_id"] for e in events] == [to_sbb["id"]]


def test_regression_export_cells_could_run_as_spreadsheet_formulas(
    consent_api: ConsentApi, subject: str
) -> None:
    consent = granted(consent_api, subject)
    formula = '=HYPERLINK("https://evil.example","click")'
    with consent_api.client("officer") as officer:
        officer.post(f"/v1/consents/{consent['id']}/withdraw", json={"reason": formula})
        exported = officer.get("/v1/exports/consent-events", params={"subject": subject})
    reasons = [r["reason"] for r in _csv(exported.text) if r["change"] == "WITHDRAWN"]
    assert reasons == ["'" + formula]


def test_a_large_export_is_streamed_in_pages(consent_api: ConsentApi) -> None:
    subject = f"client-bulk-{uuid.uuid4().hex[:8]}"
    made = [_disclosure(subject, "uwv", 1) for _ in range(5000)]
    consent_api.runtime.store.add_disclosures(made)
    lines = 0
    with (
        consent_api.client("officer") as officer,
        officer.stream(
            "GET", "/v1/exports/disclosures", params={"subject": subject, "format": "json"}
        ) as response,
    ):
        assert response.status_code == 200
        assert "content-length" not in response.headers  # streamed, not built first
        for line in response.iter_lines():
            if line:
                lines += 1
    assert lines == 5000


@pytest.mark.parametrize(
    "params",
    [
        {"format": "xml"},
        {"partner": "Not A Partner"},
        {"from": "2026-01-02T00:00:00+00:00", "until": "2026-01-01T00:00:00+00:00"},
        {"from": "2026-01-01T00:00:00"},  # no time zone
    ],
)
def test_exports_refuse_bad_filters(consent_api: ConsentApi, params: dict[str, Any]) -> None:
    with consent_api.client("officer") as officer:
        response = officer.get("/v1/exports/consent-events", params=params)
    assert response.status_code == 422, response.text


# --- bulk withdrawal --------------------------------------------------------------------------
def _preview(api: ConsentApi, selection: dict[str, Any], who: str = "officer") -> Any:
    with api.client(who) as client:
        return client.post("/v1/bulk-withdrawals/preview", json=selection)


def _execute(api: ConsentApi, token: str, reason: str = "partner leaves") -> Any:
    with api.client("officer") as officer:
        return officer.post("/v1/bulk-withdrawals", json={"token": token, "reason": reason})


def test_bulk_withdrawal_withdraws_exactly_the_previewed_consents_and_publishes_each(
    consent_api: ConsentApi,
) -> None:
    leaving = "gemeente-tilburg"
    subjects = [f"client-{uuid.uuid4().hex[:10]}" for _ in range(3)]
    both = [{"partner_id": "uwv"}, {"partner_id": leaving}]
    affected = [granted(consent_api, s, recipients=both) for s in subjects]
    kept = granted(consent_api, subjects[0])  # uwv only
    by_kind = granted(consent_api, subjects[1], recipients=[{"partner_kind": "GEMEENTE"}])
    preview = _preview(consent_api, {"recipient": leaving})
    assert preview.status_code == 200, preview.text
    plan = preview.json()
    assert plan["count"] == 3
    assert sorted(plan["consent_ids"]) == sorted(c["id"] for c in affected)
    assert plan["subjects"] == sorted(subjects)

    done = _execute(consent_api, plan["token"])
    assert done.status_code == 200, done.text
    assert sorted(done.json()["consent_ids"]) == sorted(plan["consent_ids"])
    with consent_api.client("officer") as officer:
        for consent in affected:
            shown = officer.get(f"/v1/consents/{consent['id']}").json()
            assert shown["status"] == "WITHDRAWN"
            assert shown["withdrawal"]["reason"] == "partner leaves"
        for consent in (kept, by_kind):
            assert officer.get(f"/v1/consents/{consent['id']}").json()["status"] == "GIVEN"
    assert _withdrawn_on_feed(consent_api, subjects) == sorted(plan["consent_ids"])

    again = _execute(consent_api, plan["token"])  # idempotent: the same answer, no new events
    assert again.status_code == 200, again.text
    assert again.json() == done.json()
    assert _withdrawn_on_feed(consent_api, subjects) == sorted(plan["consent_ids"])


def _withdrawn_on_feed(api: ConsentApi, subjects: list[str]) -> list[str]:
    """The consents of ``subjects`` with a WITHDRAWN event on the change feed (one entry
    per event)."""
    feed = read_topic(api.runtime.settings, api.runtime.topic)
    on_feed = event_ids([r for r in feed if r.key.decode() in subjects])
    withdrawn = []
    with api.client("officer") as officer:
        for subject in subjects:
            for consent in officer.get(f"/v1/subjects/{subject}/consents").json()["consents"]:
                history = officer.get(f"/v1/consents/{consent['id']}/history").json()
                for event in history:
                    if event["change"] == "WITHDRAWN":
                        assert event["event_id"] in on_feed
                        withdrawn.append(consent["id"])
    return sorted(withdrawn)


def test_bulk_withdrawal_by_purpose(consent_api: ConsentApi, subject: str) -> None:
    schooling = granted(consent_api, subject, purposes=["SCHOOLING"], data_categories=["education"])
    placing = granted(consent_api, subject)
    plan = _preview(consent_api, {"purpose": "SCHOOLING"}).json()
    assert schooling["id"] in plan["consent_ids"]
    assert placing["id"] not in plan["consent_ids"]
    assert _execute(consent_api, plan["token"]).status_code == 200
    with consent_api.client("officer") as officer:
        assert officer.get(f"/v1/consents/{schooling['id']}").json()["status"] == "WITHDRAWN"
        assert officer.get(f"/v1/consents/{placing['id']}").json()["status"] == "GIVEN"


def test_bulk_withdrawal_is_refused_when_the_selection_changed(
    consent_api: ConsentApi, subject: str
) -> None:
    both = [{"partner_id": "uwv"}, {"partner_id": "gemeente-rotterdam"}]
    first = granted(consent_api, subject, recipients=both)
    plan = _preview(consent_api, {"recipient": "gemeente-rotterdam"}).json()
    late = granted(consent_api, subject, recipients=both)
    refused = _execute(consent_api, plan["token"])
    assert refused.status_code == 409, refused.text
    with consent_api.client("officer") as officer:
        for consent in (first, late):
            assert officer.get(f"/v1/consents/{consent['id']}").json()["status"] == "GIVEN"
    fresh = _preview(consent_api, {"recipient": "gemeente-rotterdam"}).json()
    assert fresh["count"] == 2
    assert _execute(consent_api, fresh["token"]).status_code == 200


def test_a_bulk_preview_is_bound_to_its_officer(consent_api: ConsentApi, subject: str) -> None:
    from consent.api import issue_key  # noqa: PLC0415
    from consent.model import Role  # noqa: PLC0415

    both = [{"partner_id": "uwv"}, {"partner_id": "gemeente-utrecht"}]
    consent = granted(consent_api, subject, recipients=both)
    plan = _preview(consent_api, {"recipient": "gemeente-utrecht"}).json()
    other_key = issue_key(consent_api.runtime.store, Role.PRIVACY_OFFICER, f"o-{subject}")[1]
    with consent_api.client("anonymous") as client:
        refused = client.post(
            "/v1/bulk-withdrawals",
            json={"token": plan["token"], "reason": "x"},
            headers={"X-API-Key": other_key},
        )
    assert refused.status_code == 403, refused.text
    assert _execute(consent_api, "y" * 43).status_code == 404
    assert _execute(consent_api, plan["token"]).status_code == 200
    assert _execute(consent_api, plan["token"], reason="another").status_code == 422
    with consent_api.client("officer") as officer:
        assert officer.get(f"/v1/consents/{consent['id']}").json()["status"] == "WITHDRAWN"


def test_an_expired_bulk_preview_is_refused(consent_api: ConsentApi, subject: str) -> None:
    from consent.bulk import BulkSelection, token_hash  # noqa: PLC0415
    from consent.store import BulkPreview  # noqa: PLC0415

    consent = granted(consent_api, subject)
    then = utc_now() - timedelta(hours=1)
    token = f"expired-{uuid.uuid4().hex}"
    consent_api.runtime.store.add_bulk_preview(
        BulkPreview(
            token_hash=token_hash(token),
            actor="privacy_officer:officer-1",
            selection=BulkSelection(purpose=Purpose.MATCHING_PLACEMENT).canonical(),
            consent_ids=(ConsentId(consent["id"]),),
            created_at=then,
            expires_at=then + timedelta(minutes=15),
        )
    )
    refused = _execute(consent_api, token)
    assert refused.status_code == 422, refused.text
    assert "expired" in refused.text


def test_a_bulk_preview_needs_a_recipient_or_a_purpose(consent_api: ConsentApi) -> None:
    assert _preview(consent_api, {}).status_code == 422
    assert _preview(consent_api, {"recipient": "uwv", "extra": 1}).status_code == 422
