"""Grants of subject keys over real HTTP, on SQLite and PostgreSQL (issue 16, part 4).

``GET /v1/subject-keys/{subject}/{key id}``: a partner key gets the key of a subject while
a consent entitles its partner to the subject's health data (the consent rules decide),
wrapped to the partner's X25519 key; anyone else, or after the consent ended, gets 403,
and once the key is destroyed 410. The end-to-end tests with a router worker are in
tests/security/test_subject_keys.py.
"""

from __future__ import annotations

import base64
from typing import Any

from consent.subject_keys import GRANT_CACHE_S
from hub.security.config import ensure_keys, partner_key_store
from hub.security.shredding import SubjectKey, SubjectKeyStore, unwrap_subject_key
from tests.helpers.consent import ConsentApi, granted
from topics.partners import load_partners

GEMEENTE = "gemeente-amsterdam"


def _health_consent(api: ConsentApi, subject: str, **overrides: Any) -> dict[str, Any]:
    return granted(
        api,
        subject,
        **{
            "controller": "uwv",
            "job_seeker_category": "WW_ENTRANT",
            "recipients": [{"partner_id": GEMEENTE}],
            "purposes": ["ARRANGEMENT"],
            "data_categories": ["contact", "health"],
            "legal_basis": "EXPLICIT_CONSENT",
            **overrides,
        },
    )


def _store(api: ConsentApi) -> SubjectKeyStore:
    """The service's subject keys; the gemeente gets its key pair first (grants are
    wrapped to its key in the directory)."""
    partners = load_partners(api.runtime.settings.partners_file)
    ensure_keys(api.runtime.settings, [partners.get(GEMEENTE)])
    grants = api.runtime.subject_keys
    assert grants is not None, "record security is on: the service grants subject keys"
    return grants.keys


def _get(api: ConsentApi, who: str, subject: str, key_id: str) -> Any:
    with api.client(who) as client:
        return client.get(f"/v1/subject-keys/{subject}/{key_id}")


def _opened(api: ConsentApi, answer: Any) -> SubjectKey:
    body = answer.json()
    keys = partner_key_store(api.runtime.settings).private_keys(GEMEENTE)
    return unwrap_subject_key(
        body["subject"],
        body["key_id"],
        base64.b64decode(body["blob_b64"]),
        [(n, v.encode()) for n, v in body["headers"]],
        keys,
    )


def test_an_entitled_partner_gets_the_key_wrapped_to_its_own_key(
    consent_api: ConsentApi, subject: str
) -> None:
    consent = _health_consent(consent_api, subject)
    key = _store(consent_api).current_key(subject)  # as a router makes it when sealing
    answer = _get(consent_api, "amsterdam", subject, key.key_id)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["recipient"] == GEMEENTE
    assert body["consent_ids"] == [consent["id"]]
    assert body["cache_for_s"] == GRANT_CACHE_S
    assert [name for name, _ in body["headers"]] == ["rmt-enc-alg", "rmt-enc-key", "rmt-enc-dek"]
    assert key.secret.hex() not in answer.text
    assert _opened(consent_api, answer) == key


def test_nobody_else_gets_a_key_and_nothing_says_whether_it_exists(
    consent_api: ConsentApi, subject: str
) -> None:
    _health_consent(consent_api, subject)
    key = _store(consent_api).current_key(subject)
    for who in ("uwv", "sbb", "officer", "monitor"):  # the controller is no recipient
        answer = _get(consent_api, who, subject, key.key_id)
        assert answer.status_code == 403, (who, answer.text)
    assert _get(consent_api, "nobody", subject, key.key_id).status_code == 401
    # another subject, without a consent naming the gemeente: 403 whether the key exists
    stranger = f"{subject}-x"
    other = _store(consent_api).current_key(stranger)
    assert _get(consent_api, "amsterdam", stranger, other.key_id).status_code == 403
    assert _get(consent_api, "amsterdam", stranger, "0" * 32).status_code == 403
    # entitled, but no such key of the subject (another subject's key id included)
    assert _get(consent_api, "amsterdam", subject, "0" * 32).status_code == 404
    assert _get(consent_api, "amsterdam", subject, other.key_id).status_code == 404
    assert _get(consent_api, "amsterdam", subject, "not-a-key-id").status_code == 422


def test_health_needs_explicit_consent_naming_it(consent_api: ConsentApi, subject: str) -> None:
    _health_consent(consent_api, subject, data_categories=["contact"], legal_basis="CONSENT")
    key = _store(consent_api).current_key(subject)
    answer = _get(consent_api, "amsterdam", subject, key.key_id)
    assert answer.status_code == 403
    assert "health" in answer.json()["detail"]


def test_after_withdrawal_the_grant_is_refused_and_a_destroyed_key_is_gone(
    consent_api: ConsentApi, subject: str
) -> None:
    consent = _health_consent(consent_api, subject)
    key = _store(consent_api).current_key(subject)
    assert _get(consent_api, "amsterdam", subject, key.key_id).status_code == 200
    with consent_api.client("officer") as officer:
        withdrawn = officer.post(f"/v1/consents/{consent['id']}/withdraw", json={})
    assert withdrawn.status_code == 200, withdrawn.text
    assert _get(consent_api, "amsterdam", subject, key.key_id).status_code == 403
    # a new consent entitles the gemeente again, but the router destroyed the old key
    _health_consent(consent_api, subject)
    assert _get(consent_api, "amsterdam", subject, key.key_id).status_code == 200
    _store(consent_api).destroy(subject)
    gone = _get(consent_api, "amsterdam", subject, key.key_id)
    assert gone.status_code == 410
    assert gone.json()["error"] == "gone"
