"""The Confluent wire format, CloudEvents headers and self-contained schemas, no broker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import avro.schema
import pytest
from fastavro import parse_schema

from hub.errors import SchemaError
from hub.serde import (
    CloudEvent,
    CloudEventError,
    FrameError,
    MagicByteError,
    MessageField,
    SerializationContext,
    TruncatedFrameError,
    ce_headers,
    frame,
    self_contained_schema,
    unframe,
)
from hub.serde.wire import HEADER_SIZE, MAX_SCHEMA_ID, header
from schemas import load_schemas

CTX = SerializationContext("rmt.partner.uwv.outbox", MessageField.VALUE, None, 3, 1234)


def test_header_is_magic_byte_then_big_endian_id() -> None:
    assert header(7) == b"\x00\x00\x00\x00\x07"
    assert header(0x01020304) == b"\x00\x01\x02\x03\x04"
    assert header(MAX_SCHEMA_ID) == b"\x00\x7f\xff\xff\xff"
    assert len(header(1)) == HEADER_SIZE


@pytest.mark.parametrize("schema_id", [-1, MAX_SCHEMA_ID + 1])
def test_ids_outside_javas_int_are_refused(schema_id: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        header(schema_id)


def test_frame_and_unframe_round_trip() -> None:
    data = frame(258, b"avro-body")
    assert data == b"\x00\x00\x00\x01\x02avro-body"
    schema_id, payload = unframe(data, CTX)
    assert schema_id == 258
    assert bytes(payload) == b"avro-body"


def test_empty_payload_is_a_valid_frame() -> None:
    # A record with no fields encodes to zero bytes; the frame is just the header.
    schema_id, payload = unframe(frame(5, b""))
    assert (schema_id, bytes(payload)) == (5, b"")


@pytest.mark.parametrize("length", range(HEADER_SIZE))
def test_short_frame_names_topic_partition_and_offset(length: int) -> None:
    with pytest.raises(TruncatedFrameError) as caught:
        unframe(b"\x00\x00\x00\x00\x01"[:length], CTX)
    error = caught.value
    assert isinstance(error, FrameError)
    assert isinstance(error, SchemaError)
    assert (error.topic, error.partition, error.offset) == ("rmt.partner.uwv.outbox", 3, 1234)
    assert "topic rmt.partner.uwv.outbox partition 3 offset 1234 (value)" in str(error)
    assert f"{length} byte(s)" in str(error)


def test_wrong_magic_byte_is_refused_with_a_hint() -> None:
    with pytest.raises(MagicByteError) as caught:
        unframe(b'{"client_pseudonym": "x"}', CTX)
    message = str(caught.value)
    assert "magic byte is 0x7b, expected 0x00" in message
    assert "looks like JSON" in message
    assert "offset 1234" in message
    with pytest.raises(MagicByteError, match="0x01"):
        unframe(b"\x01\x00\x00\x00\x01payload")


def test_frame_error_without_context_still_reads() -> None:
    with pytest.raises(MagicByteError, match="no context"):
        unframe(b"\x05\x00\x00\x00\x01")


# --- CloudEvents ----------------------------------------------------------------------------


def test_ce_headers_carry_the_binary_mode_attributes() -> None:
    moment = datetime(2026, 11, 5, 9, 30, 0, 125_000, tzinfo=UTC)
    headers = dict(
        ce_headers(
            event_id="0b7c0b0e-1111-4a4a-9999-000000000001",
            source="uwv",
            record_type="nl.rmt.hub.Referral",
            time=moment,
        )
    )
    assert headers == {
        "ce_specversion": b"1.0",
        "ce_id": b"0b7c0b0e-1111-4a4a-9999-000000000001",
        "ce_source": b"uwv",
        "ce_type": b"nl.rmt.hub.Referral",
        "ce_time": b"2026-11-05T09:30:00.125Z",
        "content-type": b"application/avro",
    }


def test_ce_headers_round_trip_and_normalise_time_to_utc() -> None:
    amsterdam = timezone(timedelta(hours=1))
    event = CloudEvent(
        id="e-1",
        source="gemeente-utrecht",
        type="nl.rmt.hub.Vacancy",
        time=datetime(2026, 1, 2, 10, 0, tzinfo=amsterdam),
        dataschema="http://registry/schemas/ids/3",
        extensions={"partitionkey": "p-1"},
    )
    parsed = CloudEvent.from_headers([*event.to_headers(), ("other", b"\xff")])
    assert parsed.id == "e-1"
    assert parsed.time == datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    assert parsed.dataschema == "http://registry/schemas/ids/3"
    assert parsed.extensions == {"partitionkey": "p-1"}
    assert parsed.datacontenttype == "application/avro"


@pytest.mark.parametrize("missing", ["ce_specversion", "ce_id", "ce_source", "ce_type"])
def test_missing_required_header_is_named(missing: str) -> None:
    headers = [
        (k, v)
        for k, v in ce_headers(event_id="e", source="s", record_type="t", time=datetime.now(UTC))
        if k != missing
    ]
    with pytest.raises(CloudEventError, match=missing):
        CloudEvent.from_headers(headers)


def test_naive_time_and_bad_time_are_refused() -> None:
    with pytest.raises(CloudEventError, match="timezone-aware"):
        ce_headers(event_id="e", source="s", record_type="t", time=datetime(2026, 1, 1))
    headers = [*CloudEvent(id="e", source="s", type="t").to_headers(), ("ce_time", b"yesterday")]
    with pytest.raises(CloudEventError, match="RFC 3339"):
        CloudEvent.from_headers(headers)


def test_standard_cloudevents_sdk_reads_the_headers() -> None:
    kafka_binding = pytest.importorskip(
        "cloudevents.core.bindings.kafka", reason="the CloudEvents SDK is not installed"
    )
    from cloudevents.core.formats.json import JSONFormat  # noqa: PLC0415

    moment = datetime(2026, 11, 5, 9, 30, 0, 125_000, tzinfo=UTC)
    headers = ce_headers(
        event_id="e-42",
        source="uwv",
        record_type="nl.rmt.hub.Referral",
        time=moment,
        content_type="application/json",  # the SDK's JSON format decodes this value
    )
    message = kafka_binding.KafkaMessage(headers=dict(headers), key=b"p-1", value=b'{"a": 1}')
    event = kafka_binding.from_binary(message, JSONFormat())
    assert event.get_id() == "e-42"
    assert event.get_source() == "uwv"
    assert event.get_type() == "nl.rmt.hub.Referral"
    assert event.get_time() == moment
    assert event.get_specversion() == "1.0"


# --- self-contained schemas -------------------------------------------------------------------


def test_every_message_expands_to_a_schema_that_parses_on_its_own() -> None:
    schemas = load_schemas()
    for name in schemas.messages():
        expanded = self_contained_schema(name, schemas.raw)
        text = json.dumps(expanded)
        parsed = avro.schema.parse(text)  # Apache avro, as the registry parses it
        assert isinstance(parsed, avro.schema.NamedSchema)
        assert parsed.fullname == name
        parse_schema(json.loads(text))  # fastavro, with no named types given
        # Each named type is defined once; later uses refer to it by full name.
        definitions = text.count('"name": "PartyRef"')
        assert definitions <= 1


def test_expansion_defines_a_shared_type_once_and_refers_to_it_after() -> None:
    types: dict[str, dict[str, Any]] = {
        "x.Money": {
            "type": "record",
            "name": "Money",
            "namespace": "x",
            "fields": [{"name": "currency", "type": "Currency"}],
        },
        "x.Currency": {"type": "enum", "name": "Currency", "namespace": "x", "symbols": ["EUR"]},
        "x.Offer": {
            "type": "record",
            "name": "Offer",
            "namespace": "x",
            "fields": [
                {"name": "low", "type": "Money"},
                {"name": "high", "type": ["null", "x.Money"], "default": None},
                {"name": "all", "type": {"type": "array", "items": "Currency"}},
            ],
        },
    }
    expanded = self_contained_schema("x.Offer", lambda name: types[name])
    fields = {f["name"]: f["type"] for f in expanded["fields"]}
    assert fields["low"]["name"] == "Money"
    assert fields["low"]["fields"][0]["type"]["name"] == "Currency"
    assert fields["high"] == ["null", "x.Money"]
    assert fields["all"] == {"type": "array", "items": "x.Currency"}
    parsed = avro.schema.parse(json.dumps(expanded))
    assert isinstance(parsed, avro.schema.NamedSchema)
    assert parsed.fullname == "x.Offer"
