"""The privacy officer console in a real browser: headless Chromium signs in, records a
consent, sees a delivery in the subject access report, withdraws, and checks what each
page shows; and a bulk withdrawal through its preview and confirmation. Screenshots of
every step go to ``test-artifacts/``.

The delivery is a ``DisclosureEvent`` published to the audit topic as the router writes
it; the consent service's own disclosure ingester reads it into the store.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from consent.model import utc_now
from hub.config import HubSettings
from hub.ids import ClientPseudonym
from schemas import codec
from schemas.models.audit import DisclosureEvent
from tests.consent.factories import grant_body
from tests.consent.helpers.audit import publish_hub_audit
from tests.helpers.consent import ConsentApi, consent_settings, running_consent_api

if TYPE_CHECKING:  # imported in the tests: a missing package fails there with a clear message
    from playwright.sync_api import Browser, ConsoleMessage, Page

BSN = "123456782"  # passes the eleven-test
CLIENT_NAME = "Fenna Oosterhuis"


@pytest.fixture(scope="module")
def console_api(
    hub_settings: HubSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsentApi]:
    data_dir = tmp_path_factory.mktemp("console-e2e")
    settings = consent_settings(hub_settings, f"sqlite:///{data_dir / 'consent.db'}", data_dir)
    with running_consent_api(settings, "sqlite") as api:
        yield api


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        context.close()


def _shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"console-{name}.png"), full_page=True)


def _deliver(api: ConsentApi, subject: str, consent_id: str) -> None:
    """Publish what the router writes when it delivers a record to UWV; wait until the
    consent service has read it."""
    assert api.runtime.ingester is not None
    event = DisclosureEvent.model_validate(
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": utc_now(),
            "source_partner": "hub",
            "client_pseudonym": subject,
            "recipient": "uwv",
            "recipient_kind": "UWV",
            "purpose": "MATCHING_PLACEMENT",
            "data_categories": ["contact", "labour_market_profile", "meta", "pseudonym"],
            "fields": ["event_id", "client_pseudonym", "email", "profile"],
            "withheld_categories": ["health"],
            "consent_ids": [consent_id],
            "policy_version": api.runtime.service.policy.version,
            "source_event_id": str(uuid.uuid4()),
            "publisher": "gemeente-amsterdam",
            "record_type": "nl.rmt.hub.ClientProfile",
            "inbox_topic": "rmt.partner.uwv.inbox",
            "payload_sha256": "0" * 64,
        }
    )
    publish_hub_audit(
        api.runtime.settings, api.runtime.ingester.topic, subject.encode(), codec.encode(event)
    )
    deadline = time.monotonic() + 20
    while not api.runtime.store.disclosures_for(ClientPseudonym(subject)):
        assert time.monotonic() < deadline, "the disclosure never reached the consent store"
        time.sleep(0.1)


def _decision(api: ConsentApi, subject: str) -> bool:
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


def _sign_in(page: Page, url: str, key: str) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    page.goto(f"{url}/console")
    expect(page).to_have_url(f"{url}/console/login")
    page.get_by_label("API key (privacy officer)").fill(key)
    page.get_by_role("button", name="Sign in").click()


def test_grant_deliver_withdraw_in_the_browser(
    console_api: ConsentApi, page: Page, artifacts: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    api, url = console_api, console_api.url
    subject = f"client-e2e-{uuid.uuid4().hex[:8]}"
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)

    # a partner's key does not open the console
    _sign_in(page, url, api.keys["uwv"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Not for this key")
    expect(page.get_by_role("alert")).to_contain_text("this key has the role partner")
    problems.clear()  # the browser reports that 403; from here on, nothing may fail

    # the privacy officer signs in
    page.goto(f"{url}/console/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    _shot(page, artifacts, "1-sign-in")
    _sign_in(page, url, api.keys["officer"])
    expect(page).to_have_url(f"{url}/console/subjects")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a subject")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["rmt_console_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert api.keys["officer"] not in session["value"]
    # the stylesheet is allowed by the Content-Security-Policy (its hash)
    header = page.locator("header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(1, 104, 155)"

    # find the (new) subject by pseudonym
    page.get_by_label("Client pseudonym or citizen service number (BSN)").fill(subject)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(f"{url}/console/subjects/{subject}")
    expect(page.get_by_text("No consents are recorded for this subject.")).to_be_visible()

    # grant: gemeente Amsterdam lets UWV match and place, with the BSN on file
    page.get_by_label("Controller (obtained the consent)").select_option("gemeente-amsterdam")
    page.get_by_label("Job seeker category").select_option("BIJSTAND_APPLICANT")
    recipients = page.get_by_role("group", name="Recipients")
    recipients.get_by_label("uwv", exact=True).check()
    page.get_by_role("group", name="Purposes").get_by_label("MATCHING_PLACEMENT").check()
    categories = page.get_by_role("group", name="Data categories")
    categories.get_by_label("contact", exact=True).check()
    categories.get_by_label("labour_market_profile").check()
    page.get_by_label("Valid until, last day included (empty: no end)").fill("2099-12-31")
    page.get_by_label("Citizen service number (optional)").fill(BSN)
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("status")).to_contain_text("is recorded and published")
    consent_id = re.search(r"granted=([0-9a-f-]+)", page.url)
    assert consent_id, page.url
    cid = consent_id.group(1)
    row = page.locator(f"#consent-{cid}")
    expect(row.locator(".badge")).to_have_text("GIVEN")
    expect(row).to_contain_text("gemeente-amsterdam")
    expect(row).to_contain_text("contact, labour_market_profile")
    expect(row).to_contain_text("1 January 2100 00:00 UTC")
    expect(page.get_by_text("Citizen service number on file: yes (encrypted)")).to_be_visible()
    assert BSN not in page.content()
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, button')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                         && !e.textContent.trim())
            .map(e => e.outerHTML)"""
    )
    assert unlabelled == [], "form controls without an accessible name"
    _shot(page, artifacts, "2-granted")
    assert _decision(api, subject) is True

    # the hub delivers a record to UWV: the access report shows who received what
    _deliver(api, subject, cid)
    page.get_by_role("link", name="Subject access report").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Subject access report")
    delivered = page.locator("table").first
    expect(delivered).to_contain_text("UWV (employee insurance agency")
    expect(delivered).to_contain_text("MATCHING_PLACEMENT")
    expect(delivered).to_contain_text("contact, labour_market_profile, meta, pseudonym")
    expect(delivered).to_contain_text(f"consent {cid} (CONSENT, now GIVEN)")
    _shot(page, artifacts, "3-report-delivered")

    # withdraw it
    page.get_by_role("link", name="Back to the subject").click()
    row = page.locator(f"#consent-{cid}")
    row.get_by_label("Reason").fill(f"{CLIENT_NAME} asked by phone")
    row.get_by_role("button", name=f"Withdraw consent {cid}").click()
    expect(page.get_by_role("status")).to_contain_text("is withdrawn")
    row = page.locator(f"#consent-{cid}")
    expect(row.locator(".badge")).to_have_text("WITHDRAWN")
    expect(row.get_by_role("button")).to_have_count(0)
    _shot(page, artifacts, "4-withdrawn")
    assert _decision(api, subject) is False

    # the report keeps the delivery and shows its basis is withdrawn now
    page.get_by_role("link", name="Subject access report").click()
    expect(page.locator("table").first).to_contain_text(f"consent {cid} (CONSENT, now WITHDRAWN)")
    # UWV received data under it: an erasure notice went out, not yet acknowledged
    erasure = page.locator("table.erasures tbody tr")
    expect(erasure).to_have_count(1)
    expect(erasure).to_contain_text("UWV (employee insurance agency")
    expect(erasure.locator(".badge")).to_have_text("sent")
    history = page.locator("table").last
    expect(history).to_contain_text("GIVEN")
    expect(history).to_contain_text("WITHDRAWN")
    _shot(page, artifacts, "5-report-withdrawn")

    # find the subject again by BSN: it is never shown back, nor put in a URL
    page.get_by_role("link", name="Find a subject").click()
    page.get_by_label("Client pseudonym or citizen service number (BSN)").fill(
        f"{BSN[:4]}.{BSN[4:6]}.{BSN[6:]}"
    )
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(f"{url}/console/subjects/{subject}?found=bsn")
    expect(page.get_by_role("status")).to_have_text("Found by the citizen service number.")
    assert BSN not in page.content()

    # the policy matrix
    page.get_by_role("link", name="Policy matrix").click()
    matrix = page.locator("#policy-matrix")
    expect(matrix.get_by_role("rowheader")).to_have_count(5)
    expect(matrix.locator("thead th")).to_have_count(9)
    expect(matrix).to_contain_text("UWV")
    _shot(page, artifacts, "6-policy-matrix")

    # sign out
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto(f"{url}/console/subjects")
    expect(page).to_have_url(f"{url}/console/login")

    assert not problems, f"the browser reported errors: {problems}"
    for name in (
        "1-sign-in",
        "2-granted",
        "3-report-delivered",
        "4-withdrawn",
        "5-report-withdrawn",
        "6-policy-matrix",
    ):
        assert (artifacts / f"console-{name}.png").stat().st_size > 10_000


