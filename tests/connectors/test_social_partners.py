"""The social partners' webhook, served over real HTTP, publishing to the real broker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.social_partners import create_app
from hub.config import HubSettings
from hub.http import HttpServer
from hub.sdk import PartnerClient
from schemas.models import ClientProfile, DeadLetter, StaffSurplus, Vacancy
from schemas.models.enums import DeadLetterReason
from schemas.regions import Region
from schemas.vocabulary import BenefitStatus, JobSeekerCategory, Sector
from tests.helpers.connectors import read_records

pytestmark = pytest.mark.integration

PARTNER = "sp-werkgevers"


def _employee(bsn: str, **extra: Any) -> dict[str, Any]:
    return {
        "bsn": bsn,
        "voornamen": "Anna",
        "achternaam": "de Boer",
        "geboortedatum": "1975-05-05",
        "gemeentecode": "0363",
        "functie": "Reisadviseur",
        "in_dienst_sinds": "2005-01-01",
        "verwachte_einddatum": "2026-12-31",
        "uren_per_week": 32,
        "opleidingsniveau": "mbo 4",
        "competenties": ["Klantcontact", "Amadeus"],
        **extra,
    }


@pytest.fixture
def webhook(env: HubSettings) -> Iterator[tuple[str, PartnerClient]]:
    client = PartnerClient(env, PARTNER)
    server = HttpServer(create_app(client), port=0, name="test-webhook")
    server.start()
    try:
        yield server.url, client
    finally:
        server.stop()
        client.close()


def test_notices_become_profiles_and_vacancies_once(
    env: HubSettings, webhook: tuple[str, PartnerClient]
) -> None:
    url, client = webhook
    employees = {
        "melddatum": "2026-11-02",
        "werknemers": [_employee("725763863", sector="reisbranche")],
    }
    surplus = {
        "melddatum": "2026-11-03",
        "werkgever": {"naam": "Reisbureau Zon B.V.", "kvk": "11223344"},
        "sector": "reisbranche",
        "gemeentecode": "0363",
        "boventallig": 12,
        "werknemers": [_employee("162275869"), _employee("192285142", sector="detailhandel")],
    }
    vacancies = {
        "melddatum": "2026-11-04",
        "vacatures": [
            {
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
        ],
    }
    with httpx.Client(base_url=url) as http:
        first = http.post("/v1/threatened-employees", json=employees)
        assert first.status_code == 202, first.text
        assert first.json() == {
            "items": 1,
            "published": 1,
            "duplicates": 0,
            "rejected": 0,
            "errors": [],
        }
        announced = http.post("/v1/staff-surplus", json=surplus)
        assert announced.status_code == 202, announced.text
        assert announced.json()["published"] == 2
        assert announced.json()["surplus"] == {"published": 1, "duplicates": 0, "errors": []}
        assert http.post("/v1/vacancies", json=vacancies).status_code == 202
        repeat = http.post("/v1/threatened-employees", json=employees)
        assert repeat.status_code == 202
        assert (repeat.json()["published"], repeat.json()["duplicates"]) == (0, 1)

    records = [r for _, r, _ in read_records(env, f"{env.topic_prefix}.partner.{PARTNER}.outbox")]
    assert len(records) == 5
    profiles = {r.client_pseudonym: r for r in records if isinstance(r, ClientProfile)}
    anna = profiles[client.pseudonym("725763863")]
    assert anna.job_seeker_category is JobSeekerCategory.THREATENED_EMPLOYEE
    assert anna.benefit_status is BenefitStatus.NONE
    assert anna.sectors == [Sector.RENTAL_BUSINESS_SERVICES]
    assert anna.work_history[0].job_title == "Reisadviseur"
    assert str(anna.occurred_at.date()) == "2026-11-02"
    # the company's sector fills in where the employee has none
    assert profiles[client.pseudonym("162275869")].sectors == [Sector.RENTAL_BUSINESS_SERVICES]
    assert profiles[client.pseudonym("192285142")].sectors == [Sector.RETAIL]
    (vacancy,) = [r for r in records if isinstance(r, Vacancy)]
    assert (vacancy.vacancy_id, vacancy.positions, vacancy.trainable) == ("sp-vac-1", 4, True)
    # the company's surplus: business data, no employee named
    (surplus,) = [r for r in records if isinstance(r, StaffSurplus)]
    assert (surplus.employer.kvk_number, surplus.staff_count) == ("11223344", 12)
    assert surplus.sector is Sector.RENTAL_BUSINESS_SERVICES
    assert surplus.region is Region.GROOT_AMSTERDAM
    assert surplus.occupations == ["Reisadviseur"]
    assert [c.name for c in surplus.competences] == ["Klantcontact", "Amadeus"]
    assert "Anna" not in surplus.model_dump_json()


def test_bad_json_and_bad_items_get_4xx_with_field_and_reason(
    env: HubSettings, webhook: tuple[str, PartnerClient]
) -> None:
    url, _ = webhook
    with httpx.Client(base_url=url) as http:
        broken = http.post(
            "/v1/threatened-employees",
            content=b'{"melddatum": "2026-11-02", "werknemers": [}',
            headers={"content-type": "application/json"},
        )
        assert broken.status_code == 400
        (error,) = broken.json()["errors"]
        assert "invalid JSON at line 1, column" in error["reason"]

        no_list = http.post("/v1/threatened-employees", json={"melddatum": "02-11-2026"})
        assert no_list.status_code == 422
        fields = {e["field"] for e in no_list.json()["errors"]}
        assert fields == {"melddatum", "werknemers"}

        mixed = http.post(
            "/v1/threatened-employees",
            json={
                "melddatum": "2026-11-02",
                "werknemers": [
                    _employee("725763863", sector="horeca"),
                    _employee("123456789", sector="horeca"),
                    "not an object",
                    _employee("162275869", sector="horeca", gemeentecode="0000"),
                ],
            },
        )
    assert mixed.status_code == 422
    body = mixed.json()
    assert (body["items"], body["published"], body["rejected"]) == (4, 1, 3)
    assert [(e["item"], e["field"]) for e in body["errors"]] == [
        (1, "werknemers[1].bsn"),
        (2, "werknemers[2]"),
        (3, "werknemers[3].gemeentecode"),
    ]
    assert "eleven-test" in body["errors"][0]["reason"]
    letters = [r for _, r, _ in read_records(env, f"{env.topic_prefix}.hub.deadletter")]
    assert len(letters) == 3
    assert all(isinstance(letter, DeadLetter) for letter in letters)
    reasons = {letter.reason for letter in letters}  # type: ignore[union-attr]
    assert reasons == {
        DeadLetterReason.BSN_INVALID,
        DeadLetterReason.SCHEMA_INVALID,
        DeadLetterReason.MUNICIPALITY_UNKNOWN,
    }
    assert {letter.source_topic for letter in letters} == {"http:/v1/threatened-employees"}  # type: ignore[union-attr]
