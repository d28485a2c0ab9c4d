"""The consent service against an outsider (issue 20, part 4), over real HTTP.

Each ``test_regression_*`` reproduces one finding of the review: a replayed console
session after sign-out, unthrottled guessing of API keys, a client-chosen
``X-Forwarded-Proto``, partners reading beyond their own subjects, validation before
authorisation, and date-times that overflow once converted to UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from consent.api import create_app
from consent.console.session import SESSION_COOKIE
from hub.http import HttpServer
from tests.consent.factories import grant_body
from tests.consent.test_console import csrf_of, sign_in
from tests.helpers.consent import ConsentApi, granted


def _decision(subject: str, partner: str, **extra: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "partner_id": partner,
        "purpose": "MATCHING_PLACEMENT",
        "categories": ["contact"],
        **extra,
    }


@pytest.fixture
def own_server(sqlite_consent_api: ConsentApi) -> Iterator[str]:
    """A second app over the same service, on its own port: its throttle is its own, so
    guessing keys here does not lock the module's other tests out."""
    with HttpServer(create_app(sqlite_consent_api.runtime.service), name="hardening") as server:
        yield server.url


# --- console sessions -------------------------------------------------------------------------
def test_regression_logout_does_not_end_the_session(
    sqlite_consent_api: ConsentApi, subject: str
) -> None:
    with sign_in(sqlite_consent_api) as client:
        csrf = csrf_of(client.get("/console/subjects").text)
        cookie = client.cookies[SESSION_COOKIE]
        assert client.post("/console/logout", data={"csrf": csrf}).status_code == 303
    with httpx.Client(base_url=sqlite_consent_api.url, timeout=30) as replay:
        replay.cookies.set(SESSION_COOKIE, cookie, path="/console")
        page = replay.get("/console/subjects")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/console/login")
        search = replay.post("/console/search", data={"csrf": csrf, "query": subject})
        assert search.status_code == 303
        assert search.headers["location"].startswith("/console/login")


