"""The broker dies and comes back empty (the embedded broker is memory-only).

The hub must notice (the incarnation marker is gone), say so loudly (CRITICAL log naming
the lost incarnation, a counter), recover in the documented order (hub.recovery: topics,
schema store, consent feed from the register, workers) and then take the partners'
replay from their connectors, so that on the new broker every delivery of the first run
exists again exactly once, with its audit entry, and nothing else.

This test runs its own broker (it kills it), its own registry, a real consent service
(SQLite register, outbox relay), a real router worker and the real connectors fed with
demo partner files.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka.admin import NewTopic

from connectors.demo import feed_demo, generate
from consent.outbox import wire_encoder
from consent.runtime import ConsentRuntime
from hub.broker import TansuBroker
from hub.config import HubSettings, load_settings
from hub.continuity import ContinuityGuard, ContinuityReport, ContinuityWatch, Verdict
from hub.kafka import admin_client, create_topics, discard_producer, producer
from hub.metrics import process_metrics
from hub.recovery import (
    RecoveryResult,
    apply_topics,
    rebuild_consent_feed,
    recover,
    republish_schemas,
    restart_broker,
    start_workers,
    stop_workers,
)
from hub.registry import client_for
from hub.registry.embedded import EmbeddedRegistry
from hub.router.runtime import RouterProcess
from hub.sdk.published import header_value, scan_topic
from hub.security.config import ensure_keys
from hub.serde.canonical import CanonicalCodec, typed_decoder
from schemas import load_schemas
from schemas.models import DisclosureEvent
from tests.consent.factories import terms
from tests.plugins.reliability import Scale
from tests.router.helpers.hubtest import Hub
from topics import apply_to_cluster, build_catalogue, load_partners

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

#: what the hub sets itself when it starts Tansu (hub.broker.choice): no producer ids
ON_TANSU = {"idempotent_producer": False}


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[TansuBroker]:
    broker = TansuBroker(port=0, log_path=tmp_path / "broker.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _deliveries(hub: Hub) -> dict[str, Counter[str]]:
    """ce_id counts per inbox (records and notices)."""
    return {
        inbox.name: Counter(r.ce_id for r in hub.read(inbox.name, decode=False))
        for inbox in hub.catalogue.inboxes()
    }


def _audited(hub: Hub) -> Counter[str]:
    return Counter(
        str(r.record.event_id)
        for r in hub.audit()
        if isinstance(r.record, DisclosureEvent)  # the delivery's ce_id
    )


def _settled(hub: Hub, worker: RouterProcess, *, timeout_s: float) -> dict[str, Counter[str]]:
    """Inboxes once deliveries, audit and the worker's counters stop changing (4 polls)."""
    deadline = time.monotonic() + timeout_s
    last: tuple[object, ...] = ()
    stable = 0
    while time.monotonic() < deadline:
        assert worker.running, "the router worker died"
        current = (_deliveries(hub), _audited(hub), (worker.status() or {}).get("stats"))
        if current == last and any(current[0].values()):
            stable += 1
            if stable >= 4:
                return current[0]
        else:
            stable = 0
        last = current
        time.sleep(1.5)
    raise AssertionError(f"the router did not settle within {timeout_s:.0f}s: {last}")


