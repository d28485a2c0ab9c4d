"""Valid records to start fuzzing from (libFuzzer mutates them), and a registry for them."""

from __future__ import annotations

from typing import Any

from hub.serde.canonical import CanonicalCodec
from schemas import load_schemas
from schemas.examples import example
from schemas.models import CanonicalRecord
from tests.reliability.fuzz.memory_registry import MemoryRegistry

__all__ = ["OUTBOX_TYPES", "encoded_samples", "registry", "samples"]

OUTBOX_TYPES = (
    "ClientProfile",
    "IntakeDecision",
    "PersonalArrangement",
    "Referral",
    "PlacementOutcome",
    "ResponsibilityTransfer",
    "Vacancy",
)


def registry() -> MemoryRegistry:
    """A registry holding the schema of every canonical message record."""
    found = MemoryRegistry()
    codec = CanonicalCodec(found)  # type: ignore[arg-type]
    codec.register(load_schemas().messages())
    return found


def samples() -> list[CanonicalRecord]:
    return [example(name) for name in OUTBOX_TYPES]


def encoded_samples(codec: Any) -> list[tuple[CanonicalRecord, bytes]]:
    return [(record, codec.encode(record, "fuzz.partner.x.outbox")) for record in samples()]