# --- guessing keys ----------------------------------------------------------------------------
def test_regression_failed_api_keys_are_not_throttled(
    own_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    guesses = [f"rmtc_guess{n:04d}_secret{n:04d}" for n in range(300)]
    statuses: list[int] = []
    retry_after: list[str] = []
    with caplog.at_level(logging.INFO), httpx.Client(base_url=own_server, timeout=30) as client:
        for guess in guesses:
            response = client.get("/v1/policy", headers={"X-API-Key": guess})
            statuses.append(response.status_code)
            if response.status_code == 429:
                retry_after.append(response.headers["retry-after"])
    assert set(statuses) == {401, 429}
    assert statuses.count(401) <= 20  # a burst, then refused without looking at the key
    assert retry_after
    assert all(int(seconds) >= 1 for seconds in retry_after)
    throttled = [r for r in caplog.records if "throttl" in r.getMessage()]
    assert len(throttled) == 1  # one line per throttled source, not one per request
    assert "127.0.0.1" in throttled[0].getMessage()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(guess in logged or guess.split("_")[1] in logged for guess in guesses)


# --- proxy headers ----------------------------------------------------------------------------
def test_regression_any_client_decides_the_cookies_secure_flag(
    sqlite_consent_api: ConsentApi,
) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with httpx.Client(base_url=sqlite_consent_api.url, timeout=30, headers=forwarded) as client:
        form = client.get("/console/login")
        assert "secure" not in form.headers["set-cookie"].lower()
        done = client.post(
            "/console/login",
            data={"api_key": sqlite_consent_api.keys["officer"], "csrf": csrf_of(form.text)},
        )
        assert done.status_code == 303
        session = next(
            c for c in done.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
        )
        assert "secure" not in session.lower()


# --- partners ---------------------------------------------------------------------------------
def test_regression_partners_ask_decisions_about_any_subject(
    sqlite_consent_api: ConsentApi, subject: str
) -> None:
    granted(sqlite_consent_api, subject)  # controller Amsterdam, recipient UWV; not SBB
    with sqlite_consent_api.client("sbb") as sbb:
        asked = sbb.post("/v1/decisions", json=_decision(subject, "sbb"))
    assert asked.status_code == 403
    with sqlite_consent_api.client("uwv") as uwv:
        assert uwv.post("/v1/decisions", json=_decision(subject, "uwv")).status_code == 200


def test_regression_partners_read_officer_names_and_free_text(
    sqlite_consent_api: ConsentApi, subject: str
) -> None:
    consent = granted(sqlite_consent_api, subject)
    path = f"/v1/consents/{consent['id']}"
    with sqlite_consent_api.client("officer") as officer:
        withdrawn = officer.post(f"{path}/withdraw", json={"reason": "told the officer in tears"})
    assert withdrawn.status_code == 200
    with sqlite_consent_api.client("uwv") as uwv:
        answers = [
            uwv.get(path),
            uwv.get(f"{path}/history"),
            uwv.get(f"/v1/subjects/{subject}/consents"),
        ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert "officer-1" not in answer.text
        assert "in tears" not in answer.text
    shown = answers[0].json()
    assert shown["status_now"] == "WITHDRAWN"
    assert shown["proof"]["recorded_by"] == "privacy_officer"
    assert shown["withdrawal"]["withdrawn_by"] == "privacy_officer"
    assert shown["withdrawal"]["reason"] is None
    assert [e["actor"] for e in answers[1].json()] == ["privacy_officer", "privacy_officer"]
    with sqlite_consent_api.client("officer") as officer:  # the officer still sees it all
        full = officer.get(path).json()
    assert full["withdrawal"]["reason"] == "told the officer in tears"
    assert full["proof"]["recorded_by"] == "privacy_officer:officer-1"


# --- authorisation before validation ----------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "path", "body", "status"),
    [
        ("uwv", "/v1/consents", {"colour": "blue"}, 403),
        ("uwv", "/v1/consents", b"{not json", 403),
        ("monitor", "/v1/decisions", {"subject": 1}, 403),
        ("uwv", "/v1/subjects/lookup", {"bsn": "123"}, 403),
        ("nobody", "/v1/consents", {"colour": "blue"}, 401),
        ("nobody", "/v1/consents", b"{not json", 401),
    ],
)
def test_regression_body_validation_runs_before_the_role_check(
    sqlite_consent_api: ConsentApi, who: str, path: str, body: Any, status: int
) -> None:
    with sqlite_consent_api.client(who) as client:
        if isinstance(body, bytes):
            response = client.post(path, content=body, headers={"content-type": "application/json"})
        else:
            response = client.post(path, json=body)
    assert response.status_code == status, response.text


# --- date-time edges --------------------------------------------------------------------------
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_regression_extreme_date_times_answer_500(
    sqlite_consent_api: ConsentApi, subject: str, moment: str
) -> None:
    with sqlite_consent_api.client("officer") as officer:
        for field in ("valid_from", "valid_until"):
            answer = officer.post("/v1/consents", json=grant_body(subject, **{field: moment}))
            assert answer.status_code == 422, answer.text
            assert ["body", field] in [d["loc"] for d in answer.json()["detail"]]
        decided = officer.post("/v1/decisions", json=_decision(subject, "uwv", at=moment))
        assert decided.status_code == 422, decided.text


def test_the_last_representable_moments_are_valid(
    sqlite_consent_api: ConsentApi, subject: str
) -> None:
    with sqlite_consent_api.client("officer") as officer:
        for moment in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"):
            decided = officer.post("/v1/decisions", json=_decision(subject, "uwv", at=moment))
            assert decided.status_code == 200, decided.text
        answer = officer.post(
            "/v1/consents", json=grant_body(subject, valid_until="9999-12-31T23:59:59Z")
        )
    assert answer.status_code == 201, answer.text


def test_a_configured_proxy_decides_the_scheme(sqlite_consent_api: ConsentApi) -> None:
    app = sqlite_consent_api.runtime.app
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with (
        HttpServer(app, name="behind-proxy", trusted_proxies=["127.0.0.0/8"]) as server,
        httpx.Client(base_url=server.url, timeout=30, headers=forwarded) as client,
    ):
        form = client.get("/console/login")
        assert "secure" in form.headers["set-cookie"].lower()


def test_the_trusted_proxies_setting_takes_addresses_and_networks() -> None:
    from hub.config import load_settings  # noqa: PLC0415
    from hub.errors import ConfigError  # noqa: PLC0415

    assert load_settings(trusted_proxies="").trusted_proxy_list == []
    settings = load_settings(trusted_proxies=" 10.0.0.0/8, 192.0.2.7 ,::1")
    assert settings.trusted_proxy_list == ["10.0.0.0/8", "192.0.2.7", "::1"]
    with pytest.raises(ConfigError, match="HUB_TRUSTED_PROXIES"):
        load_settings(trusted_proxies="proxy.example")


def test_the_throttle_lets_a_source_try_again_as_its_bucket_refills() -> None:
    from consent.api import AuthThrottle  # noqa: PLC0415

    now = [0.0]
    throttle = AuthThrottle(burst=3, per_minute=6, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.wait_s("192.0.2.1") == 0
        throttle.failed("192.0.2.1")
    assert throttle.wait_s("192.0.2.1") == 10  # one token every 10 s
    assert throttle.wait_s("192.0.2.2") == 0  # per source
    now[0] = 10.0
    assert throttle.wait_s("192.0.2.1") == 0
    throttle.failed("192.0.2.1")
    assert throttle.wait_s("192.0.2.1") == 10
    now[0] = 1000.0  # full again: forgotten
    assert throttle.wait_s("192.0.2.1") == 0


def test_regression_a_special_category_with_the_default_legal_basis_answers_500(
    sqlite_consent_api: ConsentApi, subject: str
) -> None:
    """Found by schemathesis: the rule ran only when legal_basis was sent."""
    body = grant_body(subject, data_categories=["health"])
    del body["legal_basis"]
    with sqlite_consent_api.client("officer") as officer:
        refused = officer.post("/v1/consents", json=body)
    assert refused.status_code == 422, refused.text
    assert ["body", "legal_basis"] in [d["loc"] for d in refused.json()["detail"]]


def test_the_openapi_states_the_rules(sqlite_consent_api: ConsentApi) -> None:
    with sqlite_consent_api.client("nobody") as anonymous:
        spec = anonymous.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    lookup_bsn = schemas["BsnLookupRequest"]["properties"]["bsn"]
    assert lookup_bsn["format"] == "bsn"
    assert lookup_bsn["pattern"] == "^[0-9]{8,9}$"
    assert "eleven-test" in lookup_bsn["description"]
    recipient = schemas["Recipient"]
    assert [branch["required"] for branch in recipient["oneOf"]] == [
        ["partner_id"],
        ["partner_kind"],
    ]
    terms = schemas["GrantRequest"]["properties"]
    assert "after valid_from" in terms["valid_until"]["description"]
    assert terms["subject"]["not"] == {"pattern": "^[0-9]{8,9}$"}
    grant = spec["paths"]["/v1/consents"]["post"]
    assert grant["x-roles"] == ["privacy_officer"]
    assert {"401", "403", "422", "429", "503"} <= set(grant["responses"])
    decide = spec["paths"]["/v1/decisions"]["post"]
    assert decide["x-roles"] == ["privacy_officer", "partner"]
