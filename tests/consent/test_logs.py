"""No personal data in the logs: the consent service's flows that handle a BSN and names
(grant with a BSN, lookup by BSN, the access report, withdrawal with a reason naming the
client, the console, an undecodable audit record carrying both), with structured JSON
logging at DEBUG, and every line checked."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from consent.api import issue_key
from consent.model import Role
from hub.config import HubSettings
from hub.logging import configure_logging
from schemas.identifiers import is_valid_bsn
from tests.consent.factories import grant_body
from tests.consent.helpers.audit import publish_hub_audit
from tests.consent.test_console import csrf_of, grant_form
from tests.helpers.consent import consent_settings, running_consent_api
from tests.helpers.waiting import wait_until

BSN = "111222333"
SECOND_BSN = "123456782"
GIVEN_NAME = "Fenna"
FAMILY_NAME = "Oosterhuis"
OFFICER_NAME = "marit.de-graaff"  # the officer's key name is a person's name too
NAMES = (GIVEN_NAME, FAMILY_NAME, "Marit", "Graaff")
_NUMBERS = re.compile(r"(?<![\d])\d[\d .]{7,12}\d(?![\d])")


@pytest.fixture
def json_logging() -> Iterator[io.StringIO]:
    """Root logging as a hub process sets it up (JSON, DEBUG), its one handler writing into
    the buffer this yields instead of stderr; restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(HubSettings(log_json=True, log_level="DEBUG"))
    buffer = io.StringIO()
    (handler,) = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        for installed in list(root.handlers):
            root.removeHandler(installed)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


def _leaks(line: str) -> list[str]:
    found = []
    for candidate in _NUMBERS.findall(line):
        digits = candidate.replace(" ", "").replace(".", "")
        if is_valid_bsn(digits):
            found.append(f"a BSN ({candidate!r})")
    lowered = line.lower()
    found += [f"the name {name!r}" for name in NAMES if name.lower() in lowered]
    return found


def _flows(api: Any, key: str, subject: str, other: str) -> None:
    client = httpx.Client(base_url=api.url, timeout=30, headers={"X-API-Key": key})
    with client:
        reason = f"{GIVEN_NAME} {FAMILY_NAME} asked by phone"
        granted = client.post("/v1/consents", json=grant_body(subject, bsn=BSN))
        assert granted.status_code == 201, granted.text
        # a BSN where the pseudonym belongs, and an invalid BSN: refused, not echoed
        assert client.post("/v1/consents", json=grant_body(BSN)).status_code == 422
        assert (
            client.post("/v1/consents", json=grant_body(other, bsn="111222334")).status_code == 422
        )
        # another BSN for a known subject: a conflict
        assert (
            client.post("/v1/consents", json=grant_body(subject, bsn=SECOND_BSN)).status_code == 409
        )
        found = client.post("/v1/subjects/lookup", json={"bsn": "1112.22.333"})
        assert found.json() == {"subjects": [subject]}
        assert client.get(f"/v1/subjects/{subject}/access-report").status_code == 200
        assert client.get(f"/v1/subjects/{subject}/access-report.html").status_code == 200
        withdrawn = client.post(
            f"/v1/consents/{granted.json()['id']}/withdraw", json={"reason": reason}
        )
        assert withdrawn.status_code == 200
        decided = client.post(
            "/v1/decisions",
            json={
                "subject": subject,
                "partner_id": "uwv",
                "purpose": "MATCHING_PLACEMENT",
                "categories": ["contact"],
            },
        )
        assert decided.json()["allowed"] is False

    with httpx.Client(base_url=api.url, timeout=30) as browser:  # the console
        form = browser.get("/console/login")
        signed_in = browser.post(
            "/console/login", data={"api_key": key, "csrf": csrf_of(form.text)}
        )
        assert signed_in.status_code == 303
        csrf = csrf_of(browser.get("/console/subjects").text)
        assert browser.post("/console/search", data={"csrf": csrf, "query": BSN}).status_code == 303
        bad = browser.post("/console/search", data={"csrf": csrf, "query": "111 222 334"})
        assert bad.status_code == 422
        named = browser.post("/console/search", data={"csrf": csrf, "query": GIVEN_NAME})
        assert named.status_code == 303  # a pseudonym, as far as the console can tell
        granted_form = browser.post(
            f"/console/subjects/{other}/consents", data=grant_form(other, csrf, bsn=SECOND_BSN)
        )
        assert granted_form.status_code == 303
        consent_id = granted_form.headers["location"].rsplit("=", 1)[1]
        refused = browser.post(
            f"/console/subjects/{other}/consents",
            data=grant_form(other, csrf, bsn="123456783", purpose=[]),
        )
        assert refused.status_code == 422
        withdrawn_form = browser.post(
            f"/console/subjects/{other}/consents/{consent_id}/withdraw",
            data={"csrf": csrf, "reason": f"{FAMILY_NAME} moved"},
        )
        assert withdrawn_form.status_code == 303
        assert browser.get(f"/console/subjects/{other}/report").status_code == 200


def test_no_bsn_and_no_name_in_any_log_line(
    hub_settings: HubSettings,
    tmp_path: Path,
    json_logging: io.StringIO,
) -> None:
    settings = consent_settings(hub_settings, f"sqlite:///{tmp_path / 'consent.db'}", tmp_path)
    subject = f"client-logs-{uuid.uuid4().hex[:8]}"
    other = f"client-logs-{uuid.uuid4().hex[:8]}"
    with running_consent_api(settings, "sqlite") as api:
        _, key = issue_key(api.runtime.store, Role.PRIVACY_OFFICER, OFFICER_NAME)
        _flows(api, key, subject, other)
        # an audit record that does not decode, carrying a BSN and a name
        ingester = api.runtime.ingester
        assert ingester is not None
        junk = f"\x02{BSN} {GIVEN_NAME} {FAMILY_NAME}".encode()
        publish_hub_audit(api.runtime.settings, ingester.topic, subject.encode(), junk)
        wait_until(
            lambda: ingester.undecodable, timeout_s=20, what="the ingester reads the junk record"
        )

    lines = [line for line in json_logging.getvalue().splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a log line that is not JSON: {line[:300]}\n" + "\n".join(lines)[:5000])
    assert len(records) >= 5, lines
    assert any(r.get("event_id") for r in records), "no log line carries an event id"
    assert any("undecodable" in r["message"] for r in records)
    leaks = [(line, _leaks(line)) for line in lines if _leaks(line)]
    assert not leaks, "personal data in the logs:\n" + "\n".join(
        f"{what}: {line[:400]}" for line, what in leaks
    )
