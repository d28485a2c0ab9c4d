"""A real third-party client interoperates with the hub both ways, over the real broker.

confluent-kafka's SchemaRegistryClient, AvroSerializer and AvroDeserializer (the
Python face of the serializers partners run in Java and .NET) point at the hub's
embedded registry; confluent-kafka's Producer and Consumer talk to the session broker.
Every canonical message type goes each way, with CloudEvents headers.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as CkTopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient, record_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroDeserializer as CkAvroDeserializer
from confluent_kafka.schema_registry.avro import AvroSerializer as CkAvroSerializer
from confluent_kafka.serialization import MessageField as CkField
from confluent_kafka.serialization import SerializationContext as CkContext
from kafka import TopicPartition

from hub.config import HubSettings
from hub.kafka import consumer, producer
from hub.kafka.config import confluent_config
from hub.registry import RegistryClient
from hub.registry.embedded import EmbeddedRegistry
from hub.serde import (
    AvroDeserializer,
    AvroSerializer,
    CloudEvent,
    SerializationContext,
    ce_headers,
    self_contained_schema,
)
from schemas import codec, load_schemas
from schemas.examples import example

pytestmark = pytest.mark.integration

MESSAGES = load_schemas().messages()


def expanded(name: str) -> str:
    return json.dumps(self_contained_schema(name, load_schemas().raw))


@pytest.fixture
def registry(
    hub_settings: HubSettings, unique_name: Callable[[str], str]
) -> Iterator[EmbeddedRegistry]:
    settings = hub_settings.model_copy(update={"schema_registry_topic": unique_name("schemas")})
    with EmbeddedRegistry(settings, port=0) as running:
        yield running


def headers_for(name: str, source: str) -> list[tuple[str, bytes]]:
    return ce_headers(
        event_id=str(uuid.uuid4()), source=source, record_type=name, time=datetime.now(UTC)
    )


def test_confluent_client_reads_what_the_hub_wrote(
    hub_settings: HubSettings, registry: EmbeddedRegistry, topic_factory: Callable[..., str]
) -> None:
    topic = topic_factory()
    with RegistryClient(registry.url) as client:
        prod = producer(hub_settings)
        try:
            for name in MESSAGES:
                serialize = AvroSerializer(client, expanded(name))
                headers = headers_for(name, "hub")
                ctx = SerializationContext(topic, headers=headers)
                value = serialize(codec.to_avro(example(name)), ctx)
                prod.send(topic, key=name.encode(), value=value, headers=headers, partition=0)
            prod.flush(10)
        finally:
            prod.close()

    confluent_registry = SchemaRegistryClient({"url": registry.url})
    deserialize = CkAvroDeserializer(confluent_registry)
    reader = Consumer(
        confluent_config(hub_settings)
        | {
            "group.id": f"interop-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    received: dict[str, Any] = {}
    try:
        reader.assign([CkTopicPartition(topic, 0, 0)])
        deadline = time.monotonic() + 20
        while len(received) < len(MESSAGES) and time.monotonic() < deadline:
            message = reader.poll(0.2)
            if message is None or message.error():
                continue
            got: Any = message.headers()
            event = CloudEvent.from_headers(got)
            received[event.type] = deserialize(
                message.value(), CkContext(topic, CkField.VALUE, got)
            )
    finally:
        reader.close()

    assert sorted(received) == MESSAGES
    for name, decoded in received.items():
        assert codec.from_avro(name, decoded) == example(name), name


def test_hub_reads_what_the_confluent_client_wrote(
    hub_settings: HubSettings, registry: EmbeddedRegistry, topic_factory: Callable[..., str]
) -> None:
    topic = topic_factory()
    confluent_registry = SchemaRegistryClient({"url": registry.url})
    writer = Producer(confluent_config(hub_settings))
    for name in MESSAGES:
        serialize = CkAvroSerializer(
            confluent_registry,
            expanded(name),
            conf={"subject.name.strategy": record_subject_name_strategy},
        )
        partner_headers: Any = headers_for(name, "uwv")
        value = serialize(
            codec.to_avro(example(name)), CkContext(topic, CkField.VALUE, partner_headers)
        )
        writer.produce(topic, key=name.encode(), value=value, headers=partner_headers, partition=0)
    assert writer.flush(10) == 0

    with RegistryClient(registry.url) as client:
        # The partner's serializer registered under the hub's subject naming, and the
        # hub's serializer finds the very same ids.
        assert sorted(client.subjects()) == MESSAGES
        for name in MESSAGES:
            assert (
                AvroSerializer(client, expanded(name)).schema_id(SerializationContext(topic))
                == client.version(name).schema_id
            )

        reader_schemas = {name: load_schemas().parsed(name) for name in MESSAGES}
        deserialize = AvroDeserializer(client, reader_schemas=reader_schemas)
        cons = consumer(hub_settings, group_id=None, fetch_max_wait_ms=100)
        decoded: dict[str, Any] = {}
        try:
            tp = TopicPartition(topic, 0)
            cons.assign([tp])
            cons.seek(tp, 0)
            deadline = time.monotonic() + 20
            while len(decoded) < len(MESSAGES) and time.monotonic() < deadline:
                for batch in cons.poll(timeout_ms=200).values():
                    for record in batch:
                        event = CloudEvent.from_headers(record.headers)
                        assert event.source == "uwv"
                        ctx = SerializationContext(
                            topic,
                            headers=record.headers,
                            partition=record.partition,
                            offset=record.offset,
                        )
                        result = deserialize.decode(record.value, ctx)
                        assert result.record_type == event.type
                        decoded[event.type] = codec.from_avro(event.type, result.value)
        finally:
            cons.close()

    assert sorted(decoded) == MESSAGES
    for name, model in decoded.items():
        assert model == example(name), name
