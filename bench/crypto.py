"""Router throughput with record security on and off, measured on the real router, in one run.

One embedded broker (or ``HUB_BOOTSTRAP_SERVERS``), one schema registry, and two hubs side
by side (own topic prefix, data dir and key store each), each with one router worker (a
subprocess, as in production):

* ``off``: ``HUB_SECURITY_ENABLED=false``: UWV publishes plain wire-format profiles; the
  router validates, joins consents, projects and delivers them to the municipality's
  inbox with routing state and audit;
* ``on`` (the default): UWV publishes profiles encrypted to the hub and signed (as the
  SDK does); the router verifies the signature against the outbox owner, checks the
  replay guard, decrypts, seals the health fields per subject (keys in the consent
  database, SQLite here) in each delivery and in the routing state, encrypts each
  delivery to the recipient with its disclosure inside the envelope (and seals the
  router's own copy), hub-signs it and hash-chains and signs the audit.

Both get the same records (a consent covering health for every subject, so the health
fields are delivered - sealed when on). Sealing on the publisher's side happens before
the clock starts: the figures are the router's alone, records/s from the first send to
the last delivery arriving in the inbox, a burst of ``--records``. The modes alternate
for ``--rounds`` rounds; the best round of each counts. The CPU cost of each primitive
(no broker) follows; the last line is the ratio on/off. Usage::

    python bench/crypto.py [--records 5000] [--rounds 3] [--subjects 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._broker import add_broker_option, describe_broker, router_options, use_broker
from bench.router import BASE_CATEGORIES, Figures, grant_consents, measure, profiles
from consent.store import open_store
from hub.broker import broker_for
from hub.config import HubSettings, load_settings
from hub.registry import client_for
from hub.registry.embedded import EmbeddedRegistry
from hub.router.runtime import RouterProcess
from hub.security.config import ensure_keys, partner_key_store
from hub.security.envelope import EnvelopeDecryptor, EnvelopeEncryptor, SelfSealer
from hub.security.headers import ENC_DISCLOSURE, HUB_DISCLOSURE
from hub.security.hub_identity import OPERATIONS_ID
from hub.security.keys import KeyStore
from hub.security.pipeline import HubSecurity, PartnerSecurity
from hub.security.shredding import FieldSealer, SubjectKeyStore, wrap_subject_key
from hub.serde.canonical import CanonicalCodec
from hub.serde.cloudevents import ce_headers
from schemas.models.enums import LegalBasis
from schemas.vocabulary import DataCategory
from topics import apply_to_cluster, build_catalogue, load_partners

PUBLISHER, RECIPIENT = "uwv", "gemeente-amsterdam"
MODES = ("off", "on")
Headers = list[tuple[str, bytes]]
Batch = Callable[[int], list[tuple[str, bytes, bytes, Headers]]]


def headers_for(source: str) -> Headers:
    return ce_headers(
        event_id=str(uuid.uuid4()),
        source=source,
        record_type="nl.rmt.hub.ClientProfile",
        time=datetime.now(UTC),
    )


@dataclass
class Side:
    """One hub (prefix, data dir, keys) and its router worker."""

    mode: str
    settings: HubSettings
    worker: RouterProcess
    batch: Batch
    outbox: str
    inbox: str


def sealed(batch: Batch, security: PartnerSecurity, topic: str) -> Batch:
    """``batch`` encrypted to the hub and signed by the publisher (as the SDK does)."""

    def make(n: int) -> list[tuple[str, bytes, bytes, Headers]]:
        out = []
        for event_id, key, value, headers in batch(n):
            sealed_value, sealed_headers = security.seal_outbound(
                topic=topic, key=key, value=value, headers=headers
            )
            assert sealed_value is not None
            out.append((event_id, key, sealed_value, sealed_headers))
        return out

    return make


def start_side(mode: str, base: HubSettings, data_dir: Path, subjects: list[str]) -> Side:
    prefix = f"bench{mode}{uuid.uuid4().hex[:6]}"
    settings = base.model_copy(update={"topic_prefix": prefix, "data_dir": data_dir / mode})
    catalogue = build_catalogue(settings)
    apply_to_cluster(settings, catalogue)
    codec = CanonicalCodec(client_for(settings))
    if mode == "on":  # before the grants: the consent service signs them
        ensure_keys(settings, load_partners(settings.partners_file))
    grant_consents(
        settings,
        codec,
        subjects,
        categories=(*BASE_CATEGORIES, DataCategory.HEALTH),
        legal_basis=LegalBasis.EXPLICIT_CONSENT,
    )
    outbox, inbox = catalogue.outbox(PUBLISHER).name, catalogue.inbox(RECIPIENT).name
    batch = profiles(codec, outbox, subjects)
    if mode == "on":
        partner = PartnerSecurity.from_store(partner_key_store(settings), PUBLISHER)
        batch = sealed(batch, partner, outbox)
    options = router_options(settings, status_file=data_dir / f"{mode}.status.json")
    worker = RouterProcess(
        settings,
        options,
        log_file=data_dir / f"router-{mode}.log",
        env={"HUB_SECURITY_ENABLED": "true" if mode == "on" else "false"},
    ).start()
    return Side(mode, settings, worker, batch, outbox, inbox)


def run_side(side: Side, records: int) -> Figures:
    return measure(
        side.settings,
        source=side.outbox,
        sink=side.inbox,
        id_header="rmt-source-event-id",
        batch=side.batch,
        records=records,
        latency_records=20,
        rate=100,
    )


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
    store.new(OPERATIONS_ID)
    self_sealer = SelfSealer(store.private_keys(OPERATIONS_ID))
    database = open_store(f"sqlite:///{store.root.parent / 'primitives-consent.db'}")
    database.migrate()
    subject_keys = SubjectKeyStore(database, bytes(32))
    fields = FieldSealer(subject_keys)
    subject_key = subject_keys.current_key("psn-bench")
    recipient_key_record = store.directory().current(RECIPIENT)
    firsts = iter(range(10**9))
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
        "seal_delivery + disclosure inside": lambda: hub.seal_delivery(
            recipient=RECIPIENT,
            topic=topic,
            key=key,
            value=payload,
            headers=headers_for("hub"),
            sealed_headers=[(ENC_DISCLOSURE, payload)],
        ),
        "hub's sealed disclosure copy": lambda: self_sealer.seal(
            HUB_DISCLOSURE, topic=topic, key=key, event_id="e", value=payload
        ),
        "seal a field (subject key cached)": lambda: fields.seal_value(
            "psn-bench", "work_limitation", True
        ),
        "first key of a subject (SQLite write)": lambda: subject_keys.current_key(
            f"psn-first-{next(firsts)}"
        ),
        "grant a subject key (wrap to partner)": lambda: wrap_subject_key(
            subject_key, recipient_key_record
        ),
    }
    costs = {}
    try:
        for name, call in cases.items():
            started = time.perf_counter()
            for _ in range(rounds):
                call()
            costs[name] = (time.perf_counter() - started) / rounds * 1e6
    finally:
        subject_keys.close()
        database.close()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000, help="burst per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, modes alternating")
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--size", type=int, default=600, help="payload bytes (primitives)")
    add_broker_option(parser)
    args = parser.parse_args()
    use_broker(args.broker)

    subjects = [f"psn-bench-{i:05d}" for i in range(args.subjects)]
    results: dict[str, list[Figures]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        with broker_for(load_settings(data_dir=data_dir)) as running:
            base = running.model_copy(
                update={"schema_registry_topic": f"_schemas-bench-{uuid.uuid4().hex[:6]}"}
            )
            with EmbeddedRegistry(base, port=0) as registry:
                base = base.model_copy(update={"schema_registry_url": registry.url})
                print(
                    f"router throughput, security off and on: {args.records} ClientProfile "
                    f"records per burst, {args.rounds} rounds alternating, {args.subjects} "
                    f"subjects, {base.topic_partitions} partitions, one router worker per "
                    f"mode, broker {base.bootstrap_servers}"
                )
                print(f"{describe_broker(base)}\n")
                sides = [start_side(mode, base, data_dir, subjects) for mode in MODES]
                try:
                    for side in sides:
                        side.worker.wait_ready(120, partitions=base.topic_partitions)
                        run_side(side, len(subjects))  # warm up: a key per subject, caches
                    for round_ in range(args.rounds):
                        for side in sides if round_ % 2 == 0 else reversed(sides):
                            figures = run_side(side, args.records)
                            results[side.mode].append(figures)
                            print(
                                f"  round {round_ + 1} {side.mode:<3} "
                                f"{figures.throughput:>9,.0f} rec/s   p50 "
                                f"{figures.p50_ms:6.1f} ms   p99 {figures.p99_ms:6.1f} ms"
                            )
                    for side in sides:
                        status = side.worker.status() or {}
                        stats = status.get("stats", {})
                        print(
                            f"  router {side.mode}: {stats.get('records', '?')} records in "
                            f"{stats.get('batches', '?')} batches, {stats.get('retries', '?')} "
                            f"retries, security {status.get('security', {})}"
                        )
                finally:
                    for side in sides:
                        side.worker.stop()
        store = KeyStore(data_dir / "primitives")
        for partner in ("hub", PUBLISHER, RECIPIENT):
            store.new(partner)
        costs = primitives(store, args.size)

    print("\nCPU per call (no broker):")
    for name, micros in costs.items():
        print(f"  {name:<38}{micros:8.1f} us")
    best = {mode: max(f.throughput for f in results[mode]) for mode in MODES}
    p50 = {mode: min(f.p50_ms for f in results[mode]) for mode in MODES}
    print(
        f"\nrouter, security off: {best['off']:,.0f} rec/s (p50 {p50['off']:.1f} ms); "
        f"security on: {best['on']:,.0f} rec/s (p50 {p50['on']:.1f} ms); best of "
        f"{args.rounds} rounds each"
    )
    pairs = sorted(
        on.throughput / off.throughput
        for on, off in zip(results["on"], results["off"], strict=True)
    )
    ratio = pairs[len(pairs) // 2]
    print(
        f"router throughput on/off: {ratio:.2f} ({(1 - ratio) * 100:.0f}% loss with signing + "
        f"encryption; median of the {len(pairs)} rounds' ratios, best rounds "
        f"{best['on']:,.0f} / {best['off']:,.0f} rec/s = {best['on'] / best['off']:.2f})"
    )


if __name__ == "__main__":
    main()
