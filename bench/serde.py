"""Throughput of the hub's Confluent-wire-format serde against bare fastavro.

Encodes and decodes the same records (the canonical examples of every message type,
repeated) four ways in one run:

* hub: :class:`hub.serde.AvroSerializer` / :class:`hub.serde.AvroDeserializer`
  (framing, id caches, error translation, trailing-byte check), against a real embedded
  registry on the embedded broker (ids are fetched once, then cached);
* bare: ``fastavro.schemaless_writer`` / ``schemaless_reader`` on the same parsed
  schemas, no framing;

and prints records/s of each, and hub/bare. Usage::

    python bench/serde.py [--records 60000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._broker import add_broker_option, describe_broker, use_broker
from hub.broker import broker_for
from hub.config import load_settings
from hub.registry import RegistryClient
from hub.registry.embedded import EmbeddedRegistry
from hub.serde import (
    AvroDeserializer,
    AvroSerializer,
    SerializationContext,
    self_contained_schema,
)
from schemas import codec, load_schemas
from schemas.examples import example

TOPIC = "bench.serde"


def best_rate(work: Callable[[], int], rounds: int) -> float:
    """Records per second of the fastest of ``rounds`` runs."""
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        count = work()
        best = max(best, count / (time.perf_counter() - started))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=60_000)
    parser.add_argument("--rounds", type=int, default=3)
    add_broker_option(parser)
    args = parser.parse_args()
    use_broker(args.broker)

    schema_set = load_schemas()
    names = schema_set.messages()
    expanded = {n: self_contained_schema(n, schema_set.raw) for n in names}
    parsed = {n: parse_schema(json.loads(json.dumps(expanded[n]))) for n in names}
    samples = {n: codec.to_avro(example(n)) for n in names}
    work: list[tuple[str, dict[str, Any]]] = [
        (names[i % len(names)], samples[names[i % len(names)]]) for i in range(args.records)
    ]
    ctx = SerializationContext(TOPIC)

    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(data_dir=Path(data_dir))
        with broker_for(settings) as running:
            print(describe_broker(running))
            registry_settings = running.model_copy(
                update={"schema_registry_topic": f"bench-schemas-{uuid.uuid4().hex[:8]}"}
            )
            with (
                EmbeddedRegistry(registry_settings, port=0) as registry,
                RegistryClient(registry.url) as client,
            ):
                serializers = {n: AvroSerializer(client, expanded[n]) for n in names}
                deserializer = AvroDeserializer(client)
                framed = [serializers[n](record, ctx) for n, record in work]  # warms the caches
                bare = [payload[5:] for payload in framed if payload is not None]
                for payload in framed[: len(names)]:
                    deserializer(payload, ctx)

                def hub_encode() -> int:
                    for name, record in work:
                        serializers[name](record, ctx)
                    return len(work)

                def bare_encode() -> int:
                    for name, record in work:
                        buffer = io.BytesIO()
                        schemaless_writer(buffer, parsed[name], record)
                        buffer.getvalue()
                    return len(work)

                def hub_decode() -> int:
                    for payload in framed:
                        deserializer(payload, ctx)
                    return len(framed)

                def bare_decode() -> int:
                    for (name, _), payload in zip(work, bare, strict=True):
                        schemaless_reader(io.BytesIO(payload), parsed[name], None)
                    return len(bare)

                rates = {
                    "encode": (
                        best_rate(hub_encode, args.rounds),
                        best_rate(bare_encode, args.rounds),
                    ),
                    "decode": (
                        best_rate(hub_decode, args.rounds),
                        best_rate(bare_decode, args.rounds),
                    ),
                }

    size = sum(len(p) for p in bare) / len(bare)
    print(
        f"{args.records} records ({len(names)} message types, avg {size:.0f} B Avro), "
        f"best of {args.rounds}, Python {sys.version.split()[0]}"
    )
    print(f"{'':8}{'hub serde':>14}{'bare fastavro':>16}{'hub/bare':>10}")
    for op, (hub, base) in rates.items():
        print(f"{op:8}{hub:>10,.0f} r/s{base:>12,.0f} r/s{hub / base:>10.2f}")


if __name__ == "__main__":
    main()
