"""Canonical records <-> the Confluent wire format, through the schema registry.

:class:`CanonicalCodec` is what every hub component that reads or writes canonical
records uses (partner SDK, router, consent feed, self-check): one
:class:`~hub.serde.avro.AvroSerializer` per record type (RecordNameStrategy: subject =
the record's fullname; schema registered once), and one
:class:`~hub.serde.avro.AvroDeserializer` that reads any message type, resolving it to
this hub version's schema of the writer's type. :func:`record_key` is a record's Kafka key.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from hub.errors import RecordError
from hub.registry.client import RegistryClient
from hub.serde.avro import AvroDeserializer, AvroSerializer, self_contained_schema
from hub.serde.cloudevents import ce_headers
from hub.serde.context import SerializationContext
from schemas import codec, load_schemas
from schemas.loader import SchemaSet
from schemas.models import (
    CanonicalRecord,
    ConsentChange,
    DeadLetter,
    Envelope,
    MonitorEvent,
    PersonRecord,
    StaffSurplus,
    Vacancy,
)

__all__ = ["HUB_SOURCE", "CanonicalCodec", "cloud_event_headers", "record_key", "typed_decoder"]

HUB_SOURCE = "hub"
"""CloudEvents source of what the hub itself originates (dead letters)."""
_DEAD_LETTER_IDS = uuid.UUID("6f1c3a52-2b7e-4d0e-9a51-0c2f4f3a9d11")


def record_key(record: CanonicalRecord) -> bytes | None:
    """The Kafka key of a canonical message record (None when it has no natural key)."""
    if isinstance(record, PersonRecord):
        return record.client_pseudonym.encode("utf-8")
    if isinstance(record, Vacancy):
        return record.vacancy_id.encode("utf-8")
    if isinstance(record, StaffSurplus):
        return record.surplus_id.encode("utf-8")
    if isinstance(record, ConsentChange):
        return record.subject_pseudonym.encode("utf-8")
    if isinstance(record, MonitorEvent):
        return record.monitor_pseudonym.encode("utf-8")
    return None


def cloud_event_headers(record: CanonicalRecord) -> list[tuple[str, bytes]]:
    """The CloudEvents binary-mode headers of a canonical record (id, source, type, time).

    Envelope records carry their own event id, publishing partner and time; a dead letter
    gets a stable id derived from where the refused record was (topic, partition, offset).
    """
    if isinstance(record, Envelope):
        return ce_headers(
            event_id=record.event_id,
            source=record.source_partner,
            record_type=record.avro_name,
            time=record.occurred_at,
        )
    if isinstance(record, DeadLetter):
        where = f"{record.source_topic}/{record.source_partition}/{record.source_offset}"
        return ce_headers(
            event_id=str(uuid.uuid5(_DEAD_LETTER_IDS, f"{where}/{record.reason.value}")),
            source=HUB_SOURCE,
            record_type=record.avro_name,
            time=record.failed_at,
        )
    raise RecordError(record.avro_name, "not a message record: it has no event envelope")


def _to_avro(record: Any, _ctx: SerializationContext) -> Any:
    return codec.to_avro(record)


class CanonicalCodec:
    """Encodes and decodes canonical message records in the wire format; thread-safe."""

    def __init__(self, registry: RegistryClient, schemas: SchemaSet | None = None) -> None:
        self.registry = registry
        self._schemas = schemas or load_schemas()
        self._serializers: dict[str, AvroSerializer] = {}
        self._lock = threading.Lock()
        self._deserializer = AvroDeserializer(
            registry,
            reader_schemas={
                name: self_contained_schema(name, self._schemas.raw)
                for name in self._schemas.messages()
            },
        )

    def _serializer(self, fullname: str) -> AvroSerializer:
        found = self._serializers.get(fullname)
        if found is None:
            with self._lock:
                found = self._serializers.get(fullname)
                if found is None:
                    schema = self_contained_schema(fullname, self._schemas.raw)
                    found = AvroSerializer(self.registry, schema, to_dict=_to_avro)
                    self._serializers[fullname] = found
        return found

    def register(self, fullnames: Iterable[str]) -> dict[str, int]:
        """Register (or look up) these types' schemas now, not on first write; their ids."""
        return {
            name: self._serializer(name).schema_id(SerializationContext("register"))
            for name in fullnames
        }

    def encode(self, record: CanonicalRecord, topic: str) -> bytes:
        """The record's value for ``topic`` (registers its schema on first use)."""
        data = self._serializer(record.avro_name)(record, SerializationContext(topic))
        if data is None:  # pragma: no cover - only None serializes to None
            raise RecordError(record.avro_name, "serialized to nothing")
        return data

    def decode(self, data: bytes, ctx: SerializationContext) -> CanonicalRecord:
        """The canonical record in ``data``; FrameError or RecordError when it is not one."""
        decoded = self._deserializer.decode(data, ctx)
        if decoded.record_type is None:
            raise RecordError("record", f"{ctx.where()}: the writer schema is not a named record")
        return codec.from_avro(decoded.record_type, decoded.value)


_R = TypeVar("_R", bound=CanonicalRecord)


def typed_decoder(codec: CanonicalCodec, topic: str, model: type[_R]) -> Callable[[bytes], _R]:
    """``bytes -> model`` for a topic that carries one record type in the wire format."""

    def decode(data: bytes) -> _R:
        record = codec.decode(data, SerializationContext(topic))
        if not isinstance(record, model):
            raise RecordError(model.avro_name, f"{topic} carried a {record.avro_name}")
        return record

    return decode
