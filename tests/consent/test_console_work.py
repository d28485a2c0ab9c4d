"""The console's pages for the officer's work over real HTTP: consents about to expire,
the export downloads, and bulk withdrawal with its preview and confirmation."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from typing import Any

import httpx
import pytest

from consent.model import utc_now
from tests.consent.factories import grant_body
from tests.consent.test_console import ENGLISH, csrf_of, sign_in
from tests.helpers.consent import ConsentApi

_TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def officer(sqlite_consent_api: ConsentApi) -> Iterator[httpx.Client]:
    with sign_in(sqlite_consent_api) as client:
        yield client


def _grant(api: ConsentApi, subject: str, **overrides: Any) -> str:
    with api.client("officer") as client:
        response = client.post("/v1/consents", json=grant_body(subject, **overrides))
    assert response.status_code == 201, response.text
    consent_id: str = response.json()["id"]
    return consent_id


def test_the_navigation_links_the_new_pages(officer: httpx.Client) -> None:
    page = officer.get("/console/subjects").text
    for path in ("/console/expiring", "/console/exports", "/console/bulk"):
        assert f'href="{path}"' in page
        assert officer.get(path).status_code == 200


def test_the_expiring_page_lists_consents_ending_soon(
    officer: httpx.Client, sqlite_consent_api: ConsentApi, subject: str
) -> None:
    soon = _grant(
        sqlite_consent_api, subject, valid_until=(utc_now() + timedelta(days=4)).isoformat()
    )
    later = _grant(
        sqlite_consent_api, subject, valid_until=(utc_now() + timedelta(days=50)).isoformat()
    )
    page = officer.get("/console/expiring").text
    assert soon in page
    assert later not in page
    assert later in officer.get("/console/expiring", params={"days": "60"}).text
    assert officer.get("/console/expiring", params={"days": "400"}).status_code == 422
    assert officer.get("/console/expiring", params={"days": "soon"}).status_code == 422


def test_the_export_forms_download_csv_and_json_lines(
    officer: httpx.Client, sqlite_consent_api: ConsentApi, subject: str
) -> None:
    consent = _grant(sqlite_consent_api, subject)
    page = officer.get("/console/exports").text
    assert 'action="/console/exports/disclosures"' in page
    assert 'action="/console/exports/consent-events"' in page
    today = utc_now().date().isoformat()
    form = {"partner": "uwv", "subject": subject, "from": today, "until": today, "format": ""}
    download = officer.get("/console/exports/consent-events", params=form)
    assert download.status_code == 200, download.text
    assert download.headers["content-type"].startswith("text/csv")
    assert 'filename="consent-events.csv"' in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["consent_id"] for r in rows] == [consent]
    as_json = officer.get("/console/exports/consent-events", params={**form, "format": "json"}).text
    assert [json.loads(line)["consent_id"] for line in as_json.splitlines()] == [consent]
    empty = officer.get("/console/exports/disclosures", params={"subject": subject})
    assert empty.text.splitlines()[0].startswith("disclosure_id,")


def test_the_export_forms_show_bad_filters(officer: httpx.Client) -> None:
    refused = officer.get(
        "/console/exports/disclosures", params={"from": "31-01-2026", "partner": "No Such"}
    )
    assert refused.status_code == 422
    assert "From: a date" in refused.text
    assert "Partner: not a partner id." in refused.text
    assert officer.get("/console/exports/other").status_code == 404


def test_exports_need_a_session(sqlite_consent_api: ConsentApi) -> None:
    with httpx.Client(base_url=sqlite_consent_api.url, headers=ENGLISH) as anonymous:
        response = anonymous.get("/console/exports/disclosures")
    assert response.status_code == 303


def test_bulk_withdrawal_through_preview_and_confirmation(
    officer: httpx.Client, sqlite_consent_api: ConsentApi, subject: str
) -> None:
    both = [{"partner_id": "uwv"}, {"partner_id": "gemeente-rotterdam"}]
    affected = [_grant(sqlite_consent_api, subject, recipients=both) for _ in range(2)]
    kept = _grant(sqlite_consent_api, subject)
    csrf = csrf_of(officer.get("/console/bulk").text)
    preview = officer.post(
        "/console/bulk/preview", data={"csrf": csrf, "recipient": "gemeente-rotterdam"}
    )
    assert preview.status_code == 200, preview.text
    assert "2 consents of 1 subjects would be withdrawn" in preview.text
    assert subject in preview.text
    token = unescape(_TOKEN.findall(preview.text)[0])
    with sqlite_consent_api.client("officer") as api:  # nothing withdrawn before confirming
        assert all(api.get(f"/v1/consents/{c}").json()["status"] == "GIVEN" for c in affected)

    no_reason = officer.post("/console/bulk", data={"csrf": csrf, "token": token, "reason": ""})
    assert no_reason.status_code == 422
    done = officer.post(
        "/console/bulk", data={"csrf": csrf, "token": token, "reason": "partner leaves"}
    )
    assert done.status_code == 200, done.text
    assert "2 consents are withdrawn" in done.text
    with sqlite_consent_api.client("officer") as api:
        assert [api.get(f"/v1/consents/{c}").json()["status"] for c in affected] == [
            "WITHDRAWN",
            "WITHDRAWN",
        ]
        assert api.get(f"/v1/consents/{kept}").json()["status"] == "GIVEN"


def test_bulk_forms_need_the_csrf_token_and_a_selection(officer: httpx.Client) -> None:
    refused = officer.post("/console/bulk/preview", data={"recipient": "uwv"})
    assert refused.status_code == 403
    csrf = csrf_of(officer.get("/console/bulk").text)
    empty = officer.post("/console/bulk/preview", data={"csrf": csrf})
    assert empty.status_code == 422
    assert "Choose a partner, a purpose, or both." in empty.text
    unknown = officer.post("/console/bulk", data={"csrf": csrf, "token": "z" * 43, "reason": "x"})
    assert unknown.status_code == 404


def test_a_preview_that_matches_nothing_says_so(officer: httpx.Client) -> None:
    csrf = csrf_of(officer.get("/console/bulk").text)
    preview = officer.post(
        "/console/bulk/preview", data={"csrf": csrf, "recipient": "mbo-amsterdam"}
    )
    assert preview.status_code == 200
    assert "nothing to withdraw" in preview.text
    assert 'name="token"' not in preview.text
