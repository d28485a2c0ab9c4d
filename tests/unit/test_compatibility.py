"""Compatibility modes over Apache Avro's checker, and the registry's log-applied state."""

from __future__ import annotations

import copy
import json
from typing import Any

import avro.schema
import pytest

from hub.registry.compatibility import (
    CompatibilityLevel,
    Incompatibility,
    check_compatibility,
)
from hub.registry.errors import InvalidCompatibilityLevelError, InvalidSchemaError
from hub.registry.schema import SchemaReference, canonical_text, parse_avro
from hub.registry.store import RegistryState, SchemaText, config_key, noop_key, schema_key

L = CompatibilityLevel

PERSON: dict[str, Any] = {
    "type": "record",
    "name": "Person",
    "namespace": "t",
    "fields": [
        {"name": "name", "type": "string"},
        {"name": "age", "type": "int"},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["A", "B"]}},
        {
            "name": "address",
            "type": [
                "null",
                {
                    "type": "record",
                    "name": "Address",
                    "fields": [{"name": "city", "type": "string"}],
                },
            ],
            "default": None,
        },
    ],
}


def parse(schema: dict[str, Any]) -> avro.schema.Schema:
    return avro.schema.parse(json.dumps(schema))


def changed(edit: Any) -> dict[str, Any]:
    schema = copy.deepcopy(PERSON)
    edit(schema)
    return schema


def field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


def check(new: dict[str, Any], level: L, *old: dict[str, Any]) -> list[Incompatibility]:
    previous = [(f"version {i}", parse(s)) for i, s in enumerate(old or (PERSON,), start=1)]
    return check_compatibility(parse(new), previous, level)


def only(issues: list[Incompatibility]) -> Incompatibility:
    assert len(issues) == 1, [str(i) for i in issues]
    return issues[0]


def test_added_optional_field_with_default_passes_every_mode() -> None:
    new = changed(
        lambda s: s["fields"].append({"name": "email", "type": ["null", "string"], "default": None})
    )
    for level in L:
        assert check(new, level) == [], level


def test_added_field_without_default_breaks_backward_naming_field_and_rule() -> None:
    new = changed(lambda s: s["fields"].append({"name": "email", "type": "string"}))
    issue = only(check(new, L.BACKWARD_TRANSITIVE))
    assert issue.rule == "READER_FIELD_MISSING_DEFAULT_VALUE"
    assert issue.field == "Person.email"
    text = str(issue)
    assert "field 'Person.email'" in text
    assert "BACKWARD_TRANSITIVE: the new schema must read data written with version 1" in text
    assert check(new, L.FORWARD) == []  # old readers ignore the new field


def test_removed_field_without_default_breaks_forward_not_backward() -> None:
    new = changed(lambda s: s["fields"].remove(field(s, "age")))
    assert check(new, L.BACKWARD_TRANSITIVE) == []  # new readers ignore the old field
    for level in (L.FORWARD, L.FULL, L.FULL_TRANSITIVE):
        issue = only(check(new, level))
        assert issue.rule == "READER_FIELD_MISSING_DEFAULT_VALUE"
        assert issue.field == "Person.age"
        assert issue.reader == "version 1"
        assert "version 1 has field 'age' without a default" in issue.detail


def test_type_change_is_a_type_mismatch_at_the_field() -> None:
    new = changed(lambda s: field(s, "name").update(type="int"))
    issues = check(new, L.FULL)
    assert {i.rule for i in issues} == {"TYPE_MISMATCH"}
    assert {i.field for i in issues} == {"Person.name"}
    assert "the new schema has type int where version 1 has string" in str(issues[0])


def test_int_to_long_is_a_promotion_backward_but_not_forward() -> None:
    new = changed(lambda s: field(s, "age").update(type="long"))
    assert check(new, L.BACKWARD) == []
    assert only(check(new, L.FORWARD)).rule == "TYPE_MISMATCH"


def test_enum_symbol_removal_names_the_symbol() -> None:
    new = changed(lambda s: field(s, "status")["type"].update(symbols=["A"]))
    issue = only(check(new, L.BACKWARD_TRANSITIVE))
    assert issue.rule == "MISSING_ENUM_SYMBOLS"
    assert issue.field == "Person.status"
    assert "symbol(s) B of enum t.Status" in issue.detail


def test_enum_symbol_addition_needs_an_enum_default_for_forward() -> None:
    added = changed(lambda s: field(s, "status")["type"].update(symbols=["A", "B", "C"]))
    assert check(added, L.BACKWARD) == []
    assert only(check(added, L.FORWARD)).rule == "MISSING_ENUM_SYMBOLS"
    with_default = copy.deepcopy(PERSON)
    field(with_default, "status")["type"]["default"] = "A"
    added_again = copy.deepcopy(added)
    field(added_again, "status")["type"]["default"] = "A"
    assert check(added_again, L.FORWARD, with_default) == []


def test_field_inside_an_optional_record_is_named_through_the_union() -> None:
    new = changed(lambda s: field(s, "address")["type"][1]["fields"][0].update(type="long"))
    issue = only(check(new, L.BACKWARD))
    assert issue.field == "Person.address.city"
    assert issue.rule == "TYPE_MISMATCH"


def test_union_losing_a_branch_is_a_missing_union_branch() -> None:
    new = changed(lambda s: field(s, "address").update(type=["null", "string"]))
    issue = only(check(new, L.BACKWARD))
    assert issue.rule == "MISSING_UNION_BRANCH"
    assert issue.field == "Person.address"
    assert "record t.Address" in issue.detail
    no_union = changed(lambda s: field(s, "address").update(type="null"))
    assert only(check(no_union, L.BACKWARD)).rule == "TYPE_MISMATCH"