def test_broker_loss_is_detected_loudly_and_recovered_by_replay_from_the_connectors(
    own_broker: TansuBroker,
    tmp_path: Path,
    scale: Scale,
    caplog: pytest.LogCaptureFixture,
) -> None:
    prefix = f"bl{uuid.uuid4().hex[:8]}"
    settings: HubSettings = (
        load_settings(data_dir=tmp_path / "hub", topic_prefix=prefix)
        .with_bootstrap(own_broker.bootstrap_servers)
        .model_copy(update=ON_TANSU)
    )
    partners = load_partners(settings.partners_file)
    ensure_keys(settings, partners)
    catalogue = build_catalogue(settings)
    apply_to_cluster(settings, catalogue)
    guard = ContinuityGuard(settings)
    first = guard.establish()
    assert first.verdict is Verdict.FIRST_RUN
    assert guard.check().verdict is Verdict.INTACT
    stamped = guard.remembered()
    assert stamped is not None

    directory = tmp_path / "demo"
    generate(directory, people=scale.pick(30, 300), seed=7, partners=partners)
    with EmbeddedRegistry(settings, port=0) as registry:
        routed = settings.model_copy(update={"schema_registry_url": registry.url})
        codec = CanonicalCodec(client_for(settings, registry.url))
        codec.register(load_schemas().messages())
        hub = Hub(routed, tmp_path)
        worker = hub.worker("router")
        runtime = ConsentRuntime(
            routed,
            encoder=wire_encoder(codec, catalogue.consent_changes.name),
            disclosure_decoder=typed_decoder(codec, catalogue.disclosures.name, DisclosureEvent),
            publish_timeout_s=30,
        )
        try:
            with runtime:
                worker.wait_ready(timeout_s=90)
                fed = feed_demo(
                    routed, directory, registry_url=registry.url, consent_service=runtime.service
                )
                assert fed.published > 0
                assert fed.consents_granted > 0
                before = _settled(hub, worker, timeout_s=scale.pick(120, 600))
                assert sum(sum(c.values()) for c in before.values()) > 0
                audited_before = _audited(hub)

                # --- the broker dies and comes back empty on the same address -------------
                losses_before = process_metrics().value("rmt_broker_data_loss_total")
                recoveries: list[RecoveryResult] = []

                def on_loss(report: ContinuityReport) -> None:
                    recoveries.append(
                        recover(
                            guard,
                            report,
                            [
                                stop_workers([worker]),
                                apply_topics(routed, catalogue),
                                republish_schemas(registry.store),
                                rebuild_consent_feed(runtime.relay),
                                start_workers([worker]),
                            ],
                        )
                    )

                watch = ContinuityWatch(guard, on_loss, interval_s=0.5)
                assert own_broker.pid is not None
                os.kill(own_broker.pid, signal.SIGKILL)
                with caplog.at_level(logging.WARNING):
                    deadline = time.monotonic() + 60
                    while not recoveries and time.monotonic() < deadline:
                        restart_broker(own_broker).run()  # what `rmt-hub up` does
                        watch.check_now()
                        time.sleep(0.5)
                assert recoveries, "the loss was never detected"
                (result,) = recoveries
                critical = [r for r in caplog.records if r.levelno >= logging.CRITICAL]
                loud = [r.getMessage() for r in critical if "BROKER DATA LOSS" in r.getMessage()]
                assert loud, [r.getMessage() for r in critical]
                assert stamped.id in loud[0]
                assert "replay" in loud[0]
                assert process_metrics().value("rmt_broker_data_loss_total") == losses_before + 1
                assert result.report.remembered == stamped
                assert result.incarnation is not None
                assert result.incarnation.id != stamped.id
                assert guard.check().verdict is Verdict.INTACT
                assert [name for name, _, _ in result.done] == [
                    "stop workers",
                    "topics",
                    "schema store",
                    "consent feed",
                    "start workers",
                ]
                # The consent feed is whole again (rebuilt from the register; the relay's
                # own periodic check may have started it before the recovery step did).
                feed = hub.read(catalogue.consent_changes.name, decode=False)
                assert len({r.headers["ce_id"] for r in feed}) == fed.consents_granted
                # Nothing from before survived: the inboxes and the audit trail are empty.
                assert all(not c for c in _deliveries(hub).values())
                assert not _audited(hub)

                # --- the partners replay from their connectors ---------------------------
                replayed = feed_demo(
                    routed, directory, registry_url=registry.url, consent_service=runtime.service
                )
                assert replayed.consents_granted == 0  # the register survived
                assert replayed.published == fed.published
                after = _settled(hub, worker, timeout_s=scale.pick(120, 600))
                audited_after = _audited(hub)
        finally:
            hub.close()

    assert after == before
    assert all(n == 1 for c in after.values() for n in c.values())
    assert audited_after == audited_before
    assert all(n == 1 for n in audited_after.values())


def test_regression_consent_relay_sends_again_after_the_broker_restarted(
    own_broker: TansuBroker, tmp_path: Path
) -> None:
    """The relay's idempotent producer lived through a broker restart and never sent
    again (UnknownProducerId, then a fatal InitProducerId error): every later consent
    change stayed unpublished, acknowledged to no one. Without any recovery step the
    relay must heal by itself: a fresh producer after a failed send, and its periodic
    feed check republishes what the restart lost."""
    settings = (
        load_settings(data_dir=tmp_path / "hub", topic_prefix=f"rl{uuid.uuid4().hex[:8]}")
        .with_bootstrap(own_broker.bootstrap_servers)
        .model_copy(update=ON_TANSU)
    )
    catalogue = build_catalogue(settings)

    def apply() -> None:
        apply_to_cluster(settings, catalogue, recreate_drifted=True)

    apply()
    with ConsentRuntime(settings, publish_timeout_s=60) as runtime:
        before = runtime.service.grant(terms("client-before"), actor="officer-1")
        assert own_broker.pid is not None
        os.kill(own_broker.pid, signal.SIGKILL)
        while own_broker.running:
            time.sleep(0.05)
        restart_broker(own_broker).run()
        apply()
        # Returns only once the change is on the feed (or raises after the timeout).
        after = runtime.service.grant(terms("client-after"), actor="officer-1")
        wanted = {runtime.service.history(r.id)[-1].event_id for r in (before, after)}
        deadline = time.monotonic() + 60
        found: list[str] = []

        def collect(record: object) -> None:
            found.append(header_value(getattr(record, "headers", None), "ce_id") or "")

        while time.monotonic() < deadline:
            found.clear()
            scan_topic(settings, catalogue.consent_changes.name, collect)
            if set(found) >= wanted:
                break
            time.sleep(0.5)
        assert sorted(found) == sorted(wanted)  # both, each once: the lost one republished


def test_regression_a_producer_stuck_after_a_broker_loss_is_closed_without_raising(
    own_broker: TansuBroker,
) -> None:
    """kafka-python's close() flushes first and, when the flush times out, leaves the
    producer open; the garbage collector's close() then raised from ``__del__`` (an
    unraisable error that failed whatever test was running). discard_producer aborts the
    pending sends and closes it."""
    settings = (
        load_settings()
        .with_bootstrap(own_broker.bootstrap_servers)
        .model_copy(update=ON_TANSU)
        .model_copy(update=ON_TANSU)
    )
    admin = admin_client(settings)
    try:
        create_topics(admin, [NewTopic("stuck", 1, 1)])
    finally:
        admin.close()
    writer = producer(settings, linger_ms=0, max_block_ms=2000)
    writer.send("stuck", value=b"first").get(timeout=15)  # metadata known from here on
    assert own_broker.pid is not None
    os.kill(own_broker.pid, signal.SIGKILL)
    while own_broker.running:
        time.sleep(0.05)
    future = writer.send("stuck", value=b"second")  # queued, never acknowledged
    discard_producer(writer, timeout_s=0.5)
    assert future.is_done
    assert future.failed()
    del writer
    gc.collect()  # an exception from __del__ would fail the test here
