"""Throughput of the per-record security pipeline over a real broker, on and off.

The router is not wired to the security library yet, so this measures the pipeline the
router will run, record by record, over the embedded broker (produce -> consume), three
ways in one run:

* ``off``: publish (CloudEvents headers) -> route (read outbox, write inbox) -> receive;
* ``encrypt``: the route step envelope-encrypts every value for the recipient and the
  recipient decrypts (whole-record encryption only: the Kroxylicious comparison);
* ``sign+encrypt``: the partner encrypts to the hub and signs; the route step verifies
  the signature (with the replay guard), decrypts, encrypts for the recipient and signs
  as the hub; the recipient verifies the hub's signature and decrypts (everything issue
  8 asks for).

Payloads are opaque bytes of a canonical record's size (no Avro decoding: the router's
decode cost is the same in every mode). Prints records/s of each stage per mode, the
router's ratio on/off and the loss, and the CPU cost of each primitive. Usage::

    python bench/crypto.py [--records 20000] [--partitions 4] [--size 600]

To measure the real router later: run it over the same outbox with and without
``HubSecurity`` (``verify_inbound`` + ``seal_delivery``) and report the same ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafka import TopicPartition
from kafka.admin import NewTopic

from hub.broker import broker_for
from hub.config import HubSettings, load_settings
from hub.kafka import admin_client, consumer, producer
from hub.security.envelope import EnvelopeDecryptor, EnvelopeEncryptor
from hub.security.keys import KeyStore
from hub.security.pipeline import HubSecurity, PartnerSecurity
from hub.security.replay import ReplayGuard
from hub.serde.cloudevents import ce_headers

PUBLISHER, RECIPIENT = "uwv", "gemeente-amsterdam"
MODES = ("off", "encrypt", "sign+encrypt")
Headers = list[tuple[str, bytes]]


def headers_for(source: str) -> Headers:
    return ce_headers(
        event_id=str(uuid.uuid4()),
        source=source,
        record_type="nl.rmt.hub.ClientProfile",
        time=datetime.now(UTC),
    )


def read(settings: HubSettings, topic: str, count: int, visit: Callable[[Any], None]) -> None:
    reader = consumer(
        settings, group_id=None, fetch_max_wait_ms=20, max_partition_fetch_bytes=8 << 20
    )
    try:
        partitions = reader.partitions_for_topic(topic)
        while not partitions:
            time.sleep(0.05)
            partitions = reader.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        reader.assign(tps)
        reader.seek_to_beginning(*tps)
        seen = 0
        while seen < count:
            for records in reader.poll(timeout_ms=200, max_records=5000).values():
                for record in records:
                    visit(record)
                seen += sum(1 for _ in records)
    finally:
        reader.close()


class Stage:
    """Wall time and this process's CPU time (all threads) of one stage."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def done(self, count: int) -> tuple[float, float]:
        """(records/s by wall clock, CPU microseconds per record)."""
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        return count / wall, cpu / count * 1e6


