"""Erasure that is confirmed, end to end on the real broker: the consent service grants,
the router delivers a record to the partner, the officer withdraws, the router writes the
erasure notice to the partner's inbox, the partner's SDK reads it and acknowledges it
after "erasing", and the officer's views (API, access report, console page in Chromium)
turn from "sent" to "acknowledged".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from consent.api import issue_key
from consent.erasures import erasure_notice_id
from consent.model import Role
from consent.runtime import ConsentRuntime
from hub.http import HttpServer
from hub.ids import ClientPseudonym
from hub.sdk import ErasureAcknowledger, PartnerClient
from hub.sdk.errors import SdkError
from schemas.models import ClientProfile, ErasureNotice
from schemas.vocabulary import DataCategory, Purpose
from tests.consent.factories import terms
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.integration

RECIPIENT = "gemeente-amsterdam"
CATEGORIES = (
    DataCategory.IDENTITY,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.ARRANGEMENT,
)


def _wait(what: str, probe: object, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not probe():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


@pytest.fixture
def consent_service(hub: Hub) -> Iterator[tuple[ConsentRuntime, str, dict[str, str]]]:
    """The consent service on the hub's topics (so the router reads its feed and it reads
    the router's audit trail), over HTTP, with keys for the officer and two partners."""
    settings = hub.settings.model_copy(
        update={"database_url": f"sqlite:///{hub.tmp / 'consent.db'}"}
    )
    runtime = ConsentRuntime(settings)
    keys = {
        "officer": issue_key(runtime.store, Role.PRIVACY_OFFICER, "officer-1")[1],
        RECIPIENT: issue_key(runtime.store, Role.PARTNER, "adam", RECIPIENT)[1],
        "uwv": issue_key(runtime.store, Role.PARTNER, "uwv-system", "uwv")[1],
    }
    runtime.start()
    http = HttpServer(runtime.app, name="consent-erasure-e2e")
    try:
        yield runtime, http.start(), keys
    finally:
        http.stop()
        runtime.stop()


