"""Fuzz the wire-format decoder (hub/serde): Confluent frame + Avro payload -> a
canonical record, through the same CanonicalCodec the SDK, the consent feed and the
router use. Allowed: FrameError (truncated frame, magic byte, unknown schema id,
corrupt/truncated payload, reader schema) and RecordError (does not fit the model)."""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports(include=["hub.serde", "schemas.codec"]):
    from hub.errors import HubError
    from hub.serde import SerializationContext
    from hub.serde.canonical import CanonicalCodec
    from hub.serde.cloudevents import CloudEvent

from tests.reliability.fuzz.harness import main
from tests.reliability.fuzz.samples import encoded_samples, registry

CODEC = CanonicalCodec(registry())  # type: ignore[arg-type]
CTX = SerializationContext("fuzz.partner.x.outbox", partition=0, offset=0)


def seeds() -> list[bytes]:
    return [value for _, value in encoded_samples(CODEC)] + [b"", b"\x00", b"\x00\x00\x00\x00\x01"]


def test_one_input(data: bytes) -> None:
    with contextlib.suppress(HubError):
        CODEC.decode(data, CTX)
    # the CloudEvents headers of a record, from the same bytes
    headers = [
        (name, part)
        for name, part in zip(
            ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"),
            data.split(b"\x00"),
            strict=False,
        )
    ]
    with contextlib.suppress(HubError):
        CloudEvent.from_headers(headers)


if __name__ == "__main__":
    main(test_one_input, seeds)
    sys.exit(0)
