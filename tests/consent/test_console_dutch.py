"""The console speaks Dutch first: without a wish every page is Dutch (``lang="nl"``);
``?lang=en`` or an English ``Accept-Language`` gives English, and a ``?lang=`` choice is
remembered for the next pages. The access report (console and API) follows the same rule,
with Dutch dates and the working document's words."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from consent.model import DisclosureRecord, utc_now
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from schemas.vocabulary import DataCategory, PartnerKind, Purpose
from tests.consent.test_console import csrf_of, grant
from tests.helpers.consent import ConsentApi

_LANG = re.compile(r'<html lang="([a-z]+)">')


def _lang(page: str) -> str:
    found = _LANG.search(page)
    assert found, "no <html lang>"
    return found.group(1)


@contextmanager
def dutch_officer(api: ConsentApi, **headers: str) -> Iterator[httpx.Client]:
    """Signed in, with no language wish at all (or the given headers)."""
    with httpx.Client(base_url=api.url, timeout=30, headers=headers) as client:
        form = client.get("/console/login")
        assert _lang(form.text) == ("en" if "en" in headers.get("Accept-Language", "") else "nl")
        done = client.post(
            "/console/login", data={"api_key": api.keys["officer"], "csrf": csrf_of(form.text)}
        )
        assert done.status_code == 303, done.text
        yield client


def test_the_console_is_dutch_by_default(sqlite_consent_api: ConsentApi) -> None:
    with dutch_officer(sqlite_consent_api) as client:
        page = client.get("/console/subjects")
        assert page.headers["content-language"] == "nl"
        assert _lang(page.text) == "nl"
        assert "<h1>Betrokkene zoeken</h1>" in page.text
        assert "Cliëntpseudoniem of burgerservicenummer (BSN)" in page.text
        assert ">Afmelden</button>" in page.text
        assert 'hreflang="en"' in page.text  # the way to English
        assert "Find a subject" not in page.text


def test_english_on_request_and_remembered(sqlite_consent_api: ConsentApi) -> None:
    with dutch_officer(sqlite_consent_api) as client:
        english = client.get("/console/subjects", params={"lang": "en"})
        assert _lang(english.text) == "en"
        assert "<h1>Find a subject</h1>" in english.text
        cookie = english.headers["set-cookie"].lower()
        assert "rmt_console_lang=en" in cookie
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        # the next page, without ?lang=, stays English; ?lang=nl goes back
        assert "<h1>Consents about to expire</h1>" in client.get("/console/expiring").text
        back = client.get("/console/expiring", params={"lang": "nl"})
        assert "<h1>Toestemmingen die binnenkort aflopen</h1>" in back.text
        assert _lang(client.get("/console/bulk").text) == "nl"
    with dutch_officer(sqlite_consent_api, **{"Accept-Language": "en-US,en;q=0.8"}) as client:
        assert _lang(client.get("/console/subjects").text) == "en"
    with dutch_officer(sqlite_consent_api, **{"Accept-Language": "de-DE,fr;q=0.5"}) as client:
        assert _lang(client.get("/console/subjects").text) == "nl"


def test_a_consent_in_dutch(sqlite_consent_api: ConsentApi) -> None:
    subject = f"client-{uuid.uuid4().hex[:12]}"
    with dutch_officer(sqlite_consent_api) as client:
        consent_id = grant(client, subject, valid_until="2099-12-31")
        page = client.get(f"/console/subjects/{subject}?granted={consent_id}").text
        assert f"Toestemming {consent_id} is vastgelegd en gepubliceerd." in page
        assert '<span class="badge GIVEN">gegeven</span>' in page
        assert "1 januari 2100 00:00 UTC" in page  # a Dutch date
        assert "bemiddeling en plaatsing" in page  # the purpose in Dutch
        assert "contactgegevens, arbeidsmarktprofiel" in page
        assert "Verwerkingsverantwoordelijke (heeft de toestemming verkregen)" in page
        # a refused form names the field in Dutch
        csrf = csrf_of(page)
        refused = client.post(
            f"/console/subjects/{subject}/consents",
            data={"csrf": csrf, "controller": "gemeente-amsterdam", "purpose": []},
        )
        assert refused.status_code == 422
        assert "Er is een probleem" in refused.text
        assert "Doelen: kies er minstens één" in refused.text
        # withdraw; the page says so in Dutch
        csrf = csrf_of(client.get(f"/console/subjects/{subject}").text)
        done = client.post(
            f"/console/subjects/{subject}/consents/{consent_id}/withdraw",
            data={"csrf": csrf, "reason": "telefonisch verzoek"},
        )
        assert done.status_code == 303
        after = client.get(done.headers["location"]).text
        assert "is ingetrokken; de hub levert er niet meer op" in after
        assert '<span class="badge WITHDRAWN">ingetrokken</span>' in after


def test_the_access_report_in_dutch_and_english(sqlite_consent_api: ConsentApi) -> None:
    api = sqlite_consent_api
    subject = f"client-{uuid.uuid4().hex[:12]}"
    with dutch_officer(api) as client:
        consent_id = grant(client, subject)
        api.runtime.service.record_disclosure(
            DisclosureRecord(
                disclosure_id=EventId(str(uuid.uuid4())),
                subject=ClientPseudonym(subject),
                recipient=PartnerId("uwv"),
                recipient_kind=PartnerKind.UWV,
                purpose=Purpose.MATCHING_PLACEMENT,
                data_categories=(DataCategory.CONTACT,),
                consent_ids=(ConsentId(consent_id),),
                disclosed_at=utc_now(),
            )
        )
        page = client.get(f"/console/subjects/{subject}/report").text
        assert _lang(page) == "nl"
        assert "Inzageoverzicht:" in page
        assert "Gegevens verstrekt aan partners" in page
        assert f"toestemming {consent_id} (toestemming, nu gegeven)" in page
        assert "Audittrail: <strong>niet geverifieerd: 1 van de 1 verstrekkingen" in page
        months = "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober"
        assert re.search(rf"\d{{1,2}} ({months}|november|december) 20\d\d \d\d:\d\d UTC", page)
    # the stand-alone page of the API: Dutch by default, English on request
    with api.client("officer") as officer:
        dutch = officer.get(f"/v1/subjects/{subject}/access-report.html")
        assert dutch.headers["content-language"] == "nl"
        assert _lang(dutch.text) == "nl"
        assert "Wie wat over u heeft ontvangen" in dutch.text
        english = officer.get(f"/v1/subjects/{subject}/access-report.html?lang=en")
        assert _lang(english.text) == "en"
        assert "Who received what about you" in english.text
        header = officer.get(
            f"/v1/subjects/{subject}/access-report.html", headers={"Accept-Language": "en"}
        )
        assert _lang(header.text) == "en"
        assert officer.get(f"/v1/subjects/{subject}/access-report.html?lang=fr").status_code == 422
