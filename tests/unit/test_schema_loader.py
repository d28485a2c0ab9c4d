"""The loader: dependency order, the SchemaSet API, every rule on a bad file, the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer
from typer.testing import CliRunner

from hub.cli.schemas import app
from hub.errors import SchemaDefinitionError, SchemaError
from schemas import load_schemas
from schemas.loader import fullname_of, snake_case
from schemas.vocabulary import DataCategory

BAD = Path(__file__).parent / "data" / "bad_schemas"
NS = "nl.rmt.hub"

# case directory -> (file at fault, field at fault, words the message must hold)
CASES: dict[str, tuple[str, str | None, str]] = {
    "invalid_json": ("payment.avsc", None, "invalid JSON at line 7, column 71"),
    "union_at_top": ("payment.avsc", None, "exactly one named type"),
    "primitive_at_top": ("payment.avsc", None, "no named type"),
    "inline_named_type": ("payment.avsc", "currency", "inline"),
    "file_name_mismatch": ("cash.avsc", None, "must be named payment.avsc"),
    "name_clash": ("money_unit.avsc", None, "already defined in"),
    "wrong_namespace": ("payment.avsc", None, "namespace is 'nl.other'"),
    "unknown_role": ("payment.avsc", None, "role 'event'"),
    "missing_type_doc": ("currency.avsc", None, "has no 'doc'"),
    "missing_field_doc": ("payment.avsc", "amount", "has no 'doc'"),
    "missing_category": ("payment.avsc", "amount", "needs a 'category'"),
    "bad_category": ("payment.avsc", "amount", "'financial' is not a DataCategory"),
    "bad_category_in_helper": ("money.avsc", "currency", "'money' is not a DataCategory"),
    "duplicate_field": ("payment.avsc", "amount", "used twice"),
    "optional_without_default": ("payment.avsc", "note", "default null"),
    "optional_null_not_first": ("payment.avsc", "note", "null first"),
    "unresolvable_reference": ("payment.avsc", "amount", "unresolvable reference"),
    "circular_reference": ("alpha.avsc", None, "circular reference"),
    "avro_bad_default": ("payment.avsc", "amount", "Default value <lots> must match"),
    "avro_bad_symbol": ("currency.avsc", None, "Every symbol must match"),
}


def _write(directory: Path, schema: dict[str, Any]) -> None:
    name = schema["name"]
    (directory / f"{snake_case(name)}.avsc").write_text(json.dumps(schema), encoding="utf-8")


def _valid_set(directory: Path) -> Path:
    """Alpha -> Mike -> Zulu: alphabetical order is the reverse of dependency order."""
    _write(
        directory,
        {
            "type": "enum",
            "name": "Zulu",
            "namespace": NS,
            "doc": "An enum.",
            "symbols": ["A", "B"],
        },
    )
    _write(
        directory,
        {
            "type": "record",
            "name": "Mike",
            "namespace": NS,
            "doc": "A helper.",
            "fields": [{"name": "zulu", "type": "Zulu", "doc": "The enum."}],
        },
    )
    _write(
        directory,
        {
            "type": "record",
            "name": "Alpha",
            "namespace": NS,
            "doc": "A message.",
            "role": "message",
            "fields": [
                {"name": "id", "type": "string", "doc": "Id.", "category": "meta"},
                {
                    "name": "mikes",
                    "type": {"type": "array", "items": "nl.rmt.hub.Mike"},
                    "doc": "Helpers.",
                    "category": "arrangement",
                    "default": [],
                },
                {
                    "name": "next",
                    "type": ["null", "Alpha"],
                    "doc": "Self reference.",
                    "category": "outcome",
                    "default": None,
                },
            ],
        },
    )
    return directory


# --- good input ------------------------------------------------------------------------------


def test_types_are_parsed_in_dependency_order(tmp_path: Path) -> None:
    schemas = load_schemas(_valid_set(tmp_path))
    assert schemas.names() == [f"{NS}.Alpha", f"{NS}.Mike", f"{NS}.Zulu"]
    record = {"id": "x", "mikes": [{"zulu": "B"}], "next": {"id": "y", "mikes": [], "next": None}}
    buffer = io.BytesIO()
    schemaless_writer(buffer, schemas.parsed("Alpha"), record)
    buffer.seek(0)
    assert schemaless_reader(buffer, schemas.parsed("Alpha"), None) == record


def test_schema_set_api(tmp_path: Path) -> None:
    schemas = load_schemas(_valid_set(tmp_path))
    assert schemas.messages() == [f"{NS}.Alpha"]
    assert schemas.records() == [f"{NS}.Alpha", f"{NS}.Mike"]
    assert schemas.field_categories("Alpha") == {
        "id": DataCategory.META,
        "mikes": DataCategory.ARRANGEMENT,
        "next": DataCategory.OUTCOME,
    }
    assert Path(schemas.file(f"{NS}.Mike")).name == "mike.avsc"
    assert schemas.kind("Zulu") == "enum"
    assert schemas.role("Mike") is None
    assert "Zulu" in schemas
    assert f"{NS}.Zulu" in schemas
    assert "Yankee" not in schemas
    assert len(schemas) == 3
    raw = schemas.raw("Alpha")
    raw["fields"].clear()
    assert schemas.raw("Alpha")["fields"], "raw() hands out a copy"


def test_field_categories_only_for_messages(tmp_path: Path) -> None:
    schemas = load_schemas(_valid_set(tmp_path))
    with pytest.raises(SchemaError, match="not a message record"):
        schemas.field_categories("Mike")
    with pytest.raises(SchemaError, match="unknown schema 'Yankee'"):
        schemas.parsed("Yankee")


def test_default_directory_is_the_package_and_cached() -> None:
    first = load_schemas()
    assert first is load_schemas()
    assert f"{NS}.ClientProfile" in first.messages()


def test_an_explicit_directory_is_read_again(tmp_path: Path) -> None:
    _valid_set(tmp_path)
    first = load_schemas(tmp_path)
    (tmp_path / "alpha.avsc").unlink()
    assert load_schemas(tmp_path).names() == [f"{NS}.Mike", f"{NS}.Zulu"]
    assert len(first) == 3


def test_fullname_and_snake_case() -> None:
    assert fullname_of("ClientProfile") == f"{NS}.ClientProfile"
    assert fullname_of("x.y.Z") == "x.y.Z"
    assert snake_case("WorkHistoryEntry") == "work_history_entry"
    assert snake_case("Region") == "region"


# --- bad input --------------------------------------------------------------------------------


def test_every_bad_case_directory_is_tested() -> None:
    assert {d.name for d in BAD.iterdir() if d.is_dir()} == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_schema_is_refused_naming_file_and_field(case: str) -> None:
    file, field, words = CASES[case]
    with pytest.raises(SchemaDefinitionError) as caught:
        load_schemas(BAD / case)
    error = caught.value
    assert Path(error.file).name == file
    assert Path(error.file).parent.name == case
    assert error.field == field
    assert words in str(error)
    assert error.file in str(error)
    if field:
        assert f"field '{field}'" in str(error)


def test_the_fastavro_message_is_kept() -> None:
    with pytest.raises(SchemaDefinitionError) as caught:
        load_schemas(BAD / "avro_bad_default")
    assert "Default value <lots> must match schema type: long" in str(caught.value)
    assert isinstance(caught.value.__cause__, Exception)


def test_missing_and_empty_directories(tmp_path: Path) -> None:
    with pytest.raises(SchemaDefinitionError, match="is not a directory"):
        load_schemas(tmp_path / "nope")
    with pytest.raises(SchemaDefinitionError, match=r"holds no \.avsc files"):
        load_schemas(tmp_path)


def test_a_bad_file_among_good_ones_is_found(tmp_path: Path) -> None:
    _valid_set(tmp_path)
    mike = json.loads((tmp_path / "mike.avsc").read_text())
    mike["fields"][0]["category"] = "gossip"
    (tmp_path / "mike.avsc").write_text(json.dumps(mike))
    with pytest.raises(SchemaDefinitionError) as caught:
        load_schemas(tmp_path)
    assert Path(caught.value.file).name == "mike.avsc"
    assert caught.value.field == "zulu"


# --- command line -------------------------------------------------------------------------------


def _flat(text: str) -> str:
    """Output without whitespace: rich wraps long paths at the terminal width."""
    return "".join(text.split())


def test_cli_validate_exits_1_naming_file_and_field() -> None:
    result = CliRunner().invoke(app, ["validate", str(BAD / "bad_category")])
    assert result.exit_code == 1
    assert str(BAD / "bad_category" / "payment.avsc") in _flat(result.output)
    assert "field'amount'" in _flat(result.output)
    assert "financial" in result.output


def test_cli_validate_bad_json_names_line_and_column() -> None:
    result = CliRunner().invoke(app, ["validate", str(BAD / "invalid_json")])
    assert result.exit_code == 1
    assert "line7,column71" in _flat(result.output)


def test_cli_validate_good_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(_valid_set(tmp_path))])
    assert result.exit_code == 0, result.output
    for name in ("Alpha", "Mike", "Zulu", "alpha.avsc"):
        assert name in result.output
    assert "3 schemas valid, 1 message records" in result.output


def test_cli_validate_builtin_schemas() -> None:
    result = CliRunner().invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "ClientProfile" in result.output
    assert f"{len(load_schemas().messages())} message records" in result.output


def test_cli_list_shows_role_fields_and_categories() -> None:
    result = CliRunner().invoke(app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "MonitorEvent" in line)
    assert "message" in line
    assert "meta, statistical" in line
    profile = next(line for line in result.output.splitlines() if "ClientProfile" in line)
    assert "health" in profile
    assert f" {len(load_schemas().raw('ClientProfile')['fields'])} " in profile