def test_renamed_record_without_alias_is_a_name_mismatch() -> None:
    new = changed(lambda s: s.update(name="Human"))
    assert any(i.rule == "NAME_MISMATCH" for i in check(new, L.BACKWARD))
    aliased = changed(lambda s: s.update(name="Human", aliases=["t.Person"]))
    assert check(aliased, L.BACKWARD) == []


def test_transitive_modes_check_every_earlier_version() -> None:
    v1 = PERSON
    v2 = changed(lambda s: s["fields"].remove(field(s, "name")))
    v3 = changed(lambda s: field(s, "name").update(type="int", default=0))
    assert check(v3, L.BACKWARD, v1, v2) == []  # only against the latest (v2)
    issue = only(check(v3, L.BACKWARD_TRANSITIVE, v1, v2))
    assert issue.writer == "version 1"
    assert issue.field == "Person.name"


def test_none_accepts_anything_and_nothing_to_compare_passes() -> None:
    incompatible = {"type": "record", "name": "Person", "namespace": "t", "fields": []}
    assert check_compatibility(parse(incompatible), [("version 1", parse(PERSON))], L.NONE) == []
    assert check_compatibility(parse(PERSON), [], L.FULL_TRANSITIVE) == []


def test_levels_parse_case_insensitively_and_refuse_others() -> None:
    assert L.parse("full_transitive") is L.FULL_TRANSITIVE
    assert L.FULL.backward
    assert L.FULL.forward
    assert not L.FULL.transitive
    with pytest.raises(InvalidCompatibilityLevelError) as caught:
        L.parse("SIDEWAYS")
    assert caught.value.error_code == 42203


def test_named_type_references_resolve_for_parsing_and_checking() -> None:
    currency = {"type": "enum", "name": "Currency", "namespace": "t", "symbols": ["EUR", "USD"]}
    money = {
        "type": "record",
        "name": "Money",
        "namespace": "t",
        "fields": [{"name": "cents", "type": "long"}, {"name": "currency", "type": "Currency"}],
    }
    with pytest.raises(InvalidSchemaError, match=r"Currency"):
        parse_avro(json.dumps(money))  # the reference is unresolved without its schema
    old = parse_avro(json.dumps(money), [json.dumps(currency)])
    fewer = {**currency, "symbols": ["EUR"]}
    new = parse_avro(json.dumps(money), [json.dumps(fewer)])
    issue = only(check_compatibility(new, [("version 1", old)], L.BACKWARD))
    assert issue.rule == "MISSING_ENUM_SYMBOLS"
    assert issue.field == "Money.currency"


def test_invalid_schemas_are_invalid_schema_errors() -> None:
    with pytest.raises(InvalidSchemaError, match="not JSON"):
        canonical_text("{nope")
    with pytest.raises(InvalidSchemaError) as caught:
        parse_avro('{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}')
    assert caught.value.error_code == 42201


# --- the registry's view, applied from the log -------------------------------------------------


def schema_record(subject: str, version: int, schema_id: int, text: str) -> dict[str, Any]:
    return {"subject": subject, "version": version, "id": schema_id, "schema": text}


def test_first_record_in_the_log_wins_a_race_for_an_id_or_a_version() -> None:
    state = RegistryState()
    state.apply(schema_key("a", 1), schema_record("a", 1, 1, '"string"'))
    state.apply(schema_key("b", 1), schema_record("b", 1, 1, '"long"'))  # id 1 is taken
    state.apply(schema_key("a", 1), schema_record("a", 1, 2, '"int"'))  # a v1 is taken
    assert state.schemas == {1: SchemaText('"string"')}
    assert [v.schema_id for v in state.versions("a")] == [1]
    assert state.versions("b") == []
    assert state.ignored == 2
    assert state.max_id == 2  # ids seen in ignored records are never handed out again


def test_soft_delete_tombstone_and_high_water_keep_ids_unique() -> None:
    state = RegistryState()
    state.apply(schema_key("a", 1), schema_record("a", 1, 5, '"string"'))
    state.apply(schema_key("a", 1), {**schema_record("a", 1, 5, '"string"'), "deleted": True})
    assert state.versions("a") == []
    assert [v.version for v in state.versions("a", deleted=True)] == [1]
    assert state.next_version("a") == 2
    state.apply(noop_key(), {"maxId": 9})
    state.apply(schema_key("a", 1), None)
    assert state.subject_names(deleted=True) == []
    assert state.max_id == 9
    assert state.ids[SchemaText('"string"')] == 5  # the same schema keeps its id


def test_configs_and_confluent_delete_subject_records_apply() -> None:
    state = RegistryState()
    state.apply(config_key(None), {"compatibilityLevel": "FULL"})
    state.apply(config_key("a"), {"compatibilityLevel": "NONE"})
    state.apply(config_key("a"), None)
    assert state.configs == {None: L.FULL}
    for version in (1, 2):
        state.apply(schema_key("a", version), schema_record("a", version, version, f'"v{version}"'))
    state.apply(
        {"keytype": "DELETE_SUBJECT", "subject": "a", "magic": 0}, {"subject": "a", "version": 1}
    )
    assert [v.version for v in state.versions("a")] == [2]
    ref = SchemaReference("t.X", "a", 2)
    assert state.referrers(ref) == []
