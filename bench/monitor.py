"""Throughput of the national monitor: derive, aggregate, report, and the faust agent.

Makes synthetic partner records for ``--people`` people (tests/monitor/synthetic.py),
then measures, in this process:

* derive: canonical records -> monitor events (records/s), as the router will call it;
* aggregate: monitor events through :class:`hub.monitor.aggregate.Aggregator` (events/s);
* report: one suppressed bi-monthly report (all tables, 35 regions), seconds;

and, unless ``--no-faust``, through the faust worker on the embedded broker: the worker
(``rmt-hub monitor aggregate``, its own process) is started on an empty monitor topic,
then all events are published and the time until the worker has applied them all is
taken (events/s end to end: produce, consume, decode, aggregate). Usage::

    python bench/monitor.py [--people 5000] [--rounds 3] [--no-faust]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from kafka.admin import NewTopic

from bench._broker import add_broker_option, describe_broker, use_broker
from hub.broker import broker_for
from hub.config import HubSettings, load_settings
from hub.kafka import admin_client, create_topics
from hub.monitor.aggregate import Aggregator
from hub.monitor.pseudonym import MonitorKeyring, MonitorPseudonymiser
from hub.monitor.report import build_report
from hub.monitor.topic import MonitorCodec, publish_events
from hub.registry import RegistryClient
from hub.registry.embedded import EmbeddedRegistry
from schemas.models import MonitorEvent
from tests.monitor.synthetic import RouterStandIn, generate

ROOT = Path(__file__).resolve().parents[1]


def best(work: Callable[[], int], rounds: int) -> float:
    """Items per second of the fastest of ``rounds`` runs."""
    rate = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        count = work()
        rate = max(rate, count / (time.perf_counter() - started))
    return rate


def in_process(people: int, rounds: int) -> list[MonitorEvent]:
    world = generate(people, seed=1)
    keys = MonitorPseudonymiser(MonitorKeyring({1: b"\x42" * 32}))
    events: list[MonitorEvent] = []

    def derive_all() -> int:
        events[:] = list(RouterStandIn(keys).run(world.records))
        return len(world.records)

    def aggregate_all() -> int:
        Aggregator().apply_all(events)
        return len(events)

    derive_rate = best(derive_all, rounds)
    aggregate_rate = best(aggregate_all, rounds)
    aggregator = Aggregator()
    aggregator.apply_all(events)
    started = time.perf_counter()
    build_report(aggregator, "2021-05/06")
    report_s = time.perf_counter() - started
    print(f"people                 {people:>12,}")
    print(f"canonical records      {len(world.records):>12,}")
    print(f"monitor events         {len(events):>12,}")
    print(f"derive                 {derive_rate:>12,.0f} records/s")
    print(f"aggregate (in process) {aggregate_rate:>12,.0f} events/s")
    print(f"report (one period)    {report_s:>12.2f} s")
    return events


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _status(port: int) -> dict[str, int]:
    try:
        data: dict[str, int] = httpx.get(
            f"http://127.0.0.1:{port}/monitor/status", timeout=2
        ).json()
        return data
    except (httpx.HTTPError, ValueError):
        return {}


def through_faust(events: list[MonitorEvent], data_dir: Path) -> None:
    with broker_for(load_settings(data_dir=data_dir)) as base:
        print(describe_broker(base))
        prefix = f"bench{uuid.uuid4().hex[:6]}"
        with EmbeddedRegistry(base, port=0) as registry, RegistryClient(registry.url) as client:
            settings: HubSettings = base.model_copy(
                update={"topic_prefix": prefix, "schema_registry_url": registry.url}
            )
            topic = f"{prefix}.monitor.events"
            admin = admin_client(settings)
            create_topics(admin, [NewTopic(topic, settings.topic_partitions, 1)])
            admin.close()
            port = _free_port()
            env = os.environ | {
                "HUB_BOOTSTRAP_SERVERS": settings.bootstrap_servers or "",
                "HUB_TOPIC_PREFIX": prefix,
                "HUB_SCHEMA_REGISTRY_URL": registry.url,
                "HUB_DATA_DIR": str(data_dir.resolve()),
                # the worker sees an external cluster: it demands a pseudonym key
                "HUB_PSEUDONYM_KEY": os.environ.get("HUB_PSEUDONYM_KEY") or secrets.token_hex(32),
            }
            code = "from hub.cli.monitor import app; app()"
            worker = subprocess.Popen(
                [sys.executable, "-c", code, "aggregate", "--web-port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                deadline = time.monotonic() + 60
                while not _status(port) and time.monotonic() < deadline:
                    time.sleep(0.2)
                time.sleep(2.0)  # let the consumer group settle before timing
                codec = MonitorCodec(client)
                started = time.perf_counter()
                publish_events(settings, topic, events, codec)
                produced = time.perf_counter() - started
                while _status(port).get("events", 0) < len(events):
                    if time.monotonic() > deadline + 600:
                        raise SystemExit("the worker did not apply every event in time")
                    time.sleep(0.05)
                total = time.perf_counter() - started
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)
            print(f"produce (wire format)  {len(events) / produced:>12,.0f} events/s")
            print(
                f"faust agent, end to end{len(events) / total:>12,.0f} events/s "
                f"({len(events):,} events in {total:.1f} s)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-faust", action="store_true")
    add_broker_option(parser)
    args = parser.parse_args()
    use_broker(args.broker)
    events = in_process(args.people, args.rounds)
    if not args.no_faust:
        with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
            through_faust(events, Path(tmp))


if __name__ == "__main__":
    main()