def run_mode(  # noqa: PLR0915, PLR0917 - one straight pipeline, three stages
    mode: str, settings: HubSettings, store: KeyStore, count: int, partitions: int, size: int
) -> dict[str, tuple[float, float]]:
    admin = admin_client(settings)
    tag = uuid.uuid4().hex[:8]
    outbox, inbox = f"bench.crypto.{tag}.outbox", f"bench.crypto.{tag}.inbox"
    admin.create_topics([NewTopic(t, partitions, 1) for t in (outbox, inbox)])
    partner = PartnerSecurity.from_store(store, PUBLISHER)
    recipient = PartnerSecurity.from_store(store, RECIPIENT)
    hub = HubSecurity.from_store(store, replay_guard=ReplayGuard())
    recipient_key = store.directory().current(RECIPIENT)
    encryptor = EnvelopeEncryptor()
    decryptor = EnvelopeDecryptor(store.private_keys(RECIPIENT))
    payload = os.urandom(size)
    keys = [f"pseudonym-{i % 997}".encode() for i in range(count)]
    out = producer(settings, linger_ms=5, batch_size=512 << 10)
    rates: dict[str, tuple[float, float]] = {}
    try:
        # 1. the partner publishes
        stage = Stage()
        for key in keys:
            headers = headers_for(PUBLISHER)
            value: bytes | None = payload
            if mode == "sign+encrypt":
                value, headers = partner.seal_outbound(
                    topic=outbox, key=key, value=payload, headers=headers
                )
            out.send(outbox, key=key, value=value, headers=headers)
        out.flush()
        rates["publish"] = stage.done(count)

        # 2. the router: outbox -> inbox
        def route(record: Any) -> None:
            value: bytes = record.value
            headers = headers_for("hub")
            if mode == "sign+encrypt":
                opened = hub.open_inbound(
                    topic=record.topic,
                    key=record.key,
                    value=value,
                    headers=record.headers,
                    publisher=PUBLISHER,
                    partition=record.partition,
                    offset=record.offset,
                )
                if not opened.verdict.ok or opened.value is None:
                    raise SystemExit(f"verification failed: {opened.verdict}")
                sealed, headers = hub.seal_delivery(
                    recipient=RECIPIENT,
                    topic=inbox,
                    key=record.key,
                    value=opened.value,
                    headers=headers,
                    origin=opened.verdict,
                )
                assert sealed is not None
                value = sealed
            elif mode == "encrypt":
                event_id = dict(headers)["ce_id"].decode()
                value, envelope = encryptor.encrypt(
                    recipient_key, topic=inbox, key=record.key, value=value, event_id=event_id
                )
                headers = headers + envelope
            out.send(inbox, key=record.key, value=value, headers=headers)

        stage = Stage()
        read(settings, outbox, count, route)
        out.flush()
        rates["route"] = stage.done(count)

        # 3. the recipient
        def receive(record: Any) -> None:
            if mode == "sign+encrypt":
                opened = recipient.open_inbound(
                    topic=record.topic, key=record.key, value=record.value, headers=record.headers
                )
                plain = opened.value
            elif mode == "encrypt":
                plain = decryptor.decrypt(
                    topic=record.topic, key=record.key, value=record.value, headers=record.headers
                )
            else:
                plain = record.value
            if plain != payload:
                raise SystemExit("the recipient read something else")

        stage = Stage()
        read(settings, inbox, count, receive)
        rates["receive"] = stage.done(count)
        steps = [rates[s] for s in ("publish", "route", "receive")]
        rates["end to end"] = (1 / sum(1 / r for r, _ in steps), sum(c for _, c in steps))
    finally:
        out.close()
        admin.delete_topics([outbox, inbox])
        admin.close()
    return rates


