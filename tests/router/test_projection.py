"""Projection: only the allowed categories' fields, the rest null and named as withheld."""

from __future__ import annotations

from hub.router.projection import ALWAYS, carried_categories, project
from schemas import codec, load_schemas
from schemas.models import ClientProfile
from schemas.models.enums import HealthNeed
from schemas.vocabulary import DataCategory
from tests.router.helpers import records

FIELDS = load_schemas().field_categories(ClientProfile.avro_name)


def profile() -> ClientProfile:
    return records.profile(
        "psn-projection", work_limitation=True, health_needs=[HealthNeed.JOB_COACHING]
    )


def test_carried_categories_are_those_with_data() -> None:
    carried = carried_categories(profile(), FIELDS)
    assert DataCategory.HEALTH in carried
    assert DataCategory.DEBTS in carried  # has_debts=False is data
    assert carried_categories(profile().model_copy(update={"has_debts": None}), FIELDS) == (
        carried - {DataCategory.DEBTS}
    )
    assert carried >= ALWAYS


def test_withheld_fields_are_null_and_named() -> None:
    allowed = frozenset({DataCategory.IDENTITY, DataCategory.LABOUR_MARKET_PROFILE})
    projected = project(profile(), allowed, FIELDS)
    record = projected.record
    assert isinstance(record, ClientProfile)
    assert record.bsn == profile().bsn
    assert record.work_history == profile().work_history
    for name, category in FIELDS.items():
        if category not in allowed | ALWAYS:
            assert getattr(record, name) is None, name
    assert set(record.withheld_categories) == projected.withheld
    assert projected.withheld == {
        DataCategory.CONTACT,
        DataCategory.RESIDENCE,
        DataCategory.BENEFIT_STATUS,
        DataCategory.EDUCATION,
        DataCategory.HEALTH,
        DataCategory.DEBTS,
    }
    assert projected.categories == allowed | ALWAYS
    # the projection is still a valid record of its schema
    assert codec.decode(ClientProfile.avro_name, codec.encode(record)) == record


def test_disclosed_fields_are_exactly_the_non_null_ones_and_the_envelope() -> None:
    allowed = frozenset({DataCategory.IDENTITY, DataCategory.EDUCATION})
    projected = project(profile(), allowed, FIELDS)
    present = {
        name
        for name, value in projected.record
        if (value is not None and value != []) or FIELDS[name] in ALWAYS
    }
    assert set(projected.fields) == present
    assert list(projected.fields) == [f for f in FIELDS if f in present]  # schema order
    assert "family_name_prefix" in projected.fields  # identity, and it holds data


def test_everything_allowed_withholds_nothing() -> None:
    original = profile()
    projected = project(original, frozenset(DataCategory), FIELDS)
    assert projected.withheld == frozenset()
    assert projected.record == original


def test_the_original_is_not_changed() -> None:
    original = profile()
    copy = original.model_copy(deep=True)
    project(original, frozenset(), FIELDS)
    assert original == copy
