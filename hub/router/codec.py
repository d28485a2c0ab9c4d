"""The router's records on the wire: :class:`~hub.serde.canonical.CanonicalCodec` (the
Confluent wire format through the schema registry, shared with the SDK and the consent
feed), plus what only the router needs.

Outbox records are decoded by the schema id in their frame and resolved to this hub
version's schema of the writer's record type; everything the router writes is encoded
with the registered schema of its type (RecordNameStrategy).

Consent changes are accepted in the wire format and, from a consent service that
publishes bare Avro (``consent.outbox.avro_encoder``), as the bare Avro body: a frame
starts with the magic byte 0, and a bare ConsentChange never does (its first field, the
event id, is a non-empty string whose length varint is not 0).

The disclosure event travels along with a delivery in a header (``rmt-disclosure``), as
bare Avro: it is the router's own recovery data, read back only by the router.
"""

from __future__ import annotations

import io
import threading
from typing import Any

from fastavro import schemaless_writer

from hub.errors import RecordError
from hub.registry.client import RegistryClient
from hub.serde import AvroSerializer, SerializationContext, self_contained_schema
from hub.serde.canonical import CanonicalCodec
from hub.serde.wire import MAGIC_BYTE
from schemas import codec as bare
from schemas import load_schemas
from schemas.loader import SchemaSet
from schemas.models import CanonicalRecord, ConsentChange, DisclosureEvent

__all__ = ["DISCLOSURE_HEADER", "SOURCE_EVENT_HEADER", "RouterCodec"]

DISCLOSURE_HEADER = "rmt-disclosure"
"""Header of a delivered record holding its DisclosureEvent (bare Avro)."""
SOURCE_EVENT_HEADER = "rmt-source-event-id"
"""Header of a delivered record naming the event id of the record it was projected from."""


def _dump(record: Any, _ctx: SerializationContext | None) -> Any:
    # fastavro writes StrEnum members as their symbols, so the model's own dump will do:
    # about 4x faster than schemas.codec.to_avro, the same bytes (tests/router/test_codec).
    return record.model_dump(warnings=False)


class RouterCodec(CanonicalCodec):
    """The canonical wire-format codec, plus consent changes and disclosure headers."""

    def __init__(self, registry: RegistryClient, schemas: SchemaSet | None = None) -> None:
        super().__init__(registry, schemas)
        self._set = schemas or load_schemas()
        self._fast: dict[str, AvroSerializer] = {}
        self._fast_lock = threading.Lock()

    def encode(self, record: CanonicalRecord, topic: str) -> bytes:
        """The record's value for ``topic`` (registers its schema on first use)."""
        serializer = self._fast.get(record.avro_name)
        if serializer is None:
            with self._fast_lock:
                schema = self_contained_schema(record.avro_name, self._set.raw)
                serializer = AvroSerializer(self.registry, schema, to_dict=_dump)
                self._fast[record.avro_name] = serializer
        data = serializer(record, SerializationContext(topic))
        if data is None:  # pragma: no cover - only None serializes to None
            raise RecordError(record.avro_name, "serialized to nothing")
        return data

    def decode_consent(self, data: bytes, ctx: SerializationContext) -> ConsentChange:
        """A consent change, in the wire format or as bare Avro."""
        if data[:1] == bytes([MAGIC_BYTE]):
            record = self.decode(data, ctx)
            if not isinstance(record, ConsentChange):
                raise RecordError(ConsentChange.avro_name, f"{ctx.where()}: a {record.avro_name}")
            return record
        return bare.decode_as(ConsentChange, data)

    def encode_disclosure(self, event: DisclosureEvent) -> bytes:
        """Bare Avro of the event (for the ``rmt-disclosure`` header)."""
        buffer = io.BytesIO()
        schemaless_writer(buffer, self._set.parsed(DisclosureEvent.avro_name), _dump(event, None))
        return buffer.getvalue()

    @staticmethod
    def decode_disclosure(data: bytes) -> DisclosureEvent:
        return bare.decode_as(DisclosureEvent, data)
