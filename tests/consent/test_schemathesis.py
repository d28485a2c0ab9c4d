"""Schemathesis against the running consent service (uvicorn on loopback, SQLite, the
session broker behind the change feed): requests generated from its own OpenAPI, as a
privacy officer, as a partner and without a key. No answer may be a 5xx, and every
answer (status, content type, headers, body) must be one the schema allows.

The number of examples per operation is small (the run stays well under a minute);
the generated bodies are valid by the schema's own rules (a BSN passes the eleven-test
through the ``bsn`` format registered below), so they reach the service's logic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from consent.api import create_app
from consent.api.dto import BSN_FORMAT
from hub.http import HttpServer
from schemas.identifiers import is_valid_bsn
from tests.helpers.consent import ConsentApi

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)
_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
"""No 5xx, and nothing outside the schema. Not "schema-valid data is accepted": a valid
body may still break a rule of the register the schema only describes (a partner
unknown to the directory, a category the policy matrix never lets flow) - a 422 the
schema documents."""


def _with_check_digit(digits: list[int]) -> str:
    check = sum(w * d for w, d in zip(_WEIGHTS, digits, strict=True)) % 11
    return "".join(map(str, digits)) + str(check)


_BSNS = (
    st.lists(st.integers(0, 9), min_size=8, max_size=8)
    .map(_with_check_digit)
    .filter(lambda bsn: len(bsn) == 9 and is_valid_bsn(bsn))
)
schemathesis.openapi.format(BSN_FORMAT, _BSNS)


@dataclass(frozen=True)
class Served:
    """The service on a port of its own (its own throttle), and the caller's headers."""

    url: str
    headers: dict[str, str]


@pytest.fixture(scope="module", params=["privacy_officer", "partner", "no key"])
def served(request: pytest.FixtureRequest, sqlite_consent_api: ConsentApi) -> Iterator[Served]:
    keys = {"privacy_officer": "officer", "partner": "uwv"}
    who = keys.get(request.param)
    headers = {"X-API-Key": sqlite_consent_api.keys[who]} if who else {}
    app = create_app(sqlite_consent_api.runtime.service)
    with HttpServer(app, name=f"schemathesis-{request.param}") as server:
        yield Served(server.url, headers)


def _operations(url: str) -> list[APIOperation]:
    loaded = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in loaded.get_all_operations()]


def test_the_api_answers_within_its_openapi(served: Served) -> None:
    operations = _operations(served.url)
    assert len(operations) >= 12

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_within_the_schema(case: Case) -> None:
            case.call_and_validate(headers=served.headers, checks=_CHECKS)

        answers_within_the_schema()