def test_an_erasure_notice_acknowledged_by_the_partner_sdk(
    hub: Hub,
    consent_service: tuple[ConsentRuntime, str, dict[str, str]],
    browser: Browser,
    artifacts: Path,
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    runtime, url, keys = consent_service
    officer = httpx.Client(base_url=url, headers={"X-API-Key": keys["officer"]}, timeout=30)
    worker = hub.worker()
    who = records.subject()
    worker.wait_ready(90)

    # a consent, and a delivery under it (the router's audit record reaches the service)
    granted = runtime.service.grant(
        terms(
            who,
            controller="uwv",
            job_seeker_category="WW_ENTRANT",
            recipients=[{"partner_id": RECIPIENT}],
            purposes=[Purpose.ARRANGEMENT.value, Purpose.WARM_HANDOVER.value],
            data_categories=[c.value for c in CATEGORIES],
        ),
        actor="privacy_officer:officer-1",
    )
    hub.publish(records.profile(who))
    _wait(
        "the disclosure in the consent store",
        lambda: runtime.store.disclosures_for(ClientPseudonym(who)),
    )

    # withdrawn: the router writes an erasure notice to the partner's inbox
    answer = officer.post(f"/v1/consents/{granted.id}/withdraw", json={"reason": "per telefoon"})
    assert answer.status_code == 200, answer.text
    notices = officer.get(f"/v1/subjects/{who}/erasures").json()
    assert [(n["recipient"], n["status"]) for n in notices] == [(RECIPIENT, "sent")]

    found: list[ErasureNotice] = []
    with PartnerClient(hub.settings, RECIPIENT) as client:
        deadline = time.monotonic() + 90
        while not found:
            assert time.monotonic() < deadline, "no erasure notice in the partner's inbox"
            for message in client.poll(timeout_s=1.0):
                if isinstance(message.record, ErasureNotice):
                    found.append(message.record)
                elif isinstance(message.record, ClientProfile):
                    pass  # the delivery; the partner erases it below
                client.commit(message)
    (notice,) = found
    assert notice.client_pseudonym == who
    assert notice.consent_id == granted.id
    # the service derived the very notice the router sent
    assert notices[0]["notice_id"] == str(notice.event_id)

    # the officer's console shows it as sent, in Dutch
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{url}/console/login")
        page.get_by_label("API-sleutel (privacy officer)").fill(keys["officer"])
        page.get_by_role("button", name="Aanmelden").click()
        page.get_by_role("navigation", name="Console").get_by_role(
            "link", name="Verwijderingen"
        ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Verwijderingsverzoeken")
        row = page.locator(f"#erasure-{notice.event_id}")
        expect(row).to_have_attribute("data-status", "sent")
        expect(row.locator(".badge")).to_have_text("verstuurd")
        expect(row).to_contain_text(RECIPIENT)
        page.screenshot(path=str(artifacts / "console-nl-erasure-sent.png"), full_page=True)

        # another partner cannot acknowledge it
        with ErasureAcknowledger(url, keys["uwv"]) as other, pytest.raises(SdkError, match="403"):
            other.acknowledge(notice)

        # the partner erases, then acknowledges with the SDK (twice: idempotent)
        with ErasureAcknowledger(url, keys[RECIPIENT]) as acks:
            first = acks.acknowledge(notice)
            again = acks.acknowledge(notice)
        assert first["status"] == "acknowledged"
        assert again["acknowledged_at"] == first["acknowledged_at"]

        page.reload()
        row = page.locator(f"#erasure-{notice.event_id}")
        expect(row).to_have_attribute("data-status", "acknowledged")
        expect(row.locator(".badge")).to_have_text("bevestigd")
        page.screenshot(path=str(artifacts / "console-nl-erasure-acknowledged.png"), full_page=True)

        # the access report lists the notice and its acknowledgement
        page.goto(f"{url}/console/subjects/{who}/report")
        erasures = page.locator("table.erasures")
        expect(erasures).to_contain_text(RECIPIENT)
        expect(erasures.locator(".badge")).to_have_text("bevestigd")
        page.goto(f"{url}/console/subjects/{who}/report?lang=en")
        expect(page.locator("table.erasures .badge")).to_have_text("acknowledged")
    finally:
        context.close()

    report = officer.get(f"/v1/subjects/{who}/access-report").json()
    (listed,) = report["erasures"]
    assert listed["status"] == "acknowledged"
    assert listed["recipient"] == RECIPIENT
    summary = officer.get("/v1/erasures", params={"days": 1}).json()
    assert summary["acknowledged"] >= 1
    officer.close()


def test_acknowledging_a_notice_that_was_not_sent_is_refused(
    hub: Hub, consent_service: tuple[ConsentRuntime, str, dict[str, str]]
) -> None:
    """No delivery, so no notice: the service refuses what the router never sent."""
    runtime, url, keys = consent_service
    who = records.subject()
    granted = runtime.service.grant(
        terms(
            who,
            controller="uwv",
            job_seeker_category="WW_ENTRANT",
            recipients=[{"partner_id": RECIPIENT}],
        ),
        actor="privacy_officer:officer-1",
    )
    ended = runtime.service.withdraw(granted.id, actor="privacy_officer:officer-1")
    event_id = runtime.service.history(granted.id)[-1].event_id
    with httpx.Client(base_url=url, headers={"X-API-Key": keys[RECIPIENT]}) as partner:
        body = {
            "notice_id": erasure_notice_id(event_id, RECIPIENT),
            "consent_event_id": event_id,
            "client_pseudonym": who,
        }
        assert partner.post("/v1/erasure-acknowledgements", json=body).status_code == 404
    assert ended.withdrawal is not None
    with httpx.Client(base_url=url, headers={"X-API-Key": keys["officer"]}) as officer:
        answer = officer.post("/v1/erasure-acknowledgements", json=body)
        assert answer.status_code == 403  # an officer is no recipient
