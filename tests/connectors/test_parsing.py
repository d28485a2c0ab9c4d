"""Reading and parsing partner exports, without a broker."""

from __future__ import annotations

import io
import random
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.common import Fields, InputFormatError, RowRejected, csv_rows, jsonl_rows
from connectors.common.reading import open_text
from connectors.common.vocab import EDUCATION_LEVELS, SECTORS, normalise_word
from connectors.delivery.formats import csv_columns, csv_row
from connectors.demo.people import Faker, eleven_test_digit
from schemas.identifiers import is_valid_bsn
from schemas.models import ClientProfile
from schemas.models.enums import DeadLetterReason
from schemas.regions import Region
from schemas.vocabulary import EducationLevel, Sector
from tests.connectors.helpers import profile


def _problems(f: Fields) -> list[tuple[str | None, DeadLetterReason]]:
    return [(p.field, p.code) for p in f.problems]


def test_fields_parse_dutch_exports_and_collect_every_problem() -> None:
    f = Fields(
        {
            "BSN": "1234.56.782",
            "Geboortedatum": "3-9-1964",
            "Gemeentecode": "GM363",
            "Sector": "Sport- en Recreatie",
            "Niveau": "MBO-2",
            "Schulden": "Ja",
            "Kosten": "1.250,50",
            "Leeg": "  ",
        }
    )
    assert f.bsn("BSN") == "123456782"
    assert f.date("Geboortedatum", dutch=True) == date(1964, 9, 3)
    assert f.municipality("Gemeentecode") == ("0363", Region.GROOT_AMSTERDAM)
    assert f.choice("Sector", SECTORS) is Sector.SPORT_RECREATION
    assert f.choice("Niveau", EDUCATION_LEVELS) is EducationLevel.MBO_2
    assert f.boolean("Schulden") is True
    assert f.euro_cents("Kosten") == 125_050
    assert f.text("Leeg") is None
    f.check()

    bad = Fields({"BSN": "123456789", "D": "31-02-2020", "G": "9999", "S": "ruimtevaart"})
    bad.bsn("BSN")
    bad.date("D", dutch=True)
    bad.municipality("G")
    bad.choice("S", SECTORS)
    bad.text("Naam", required=True)
    assert _problems(bad) == [
        ("BSN", DeadLetterReason.BSN_INVALID),
        ("D", DeadLetterReason.SCHEMA_INVALID),
        ("G", DeadLetterReason.MUNICIPALITY_UNKNOWN),
        ("S", DeadLetterReason.SCHEMA_INVALID),
        ("Naam", DeadLetterReason.SCHEMA_INVALID),
    ]
    with pytest.raises(RowRejected) as rejected:
        bad.check()
    assert len(rejected.value.problems) == 5
    assert "fails the eleven-test" in str(rejected.value)


def test_regression_a_merged_municipalitys_code_was_refused_without_saying_why() -> None:
    """Haren (0017) merged into Groningen in 2019: its code was refused as merely "not
    in the CBS table". Now the reason says it may be the historic code of a merger."""
    f = Fields({"Gemeentecode": "GM0017"})
    assert f.municipality("Gemeentecode") is None
    (problem,) = f.problems
    assert problem.code is DeadLetterReason.MUNICIPALITY_UNKNOWN
    assert "0017 is not in the CBS municipality table of 2026" in problem.reason
    assert "historic code of a municipality that merged into another" in problem.reason


def test_nested_fields_name_their_path() -> None:
    f = Fields({"werkervaring": [{"functie": "Kok"}, "oops"]})
    for index, item in enumerate(f.items("werkervaring")):
        child = f.nested("werkervaring", item, index)
        if child is not None:
            child.date("van", required=True)
    assert [p.field for p in f.problems] == ["werkervaring[0].van", "werkervaring[1]"]


def test_csv_rows_keep_line_numbers_across_quoted_newlines() -> None:
    text = 'a;b\n1;"two\nlines"\n\n3;4\n5\n'
    rows = list(csv_rows(io.StringIO(text), required=("a",)))
    assert [(r.line, r.data.get("a")) for r in rows] == [(2, "1"), (5, "3"), (6, "5")]
    assert rows[0].data["b"] == "two\nlines"
    assert rows[2].problem is not None
    assert "1 fields, the header 2" in rows[2].problem.reason
    with pytest.raises(InputFormatError, match="lacks column"):
        list(csv_rows(io.StringIO("x;y\n1;2\n"), required=("a",)))


def test_readers_survive_a_bom_bad_bytes_and_broken_json(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n\xff\xfe,3\n")
    stream, counter = open_text(path)
    with stream:
        rows = list(csv_rows(stream))
    assert rows[0].data == {"a": "1", "b": "2"}  # BOM gone, separator sniffed
    assert rows[1].problem is not None
    assert rows[1].problem.code is DeadLetterReason.DECODE_ERROR
    assert counter.bytes_read == path.stat().st_size

    lines = list(jsonl_rows(io.StringIO('{"a": 1}\n\n{"a": \n[1]\n')))
    assert [(r.line, r.problem is None) for r in lines] == [(1, True), (3, False), (4, False)]
    with pytest.raises(InputFormatError, match="JSON array"):
        list(jsonl_rows(io.StringIO('[{"a": 1}]\n')))


def test_vocabulary_normalises_words() -> None:
    assert normalise_word("  Financiële_Dienst-verlening ") == "financiele dienst verlening"
    assert SECTORS.lookup("HOSPITALITY") is Sector.HOSPITALITY
    assert SECTORS.label(Sector.HOSPITALITY) == "horeca"
    assert "horeca" in SECTORS


@given(st.integers(min_value=1_000_000, max_value=99_999_999))
def test_the_eleven_test_digit_makes_a_valid_bsn(prefix: int) -> None:
    first = f"{prefix:08d}"
    digit = eleven_test_digit(first)
    if digit is None:
        assert not any(is_valid_bsn(f"{first}{d}") for d in range(10))
    else:
        assert is_valid_bsn(f"{first}{digit}")


def test_faker_bsns_are_unique_and_valid_and_invalid_ones_fail() -> None:
    fake = Faker(random.Random(1))
    bsns = [fake.bsn() for _ in range(2000)]
    assert len(set(bsns)) == 2000
    assert all(is_valid_bsn(b) for b in bsns)
    assert not any(is_valid_bsn(fake.invalid_bsn()) for _ in range(200))


def test_csv_rows_of_records_follow_their_columns() -> None:
    record = profile(1)
    columns = csv_columns(ClientProfile)
    assert columns[:3] == ("event_id", "occurred_at", "source_partner")
    assert "contact.street" in columns
    assert "competences" in columns  # a list stays one column (JSON text)
    cells = dict(zip(columns, csv_row(record), strict=True))
    assert cells["region"] == "GROOT_AMSTERDAM"
    assert cells["contact.street"] == ""
    assert cells["withheld_categories"] == "[]"
