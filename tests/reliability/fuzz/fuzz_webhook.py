"""Fuzz the social partners' webhook payload handling in-process: the request body ->
JSON (UTF-8, nesting depth, numbers) -> the notice's fields -> each item through the
employee or vacancy mapper, as ``connectors/social_partners/app.py`` does.

Allowed: a 400 (not UTF-8, not JSON, too deeply nested, not an object) with a reason,
problems with the notice's fields (each naming its field), RowRejected for an item (it
names field and reason). Input: byte 0 picks the endpoint, the rest is the body.
"""

from __future__ import annotations

import json
import sys
from datetime import date

import atheris

with atheris.instrument_imports(include=["connectors"]):
    from fastapi.responses import JSONResponse

    from connectors.common import FieldProblem, Fields, RowRejected
    from connectors.common.vocab import SECTORS
    from connectors.social_partners import app
    from connectors.social_partners.mapping import Notice, employee_mapper, vacancy_mapper

from tests.reliability.fuzz.fake_client import context
from tests.reliability.fuzz.harness import main

CONTEXT = context("sp-werkgevers")
ENDPOINTS = [
    ("werknemers", employee_mapper, False),
    ("werknemers", employee_mapper, True),
    ("vacatures", vacancy_mapper, False),
]

EMPLOYEE = {
    "bsn": "725763863",
    "voornamen": "Anna",
    "achternaam": "de Boer",
    "geboortedatum": "1975-05-05",
    "gemeentecode": "0363",
    "functie": "Reisadviseur",
    "sector": "reisbranche",
    "in_dienst_sinds": "2005-01-01",
    "verwachte_einddatum": "2026-12-31",
    "uren_per_week": 32,
    "opleidingsniveau": "mbo 4",
    "competenties": ["Klantcontact", "Amadeus"],
}
VACANCY = {
    "id": "sp-vac-1",
    "werkgever": {"naam": "Schiphol Logistics", "kvk": "12345678"},
    "titel": "Medewerker vrachtafhandeling",
    "sector": "logistiek",
    "gemeentecode": "0394",
    "uren_per_week": 36,
    "aantal": 4,
    "opleidbaar": True,
    "competenties": ["Heftruck"],
}


def seeds() -> list[bytes]:
    return [
        b"\x00" + json.dumps({"melddatum": "2026-11-02", "werknemers": [EMPLOYEE]}).encode(),
        b"\x01"
        + json.dumps(
            {"melddatum": "2026-11-03", "sector": "reisbranche", "werknemers": [EMPLOYEE]}
        ).encode(),
        b"\x02" + json.dumps({"melddatum": "2026-11-04", "vacatures": [VACANCY]}).encode(),
    ]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    list_field, make_mapper, company = ENDPOINTS[data[0] % len(ENDPOINTS)]
    body = app._parse(data[1:])
    if isinstance(body, JSONResponse):
        assert body.status_code == 400
        return
    if app.json_too_deep(body, app.MAX_DEPTH) or not isinstance(body, dict):
        return  # a 400 in the handler
    f = Fields(body)
    f.date("melddatum", required=True)
    if company:
        f.choice("sector", SECTORS)
    items = f.items(list_field)
    if f.problems:
        assert all(p.field and p.reason for p in f.problems)
        return
    mapper = make_mapper(Notice(date(2026, 11, 2)))
    for index, item in enumerate(items):
        row = app._row(index, item)
        if row.problem is not None:
            continue
        problems: tuple[FieldProblem, ...] = ()
        try:
            mapper(row, CONTEXT)
        except RowRejected as rejected:
            problems = rejected.problems
        assert all(p.reason for p in problems)


if __name__ == "__main__":
    main(test_one_input, seeds)
    sys.exit(0)
