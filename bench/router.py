"""Publish-to-inbox throughput and latency of the router, against a plain passthrough.

One run, on the embedded broker (or ``HUB_BOOTSTRAP_SERVERS``), measures two pipelines
the same way:

* **router**: UWV publishes client profiles (wire format, CloudEvents headers) to its
  outbox; one router worker (a subprocess, as in production) validates them, joins them
  with the subject's consents, projects them (health withheld) and writes them to the
  consented municipality's inbox, plus the routing state and the audit record;
* **passthrough**: the same records through a plain aiokafka consume-and-produce loop
  (subprocess, consumer group, acks=all, commit after the writes are acknowledged) that
  copies each record to an output topic unchanged: the floor of any Kafka pipeline here.

For each: **throughput** (records published as fast as possible; records/s from the first
send to the last arrival) and **latency** (records published at a steady rate; time from
send to arrival, p50 and p99). The last line is the ratio router/passthrough. Record
security is off (it is on by default in the hub): ``bench/crypto.py`` measures its cost
on the same router. Usage::

    python bench/router.py [--records 10000] [--latency-records 600] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

from bench._broker import add_broker_option, describe_broker, router_options, use_broker
from consent.model import ConsentChangeMessage, Recipient
from consent.outbox import partition_for, wire_encoder
from hub.broker import broker_for
from hub.config import HubSettings, load_settings
from hub.ids import ClientPseudonym, ConsentId, EventId, PartnerId
from hub.kafka import admin_client, consumer, create_topics, producer
from hub.kafka.config import aiokafka_config
from hub.registry import client_for
from hub.registry.embedded import EmbeddedRegistry
from hub.router.runtime import RouterProcess
from hub.security.config import partner_key_store
from hub.security.consent_feed import CONSENT_SERVICE_ID, ConsentFeedSigner
from hub.security.errors import KeyNotFound
from hub.serde import ce_headers
from hub.serde.canonical import CanonicalCodec, cloud_event_headers
from hub.supervise import settings_env
from schemas.examples import example
from schemas.models import ClientProfile, ConsentChange
from schemas.models.enums import ConsentChangeType, HealthNeed, LegalBasis
from schemas.vocabulary import DataCategory, Purpose
from topics import apply_catalogue, build_catalogue

RECIPIENT = "gemeente-amsterdam"


@dataclass(frozen=True)
class Figures:
    throughput: float
    p50_ms: float
    p99_ms: float


# --- measuring ------------------------------------------------------------------------------------


class Arrivals:
    """Reads a topic from its end in a thread; arrival time per id (from a header)."""

    def __init__(self, settings: HubSettings, topic: str, id_header: str) -> None:
        self._reader: KafkaConsumer = consumer(settings, group_id=None, fetch_max_wait_ms=10)
        parts = self._reader.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        self._reader.assign(tps)
        self._reader.seek_to_end(*tps)
        for tp in tps:
            self._reader.position(tp)
        self._header = id_header
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for batch in self._reader.poll(timeout_ms=50, max_records=5000).values():
                now = time.perf_counter()
                for record in batch:
                    for name, value in record.headers or ():
                        if name == self._header:
                            self.seen.setdefault(value.decode(), now)

    def wait(self, ids: set[str], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not ids <= self.seen.keys():
            if time.monotonic() > deadline:
                missing = len(ids - self.seen.keys())
                raise SystemExit(f"{missing} of {len(ids)} records did not arrive")
            time.sleep(0.02)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._reader.close()


def measure(
    settings: HubSettings,
    *,
    source: str,
    sink: str,
    id_header: str,
    batch: Callable[[int], list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]]],
    records: int,
    latency_records: int,
    rate: float,
) -> Figures:
    """Throughput (burst) and latency (paced) from ``source`` to ``sink``."""
    out = producer(settings, linger_ms=5, batch_size=256 * 1024)
    arrivals = Arrivals(settings, sink, id_header)
    try:
        burst = batch(records)
        started = time.perf_counter()
        for _, key, value, headers in burst:
            out.send(source, key=key, value=value, headers=headers)
        out.flush()
        ids = {event_id for event_id, *_ in burst}
        arrivals.wait(ids, timeout_s=600)
        throughput = len(ids) / (max(arrivals.seen[i] for i in ids) - started)

        paced = batch(latency_records)
        sent: dict[str, float] = {}
        interval = 1.0 / rate
        next_at = time.perf_counter()
        for event_id, key, value, headers in paced:
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
            sent[event_id] = time.perf_counter()
            out.send(source, key=key, value=value, headers=headers)
            out.flush()
        arrivals.wait(set(sent), timeout_s=120)
        latencies = sorted((arrivals.seen[i] - t) * 1000 for i, t in sent.items())
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        return Figures(throughput, statistics.median(latencies), p99)
    finally:
        arrivals.close()
        out.close()


# --- the records ----------------------------------------------------------------------------------


BASE_CATEGORIES = (
    DataCategory.IDENTITY,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
)


def grant_consents(
    settings: HubSettings,
    codec: CanonicalCodec,
    subjects: list[str],
    *,
    categories: tuple[DataCategory, ...] = BASE_CATEGORIES,
    legal_basis: LegalBasis = LegalBasis.CONSENT,
) -> None:
    """One consent per subject for the municipality, published as the consent service does
    (one record per request, explicit partition; signed by the consent service when its
    key is in the store, as the router requires with record security on)."""
    topic = build_catalogue(settings).consent_changes.name
    encode = wire_encoder(codec, topic)
    out = producer(settings, enable_idempotence=True, linger_ms=0)
    now = datetime.now(UTC)
    try:
        signer: ConsentFeedSigner | None = ConsentFeedSigner(
            partner_key_store(settings).private(CONSENT_SERVICE_ID)
        )
    except KeyNotFound:
        signer = None
    try:
        for who in subjects:
            message = ConsentChangeMessage(
                event_id=EventId(str(uuid.uuid4())),
                occurred_at=now,
                source_partner="hub",
                consent_id=ConsentId(f"cns-{uuid.uuid4().hex[:12]}"),
                subject_pseudonym=ClientPseudonym(who),
                change=ConsentChangeType.GIVEN,
                controller=PartnerId("uwv"),
                recipients=(Recipient(partner_id=PartnerId(RECIPIENT)),),
                purposes=(Purpose.ARRANGEMENT,),
                data_categories=categories,
                legal_basis=legal_basis,
                valid_from=now - timedelta(minutes=1),
                valid_until=now + timedelta(days=30),
                actor="bench",
                recorded_at=now,
                record_hash="0" * 64,
            )
            key = who.encode()
            value = encode(message)
            if signer is None:
                headers = cloud_event_headers(ConsentChange.model_validate(message.model_dump()))
            else:
                headers = signer.sign(
                    topic=topic,
                    key=key,
                    value=value,
                    headers=ce_headers(
                        event_id=message.event_id,
                        source=CONSENT_SERVICE_ID,
                        record_type=ConsentChange.avro_name,
                        time=message.occurred_at,
                    ),
                    previous=None,  # each subject's first and only change
                )
            out.send(
                topic,
                key=key,
                value=value,
                headers=headers,
                partition=partition_for(key, settings.topic_partitions),
            ).get(timeout=15)
    finally:
        out.close()


def profiles(
    codec: CanonicalCodec, topic: str, subjects: list[str]
) -> Callable[[int], list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]]]:
    base = example("ClientProfile")
    assert isinstance(base, ClientProfile)
    counter = iter(range(10**9))

    def make(n: int) -> list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]]:
        made = []
        for _ in range(n):
            who = subjects[next(counter) % len(subjects)]
            record = base.model_copy(
                update={
                    "event_id": EventId(str(uuid.uuid4())),
                    "client_pseudonym": ClientPseudonym(who),
                    "work_limitation": True,
                    "health_needs": [HealthNeed.WORKPLACE_ADAPTATION],
                }
            )
            made.append(
                (
                    record.event_id,
                    who.encode(),
                    codec.encode(record, topic),
                    cloud_event_headers(record),
                )
            )
        return made

    return make


# --- the passthrough ------------------------------------------------------------------------------


async def passthrough(settings: HubSettings, source: str, sink: str) -> None:
    """Consume, produce the same record to ``sink`` (same partition), commit; forever."""
    base = aiokafka_config(settings, f"{settings.client_id}-router-passthrough")
    reader = AIOKafkaConsumer(
        source,
        **base,
        group_id=f"{source}-passthrough",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=3000,
        heartbeat_interval_ms=500,
        fetch_max_wait_ms=10,
    )
    writer = AIOKafkaProducer(**base, acks="all", linger_ms=1, max_batch_size=256 * 1024)
    await reader.start()
    await writer.start()
    try:
        while True:
            batches = await reader.getmany(timeout_ms=100, max_records=500)
            futures = []
            for tp, records in batches.items():
                for r in records:
                    futures.append(
                        await writer.send(
                            sink,
                            r.value,
                            key=r.key,
                            partition=tp.partition,
                            headers=list(r.headers),
                        )
                    )
            if futures:
                await asyncio.gather(*futures)
                await reader.commit()
    finally:
        await reader.stop()
        await writer.stop()


# --- main -----------------------------------------------------------------------------------------


def _report(name: str, figures: Figures) -> None:
    print(
        f"{name:<12} {figures.throughput:>10,.0f} rec/s   p50 {figures.p50_ms:>7.1f} ms"
        f"   p99 {figures.p99_ms:>7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="burst size (throughput)")
    parser.add_argument("--latency-records", type=int, default=600, help="paced records")
    parser.add_argument("--rate", type=float, default=200.0, help="paced records per second")
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument(
        "--passthrough", nargs=2, metavar=("SOURCE", "SINK"), help=argparse.SUPPRESS
    )
    add_broker_option(parser)
    args = parser.parse_args()
    use_broker(args.broker)
    if args.passthrough:
        asyncio.run(passthrough(load_settings(), *args.passthrough))
        return

    with (
        tempfile.TemporaryDirectory() as data_dir,
        # record security off: this measures routing; bench/crypto.py measures its cost
        broker_for(load_settings(data_dir=Path(data_dir), security_enabled=False)) as running,
    ):
        prefix = f"bench{uuid.uuid4().hex[:6]}"
        base = running.model_copy(
            update={"topic_prefix": prefix, "schema_registry_topic": f"_schemas-{prefix}"}
        )
        with EmbeddedRegistry(base, port=0) as registry:
            settings = base.model_copy(update={"schema_registry_url": registry.url})
            run(settings, args, Path(data_dir))


def run(settings: HubSettings, args: Any, data_dir: Path) -> None:
    catalogue = build_catalogue(settings)
    admin = admin_client(settings)
    source, sink = (
        f"{settings.topic_prefix}.passthrough.in",
        f"{settings.topic_prefix}.passthrough.out",
    )
    try:
        apply_catalogue(admin, catalogue)
        create_topics(
            admin,
            [
                NewTopic(t, settings.topic_partitions, settings.replication_factor)
                for t in (source, sink)
            ],
        )
    finally:
        admin.close()
    codec = CanonicalCodec(client_for(settings))
    subjects = [f"psn-bench-{i:05d}" for i in range(args.subjects)]
    grant_consents(settings, codec, subjects)
    outbox = catalogue.outbox("uwv").name
    print(
        f"router bench: {args.records} records burst, {args.latency_records} paced at "
        f"{args.rate:.0f}/s, {args.subjects} subjects, {settings.topic_partitions} partitions, "
        f"broker {settings.bootstrap_servers}"
    )
    print(describe_broker(settings))

    options = router_options(settings, status_file=data_dir / "router.status.json")
    worker = RouterProcess(settings, options, log_file=data_dir / "router.log").start()
    try:
        worker.wait_ready(120, partitions=settings.topic_partitions)
        measure(
            settings,
            source=outbox,
            sink=catalogue.inbox(RECIPIENT).name,
            id_header="rmt-source-event-id",
            batch=profiles(codec, outbox, subjects),
            records=50,
            latency_records=5,
            rate=50,
        )  # warm up
        router = measure(
            settings,
            source=outbox,
            sink=catalogue.inbox(RECIPIENT).name,
            id_header="rmt-source-event-id",
            batch=profiles(codec, outbox, subjects),
            records=args.records,
            latency_records=args.latency_records,
            rate=args.rate,
        )
    finally:
        worker.stop()

    env = os.environ | settings_env(settings)
    copier = subprocess.Popen(
        [sys.executable, __file__, "--passthrough", source, sink],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        measure(
            settings,
            source=source,
            sink=sink,
            id_header="ce_id",
            batch=profiles(codec, source, subjects),
            records=50,
            latency_records=5,
            rate=50,
        )
        plain = measure(
            settings,
            source=source,
            sink=sink,
            id_header="ce_id",
            batch=profiles(codec, source, subjects),
            records=args.records,
            latency_records=args.latency_records,
            rate=args.rate,
        )
    finally:
        copier.terminate()
        copier.wait(10)

    _report("router", router)
    _report("passthrough", plain)
    print(
        f"router/passthrough: throughput {router.throughput / plain.throughput:.3f}, "
        f"p50 latency {router.p50_ms / plain.p50_ms:.2f}, p99 latency "
        f"{router.p99_ms / plain.p99_ms:.2f}"
    )


if __name__ == "__main__":
    main()
