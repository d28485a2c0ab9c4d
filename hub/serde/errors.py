"""Errors of encoding and decoding records in the Confluent wire format.

    SchemaError (hub.errors)
    ├── FrameError                a record that cannot be decoded; says where it is
    │   ├── TruncatedFrameError   shorter than the 5-byte header
    │   ├── MagicByteError        first byte is not 0: not the Confluent wire format
    │   ├── UnknownSchemaIdError  the registry has no schema with the frame's id
    │   ├── CorruptPayloadError   the Avro payload does not decode with its writer schema
    │   │   └── TruncatedPayloadError  ... because it ends early
    │   └── ReaderSchemaError     the writer schema cannot be read with the reader schema
    └── RecordError (hub.errors)
        ├── EncodeError           a value does not fit the schema it is encoded with
        └── CloudEventError       missing or malformed CloudEvents headers

Every :class:`FrameError` names topic, partition and offset (as far as the context
knows them), the record part (key or value) and, once read, the schema id.
"""

from __future__ import annotations

from hub.errors import RecordError, SchemaError
from hub.serde.context import MessageField, SerializationContext

__all__ = [
    "CloudEventError",
    "CorruptPayloadError",
    "EncodeError",
    "FrameError",
    "MagicByteError",
    "ReaderSchemaError",
    "TruncatedFrameError",
    "TruncatedPayloadError",
    "UnknownSchemaIdError",
]


class FrameError(SchemaError):
    """A record's bytes cannot be decoded; ``topic``/``partition``/``offset`` say where."""

    def __init__(
        self,
        reason: str,
        ctx: SerializationContext | None = None,
        *,
        schema_id: int | None = None,
    ) -> None:
        self.reason = reason
        self.topic = ctx.topic if ctx else None
        self.partition = ctx.partition if ctx else None
        self.offset = ctx.offset if ctx else None
        self.field = ctx.field if ctx else MessageField.VALUE
        self.schema_id = schema_id
        where = ctx.where() if ctx else "record (no context)"
        schema = f" schema id {schema_id}:" if schema_id is not None else ""
        super().__init__(f"{where}:{schema} {reason}")


class TruncatedFrameError(FrameError):
    """Fewer bytes than the magic byte and the schema id need."""


class MagicByteError(FrameError):
    """The first byte is not the Confluent wire format's magic byte 0."""


class UnknownSchemaIdError(FrameError):
    """The registry does not know the frame's schema id."""


class CorruptPayloadError(FrameError):
    """The Avro payload does not decode with the writer schema of its id."""


class TruncatedPayloadError(CorruptPayloadError):
    """The Avro payload ends before the writer schema's fields do."""


class ReaderSchemaError(FrameError):
    """Data written with the writer schema cannot be resolved to the reader schema."""


class EncodeError(RecordError):
    """A value does not fit the schema it is being encoded with (names type and field)."""


class CloudEventError(RecordError):
    """A record's CloudEvents headers are missing or malformed (names the attribute)."""

    def __init__(self, message: str, attribute: str | None = None) -> None:
        super().__init__("CloudEvent", message, field=attribute)
        self.attribute = attribute
