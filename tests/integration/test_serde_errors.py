"""Serializer and deserializer over the real broker and registry: evolution and bad frames."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from hub.config import HubSettings
from hub.kafka import consumer, producer
from hub.registry import RegistryClient
from hub.registry.embedded import EmbeddedRegistry
from hub.serde import (
    AvroDeserializer,
    AvroSerializer,
    CorruptPayloadError,
    EncodeError,
    FrameError,
    MagicByteError,
    MessageField,
    ReaderSchemaError,
    SerializationContext,
    TruncatedFrameError,
    TruncatedPayloadError,
    UnknownSchemaIdError,
    frame,
    topic_name_strategy,
    topic_record_name_strategy,
)

pytestmark = pytest.mark.integration

V1: dict[str, Any] = {
    "type": "record",
    "name": "Placement",
    "namespace": "t",
    "fields": [
        {"name": "client_pseudonym", "type": "string"},
        {"name": "hours", "type": "int"},
        {"name": "employer", "type": ["null", "string"], "default": None},
    ],
}
V2: dict[str, Any] = {
    **V1,
    "fields": [
        *V1["fields"],
        {"name": "sector", "type": "string", "default": "onbekend"},
    ],
}
OTHER: dict[str, Any] = {
    "type": "record",
    "name": "Vacancy",
    "namespace": "t",
    "fields": [{"name": "title", "type": "string"}],
}
RECORD = {"client_pseudonym": "p-1", "hours": 32, "employer": "Bakkerij de Vries"}


@pytest.fixture
def registry(
    hub_settings: HubSettings, unique_name: Callable[[str], str]
) -> Iterator[EmbeddedRegistry]:
    settings = hub_settings.model_copy(update={"schema_registry_topic": unique_name("schemas")})
    with EmbeddedRegistry(settings, port=0) as running:
        yield running


@pytest.fixture
def client(registry: EmbeddedRegistry) -> Iterator[RegistryClient]:
    with RegistryClient(registry.url) as c:
        yield c


def produce(settings: HubSettings, topic: str, values: list[bytes | None]) -> None:
    prod = producer(settings)
    try:
        for value in values:
            prod.send(topic, key=b"p-1", value=value, partition=0)
        prod.flush(10)
    finally:
        prod.close()


def consume(settings: HubSettings, topic: str, count: int) -> list[ConsumerRecord]:
    cons = consumer(settings, group_id=None, fetch_max_wait_ms=100)
    records: list[ConsumerRecord] = []
    try:
        tp = TopicPartition(topic, 0)
        cons.assign([tp])
        cons.seek(tp, 0)
        deadline = time.monotonic() + 15
        while len(records) < count and time.monotonic() < deadline:
            for batch in cons.poll(timeout_ms=200).values():
                records.extend(batch)
    finally:
        cons.close()
    assert len(records) == count
    return records


def ctx_of(record: ConsumerRecord) -> SerializationContext:
    return SerializationContext(
        record.topic, MessageField.VALUE, record.headers, record.partition, record.offset
    )


def test_corrupted_frames_raise_specific_errors_naming_topic_partition_offset(
    hub_settings: HubSettings, client: RegistryClient, topic_factory: Callable[..., str]
) -> None:
    topic = topic_factory()
    good = AvroSerializer(client, V1)(RECORD, SerializationContext(topic))
    assert good is not None
    values: list[bytes | None] = [
        good,
        b'{"client_pseudonym": "p-1"}',  # JSON, not the wire format
        frame(987_654, good[5:]),  # an id the registry never handed out
        good[:-3],  # payload cut short
        good[:3],  # not even a header
        good + b"\x02\x04",  # bytes after the record
        frame(int.from_bytes(good[1:5], "big"), b"\x07"),  # garbage payload
        None,  # a tombstone
    ]
    produce(hub_settings, topic, values)
    records = consume(hub_settings, topic, len(values))
    decode = AvroDeserializer(client)

    assert decode(records[0].value, ctx_of(records[0])) == RECORD
    expected: list[type[FrameError]] = [
        MagicByteError,
        UnknownSchemaIdError,
        TruncatedPayloadError,
        TruncatedFrameError,
        CorruptPayloadError,
        CorruptPayloadError,
    ]
    for record, error in zip(records[1:7], expected, strict=True):
        with pytest.raises(error) as caught:
            decode(record.value, ctx_of(record))
        assert type(caught.value) is error
        assert f"topic {topic} partition 0 offset {record.offset} (value)" in str(caught.value)
        assert (caught.value.topic, caught.value.partition, caught.value.offset) == (
            topic,
            0,
            record.offset,
        )
    with pytest.raises(UnknownSchemaIdError, match="no schema with id 987654"):
        decode(records[2].value, ctx_of(records[2]))
    assert decode(records[7].value, ctx_of(records[7])) is None


def test_reader_schema_evolution_both_ways(client: RegistryClient) -> None:
    ctx = SerializationContext("evolution")
    old_bytes = AvroSerializer(client, V1)(RECORD, ctx)
    new_bytes = AvroSerializer(client, V2)({**RECORD, "sector": "zorg"}, ctx)
    assert old_bytes is not None
    assert new_bytes is not None
    assert old_bytes[1:5] != new_bytes[1:5]  # two versions, two ids

    new_reader = AvroDeserializer(client, V2)
    assert new_reader(old_bytes, ctx) == {**RECORD, "sector": "onbekend"}  # default filled in
    old_reader = AvroDeserializer(client, json.dumps(V1))
    assert old_reader(new_bytes, ctx) == RECORD  # the unknown field is skipped
    writer_shape = AvroDeserializer(client)
    assert writer_shape(new_bytes, ctx) == {**RECORD, "sector": "zorg"}

    incompatible = {**V1, "fields": [{"name": "hours", "type": "string"}]}
    with pytest.raises(ReaderSchemaError, match="topic evolution"):
        AvroDeserializer(client, incompatible)(old_bytes, ctx)


def test_reader_schema_per_record_type_on_a_mixed_topic(client: RegistryClient) -> None:
    ctx = SerializationContext("mixed")
    placement = AvroSerializer(client, V1)(RECORD, ctx)
    vacancy = AvroSerializer(client, OTHER)({"title": "kok"}, ctx)
    assert placement is not None
    assert vacancy is not None
    decode = AvroDeserializer(client, reader_schemas={"t.Placement": V2, "t.Vacancy": OTHER})
    assert decode.decode(placement, ctx).value["sector"] == "onbekend"
    decoded = decode.decode(vacancy, ctx)
    assert (decoded.record_type, decoded.value) == ("t.Vacancy", {"title": "kok"})


def test_encoding_a_value_that_does_not_fit_names_the_field(client: RegistryClient) -> None:
    serialize = AvroSerializer(client, V1)
    ctx = SerializationContext("bad")
    with pytest.raises(EncodeError) as caught:
        serialize({**RECORD, "hours": "veertig"}, ctx)
    assert caught.value.field == "hours"
    assert caught.value.record_type == "t.Placement"
    with pytest.raises(EncodeError) as missing:
        serialize({"hours": 1}, ctx)
    assert missing.value.field == "client_pseudonym"
    with pytest.raises(EncodeError) as union:
        serialize({**RECORD, "employer": {"naam": "Geheim BV"}}, ctx)
    assert union.value.field == "employer"
    assert "Geheim" not in str(union.value)  # values may be personal data: never echoed
    assert serialize(None, ctx) is None


def test_subject_strategies_and_id_caches_both_ways(
    registry: EmbeddedRegistry, client: RegistryClient
) -> None:
    ctx = SerializationContext("rmt.partner.uwv.outbox")
    by_record = AvroSerializer(client, V1)
    by_topic = AvroSerializer(client, V1, subject_name_strategy=topic_name_strategy)
    by_both = AvroSerializer(client, V1, subject_name_strategy=topic_record_name_strategy)
    framed = by_record(RECORD, ctx)
    by_topic(RECORD, ctx)
    by_both(RECORD, ctx)
    assert framed is not None
    assert sorted(client.subjects()) == [
        "rmt.partner.uwv.outbox-t.Placement",
        "rmt.partner.uwv.outbox-value",
        "t.Placement",
    ]
    decode = AvroDeserializer(client)
    assert decode(framed, ctx) == RECORD

    registry.stop()  # from here on, only the caches can answer
    assert by_record(RECORD, ctx) == framed
    assert decode(framed, ctx) == RECORD
    lookup_only = AvroSerializer(client, V2, auto_register=False)
    with pytest.raises(Exception, match="registry"):
        lookup_only(RECORD, ctx)
