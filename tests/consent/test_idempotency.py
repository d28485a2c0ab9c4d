"""Grants under an ``Idempotency-Key``: a retried request records one consent, on SQLite
and on PostgreSQL, also when the retries race each other."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.consent.factories import grant_body
from tests.helpers.consent import ConsentApi


def _post(api: ConsentApi, body: dict[str, Any], key: str | None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    with api.client("officer") as officer:
        return officer.post("/v1/consents", json=body, headers=headers)


def _consents_of(api: ConsentApi, subject: str) -> list[dict[str, Any]]:
    with api.client("officer") as officer:
        response = officer.get(f"/v1/subjects/{subject}/consents")
    assert response.status_code == 200, response.text
    consents: list[dict[str, Any]] = response.json()["consents"]
    return consents


def test_regression_a_retried_grant_recorded_a_second_consent(
    consent_api: ConsentApi, subject: str
) -> None:
    key = f"retry-{uuid.uuid4()}"
    body = grant_body(subject)
    first, again = _post(consent_api, body, key), _post(consent_api, body, key)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()
    assert [c["id"] for c in _consents_of(consent_api, subject)] == [first.json()["id"]]


def test_the_same_key_with_other_terms_is_refused_and_records_nothing(
    consent_api: ConsentApi, subject: str
) -> None:
    key = f"retry-{uuid.uuid4()}"
    first = _post(consent_api, grant_body(subject), key)
    assert first.status_code == 201, first.text
    other = _post(consent_api, grant_body(subject, data_categories=["contact"]), key)
    assert other.status_code == 422, other.text
    assert other.json()["detail"][0]["loc"][-1] == "Idempotency-Key"
    assert "other terms" in other.json()["detail"][0]["msg"]
    assert len(_consents_of(consent_api, subject)) == 1


def test_without_a_key_each_request_is_a_grant_of_its_own(
    consent_api: ConsentApi, subject: str
) -> None:
    body = grant_body(subject)
    assert _post(consent_api, body, None).status_code == 201
    assert _post(consent_api, body, None).status_code == 201
    assert len(_consents_of(consent_api, subject)) == 2


def test_racing_retries_all_get_the_one_consent(consent_api: ConsentApi, subject: str) -> None:
    key = f"race-{uuid.uuid4()}"
    body = grant_body(subject)
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: _post(consent_api, body, key), range(6)))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    assert [c["id"] for c in _consents_of(consent_api, subject)] == list(ids)


def test_a_malformed_key_is_refused(consent_api: ConsentApi, subject: str) -> None:
    response = _post(consent_api, grant_body(subject), "two words")
    assert response.status_code == 422, response.text
