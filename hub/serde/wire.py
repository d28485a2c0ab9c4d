"""The Confluent wire format: magic byte 0, a 4-byte big-endian schema id, the payload.

+------+----------------+-----------------------+
| 0x00 | schema id (BE) | Avro binary (no       |
|      | 4 bytes        | container, no schema) |
+------+----------------+-----------------------+
"""

from __future__ import annotations

import struct

from hub.serde.context import SerializationContext
from hub.serde.errors import MagicByteError, TruncatedFrameError

__all__ = ["HEADER_SIZE", "MAGIC_BYTE", "MAX_SCHEMA_ID", "frame", "header", "unframe"]

MAGIC_BYTE = 0
HEADER_SIZE = 5
MAX_SCHEMA_ID = 2**31 - 1  # Java's int: Confluent ids are signed 32-bit, positive

_HEADER = struct.Struct(">bI")


def header(schema_id: int) -> bytes:
    """The 5 bytes in front of every payload written with ``schema_id``."""
    if not 0 <= schema_id <= MAX_SCHEMA_ID:
        raise ValueError(f"schema id {schema_id} is outside 0..{MAX_SCHEMA_ID}")
    return _HEADER.pack(MAGIC_BYTE, schema_id)


def frame(schema_id: int, payload: bytes) -> bytes:
    """``payload`` in the wire format, for ``schema_id``."""
    return header(schema_id) + payload


def unframe(data: bytes, ctx: SerializationContext | None = None) -> tuple[int, memoryview]:
    """(schema id, payload) of a framed record; FrameError subclasses name ``ctx``."""
    if len(data) < HEADER_SIZE:
        raise TruncatedFrameError(
            f"{len(data)} byte(s) is shorter than the {HEADER_SIZE}-byte Confluent header "
            "(magic byte + schema id)",
            ctx,
        )
    if data[0] != MAGIC_BYTE:
        hint = " (looks like JSON)" if data[:1] in (b"{", b"[") else ""
        raise MagicByteError(
            f"magic byte is 0x{data[0]:02x}, expected 0x00: not in the Confluent wire format{hint}",
            ctx,
        )
    schema_id = int.from_bytes(data[1:HEADER_SIZE], "big")
    return schema_id, memoryview(data)[HEADER_SIZE:]
