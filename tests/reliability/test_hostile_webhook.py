"""Hostile requests to the social partners' webhook, over real HTTP, publishing to the
real broker.

Hypothesis draws notices whose items have wrong types, missing fields, deep nesting,
huge strings and non-objects, mixed with valid items; and bodies that are not JSON, not
UTF-8, too large, too deeply nested, or sent with the wrong content type. Every answer
is a 4xx with a reason (and, for an item, the item and field named) - never a 5xx - and
the valid items of a batch are published: at the end every one of them is on the
outbox.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.social_partners import create_app
from connectors.social_partners.app import MAX_BODY_BYTES, MAX_DEPTH
from hub.config import HubSettings
from hub.http import HttpServer
from hub.sdk import PartnerClient
from schemas.models import ClientProfile, DeadLetter
from tests.helpers.connectors import read_records
from tests.plugins.reliability import Scale
from tests.reliability.connector_env import connector_hub, valid_bsn

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

PARTNER = "sp-werkgevers"
PATH = "/v1/threatened-employees"
FOUR_XX = {400, 413, 415, 422}


@dataclass
class Webhook:
    settings: HubSettings
    client: PartnerClient
    http: httpx.Client
    published: set[str] = field(default_factory=set)
    """Pseudonyms of the valid items sent so far (each must be on the outbox)."""
    serial: int = 0

    def bsn(self) -> str:
        self.serial += 1
        return valid_bsn(10_000_000 + self.serial * 20)

    def post(self, body: bytes, content_type: str | None = "application/json") -> httpx.Response:
        headers = {"content-type": content_type} if content_type is not None else {}
        return self.http.post(PATH, content=body, headers=headers)


@pytest.fixture(scope="module")
def webhook(
    hub_settings: HubSettings, registry_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Webhook]:
    home: Path = tmp_path_factory.mktemp("hostile-webhook")
    with connector_hub(hub_settings, registry_url, home) as env:
        client = PartnerClient(env, PARTNER)
        server = HttpServer(create_app(client), port=0, name="hostile-webhook")
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                yield Webhook(env, client, http)
        finally:
            server.stop()
            client.close()


def employee(bsn: str) -> dict[str, Any]:
    return {
        "bsn": bsn,
        "voornamen": "Anna",
        "achternaam": "de Boer",
        "geboortedatum": "1975-05-05",
        "gemeentecode": "0363",
        "functie": "Reisadviseur",
        "sector": "reisbranche",
        "in_dienst_sinds": "2005-01-01",
        "uren_per_week": 32,
        "opleidingsniveau": "mbo 4",
        "competenties": ["Klantcontact"],
    }


REQUIRED = ["bsn", "voornamen", "achternaam", "geboortedatum", "gemeentecode", "functie"]


def nested(depth: int) -> Any:
    value: Any = "x"
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


wrong_values = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.text(max_size=40),
    st.sampled_from(["=cmd|' /C calc'!A0", "+1+1", "@SUM(1)", "\t-2", "\x00", "\ud7ff", "☃" * 600]),
    st.integers(2, 20).map(nested),  # deeper than MAX_DEPTH is a 400 for the whole body
    st.sampled_from(["x" * 100_000, "9" * 5_000]),
)


@st.composite
def bad_item(draw: st.DrawFn) -> Any:
    """An item that must be refused (and the field it is refused for, when one)."""
    kind = draw(st.sampled_from(["wrong type", "missing", "not an object", "bad bsn"]))
    item: Any = employee(valid_bsn(draw(st.integers(10**6, 10**7)) * 20))
    if kind == "wrong type":
        name = draw(st.sampled_from(REQUIRED))
        # numbers are accepted where text is asked (a house number); these never are
        item[name] = draw(
            wrong_values.filter(
                lambda v: not isinstance(v, int | str) or (isinstance(v, str) and len(v) > 600)
            )
        )
    elif kind == "missing":
        del item[draw(st.sampled_from(REQUIRED))]
    elif kind == "not an object":
        item = draw(st.one_of(st.integers(), st.text(max_size=20), st.lists(st.integers())))
    else:
        item["bsn"] = draw(st.sampled_from(["123456789", "12345678a", "", "0" * 9, "１２３"]))
    return item


@st.composite
def valid_or_odd_item(draw: st.DrawFn, webhook: Webhook) -> Any:
    """A valid item, possibly with odd but acceptable optional values."""
    item = employee(webhook.bsn())
    if draw(st.booleans()):
        item["telefoon"] = draw(st.sampled_from(['=HYPERLINK("x")', "+31 6 1234", "-", "@x"]))
    return item


@pytest.mark.timeout(3600)  # the full size runs long
def test_hostile_items_get_4xx_with_item_field_and_reason_and_valid_ones_are_published(
    webhook: Webhook, scale: Scale
) -> None:
    @settings(
        max_examples=scale.pick(25, 150),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        good = data.draw(st.lists(valid_or_odd_item(webhook), max_size=3), label="good")
        bad = data.draw(st.lists(bad_item(), min_size=1, max_size=4), label="bad")
        items = data.draw(st.permutations(good + bad), label="order")
        body = json.dumps({"melddatum": "2026-11-02", "werknemers": items}, allow_nan=True)
        response = webhook.post(body.encode())
        assert response.status_code == 422, response.text[:500]
        answer = response.json()
        assert answer["items"] == len(items)
        assert answer["published"] + answer["duplicates"] == len(good)
        assert answer["rejected"] == len(bad)
        bad_at = {i for i, item in enumerate(items) if not any(item is g for g in good)}
        assert {e["item"] for e in answer["errors"]} == bad_at
        for error in answer["errors"]:
            assert error["reason"]
            assert error["field"].startswith(f"werknemers[{error['item']}]")
        webhook.published |= {webhook.client.pseudonym(g["bsn"]) for g in good}

    run()
    outbox = f"{webhook.settings.topic_prefix}.partner.{PARTNER}.outbox"
    on_outbox = {
        r.client_pseudonym
        for _, r, _ in read_records(webhook.settings, outbox)
        if isinstance(r, ClientProfile)
    }
    assert webhook.published <= on_outbox


notice_values = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@given(
    melddatum=notice_values,
    werknemers=notice_values,
)
@settings(max_examples=30, deadline=None, derandomize=True)
def test_a_bad_notice_is_422_naming_its_field(
    webhook: Webhook, melddatum: Any, werknemers: Any
) -> None:
    body = {"melddatum": melddatum, "werknemers": werknemers}
    response = webhook.post(json.dumps(body).encode())
    assert response.status_code == 422, response.text[:300]
    errors = response.json()["errors"]
    assert errors
    assert {e["field"] for e in errors} <= {"melddatum", "werknemers"}
    assert all(e["reason"] for e in errors)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        pytest.param(b"\xff\xfe{not utf-8}", "application/json", 400, id="not UTF-8"),
        pytest.param(
            b'{"melddatum": "2026-11-02", "werknemers": [}', "application/json", 400, id="not JSON"
        ),
        pytest.param(b"[1, 2, 3]", "application/json", 400, id="not an object"),
        pytest.param(b"", "application/json", 400, id="empty"),
        pytest.param(b"NaN", "application/json", 400, id="NaN"),
        pytest.param(b'{"a": 1}', "text/plain", 415, id="text/plain"),
        pytest.param(b'{"a": 1}', "application/xml", 415, id="xml"),
        pytest.param(b'{"a": 1}', "multipart/form-data; boundary=x", 415, id="form"),
        pytest.param(b'{"a": 1}', None, 415, id="no content type"),
    ],
)
def test_bodies_that_are_not_a_json_object_get_4xx_with_a_reason(
    webhook: Webhook, body: bytes, content_type: str | None, status: int
) -> None:
    response = webhook.post(body, content_type)
    assert response.status_code == status, response.text[:300]
    (error,) = response.json()["errors"]
    assert error["reason"]


def test_a_json_charset_and_suffix_are_accepted(webhook: Webhook) -> None:
    item = employee(webhook.bsn())
    body = json.dumps({"melddatum": "2026-11-02", "werknemers": [item]}).encode()
    for content_type in ("application/json; charset=utf-8", "application/vnd.rmt+json"):
        response = webhook.post(body, content_type)
        assert response.status_code == 202, response.text[:300]
    webhook.published.add(webhook.client.pseudonym(item["bsn"]))


def test_regression_deeply_nested_json_was_a_500(webhook: Webhook) -> None:
    """``[[[[...]]]]`` 100,000 deep made json.loads raise RecursionError: HTTP 500."""
    response = webhook.post(b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400, response.text[:300]
    assert "nested" in response.json()["errors"][0]["reason"]
    deep_item = {"melddatum": "2026-11-02", "werknemers": [employee("0") | {"x": "y"}]}
    text = json.dumps(deep_item).replace('"y"', "[" * 50_000 + "]" * 50_000)
    response = webhook.post(text.encode())
    assert response.status_code == 400, response.text[:300]


def test_regression_a_5000_digit_number_was_a_500(webhook: Webhook) -> None:
    """json.loads raises ValueError (not JSONDecodeError) for an integer of more than
    4300 digits: the webhook answered 500."""
    body = '{"melddatum": "2026-11-02", "werknemers": [{"bsn": ' + "9" * 5000 + "}]}"
    response = webhook.post(body.encode())
    assert response.status_code == 400, response.text[:300]
    assert response.json()["errors"][0]["reason"]


def test_regression_a_huge_bad_item_was_a_500(webhook: Webhook) -> None:
    """A bad item of several megabytes: its dead letter (the item's text) was larger than
    a produce request, so publishing it failed and the webhook answered 500. The dead
    letter now keeps the start of the item; the valid item next to it is published."""
    item = employee(webhook.bsn())
    huge = employee("123456789") | {"voornamen": "x" * 3_000_000}
    body = json.dumps({"melddatum": "2026-11-02", "werknemers": [huge, item]}).encode()
    response = webhook.post(body)
    assert response.status_code == 422, response.text[:300]
    answer = response.json()
    assert (answer["published"], answer["rejected"]) == (1, 1)
    assert {e["field"] for e in answer["errors"]} >= {"werknemers[0].bsn"}
    webhook.published.add(webhook.client.pseudonym(item["bsn"]))
    letters = [
        r
        for _, r, _ in read_records(
            webhook.settings, f"{webhook.settings.topic_prefix}.hub.deadletter"
        )
        if isinstance(r, DeadLetter) and r.source_offset == 1
    ]
    assert any(r.original_value is not None and len(r.original_value) < 100_000 for r in letters)


def test_a_body_over_the_limit_is_413(webhook: Webhook) -> None:
    body = b'{"x": "' + b"y" * (MAX_BODY_BYTES + 10) + b'"}'
    response = webhook.post(body)
    assert response.status_code == 413, response.text[:300]
    assert str(MAX_BODY_BYTES) in response.json()["errors"][0]["reason"]


def test_nan_and_infinity_in_items_are_refused_not_crashing(webhook: Webhook) -> None:
    item = employee(webhook.bsn()) | {"uren_per_week": math.inf}
    body = json.dumps({"melddatum": "2026-11-02", "werknemers": [item]}, allow_nan=True)
    response = webhook.post(body.encode())
    assert response.status_code == 422, response.text[:300]
    assert response.json()["errors"][0]["field"] == "werknemers[0].uren_per_week"


def test_regression_a_lone_surrogate_in_an_item_was_a_500(webhook: Webhook) -> None:
    """``"\\ud800"`` is valid JSON for a lone surrogate: the item was refused, but its dead
    letter (the item's text) did not encode as UTF-8 and the webhook answered 500."""
    item = employee(webhook.bsn())
    body = json.dumps(
        {
            "melddatum": "2026-11-02",
            "werknemers": [employee("123456789") | {"functie": "\ud800"}, item],
        }
    )
    assert "\\ud800" in body
    response = webhook.post(body.encode())
    assert response.status_code == 422, response.text[:300]
    assert response.json()["published"] == 1
    webhook.published.add(webhook.client.pseudonym(item["bsn"]))


def test_a_body_nested_deeper_than_the_limit_is_400(webhook: Webhook) -> None:
    deep = {"melddatum": "2026-11-02", "werknemers": [employee("0") | {"x": nested(MAX_DEPTH)}]}
    response = webhook.post(json.dumps(deep).encode())
    assert response.status_code == 400, response.text[:300]
    assert f"{MAX_DEPTH} levels" in response.json()["errors"][0]["reason"]
