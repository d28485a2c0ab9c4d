"""What a serializer is told about the record it encodes or decodes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Headers", "MessageField", "SerializationContext"]

Headers = Sequence[tuple[str, bytes]]
"""Kafka record headers, as (name, value) pairs (names may repeat)."""


class MessageField(StrEnum):
    """Which part of the record: Confluent's subject names use these words."""

    KEY = "key"
    VALUE = "value"


@dataclass(frozen=True, slots=True)
class SerializationContext:
    """Topic and part of the record; headers, and when decoding partition and offset.

    Serializers are plain callables ``(obj, ctx) -> bytes`` and deserializers
    ``(bytes, ctx) -> obj``; they never see a Kafka client. The Kafka layer fills in the
    context from the record it produces or consumed.
    """

    topic: str
    field: MessageField = MessageField.VALUE
    headers: Headers | None = None
    partition: int | None = None
    offset: int | None = None

    def where(self) -> str:
        """``topic rmt.x partition 2 offset 15 (value)``, as far as it is known."""
        parts = [f"topic {self.topic}"]
        if self.partition is not None:
            parts.append(f"partition {self.partition}")
        if self.offset is not None:
            parts.append(f"offset {self.offset}")
        return " ".join(parts) + f" ({self.field.value})"
