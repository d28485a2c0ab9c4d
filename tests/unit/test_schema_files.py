"""The shipped .avsc files: they parse and follow the hub's schema rules and the brief."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from schemas.loader import MESSAGE_ROLE, NAMESPACE, SchemaSet, load_schemas, snake_case
from schemas.vocabulary import DataCategory

MESSAGES = {
    f"{NAMESPACE}.{name}"
    for name in (
        "ClientProfile",
        "IntakeDecision",
        "PersonalArrangement",
        "Referral",
        "Vacancy",
        "StaffSurplus",
        "Availability",
        "PlacementOutcome",
        "ResponsibilityTransfer",
        "ConsentChange",
        "MonitorEvent",
        "DeadLetter",
        "DisclosureEvent",
        "RejectionNotice",
        "ErasureNotice",
        "RoutingState",
    )
}
PERSON_RECORDS = {
    f"{NAMESPACE}.{name}"
    for name in (
        "ClientProfile",
        "IntakeDecision",
        "PersonalArrangement",
        "Referral",
        "PlacementOutcome",
        "ResponsibilityTransfer",
        "Availability",
    )
}
ENVELOPE = ("event_id", "occurred_at", "source_partner")


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return load_schemas()


def _fields(schemas: SchemaSet, name: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in schemas.raw(name)["fields"]}


def test_every_avsc_file_is_one_parsed_schema(schemas: SchemaSet) -> None:
    package = resources.files("schemas")
    stems = sorted(f.name[: -len(".avsc")] for f in package.iterdir() if f.name.endswith(".avsc"))
    assert len(stems) == len(schemas)
    assert sorted(snake_case(name.rsplit(".", 1)[1]) for name in schemas.names()) == stems
    for name in schemas.names():
        assert name.startswith(f"{NAMESPACE}.")
        assert schemas.parsed(name)["name"] == name


def test_message_records_are_the_brief_and_the_router_ones(schemas: SchemaSet) -> None:
    assert set(schemas.messages()) == MESSAGES
    for name in schemas.records():
        if name not in MESSAGES:
            assert schemas.role(name) is None, name


def test_every_message_field_has_a_valid_category(schemas: SchemaSet) -> None:
    valid = {c.value for c in DataCategory}
    for name in schemas.messages():
        for fld in schemas.raw(name)["fields"]:
            assert fld.get("category") in valid, f"{name}.{fld['name']}"
        assert set(schemas.field_categories(name)) == set(_fields(schemas, name))


def test_helper_record_categories_are_absent_or_valid(schemas: SchemaSet) -> None:
    valid = {c.value for c in DataCategory}
    for name in schemas.records():
        if schemas.role(name) != MESSAGE_ROLE:
            for fld in schemas.raw(name)["fields"]:
                assert fld.get("category", "meta") in valid, f"{name}.{fld['name']}"


def test_every_type_and_field_is_documented(schemas: SchemaSet) -> None:
    for name in schemas.names():
        raw = schemas.raw(name)
        assert raw.get("doc", "").strip(), name
        for fld in raw.get("fields", []):
            assert fld.get("doc", "").strip(), f"{name}.{fld['name']}"


def test_optional_fields_are_null_first_with_default_null(schemas: SchemaSet) -> None:
    optional = 0
    for name in schemas.records():
        for fld in schemas.raw(name)["fields"]:
            if isinstance(fld["type"], list):
                optional += 1
                assert fld["type"][0] == "null", f"{name}.{fld['name']}"
                assert len(fld["type"]) == 2
                assert fld["default"] is None
    assert optional > 20


def test_published_messages_start_with_the_meta_envelope(schemas: SchemaSet) -> None:
    for name in MESSAGES - {f"{NAMESPACE}.DeadLetter"}:
        fields = list(_fields(schemas, name).values())
        assert [f["name"] for f in fields[:3]] == list(ENVELOPE), name
        assert {f["category"] for f in fields[:3]} == {"meta"}
        assert fields[1]["type"] == {"type": "long", "logicalType": "timestamp-millis"}


@pytest.mark.parametrize(
    ("record", "field", "category"),
    [
        ("ClientProfile", "client_pseudonym", DataCategory.PSEUDONYM),
        ("ClientProfile", "bsn", DataCategory.IDENTITY),
        ("ClientProfile", "date_of_birth", DataCategory.IDENTITY),
        ("ClientProfile", "contact", DataCategory.CONTACT),
        ("ClientProfile", "municipality_code", DataCategory.RESIDENCE),
        ("ClientProfile", "region", DataCategory.RESIDENCE),
        ("ClientProfile", "job_seeker_category", DataCategory.BENEFIT_STATUS),
        ("ClientProfile", "work_history", DataCategory.LABOUR_MARKET_PROFILE),
        ("ClientProfile", "language_level", DataCategory.EDUCATION),
        ("ClientProfile", "benefit_status", DataCategory.BENEFIT_STATUS),
        ("ClientProfile", "reduced_wage_value", DataCategory.HEALTH),
        ("ClientProfile", "work_limitation", DataCategory.HEALTH),
        ("ClientProfile", "banenafspraak", DataCategory.HEALTH),
        ("ClientProfile", "health_needs", DataCategory.HEALTH),
        ("ClientProfile", "has_debts", DataCategory.DEBTS),
        ("IntakeDecision", "banenafspraak_eligible", DataCategory.HEALTH),
        ("IntakeDecision", "selected", DataCategory.INTAKE),
        ("PersonalArrangement", "services", DataCategory.ARRANGEMENT),
        ("ResponsibilityTransfer", "new_benefit_status", DataCategory.BENEFIT_STATUS),
        ("Vacancy", "employer", DataCategory.BUSINESS),
        ("PlacementOutcome", "outcome", DataCategory.OUTCOME),
        ("ConsentChange", "subject_pseudonym", DataCategory.PSEUDONYM),
        ("ConsentChange", "data_categories", DataCategory.CONSENT),
        ("MonitorEvent", "monitor_pseudonym", DataCategory.STATISTICAL),
        ("DeadLetter", "original_value", DataCategory.HEALTH),
    ],
)
def test_sensitive_fields_have_the_right_category(
    schemas: SchemaSet, record: str, field: str, category: DataCategory
) -> None:
    assert schemas.field_categories(record)[field] is category


def test_monitor_event_holds_no_direct_identifier_or_free_text(schemas: SchemaSet) -> None:
    categories = schemas.field_categories("MonitorEvent")
    assert set(categories.values()) == {DataCategory.META, DataCategory.STATISTICAL}
    fields = _fields(schemas, "MonitorEvent")
    for forbidden in ("bsn", "name", "birth", "address", "contact", "note", "reason", "client"):
        assert not [f for f in fields if forbidden in f], forbidden
    free_text = [f for f, spec in fields.items() if spec["type"] in ("string", ["null", "string"])]
    assert free_text == [
        "event_id",
        "source_partner",
        "monitor_pseudonym",
        "period",
        "linkage_pseudonym",  # issue 20: the person's, on the steps of figures across periods
    ]


def test_person_records_carry_the_client_pseudonym_and_vacancy_does_not(
    schemas: SchemaSet,
) -> None:
    for name in MESSAGES:
        short = name.rsplit(".", 1)[1]
        person = name in PERSON_RECORDS or short in {
            "DisclosureEvent",
            "ErasureNotice",
            "RoutingState",
        }
        assert ("client_pseudonym" in _fields(schemas, name)) is person, short
    for business in ("Vacancy", "StaffSurplus"):
        categories = schemas.field_categories(business)
        assert set(categories.values()) == {DataCategory.META, DataCategory.BUSINESS}


def test_logical_types(schemas: SchemaSet) -> None:
    profile = _fields(schemas, "ClientProfile")
    assert profile["date_of_birth"]["type"] == ["null", {"type": "int", "logicalType": "date"}]
    consent = _fields(schemas, "ConsentChange")
    assert consent["valid_until"]["type"] == [
        "null",
        {"type": "long", "logicalType": "timestamp-millis"},
    ]


def test_money_is_long_cents_in_euro(schemas: SchemaSet) -> None:
    money = _fields(schemas, "Money")
    assert money["amount_cents"]["type"] == "long"
    assert money["currency"]["type"] == "Currency"
    assert money["currency"]["default"] == "EUR"
    assert schemas.raw("Currency")["symbols"] == ["EUR"]


def test_dead_letter_reasons_and_monitor_event_types_are_those_of_the_brief(
    schemas: SchemaSet,
) -> None:
    assert schemas.raw("DeadLetterReason")["symbols"] == [
        "SCHEMA_INVALID",
        "BSN_INVALID",
        "MUNICIPALITY_UNKNOWN",
        "PUBLISHER_NOT_ALLOWED",
        "INSTRUMENT_NOT_ON_MENU",
        "BANENAFSPRAAK_ONLY",
        "WAGE_DISPENSATION_NOT_ALLOWED",
        "TAILORED_BUDGET_EXCEEDED",
        "SIGNATURE_INVALID",
        "REPLAYED",
        "DECODE_ERROR",
        "OTHER",
        "KEY_MISMATCH",
        "PARTITION_MISMATCH",
        "REGION_MISMATCH",
        "ARRANGEMENT_UNKNOWN",
        "UNSIGNED",
        "KEY_UNKNOWN",
        "KEY_REVOKED",
        "KEY_EXPIRED",
        "SIGNER_MISMATCH",
        "CHAIN_BROKEN",  # issue 16: a consent change out of its subject's chain
        "REASON_WITHHELD",  # issue 20: a notice to a publisher not entitled to the reason
        "OUTSIDE_REGION",  # issue 21: a regional party acts for its region's residents only
        "CATEGORY_CONTRADICTED",  # issue 21: a category the record's own data contradicts
        "REGION_NOT_LIVE",  # issue 21: the region's roll-out phase has not started
        "PACKAGE_NOT_ALLOWED",  # issue 21: package I is the employer's social plan
    ]
    assert schemas.raw("MonitorEventType")["symbols"] == [
        "INTAKE",
        "SELECTION",
        "ARRANGEMENT_STARTED",
        "ARRANGEMENT_CHANGED",
        "ARRANGEMENT_FINISHED",
        "INSTRUMENT_USED",
        "REFERRAL",
        "PLACEMENT",
        "OUTCOME",
        "RESPONSIBILITY_TRANSFER",
    ]
    assert schemas.raw("ConsentChangeType")["symbols"] == ["GIVEN", "WITHDRAWN", "EXPIRED"]
    assert schemas.raw("ServicePackage")["symbols"] == ["I", "II", "III"]


def test_person_records_can_withhold_every_category(schemas: SchemaSet) -> None:
    """Everything but envelope and pseudonym is nullable; withheld_categories says what."""
    for name in PERSON_RECORDS:
        fields = _fields(schemas, name)
        withheld = fields["withheld_categories"]
        assert withheld["type"] == {"type": "array", "items": "DataCategory"}, name
        assert withheld["default"] == []
        assert withheld["category"] == "meta"
        for fname, spec in fields.items():
            if spec["category"] in {"meta", "pseudonym"}:
                continue
            assert isinstance(spec["type"], list), f"{name}.{fname}"
            assert spec["type"][0] == "null", f"{name}.{fname}"
            assert spec["default"] is None, f"{name}.{fname}"


def test_router_records_hold_no_record_content(schemas: SchemaSet) -> None:
    """Audit and notices name categories and fields, never the personal data itself."""
    for short in ("DisclosureEvent", "RejectionNotice", "ErasureNotice"):
        categories = set(schemas.field_categories(short).values())
        assert categories <= {DataCategory.META, DataCategory.PSEUDONYM, DataCategory.CONSENT}
