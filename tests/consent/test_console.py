"""The privacy officer console over real HTTP: sign-in, every page and form, the refusals
(partner keys, CSRF, no session), and that a BSN is never shown back."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from typing import Any

import httpx
import pytest

from consent.console.session import SESSION_COOKIE, SessionSigner
from consent.model import DisclosureRecord, utc_now
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from schemas.vocabulary import DataCategory, PartnerKind, Purpose
from tests.helpers.consent import ConsentApi

BSN = "111222333"  # passes the eleven-test
OTHER_BSN = "123456782"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
"""These tests read the English pages; the Dutch ones (the default) are tested apart."""


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "the page has no CSRF field"
    return unescape(found.group(1))


@contextmanager
def sign_in(api: ConsentApi, who: str = "officer") -> Iterator[httpx.Client]:
    """A browser-like client (keeps cookies) signed in with the key of ``who``."""
    with httpx.Client(base_url=api.url, timeout=30, headers=ENGLISH) as client:
        form = client.get("/console/login")
        assert form.status_code == 200
        done = client.post(
            "/console/login", data={"api_key": api.keys[who], "csrf": csrf_of(form.text)}
        )
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/console/subjects"
        yield client


@pytest.fixture
def officer(sqlite_consent_api: ConsentApi) -> Iterator[httpx.Client]:
    with sign_in(sqlite_consent_api) as client:
        yield client


def grant_form(subject: str, csrf: str, **overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "csrf": csrf,
        "controller": "gemeente-amsterdam",
        "job_seeker_category": "BIJSTAND_APPLICANT",
        "recipient": ["partner:uwv"],
        "recipient_region": "",
        "purpose": ["MATCHING_PLACEMENT"],
        "category": ["contact", "labour_market_profile"],
        "legal_basis": "CONSENT",
        "collection_method": "IN_PERSON_SIGNED",
        "valid_from": "",
        "valid_until": "",
        "notice_version": "rmt-privacy-2026.1",
        "notice_url": "",
        "bsn": "",
    }
    form.update(overrides)
    return form


def subject_page(client: httpx.Client, subject: str) -> str:
    page = client.get(f"/console/subjects/{subject}")
    assert page.status_code == 200, page.text
    return page.text


def grant(client: httpx.Client, subject: str, **overrides: Any) -> str:
    """Record a consent through the form; return its id."""
    csrf = csrf_of(subject_page(client, subject))
    done = client.post(
        f"/console/subjects/{subject}/consents", data=grant_form(subject, csrf, **overrides)
    )
    assert done.status_code == 303, done.text
    location = done.headers["location"]
    assert location.startswith(f"/console/subjects/{subject}?granted=")
    return location.rsplit("=", 1)[1]


def decide(api: ConsentApi, subject: str) -> bool:
    with api.client("uwv") as uwv:
        answer = uwv.post(
            "/v1/decisions",
            json={
                "subject": subject,
                "partner_id": "uwv",
                "purpose": "MATCHING_PLACEMENT",
                "categories": ["contact"],
            },
        )
    assert answer.status_code == 200
    allowed: bool = answer.json()["allowed"]
    return allowed


# --- signing in -------------------------------------------------------------------------------
def test_sign_in_sets_a_strict_http_only_session_cookie(sqlite_consent_api: ConsentApi) -> None:
    api = sqlite_consent_api
    with httpx.Client(base_url=api.url, timeout=30, headers=ENGLISH) as client:
        assert client.get("/console").headers["location"] == "/console/login"
        form = client.get("/console/login")
        assert form.status_code == 200
        assert "default-src 'none'" in form.headers["content-security-policy"]
        assert form.headers["cache-control"] == "no-store"
        login_cookie = form.headers["set-cookie"].lower()
        assert "httponly" in login_cookie
        assert "samesite=strict" in login_cookie
        assert '<label for="api_key">' in form.text
        done = client.post(
            "/console/login", data={"api_key": api.keys["officer"], "csrf": csrf_of(form.text)}
        )
        assert done.status_code == 303
        cookies = done.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith(SESSION_COOKIE))
        assert "HttpOnly" in session
        assert "SameSite=strict" in session
        assert "Path=/console" in session
        assert api.keys["officer"] not in session  # the key id, never the key
        # the secret is everything after rmtc_<key id>_ (token_urlsafe: it may hold "_" too)
        secret = api.keys["officer"].split("_", 2)[2]
        assert len(secret) >= 40
        assert secret not in session
        search = client.get("/console/subjects")
        assert search.status_code == 200
        assert "Signed in as officer-1" in search.text
        assert client.get("/console").headers["location"] == "/console/subjects"


@pytest.mark.parametrize("who", ["uwv", "monitor"])
def test_a_partner_or_monitor_key_is_refused_with_403(
    sqlite_consent_api: ConsentApi, who: str
) -> None:
    api = sqlite_consent_api
    with httpx.Client(base_url=api.url, timeout=30, headers=ENGLISH) as client:
        form = client.get("/console/login")
        refused = client.post(
            "/console/login", data={"api_key": api.keys[who], "csrf": csrf_of(form.text)}
        )
        assert refused.status_code == 403
        assert "for privacy officers" in refused.text
        assert SESSION_COOKIE not in client.cookies
        assert client.get("/console/subjects").headers["location"] == "/console/login"


def test_an_unknown_key_is_refused_with_401(sqlite_consent_api: ConsentApi) -> None:
    with httpx.Client(base_url=sqlite_consent_api.url, timeout=30, headers=ENGLISH) as client:
        form = client.get("/console/login")
        refused = client.post(
            "/console/login", data={"api_key": "rmtc_nope_nope", "csrf": csrf_of(form.text)}
        )
        assert refused.status_code == 401
        assert 'role="alert"' in refused.text
        assert "unknown or revoked" in refused.text
        assert "rmtc_nope_nope" not in refused.text


def test_sign_in_without_the_login_token_is_refused(sqlite_consent_api: ConsentApi) -> None:
    api = sqlite_consent_api
    with httpx.Client(base_url=api.url, timeout=30, headers=ENGLISH) as client:
        client.get("/console/login")
        for token in ("", "forged.token"):
            refused = client.post(
                "/console/login", data={"api_key": api.keys["officer"], "csrf": token}
            )
            assert refused.status_code == 403
            assert SESSION_COOKIE not in client.cookies
    # a token from another browser's form (no matching login cookie) is refused too
    with httpx.Client(base_url=api.url, timeout=30, headers=ENGLISH) as other:
        token = csrf_of(other.get("/console/login").text)
    with httpx.Client(base_url=api.url, timeout=30, headers=ENGLISH) as client:
        refused = client.post(
            "/console/login", data={"api_key": api.keys["officer"], "csrf": token}
        )
        assert refused.status_code == 403


def test_pages_and_forms_need_a_session(sqlite_consent_api: ConsentApi, subject: str) -> None:
    with httpx.Client(base_url=sqlite_consent_api.url, timeout=30, headers=ENGLISH) as anonymous:
        for path in (
            "/console/subjects",
            f"/console/subjects/{subject}",
            f"/console/subjects/{subject}/report",
            "/console/policy",
        ):
            assert anonymous.get(path).headers["location"] == "/console/login", path
        posted = anonymous.post(f"/console/subjects/{subject}/consents", data={"csrf": "x"})
        assert posted.status_code == 303
        assert posted.headers["location"] == "/console/login"
        # a forged session cookie is no session
        anonymous.cookies.set(SESSION_COOKIE, "abc.9999999999.nonce.sig", path="/console")
        assert anonymous.get("/console/subjects").headers["location"] == "/console/login"
    with sqlite_consent_api.client("officer") as api_only:  # an API key header is no session
        assert api_only.get("/console/subjects").status_code == 303


def test_sign_out_ends_the_session(sqlite_consent_api: ConsentApi) -> None:
    with sign_in(sqlite_consent_api) as client:
        csrf = csrf_of(client.get("/console/subjects").text)
        assert client.post("/console/logout", data={"csrf": "wrong"}).status_code == 403
        done = client.post("/console/logout", data={"csrf": csrf})
        assert done.status_code == 303
        assert done.headers["location"] == "/console/login?signed_out=1"
        assert "You are signed out." in client.get(done.headers["location"]).text
        assert client.get("/console/subjects").headers["location"] == "/console/login"


def test_revoking_the_key_ends_its_sessions(sqlite_consent_api: ConsentApi) -> None:
    from consent.api import issue_key  # noqa: PLC0415
    from consent.model import Role  # noqa: PLC0415

    api = sqlite_consent_api
    record, key = issue_key(api.runtime.store, Role.PRIVACY_OFFICER, "officer-temp")
    with httpx.Client(base_url=api.url, timeout=30, headers=ENGLISH) as client:
        form = client.get("/console/login")
        client.post("/console/login", data={"api_key": key, "csrf": csrf_of(form.text)})
        assert client.get("/console/subjects").status_code == 200
        api.runtime.store.revoke_api_key(record.key_id, utc_now())
        ended = client.get("/console/subjects")
        assert ended.status_code == 303
        assert ended.headers["location"] == "/console/login?ended=1"


# --- search -----------------------------------------------------------------------------------
def test_search_by_pseudonym_opens_the_subject(officer: httpx.Client, subject: str) -> None:
    csrf = csrf_of(officer.get("/console/subjects").text)
    found = officer.post("/console/search", data={"csrf": csrf, "query": subject})
    assert found.status_code == 303
    assert found.headers["location"] == f"/console/subjects/{subject}"
    page = subject_page(officer, subject)
    assert "No consents are recorded for this subject." in page
    assert "Citizen service number on file: no" in page
    bad = officer.post("/console/search", data={"csrf": csrf, "query": "no spaces allowed"})
    assert bad.status_code == 422
    assert "enter a client pseudonym" in bad.text


def test_search_by_bsn_finds_the_subject_and_never_shows_the_bsn(
    sqlite_consent_api: ConsentApi, officer: httpx.Client
) -> None:
    subject = f"client-bsn-{uuid.uuid4().hex[:8]}"
    bsn = BSN
    with sqlite_consent_api.client("officer") as api:
        known = api.post("/v1/subjects/lookup", json={"bsn": bsn}).json()["subjects"]
    if known:  # another test of this module gave this BSN to a subject already
        bsn = OTHER_BSN
    grant(officer, subject, bsn=bsn)
    csrf = csrf_of(officer.get("/console/subjects").text)
    spaced = f"{bsn[:4]} {bsn[4:6]} {bsn[6:]}"
    found = officer.post("/console/search", data={"csrf": csrf, "query": spaced})
    assert found.status_code == 303
    assert found.headers["location"] == f"/console/subjects/{subject}?found=bsn"
    assert bsn not in found.headers["location"]
    page = officer.get(found.headers["location"]).text
    assert "Found by the citizen service number." in page
    assert "Citizen service number on file: yes (encrypted)" in page
    assert bsn not in page
    assert 'id="bsn" name="bsn"' in page
    assert 'name="bsn" value' not in page  # the BSN field is never filled in

    invalid = officer.post("/console/search", data={"csrf": csrf, "query": "111222334"})
    assert invalid.status_code == 422
    assert "not a valid BSN" in invalid.text
    assert "111222334" not in invalid.text
    unknown = officer.post("/console/search", data={"csrf": csrf, "query": "999999990"})
    assert unknown.status_code == 200
    assert "No subject has this BSN on file." in unknown.text
    assert "999999990" not in unknown.text
    report = officer.get(f"/console/subjects/{subject}/report").text
    assert bsn not in report


# --- grant and withdraw -----------------------------------------------------------------------
def test_grant_then_withdraw_through_the_forms(
    sqlite_consent_api: ConsentApi, officer: httpx.Client, subject: str
) -> None:
    consent_id = grant(officer, subject, valid_until="2099-12-31")
    page = officer.get(f"/console/subjects/{subject}?granted={consent_id}").text
    assert f"Consent {consent_id} is recorded and published." in page
    assert f'<tr id="consent-{consent_id}">' in page
    assert '<span class="badge GIVEN">GIVEN</span>' in page
    assert "1 January 2100 00:00 UTC" in page  # the last day is included
    assert f"Withdraw consent {consent_id}" in page
    with sqlite_consent_api.client("officer") as api:
        stored = api.get(f"/v1/consents/{consent_id}").json()
    assert stored["proof"]["recorded_by"] == "privacy_officer:officer-1"
    assert [r["partner_id"] for r in stored["recipients"]] == ["uwv"]
    assert stored["data_categories"] == ["contact", "labour_market_profile"]
    assert decide(sqlite_consent_api, subject) is True

    csrf = csrf_of(page)
    done = officer.post(
        f"/console/subjects/{subject}/consents/{consent_id}/withdraw",
        data={"csrf": csrf, "reason": "asked by phone"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/subjects/{subject}?withdrawn={consent_id}"
    page = officer.get(done.headers["location"]).text
    assert "is withdrawn; the hub no longer delivers on it" in page
    assert '<span class="badge WITHDRAWN">WITHDRAWN</span>' in page
    assert "asked by phone" in page
    assert f"Withdraw consent {consent_id}" not in page
    assert decide(sqlite_consent_api, subject) is False


def test_kind_recipients_with_a_region(officer: httpx.Client, subject: str) -> None:
    consent_id = grant(
        officer,
        subject,
        controller="uwv",
        job_seeker_category="WW_ENTRANT",
        recipient=["kind:GEMEENTE"],
        recipient_region="RIJNMOND",
        purpose=["WARM_HANDOVER"],
        category=["contact"],
    )
    page = subject_page(officer, subject)
    assert consent_id in page
    assert "every GEMEENTE in RIJNMOND" in page


def test_a_refused_grant_shows_the_problems_and_keeps_the_form(
    officer: httpx.Client, subject: str
) -> None:
    csrf = csrf_of(subject_page(officer, subject))
    refused = officer.post(
        f"/console/subjects/{subject}/consents",
        data=grant_form(subject, csrf, purpose=[], category=["health"], bsn="111222334"),
    )
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text
    assert "Purposes: choose at least one" in refused.text
    assert "111222334" not in refused.text  # the BSN is never echoed
    assert 'value="health" checked' in refused.text  # what was sent is kept
    refused = officer.post(
        f"/console/subjects/{subject}/consents",
        data=grant_form(subject, csrf, category=["health"]),
    )
    assert refused.status_code == 422
    assert "EXPLICIT_CONSENT" in refused.text
    refused = officer.post(
        f"/console/subjects/{subject}/consents",
        data=grant_form(subject, csrf, recipient=["partner:nobody"]),
    )
    assert refused.status_code == 422
    assert "unknown partner" in refused.text
    assert "No consents are recorded for this subject." in subject_page(officer, subject)


def test_forms_without_the_csrf_token_are_refused(
    sqlite_consent_api: ConsentApi, officer: httpx.Client, subject: str
) -> None:
    consent_id = grant(officer, subject)
    csrf = csrf_of(subject_page(officer, subject))
    other = SessionSigner(b"x" * 32)
    forged = other.csrf_token(other.issue("someone")[1])
    for token in ("", forged, csrf[:-2]):
        refused = officer.post(
            f"/console/subjects/{subject}/consents", data=grant_form(subject, token)
        )
        assert refused.status_code == 403
        assert "security token (CSRF)" in refused.text
        refused = officer.post(
            f"/console/subjects/{subject}/consents/{consent_id}/withdraw", data={"csrf": token}
        )
        assert refused.status_code == 403
        assert officer.post("/console/search", data={"query": subject}).status_code == 403
    with sqlite_consent_api.client("officer") as api:
        mine = api.get(f"/v1/subjects/{subject}/consents").json()["consents"]
    assert [(c["id"], c["status_now"]) for c in mine] == [(consent_id, "GIVEN")]
    # and a JSON body is no form
    wrong = officer.post(f"/console/subjects/{subject}/consents", json={"csrf": csrf})
    assert wrong.status_code == 400


def test_withdrawing_a_consent_of_another_subject_is_not_found(
    officer: httpx.Client, subject: str
) -> None:
    consent_id = grant(officer, subject)
    other = f"client-{uuid.uuid4().hex[:12]}"
    csrf = csrf_of(subject_page(officer, other))
    wrong = officer.post(
        f"/console/subjects/{other}/consents/{consent_id}/withdraw", data={"csrf": csrf}
    )
    assert wrong.status_code == 404
    missing = officer.post(
        f"/console/subjects/{subject}/consents/no-such-consent/withdraw", data={"csrf": csrf}
    )
    assert missing.status_code == 404
    assert '<span class="badge GIVEN">GIVEN</span>' in subject_page(officer, subject)


# --- the report and the matrix ----------------------------------------------------------------
def test_the_access_report_shows_who_received_what(
    sqlite_consent_api: ConsentApi, officer: httpx.Client, subject: str
) -> None:
    consent_id = grant(officer, subject)
    sqlite_consent_api.runtime.service.record_disclosure(
        DisclosureRecord(
            disclosure_id=EventId(str(uuid.uuid4())),
            subject=ClientPseudonym(subject),
            recipient=PartnerId("uwv"),
            recipient_kind=PartnerKind.UWV,
            purpose=Purpose.MATCHING_PLACEMENT,
            data_categories=(DataCategory.CONTACT,),
            consent_ids=(ConsentId(consent_id),),
            disclosed_at=utc_now(),
            record_type="nl.rmt.hub.ClientProfile <b>",
        )
    )
    page = officer.get(f"/console/subjects/{subject}/report")
    assert page.status_code == 200
    assert "Subject access report" in page.text
    assert "UWV (employee insurance agency" in page.text
    assert f"consent {consent_id} (CONSENT, now GIVEN)" in page.text
    assert "<b>" not in page.text  # escaped
    assert "Data disclosed to partners" in page.text
    # recorded directly, not read from the hub's signed audit trail: the page says so
    assert '<p class="verification unverified" role="alert" data-status="unverified">' in page.text
    assert "Audit trail: <strong>unverified: 1 of 1 disclosures" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_policy_matrix_page(officer: httpx.Client) -> None:
    page = officer.get("/console/policy")
    assert page.status_code == 200
    assert '<table id="policy-matrix">' in page.text
    for kind in PartnerKind:
        assert f'<th scope="row">{kind.value}</th>' in page.text
    for purpose in Purpose:
        assert f'<th scope="col">{purpose.value}</th>' in page.text
    assert "Implied by every consent: meta, pseudonym" in page.text


def test_unknown_paths_and_bad_pseudonyms(officer: httpx.Client) -> None:
    assert officer.get("/console/subjects/a%20b").status_code == 404
    assert officer.get("/console/subjects/x").status_code == 404


def test_session_tokens_expire_and_do_not_verify_under_another_secret() -> None:
    signer = SessionSigner(b"k" * 32)
    cookie, session = signer.issue("abc123", now=1000.0)
    assert signer.read(cookie, now=1001.0) == session
    assert signer.read(cookie, now=1000.0 + 8 * 3600 + 1) is None
    assert SessionSigner(b"j" * 32).read(cookie, now=1001.0) is None
    _, expires, nonce, signature = cookie.split(".")
    assert signer.read(f"other.{expires}.{nonce}.{signature}", now=1001.0) is None
    assert signer.csrf_ok(session, signer.csrf_token(session))
    assert not signer.csrf_ok(session, None)
    token = signer.login_token()
    assert signer.login_ok(token, token)
    assert not signer.login_ok(token, signer.login_token())
    assert not SessionSigner(b"j" * 32).login_ok(token, token)
