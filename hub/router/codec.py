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
bare Avro: the router's recovery data, and what the recipient was given. With record
security it never reaches the topic in clear: :meth:`hub.router.sealing.RouterSecurity.protect`
encrypts it inside the envelope for the recipient and seals the router's copy.

What partners publish is untrusted. Decoding a record of an outbox (``*.outbox``) also
refuses, as a :class:`~hub.serde.errors.FrameError` or a
:class:`~hub.serde.errors.CloudEventError` the router dead-letters:

* a value larger than :data:`MAX_OUTBOX_VALUE_BYTES` (:class:`OversizedRecordError`): a
  delivery of it, encrypted and with the hub's headers, would not fit in a produce
  request, and a record the router cannot write must not stop the partition;
* CloudEvents headers that are missing or malformed, or that contradict the value: a
  ``ce_id`` other than the record's ``event_id`` (the replay guard works on ``ce_id``,
  de-duplication on ``event_id``: they must be one id) or a ``ce_type`` other than the
  record's type.

A dead letter keeps at most :data:`DEAD_LETTER_VALUE_BYTES` of the refused value (it
names the outbox topic, partition and offset where the whole value is): a dead letter of
a huge record must still fit in a produce request.
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
from hub.serde.cloudevents import CloudEvent
from hub.serde.errors import CloudEventError, FrameError
from hub.serde.wire import MAGIC_BYTE
from schemas import codec as bare
from schemas import load_schemas
from schemas.loader import SchemaSet
from schemas.models import CanonicalRecord, ConsentChange, DeadLetter, DisclosureEvent, Envelope

__all__ = [
    "DEAD_LETTER_VALUE_BYTES",
    "DISCLOSURE_HEADER",
    "MAX_OUTBOX_VALUE_BYTES",
    "SOURCE_EVENT_HEADER",
    "OversizedRecordError",
    "RouterCodec",
    "is_outbox",
]

DISCLOSURE_HEADER = "rmt-disclosure"
"""Header of a delivered record holding its DisclosureEvent (bare Avro): on the topic only
with record security off (else ``rmt-enc-disclosure`` and ``rmt-hub-disclosure``)."""
SOURCE_EVENT_HEADER = "rmt-source-event-id"
"""Header of a delivered record naming the event id of the record it was projected from."""
MAX_OUTBOX_VALUE_BYTES = 512 * 1024
"""The largest (decrypted) outbox value the router accepts. Canonical records are a few
kilobytes; a delivery adds encryption, sealed fields (base64) and headers, and must stay
below the producer's 1 MiB request limit."""
DEAD_LETTER_VALUE_BYTES = 64 * 1024
"""How much of a refused value a dead letter keeps (the rest stays on the outbox)."""


class OversizedRecordError(FrameError):
    """An outbox value larger than :data:`MAX_OUTBOX_VALUE_BYTES`."""


def is_outbox(topic: str) -> bool:
    """Whether ``topic`` is a partner's outbox (the catalogue names them ``*.outbox``)."""
    return topic.endswith(".outbox")


def _check_cloud_event(record: CanonicalRecord, ctx: SerializationContext) -> None:
    """The record's CloudEvents headers are there, well-formed, and agree with it."""
    event = CloudEvent.from_headers(ctx.headers)
    if not isinstance(record, Envelope):
        return  # not an outbox record type at all: validation refuses it
    if event.id != record.event_id:
        raise CloudEventError(
            f"{ctx.where()}: ce_id is not the record's event_id (one event, one id)", "id"
        )
    if event.type != record.avro_name:
        raise CloudEventError(
            f"{ctx.where()}: ce_type names another record type than the value holds "
            f"({record.avro_name})",
            "type",
        )


def _capped(letter: DeadLetter) -> DeadLetter:
    """``letter`` with at most DEAD_LETTER_VALUE_BYTES of the refused value."""
    value = letter.original_value
    if value is None or len(value) <= DEAD_LETTER_VALUE_BYTES:
        return letter
    note = (
        f" (original_value holds the first {DEAD_LETTER_VALUE_BYTES} of {len(value)} bytes; "
        f"the whole record is at {letter.source_topic} partition {letter.source_partition} "
        f"offset {letter.source_offset})"
    )
    return letter.model_copy(
        update={
            "original_value": bytes(value[:DEAD_LETTER_VALUE_BYTES]),
            "message": (letter.message or "") + note,
        }
    )


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
        """The record's value for ``topic`` (registers its schema on first use); a dead
        letter keeps at most DEAD_LETTER_VALUE_BYTES of the refused value."""
        if isinstance(record, DeadLetter):
            record = _capped(record)
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

    def decode(self, data: bytes, ctx: SerializationContext) -> CanonicalRecord:
        """The canonical record in ``data``; FrameError or RecordError when it is not one.

        On an outbox also OversizedRecordError for a value above MAX_OUTBOX_VALUE_BYTES,
        and CloudEventError when the context's headers are missing, malformed or
        contradict the record (when the context carries headers)."""
        outbox = is_outbox(ctx.topic)
        if outbox and len(data) > MAX_OUTBOX_VALUE_BYTES:
            raise OversizedRecordError(
                f"the value is {len(data)} bytes; the hub accepts outbox records of at most "
                f"{MAX_OUTBOX_VALUE_BYTES} bytes",
                ctx,
            )
        record = super().decode(data, ctx)
        if outbox and ctx.headers is not None:
            _check_cloud_event(record, ctx)
        return record

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
