"""`rmt-hub schemas check` / `release`: the schema gate over released versions, no broker."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from hub.cli.schema_gate import RELEASED_DIR, Status, check, gate, release, released_versions
from schemas import load_schemas

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
REFERRAL = "nl.rmt.hub.Referral"

app = typer.Typer()
app.command("check")(check)
app.command("release")(release)
runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the canonical schemas with every message type released as v1."""
    target = tmp_path / "schemas"
    target.mkdir()
    for file in SCHEMAS_DIR.glob("*.avsc"):
        shutil.copy(file, target / file.name)
    code, output = run("release", "--schemas-dir", str(target))
    assert code == 0, output
    return target


def edit(tree: Path, file: str, change: Any) -> None:
    path = tree / file
    schema = json.loads(path.read_text())
    change(schema)
    path.write_text(json.dumps(schema, indent=2))


def field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


def required_string(tree: Path) -> str:
    """A required string field of Referral (no default): the subject of the edits below."""
    schema = json.loads((tree / "referral.avsc").read_text())
    return str(
        next(f["name"] for f in schema["fields"] if f["type"] == "string" and "default" not in f)
    )


def gate_args(tree: Path) -> list[str]:
    return ["--schemas-dir", str(tree)]


def test_the_repository_passes_its_own_gate() -> None:
    code, output = run("check")
    assert code == 0, output
    assert "schema gate passed" in output
    for name in load_schemas().messages():
        assert released_versions(SCHEMAS_DIR / RELEASED_DIR, name), f"{name} is not released"


def test_release_writes_v1_of_every_message_then_nothing_changes(tree: Path) -> None:
    released = tree / RELEASED_DIR
    assert sorted(p.name for p in released.iterdir() if p.is_dir()) == load_schemas().messages()
    v1 = json.loads((released / REFERRAL / "v1.avsc").read_text())
    assert v1["name"] == "Referral"
    assert json.loads((released / "compatibility.json").read_text())["default"] == (
        "BACKWARD_TRANSITIVE"
    )
    assert {r.status for r in gate(tree)} == {Status.UNCHANGED}
    code, output = run("check", *gate_args(tree))
    assert code == 0, output


def test_added_optional_field_passes_and_is_released_as_v2(tree: Path) -> None:
    optional = {
        "name": "note",
        "type": ["null", "string"],
        "default": None,
        "doc": "A free-text note.",
        "category": "arrangement",
    }
    edit(tree, "referral.avsc", lambda s: s["fields"].append(optional))
    code, output = run("check", *gate_args(tree))
    assert code == 0, output
    assert "changed, compatible" in output
    code, output = run("release", *gate_args(tree))
    assert code == 0, output
    assert (tree / RELEASED_DIR / REFERRAL / "v2.avsc").exists()
    assert {r.status for r in gate(tree)} == {Status.UNCHANGED}


def test_type_change_fails_naming_the_field_and_rule(tree: Path) -> None:
    edit(tree, "referral.avsc", lambda s: field(s, "source_partner").update(type="int"))
    code, output = run("check", *gate_args(tree))
    assert code == 1
    assert "TYPE_MISMATCH at field 'Referral.source_partner'" in output
    assert "BACKWARD_TRANSITIVE" in output
    assert f"schema gate failed: 1 of {len(load_schemas(tree).messages())}" in output
    code, output = run("release", *gate_args(tree))
    assert code == 1
    assert not (tree / RELEASED_DIR / REFERRAL / "v2.avsc").exists()


def test_enum_symbol_removal_in_a_shared_type_is_caught_in_every_message(tree: Path) -> None:
    edit(tree, "partner_kind.avsc", lambda s: s["symbols"].remove("SBB"))
    results = gate(tree)
    broken = [r for r in results if r.status is Status.INCOMPATIBLE]
    assert broken
    for result in broken:
        assert {i.rule for i in result.issues} == {"MISSING_ENUM_SYMBOLS"}
        short = result.subject.rsplit(".", 1)[1]
        assert all(i.field.startswith(f"{short}.") for i in result.issues), result.issues
    nested = [i.field for r in broken for i in r.issues if i.field.count(".") >= 2]
    assert nested  # a path through a nested record (e.g. Referral.from_party.kind)
    code, output = run("check", *gate_args(tree))
    assert code == 1
    assert "symbol(s) SBB of enum nl.rmt.hub.PartnerKind" in output


def test_removed_field_fails_only_under_a_forward_level(tree: Path) -> None:
    edit(tree, "referral.avsc", lambda s: s["fields"].remove(field(s, "source_partner")))
    assert run("check", *gate_args(tree))[0] == 0  # BACKWARD: new readers ignore it
    levels = {"default": "BACKWARD_TRANSITIVE", "subjects": {REFERRAL: "FULL_TRANSITIVE"}}
    (tree / RELEASED_DIR / "compatibility.json").write_text(json.dumps(levels))
    code, output = run("check", *gate_args(tree))
    assert code == 1
    assert "READER_FIELD_MISSING_DEFAULT_VALUE at field 'Referral.source_partner'" in output
    assert "released v1 has field 'source_partner' without a default" in output


def test_released_type_that_disappeared_fails(tree: Path) -> None:
    gone = tree / RELEASED_DIR / "nl.rmt.hub.Gone"
    gone.mkdir()
    (gone / "v1.avsc").write_text('{"type": "record", "name": "Gone", "fields": []}')
    code, output = run("check", *gate_args(tree))
    assert code == 1
    assert "nl.rmt.hub.Gone was released (v1) but no message schema defines it" in output


def test_a_malformed_working_tree_schema_is_an_error_not_a_pass(tree: Path) -> None:
    (tree / "referral.avsc").write_text("{not json")
    code, output = run("check", *gate_args(tree))
    assert code == 1
    assert "referral.avsc" in output
    assert "invalid JSON" in output