def primitives(store: KeyStore, size: int, rounds: int = 2000) -> dict[str, float]:
    """Microseconds per call of each primitive (no broker)."""
    partner = PartnerSecurity.from_store(store, PUBLISHER)
    recipient = PartnerSecurity.from_store(store, RECIPIENT)
    hub = HubSecurity.from_store(store)
    payload, topic, key = os.urandom(size), "t", b"k"
    headers = headers_for(PUBLISHER)
    signed = partner.sign_outbound(topic=topic, key=key, value=payload, headers=headers)
    encryptor, recipient_key = EnvelopeEncryptor(), store.directory().current(RECIPIENT)
    sealed, envelope = encryptor.encrypt(
        recipient_key, topic=topic, key=key, value=payload, event_id="e"
    )
    decryptor = EnvelopeDecryptor(store.private_keys(RECIPIENT))
    delivered, delivered_headers = hub.seal_delivery(
        recipient=RECIPIENT, topic=topic, key=key, value=payload, headers=headers_for("hub")
    )
    outbound, outbound_headers = partner.seal_outbound(
        topic=topic, key=key, value=payload, headers=headers
    )
    cases: dict[str, Callable[[], object]] = {
        "sign (partner)": lambda: partner.sign_outbound(
            topic=topic, key=key, value=payload, headers=headers
        ),
        "verify (router)": lambda: hub.verify_inbound(
            topic=topic, key=key, value=payload, headers=signed, publisher=PUBLISHER
        ),
        "seal_outbound (encrypt+sign)": lambda: partner.seal_outbound(
            topic=topic, key=key, value=payload, headers=headers
        ),
        "hub open_inbound (verify+decrypt)": lambda: hub.open_inbound(
            topic=topic, key=key, value=outbound, headers=outbound_headers, publisher=PUBLISHER
        ),
        "encrypt (DEK reused)": lambda: encryptor.encrypt(
            recipient_key, topic=topic, key=key, value=payload, event_id="e"
        ),
        "decrypt (DEK cached)": lambda: decryptor.decrypt(
            topic=topic, key=key, value=sealed, headers=envelope, event_id="e"
        ),
        "seal_delivery (encrypt+sign)": lambda: hub.seal_delivery(
            recipient=RECIPIENT, topic=topic, key=key, value=payload, headers=headers_for("hub")
        ),
        "partner open_inbound (verify+decrypt)": lambda: recipient.open_inbound(
            topic=topic, key=key, value=delivered, headers=delivered_headers
        ),
    }
    costs = {}
    for name, call in cases.items():
        started = time.perf_counter()
        for _ in range(rounds):
            call()
        costs[name] = (time.perf_counter() - started) / rounds * 1e6
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--size", type=int, default=600, help="payload bytes")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, modes interleaved")
    args = parser.parse_args()

    rounds: list[dict[str, dict[str, tuple[float, float]]]] = []
    with tempfile.TemporaryDirectory() as data_dir:
        store = KeyStore(Path(data_dir) / "keys")
        for partner in ("hub", PUBLISHER, RECIPIENT):
            store.new(partner)
        settings = load_settings(data_dir=Path(data_dir))
        with broker_for(settings) as running:
            print(
                f"{args.records} records of {args.size} B, {args.partitions} partitions, "
                f"kafka-python on the embedded broker ({running.bootstrap_servers}), "
                f"{args.rounds} rounds, modes interleaved\n"
            )
            run_mode("off", running, store, min(args.records, 2000), args.partitions, args.size)
            for _ in range(args.rounds):
                rounds.append(
                    {
                        mode: run_mode(
                            mode, running, store, args.records, args.partitions, args.size
                        )
                        for mode in MODES
                    }
                )
        costs = primitives(store, args.size)

    stages = ("publish", "route", "receive", "end to end")
    best = {m: {st: max(r[m][st][0] for r in rounds) for st in stages} for m in MODES}
    cpu = {m: {st: min(r[m][st][1] for r in rounds) for st in stages} for m in MODES}
    print(f"{'records/s':<14}" + "".join(f"{m:>16}" for m in MODES) + "   (wall clock, best)")
    for st in stages:
        print(f"{st:<14}" + "".join(f"{best[m][st]:>16,.0f}" for m in MODES))
    print(f"\n{'CPU us/record':<14}" + "".join(f"{m:>16}" for m in MODES) + "   (this process)")
    for st in stages:
        print(f"{st:<14}" + "".join(f"{cpu[m][st]:>16,.1f}" for m in MODES))
    print()
    for mode in MODES[1:]:
        ratios = sorted(r[mode]["route"][0] / r["off"]["route"][0] for r in rounds)
        wall_ratio = ratios[len(ratios) // 2]
        cpu_ratio = cpu["off"]["route"] / cpu[mode]["route"]
        print(
            f"router throughput {mode} / off: {wall_ratio:.2f} by wall clock "
            f"({(1 - wall_ratio) * 100:.0f}% loss, median of {len(rounds)} rounds), "
            f"{cpu_ratio:.2f} by CPU ({(1 - cpu_ratio) * 100:.0f}% loss)"
        )
    print("(anchor: Kroxylicious reports about 26% throughput loss for whole-record encryption)")
    print("\nCPU per call (no broker):")
    for name, micros in costs.items():
        print(f"  {name:<38}{micros:8.1f} us")


if __name__ == "__main__":
    main()
