"""Fuzz the router's path for one outbox record, in-process: decode (RouterCodec, with
the outbox checks: size, CloudEvents headers), then RouterCore.handle (validation,
state, refusal or delivery), then encode every write as the writer does.

Allowed: the decoder's FrameError / RecordError, turned into a Rejection exactly as the
engine does (hub/router/engine.py ``_decode``). Not allowed: anything escaping
``handle`` (the engine would dead-letter it as OTHER, "the hub failed"), or a write the
codec cannot encode (the engine would retry that batch forever).

Input: byte 0 = mode (bit 0: CloudEvents headers that agree with the record, else made
from the input; bit 1: the record's natural key, else bytes from the input; bit 2:
structure-aware - a sample record with fields replaced by values drawn from the input,
encoded, so validation sees odd but decodable records), byte 1 = partition, the rest =
the value (or what the fields are drawn from).
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports(include=["hub.router", "hub.serde"]):
    from hub.config import load_settings
    from hub.errors import HubError, RecordError
    from hub.router.codec import RouterCodec
    from hub.router.processing import Inbound
    from hub.router.state import PartitionState
    from hub.router.validation import Rejection
    from hub.serde import FrameError, SerializationContext
    from hub.serde.canonical import cloud_event_headers, record_key
    from schemas import load_schemas
    from schemas.models import CanonicalRecord, Envelope
    from schemas.models.enums import DeadLetterReason
    from topics import build_catalogue

from tests.reliability.fuzz.harness import main
from tests.reliability.fuzz.samples import encoded_samples, registry
from tests.router.helpers.cores import router_core

SETTINGS = load_settings(topic_prefix="fuzz")
CATALOGUE = build_catalogue(SETTINGS)
SCHEMAS = load_schemas()
CODEC = RouterCodec(registry(), SCHEMAS)  # type: ignore[arg-type]
CORE = router_core(CATALOGUE, partitions=SETTINGS.topic_partitions)
OUTBOX = CATALOGUE.outbox("uwv").name
STATES: dict[int, PartitionState] = {}
"""One state per partition, as the engine keeps them."""
SEEN: dict[tuple[int, str], bytes] = {}
RUNS = [0]


def seeds() -> list[bytes]:
    out = []
    for _, value in encoded_samples(CODEC):
        out += [b"\x03\x00" + value, b"\x03\x01" + value, b"\x00\x02" + value]
    out += [b"\x07\x00" + bytes(range(256)), b"\x07\x01" + bytes(64) + bytes(range(200))]
    return out


def _decode(value: bytes, ctx: SerializationContext) -> CanonicalRecord | Rejection:
    """As RouterEngine._decode does."""
    try:
        return CODEC.decode(value, ctx)
    except FrameError as exc:
        return Rejection(DeadLetterReason.DECODE_ERROR, exc.reason)
    except RecordError as exc:
        field = exc.field if exc.record_type != "CloudEvent" else None
        return Rejection(DeadLetterReason.SCHEMA_INVALID, str(exc), field)


SAMPLES = [record for record, _ in encoded_samples(CODEC)]
PSEUDONYM_CHOICES = ["psn-a", "psn-b", ""]


def _draw(fdp: atheris.FuzzedDataProvider, current: object) -> object:
    """A value of the kind ``current`` is, drawn from the input (or None)."""
    pick = fdp.ConsumeIntInRange(0, 5)
    if pick == 0:
        return None
    if isinstance(current, bool):
        return fdp.ConsumeBool()
    if isinstance(current, int):
        return fdp.ConsumeInt(8)
    if isinstance(current, str) or current is None:
        if pick == 1:
            return fdp.PickValueInList(PSEUDONYM_CHOICES)
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 40))
    return current


def _structured(data: bytes) -> bytes | None:
    """An encoded sample record with some fields replaced (None: it does not encode)."""
    fdp = atheris.FuzzedDataProvider(data)
    record = fdp.PickValueInList(SAMPLES)
    update = {}
    for name in sorted(type(record).model_fields):
        if fdp.ConsumeIntInRange(0, 3) == 0:
            update[name] = _draw(fdp, getattr(record, name))
    try:
        return CODEC.encode(record.model_copy(update=update), OUTBOX)
    except HubError:
        return None


def test_one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    mode, partition, value = data[0], data[1] % SETTINGS.topic_partitions, data[2:]
    if mode & 4:
        made = _structured(value)
        if made is None:
            return
        value = made
    headers: tuple[tuple[str, bytes], ...]
    key: bytes | None = value[:16] if mode & 2 == 0 else None
    try:
        plain = CODEC.decode(value, SerializationContext("fuzz.plain"))
    except HubError:
        plain = None
    names = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time")
    headers = tuple(zip(names, value[-60:].split(b"\xff"), strict=False))
    if mode & 1 and isinstance(plain, Envelope):
        with contextlib.suppress(HubError):  # an empty event id or source has none
            headers = tuple(cloud_event_headers(plain))
    if mode & 2 and plain is not None:
        key = record_key(plain)
    RUNS[0] += 1
    if RUNS[0] % 2000 == 0:
        STATES.clear()  # bounded memory
        SEEN.clear()
    message = Inbound(OUTBOX, partition, RUNS[0], key, value, headers)
    ctx = SerializationContext(OUTBOX, headers=headers, partition=partition, offset=RUNS[0])
    decoded = _decode(value, ctx)
    event_id = getattr(decoded, "event_id", None)
    if event_id is not None:
        # As the replay guard does with record security on: an event id seen before in
        # this outbox partition at another position is REPLAYED before it is decoded.
        # (Reusing another outbox's event id: tests/reliability/test_router_defects.py.)
        first = SEEN.setdefault((partition, event_id), value)
        if first != value:
            decoded = Rejection(DeadLetterReason.REPLAYED, "event id seen before")
    record_type = decoded.avro_name if not isinstance(decoded, Rejection) else None
    state = STATES.setdefault(partition, PartitionState(partition))
    writes = CORE.handle(state, message, decoded, record_type=record_type)
    for write in writes:
        if write.record is not None:
            CODEC.encode(write.record, write.topic)


if __name__ == "__main__":
    main(test_one_input, seeds)
    sys.exit(0)
