"""The company part of a staff-surplus notice -> StaffSurplus, without a broker."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors.common import RowRejected, SourceRow
from connectors.social_partners import Notice
from connectors.social_partners.mapping import surplus_mapper
from schemas.models import StaffSurplus
from schemas.regions import Region
from schemas.vocabulary import Sector
from tests.reliability.fuzz.fake_client import context

NOTICE = Notice(date(2026, 11, 3), sector=Sector.HOSPITALITY)


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "melddatum": "2026-11-03",
        "werkgever": {"naam": "Hotel Dam B.V.", "kvk": "11223344"},
        "sector": "horeca",
        "gemeentecode": "0363",
        "boventallig": 25,
        "verwacht_vanaf": "2027-01-01",
        "werknemers": [
            {"bsn": "725763863", "voornamen": "Anna", "functie": "Kok", "competenties": ["Koken"]},
            {"bsn": "162275869", "voornamen": "Bram", "functie": "Kok", "competenties": ["HACCP"]},
        ],
    }
    return body | changes


def _map(body: dict[str, Any]) -> StaffSurplus:
    (record,) = surplus_mapper(NOTICE)(SourceRow(1, body, ""), context("sp-werkgevers"))
    assert isinstance(record, StaffSurplus)
    return record


def test_the_company_part_becomes_a_surplus_naming_no_employee() -> None:
    record = _map(_body())
    assert (record.staff_count, record.region, record.sector) == (
        25,
        Region.GROOT_AMSTERDAM,
        Sector.HOSPITALITY,
    )
    assert record.expected_from == date(2027, 1, 1)
    assert record.occupations == ["Kok"]
    assert [c.name for c in record.competences] == ["Koken", "HACCP"]
    assert record.surplus_id == "sur-sp-werkgevers-11223344-2026-11-03"
    dumped = record.model_dump_json()
    assert "Anna" not in dumped
    assert "725763863" not in dumped


def test_listed_occupations_and_competences_win_over_the_employees() -> None:
    record = _map(_body(functies=["Bediening"], competenties=["Gastheerschap"]))
    assert record.occupations == ["Bediening"]
    assert [c.name for c in record.competences] == ["Gastheerschap"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"gemeentecode": None}, "gemeentecode"),
        ({"boventallig": 0}, "boventallig"),
        ({"verwacht_tot": "2026-12-01"}, "verwacht_tot"),
        ({"werkgever": None}, "werkgever"),
    ],
)
def test_a_bad_company_part_is_rejected_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    body = {k: v for k, v in (_body() | changes).items() if v is not None}
    with pytest.raises(RowRejected) as caught:
        _map(body)
    assert field in {p.field for p in caught.value.problems}
