"""Models match their schemas, survive the Avro round trip, and fail as RecordError."""

from __future__ import annotations

import types
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, ValidationError
from pydantic.fields import FieldInfo

from hub.errors import RecordError
from schemas import codec
from schemas.examples import EXAMPLE_BSN, example, examples
from schemas.loader import SchemaSet, fullname_of, load_schemas
from schemas.menu_card import BANENAFSPRAAK_ONLY, TAILORED_BUDGET_CAP_CENTS, Instrument
from schemas.models import (
    CanonicalRecord,
    ClientProfile,
    ConsentChange,
    DeadLetter,
    Money,
    PersonalArrangement,
    two_month_period,
)
from schemas.models.base import INT_MAX, LONG_MAX, utc_millis
from schemas.models.enums import ServiceKind
from schemas.regions import municipality_table

SCHEMAS: SchemaSet = load_schemas()
MESSAGES = SCHEMAS.messages()
RECORDS = SCHEMAS.records()
TIMEZONES = [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))]


# --- strategies: st.builds over each model, one strategy per field annotation ------------------


def _bounds(metadata: list[Any]) -> dict[str, int]:
    bounds: dict[str, int] = {}
    for item in metadata:
        for inner in item.metadata if isinstance(item, FieldInfo) else [item]:
            if isinstance(inner, annotated_types.Ge):
                bounds["min_value"] = int(inner.ge)
            if isinstance(inner, annotated_types.Le):
                bounds["max_value"] = int(inner.le)
    return bounds


def _strategy(annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _strategy(base, [*metadata, *extra])
    if origin in (Union, types.UnionType):
        (inner,) = [a for a in get_args(annotation) if a is not type(None)]
        return st.none() | _strategy(inner, metadata)
    if origin is list:
        return st.lists(_strategy(get_args(annotation)[0], []), max_size=3)
    if origin is dict:
        key, value = get_args(annotation)
        assert key is str, "Avro map keys are strings"
        return st.dictionaries(st.text(max_size=8), _strategy(value, []), max_size=3)
    return _leaf_strategy(getattr(annotation, "__supertype__", annotation), metadata)


def _leaf_strategy(annotation: Any, metadata: list[Any]) -> st.SearchStrategy[Any]:
    if isinstance(annotation, type) and issubclass(annotation, CanonicalRecord):
        return model_strategy(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return st.sampled_from(annotation)
    if annotation is int:
        bounds = _bounds(metadata)
        assert bounds, "every int field is bounded to Avro int or long"
        return st.integers(**bounds)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=12),
        bool: st.booleans(),
        bytes: st.binary(max_size=24),
        date: st.dates(),
        datetime: st.datetimes(
            min_value=datetime(1900, 1, 1),
            max_value=datetime(2200, 1, 1),
            timezones=st.sampled_from(TIMEZONES),
        ),
    }
    return simple[annotation]


def model_strategy(model: type[CanonicalRecord]) -> st.SearchStrategy[CanonicalRecord]:
    fields = {
        name: _strategy(info.annotation, list(info.metadata))
        for name, info in model.model_fields.items()
    }
    return st.builds(model, **fields)


# --- shapes: the model's field types against the avsc field types -----------------------------


def _avro_shape(type_: Any) -> Any:
    if isinstance(type_, list):
        assert type_[0] == "null"
        return ("optional", _avro_shape(type_[1]))
    if isinstance(type_, dict):
        if "logicalType" in type_:
            return type_["logicalType"]
        if type_["type"] == "array":
            return ("array", _avro_shape(type_["items"]))
        if type_["type"] == "map":
            return ("map", _avro_shape(type_["values"]))
        return _avro_shape(type_["type"])
    primitives = {"string", "int", "long", "boolean", "bytes"}
    return type_ if type_ in primitives else fullname_of(type_)


def _model_shape(annotation: Any, metadata: list[Any]) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _model_shape(base, [*metadata, *extra])
    if origin in (Union, types.UnionType):
        (inner,) = [a for a in get_args(annotation) if a is not type(None)]
        return ("optional", _model_shape(inner, metadata))
    if origin is list:
        return ("array", _model_shape(get_args(annotation)[0], []))
    if origin is dict:
        key, value = get_args(annotation)
        assert key is str, "Avro map keys are strings"
        return ("map", _model_shape(value, []))
    return _leaf_shape(getattr(annotation, "__supertype__", annotation), metadata)


