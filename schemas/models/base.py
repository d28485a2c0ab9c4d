"""The common base of the canonical models, and the Avro-shaped field types.

The models are structural: they accept exactly what the Avro schema accepts, with the
same field names, order and defaults. Domain rules (the BSN eleven-test, known
municipality codes, the menu card) are checked by the validation stage, so a record that
breaks them can still be decoded, named and dead-lettered.

Timestamps (Avro ``timestamp-millis``) must be timezone-aware; the model converts them
to UTC and truncates them to whole milliseconds, so a model always survives an Avro
round trip unchanged. Naive datetimes are refused: the hub never guesses a time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "LONG_MAX",
    "LONG_MIN",
    "AvroInt",
    "AvroLong",
    "CanonicalRecord",
    "UtcMillis",
    "utc_millis",
]

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


def utc_millis(value: datetime) -> datetime:
    """``value`` in UTC, truncated to the millisecond; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware (UTC)")
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


AvroInt = Annotated[int, Field(ge=INT_MIN, le=INT_MAX)]
"""Avro ``int`` (32-bit signed)."""
AvroLong = Annotated[int, Field(ge=LONG_MIN, le=LONG_MAX)]
"""Avro ``long`` (64-bit signed)."""
UtcMillis = Annotated[datetime, AfterValidator(utc_millis)]
"""Avro ``long`` with logical type ``timestamp-millis``: aware, UTC, whole milliseconds."""


class CanonicalRecord(BaseModel):
    """A canonical record; ``avro_name`` is the fullname of its Avro schema."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    avro_name: ClassVar[str]
