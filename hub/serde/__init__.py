"""Serialization of the hub's records: Confluent wire format, Avro, CloudEvents headers.

Serializers and deserializers are plain callables with a
:class:`~hub.serde.context.SerializationContext` (topic, key/value, headers, and for
decoding partition and offset); they know nothing of Kafka clients, and the Kafka
wrapper (:mod:`hub.kafka`) knows nothing of them. Importing this package starts nothing.
"""

from __future__ import annotations

from hub.serde.avro import (
    AvroDeserializer,
    AvroSerializer,
    Decoded,
    record_name_strategy,
    self_contained_schema,
    topic_name_strategy,
    topic_record_name_strategy,
)
from hub.serde.cloudevents import CloudEvent, ce_headers
from hub.serde.context import MessageField, SerializationContext
from hub.serde.errors import (
    CloudEventError,
    CorruptPayloadError,
    EncodeError,
    FrameError,
    MagicByteError,
    ReaderSchemaError,
    TruncatedFrameError,
    TruncatedPayloadError,
    UnknownSchemaIdError,
)
from hub.serde.wire import frame, unframe

__all__ = [
    "AvroDeserializer",
    "AvroSerializer",
    "CloudEvent",
    "CloudEventError",
    "CorruptPayloadError",
    "Decoded",
    "EncodeError",
    "FrameError",
    "MagicByteError",
    "MessageField",
    "ReaderSchemaError",
    "SerializationContext",
    "TruncatedFrameError",
    "TruncatedPayloadError",
    "UnknownSchemaIdError",
    "ce_headers",
    "frame",
    "record_name_strategy",
    "self_contained_schema",
    "topic_name_strategy",
    "topic_record_name_strategy",
    "unframe",
]