def test_bulk_withdrawal_with_preview_and_confirmation(
    console_api: ConsentApi, page: Page, artifacts: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    api, url = console_api, console_api.url
    subject = f"client-e2e-{uuid.uuid4().hex[:8]}"
    both = [{"partner_id": "uwv"}, {"partner_id": "gemeente-tilburg"}]
    with api.client("officer") as officer:
        ids = [
            officer.post("/v1/consents", json=grant_body(subject, recipients=both)).json()["id"]
            for _ in range(2)
        ]

    page.goto(f"{url}/console/login")
    page.get_by_label("API key (privacy officer)").fill(api.keys["officer"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Console").get_by_role(
        "link", name="Bulk withdrawal"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bulk withdrawal")
    page.get_by_label("Partner named as recipient").select_option("gemeente-tilburg")
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the bulk withdrawal")
    expect(page.get_by_role("alert")).to_contain_text("2 consents of 1 subjects")
    expect(page.get_by_role("link", name=subject)).to_be_visible()
    page.screenshot(path=str(artifacts / "console-bulk-preview.png"), full_page=True)
    with api.client("officer") as officer:  # nothing is withdrawn by the preview
        assert {officer.get(f"/v1/consents/{i}").json()["status"] for i in ids} == {"GIVEN"}

    page.get_by_label("Reason (recorded with each withdrawal)").fill("partner leaves")
    page.get_by_role("button", name="Withdraw these consents").click()
    expect(page.get_by_role("status")).to_contain_text("2 consents are withdrawn")
    with api.client("officer") as officer:
        assert {officer.get(f"/v1/consents/{i}").json()["status"] for i in ids} == {"WITHDRAWN"}


@pytest.fixture
def dutch_page(browser: Browser) -> Iterator[Page]:
    """A browser of a Dutch officer (Accept-Language nl-NL)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        context.close()


def test_the_dutch_console_expiring_export_and_bulk_withdrawal(
    console_api: ConsentApi, dutch_page: Page, artifacts: Path
) -> None:
    """The officer's day in Dutch: sign in, a consent that is about to expire, an export
    downloaded, a bulk withdrawal through its preview; then the same console in English."""
    from datetime import timedelta  # noqa: PLC0415

    from playwright.sync_api import expect  # noqa: PLC0415

    api, url, page = console_api, console_api.url, dutch_page
    subject = f"client-e2e-{uuid.uuid4().hex[:8]}"
    soon = (utc_now() + timedelta(days=5)).replace(microsecond=0)
    with api.client("officer") as officer:
        body = grant_body(
            subject,
            recipients=[{"partner_id": "uwv"}, {"partner_id": "gemeente-tilburg"}],
            valid_until=soon.isoformat(),
        )
        expiring_id = officer.post("/v1/consents", json=body).json()["id"]

    page.goto(f"{url}/console")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", level=1)).to_have_text("Aanmelden")
    page.get_by_label("API-sleutel (privacy officer)").fill(api.keys["officer"])
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Betrokkene zoeken")
    nav = page.get_by_role("navigation", name="Console")

    # consents about to expire: listed, with a Dutch date
    nav.get_by_role("link", name="Aflopende toestemmingen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Toestemmingen die binnenkort aflopen"
    )
    row = page.locator("tr", has_text=expiring_id)
    months = (
        "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
    )
    expect(row).to_contain_text(re.compile(rf"\d{{1,2}} ({months}) \d{{4}} \d\d:\d\d UTC"))
    expect(row).to_contain_text("bemiddeling en plaatsing")
    _shot(page, artifacts, "nl-1-expiring")

    # an export of the consent events of this subject, as CSV
    nav.get_by_role("link", name="Exports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exports")
    events = page.get_by_role("form", name="Toestemmingsgebeurtenissen")
    events.get_by_label("Cliëntpseudoniem").fill(subject)
    with page.expect_download() as download:
        events.get_by_role("button", name="Downloaden").click()
    saved = artifacts / "console-nl-consent-events.csv"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert expiring_id in text
    assert subject in text

    # bulk withdrawal: preview, then confirm
    nav.get_by_role("link", name="Bulkintrekking").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bulkintrekking")
    page.get_by_label("Partner die als ontvanger is genoemd").select_option("gemeente-tilburg")
    page.get_by_role("button", name="Voorbeeld").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bevestig de bulkintrekking")
    expect(page.get_by_role("alert")).to_contain_text("zouden worden ingetrokken")
    expect(page.get_by_role("link", name=subject)).to_be_visible()
    _shot(page, artifacts, "nl-2-bulk-preview")
    page.get_by_label("Reden (vastgelegd bij elke intrekking)").fill("partner vertrekt")
    page.get_by_role("button", name="Deze toestemmingen intrekken").click()
    expect(page.get_by_role("status")).to_contain_text("zijn ingetrokken")

    # the subject: the consent is shown as withdrawn, in Dutch
    page.goto(f"{url}/console/subjects/{subject}")
    row = page.locator(f"#consent-{expiring_id}")
    expect(row.locator(".badge")).to_have_text("ingetrokken")
    expect(row).to_contain_text("partner vertrekt")
    _shot(page, artifacts, "nl-3-subject")

    # English on request, remembered on the next page
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(f"#consent-{expiring_id} .badge")).to_have_text("WITHDRAWN")
    page.get_by_role("navigation", name="Console").get_by_role(
        "link", name="Expiring consents"
    ).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Consents about to expire")
    page.get_by_role("link", name="Nederlands").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