def _leaf_shape(annotation: Any, metadata: list[Any]) -> str:
    if isinstance(annotation, type) and issubclass(annotation, CanonicalRecord):
        return annotation.avro_name
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return fullname_of(annotation.__name__)
    if annotation is datetime:
        validators = [m.func for m in metadata if isinstance(m, AfterValidator)]
        return "timestamp-millis" if utc_millis in validators else "naive datetime"
    if annotation is int:
        upper = _bounds(metadata).get("max_value")
        return {INT_MAX: "int", LONG_MAX: "long"}.get(upper or 0, "unbounded int")
    return {str: "string", bool: "boolean", bytes: "bytes", date: "date"}[annotation]


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- models against schemas -------------------------------------------------------------------


def test_there_is_one_model_per_record_schema() -> None:
    assert sorted(codec.MODELS) == RECORDS
    for name, model in codec.MODELS.items():
        assert model.avro_name == name


@pytest.mark.parametrize("fullname", RECORDS)
def test_model_fields_match_the_avsc_exactly(fullname: str) -> None:
    model = codec.MODELS[fullname]
    avsc = SCHEMAS.raw(fullname)["fields"]
    assert list(model.model_fields) == [f["name"] for f in avsc]
    for fld in avsc:
        info = model.model_fields[fld["name"]]
        where = f"{fullname}.{fld['name']}"
        assert _model_shape(info.annotation, list(info.metadata)) == _avro_shape(fld["type"]), where
        if "default" in fld:
            assert not info.is_required(), where
            assert _plain(info.get_default(call_default_factory=True)) == fld["default"], where
        else:
            assert info.is_required(), where


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("fullname", RECORDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_avro_binary_round_trip_is_identity(fullname: str, data: st.DataObject) -> None:
    record = data.draw(model_strategy(codec.MODELS[fullname]))
    encoded = codec.encode(record)
    assert isinstance(encoded, bytes)
    assert codec.decode(fullname, encoded) == record
    assert codec.from_avro(fullname, codec.to_avro(record)) == record


@pytest.mark.parametrize("fullname", MESSAGES)
@settings(max_examples=150, deadline=None)
@given(garbage=st.binary(max_size=200))
def test_decoding_random_bytes_fails_as_record_error(fullname: str, garbage: bytes) -> None:
    outcome: object
    try:
        outcome = codec.decode(fullname, garbage)
    except RecordError as exc:
        outcome = exc
    if isinstance(outcome, RecordError):
        assert outcome.record_type == fullname
    else:
        assert isinstance(outcome, codec.MODELS[fullname])


@pytest.mark.parametrize("fullname", MESSAGES)
def test_truncated_and_padded_examples_fail_as_record_error(fullname: str) -> None:
    encoded = codec.encode(example(fullname))
    with pytest.raises(RecordError, match="cannot decode"):
        codec.decode(fullname, encoded[: len(encoded) // 2])
    with pytest.raises(RecordError, match="trailing bytes"):
        codec.decode(fullname, encoded + b"\x00")


def test_timestamps_are_utc_milliseconds_and_must_be_aware() -> None:
    local = datetime(2021, 3, 1, 12, 0, 0, 123_999, tzinfo=timezone(timedelta(hours=1)))
    assert utc_millis(local) == datetime(2021, 3, 1, 11, 0, 0, 123_000, tzinfo=UTC)
    assert utc_millis(local).tzinfo is UTC
    record = example("ConsentChange")
    assert isinstance(record, ConsentChange)
    with pytest.raises(ValidationError, match="timezone-aware"):
        ConsentChange.model_validate(
            {**record.model_dump(), "recorded_at": datetime(2021, 3, 1, 12, 0)}
        )
    shifted = ConsentChange.model_validate({**record.model_dump(), "recorded_at": local})
    assert codec.decode("ConsentChange", codec.encode(shifted)) == shifted


def test_models_are_immutable_and_strict_about_unknown_fields() -> None:
    money = Money(amount_cents=100)
    with pytest.raises(ValidationError):
        money.amount_cents = 5  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        Money.model_validate({"amount_cents": 1, "cents": 2})


# --- errors name the field ----------------------------------------------------------------------


def test_from_avro_names_the_field() -> None:
    data = codec.to_avro(example("ClientProfile"))
    with pytest.raises(RecordError) as caught:
        codec.from_avro("ClientProfile", {**data, "region": "ATLANTIS"})
    assert caught.value.record_type == ClientProfile.avro_name
    assert caught.value.field == "region"
    nested = {**data, "work_history": [{**data["work_history"][0], "sector": "PIRACY"}]}
    with pytest.raises(RecordError) as caught:
        codec.from_avro("ClientProfile", nested)
    assert caught.value.field == "work_history.0.sector"


def test_encode_names_the_field_of_a_record_that_skipped_validation() -> None:
    bad = Money.model_construct(amount_cents="a lot")
    with pytest.raises(RecordError) as caught:
        codec.encode(bad)
    assert caught.value.record_type == Money.avro_name
    assert caught.value.field == "amount_cents"
    arrangement = example("PersonalArrangement")
    assert isinstance(arrangement, PersonalArrangement)
    broken = arrangement.model_copy(update={"region": "ATLANTIS"})
    with pytest.raises(RecordError) as caught:
        codec.encode(broken)
    assert caught.value.field == "region"


def test_unknown_record_types_are_record_errors() -> None:
    with pytest.raises(RecordError, match="no canonical model"):
        codec.decode("nl.rmt.hub.Nope", b"")
    with pytest.raises(RecordError, match="no canonical model"):
        codec.from_avro("Nope", {})
    with pytest.raises(RecordError, match="no example"):
        example("Money")


def test_decode_as_is_typed() -> None:
    record = codec.decode_as(DeadLetter, codec.encode(example("DeadLetter")))
    assert record.reason.value == "BSN_INVALID"


# --- examples -----------------------------------------------------------------------------------


def _eleven_test(bsn: str) -> bool:
    weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
    return len(bsn) == 9 and sum(int(d) * w for d, w in zip(bsn, weights, strict=True)) % 11 == 0


def test_there_is_one_example_per_message_and_it_round_trips() -> None:
    all_examples = examples()
    assert sorted(all_examples) == MESSAGES
    for fullname, record in all_examples.items():
        assert record.avro_name == fullname
        assert example(fullname) == record, "examples are deterministic"
        assert type(record).model_validate(record.model_dump()) == record
        assert codec.decode(fullname, codec.encode(record)) == record


def test_example_profile_is_realistic() -> None:
    profile = example("ClientProfile")
    assert isinstance(profile, ClientProfile)
    assert profile.bsn == EXAMPLE_BSN
    assert _eleven_test(profile.bsn)
    assert not _eleven_test("123456789")
    assert municipality_table()[profile.municipality_code] is profile.region
    assert profile.education_level.starting_qualification is profile.starting_qualification


def test_example_arrangement_keeps_to_the_menu_card() -> None:
    arrangement = example("PersonalArrangement")
    assert isinstance(arrangement, PersonalArrangement)
    kinds = {s.kind for s in arrangement.services}
    assert kinds == {ServiceKind.REGULAR, ServiceKind.ADDITIONAL}
    for service in arrangement.services:
        if service.kind is ServiceKind.ADDITIONAL:
            assert service.instrument is not None
            assert service.instrument not in BANENAFSPRAAK_ONLY
        if service.instrument is Instrument.TAILORED_BUDGET:
            assert service.cost is not None
            assert service.cost.amount_cents <= TAILORED_BUDGET_CAP_CENTS


def test_example_dead_letter_holds_a_decodable_refused_profile() -> None:
    dead = example("DeadLetter")
    assert isinstance(dead, DeadLetter)
    assert dead.original_value is not None
    refused = codec.decode_as(ClientProfile, dead.original_value)
    assert not _eleven_test(refused.bsn)
    assert refused.event_id == dead.event_id


@pytest.mark.parametrize(
    ("day", "period"),
    [
        (date(2021, 1, 1), "2021-01/02"),
        (date(2021, 2, 28), "2021-01/02"),
        (date(2021, 3, 15), "2021-03/04"),
        (date(2021, 4, 30), "2021-03/04"),
        (date(2021, 12, 31), "2021-11/12"),
    ],
)
def test_two_month_period(day: date, period: str) -> None:
    assert two_month_period(day) == period
