"""Broker continuity (hub.continuity) and the recovery runner (hub.recovery) on the session
broker: verdicts, the loud message, a watch that reports once and retries a failed
recovery, an unreachable broker that is not a loss, and the schema store put right."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kafka.admin import NewTopic

from hub.config import HubSettings
from hub.continuity import (
    ContinuityGuard,
    ContinuityReport,
    ContinuityWatch,
    Incarnation,
    Verdict,
    incarnation_topic,
)
from hub.errors import BrokerError
from hub.kafka import admin_client, create_topics, producer
from hub.recovery import RecoveryFailed, RecoveryStep, recover
from hub.registry.store import KafkaSchemaStore, SchemaText, StoredVersion

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(hub_settings: HubSettings, tmp_path: Path) -> HubSettings:
    return hub_settings.model_copy(
        update={"topic_prefix": f"ct{uuid.uuid4().hex[:8]}", "data_dir": tmp_path}
    )


def _delete(settings: HubSettings, topic: str) -> None:
    admin = admin_client(settings)
    try:
        admin.delete_topics([topic])
    finally:
        admin.close()


def test_first_run_stamps_then_intact_then_a_lost_marker_is_reported_loudly(
    settings: HubSettings, caplog: pytest.LogCaptureFixture
) -> None:
    guard = ContinuityGuard(settings)
    first = guard.establish()
    assert first.verdict is Verdict.FIRST_RUN
    stamped = guard.remembered()
    assert stamped is not None
    assert guard.read_marker() == stamped
    assert guard.establish().verdict is Verdict.INTACT

    _delete(settings, incarnation_topic(settings))
    with caplog.at_level(logging.CRITICAL, logger="hub.continuity"):
        lost = guard.establish()
    assert lost.verdict is Verdict.LOST
    assert lost.found is None
    (record,) = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    message = record.getMessage()
    assert message.startswith("BROKER DATA LOSS")
    assert stamped.id in message
    assert "replay" in message
    # establish() does not stamp over a loss: the recovery does, once it is done.
    assert guard.remembered() == stamped
    assert guard.check().verdict is Verdict.LOST
    renewed = guard.stamp()
    assert renewed.id != stamped.id
    assert guard.check().verdict is Verdict.INTACT


def test_a_marker_of_another_incarnation_is_a_loss(settings: HubSettings) -> None:
    guard = ContinuityGuard(settings)
    guard.establish()
    mine = guard.remembered()
    # Someone else's stamp on a recreated topic (another hub, or a cluster rebuilt).
    _delete(settings, incarnation_topic(settings))
    other = ContinuityGuard(settings, memory_file=settings.data_dir / "other.json")
    theirs = other.stamp()
    report = guard.check()
    assert report.verdict is Verdict.LOST
    assert report.remembered == mine
    assert report.found == theirs
    assert theirs.id in report.message()


def test_a_foreign_record_on_the_marker_topic_is_named(settings: HubSettings) -> None:
    guard = ContinuityGuard(settings)
    guard._ensure_topic()
    writer = producer(settings, linger_ms=0)
    try:
        writer.send(guard.topic, value=b'{"hello": 1}', partition=0).get(timeout=15)
    finally:
        writer.close()
    with pytest.raises(BrokerError, match="unreadable incarnation marker"):
        guard.check()


def test_an_unreachable_broker_is_not_a_loss(settings: HubSettings) -> None:
    guard = ContinuityGuard(settings)
    guard.establish()
    gone = settings.model_copy(
        update={"bootstrap_servers": "127.0.0.1:1", "request_timeout_ms": 1000}
    )
    losses: list[ContinuityReport] = []
    watch = ContinuityWatch(ContinuityGuard(gone, memory_file=guard.memory_file), losses.append)
    assert watch.check_now() is None
    assert watch.unreachable
    assert not losses


def test_the_watch_reports_a_loss_once_and_retries_a_failed_recovery(
    settings: HubSettings,
) -> None:
    guard = ContinuityGuard(settings)
    guard.establish()
    attempts: list[ContinuityReport] = []

    def failing_then_working(report: ContinuityReport) -> None:
        attempts.append(report)
        steps = [RecoveryStep("boom", lambda: 1 / 0)] if len(attempts) == 1 else []
        recover(guard, report, [*steps, RecoveryStep("fine", lambda: "ok")])

    watch = ContinuityWatch(guard, failing_then_working)
    _delete(settings, incarnation_topic(settings))
    with pytest.raises(RecoveryFailed, match="recovery failed at 'boom'"):
        watch.check_now()
    assert guard.check().verdict is Verdict.LOST  # nothing stamped by the failed recovery
    report = watch.check_now()  # reported again, recovered this time
    assert report is not None
    assert len(attempts) == 2
    assert guard.check().verdict is Verdict.INTACT
    watch.check_now()
    assert len(attempts) == 2  # intact: nothing more to report
    assert watch.losses == 2


def test_incarnation_json_round_trip_and_refusals() -> None:
    marker = Incarnation.new("127.0.0.1:9092")
    assert Incarnation.from_json(marker.to_json()) == marker
    for bad in (b"not json", b"[]", b'{"type": "x"}', b'{"type": "rmt-hub.broker-incarnation"}'):
        with pytest.raises(BrokerError, match="unreadable incarnation marker"):
            Incarnation.from_json(bad)


def test_regression_schema_store_topic_auto_created_with_four_partitions_after_loss(
    hub_settings: HubSettings,
) -> None:
    """After the embedded broker lost its data, a client's metadata request auto-created
    the schema store topic with 4 partitions before the recovery could create it, and the
    registry could never write its schemas back. republish() puts the topic right."""
    topic = f"_schemas-ct-{uuid.uuid4().hex[:8]}"
    settings = hub_settings.model_copy(update={"schema_registry_topic": topic})
    schema = '{"type": "record", "name": "R", "fields": []}'
    with KafkaSchemaStore(settings) as store:
        store.write_schema(StoredVersion("s", 1, 7, SchemaText(schema, ()), False))
        store.write_high_water(9)
        _delete(settings, topic)
        admin = admin_client(settings)
        try:
            create_topics(admin, [NewTopic(topic, 4, 1)])  # what an auto-create leaves
        finally:
            admin.close()
        written = store.republish()
        assert written == 2  # one version, the high water (no settings)
    with KafkaSchemaStore(settings) as reread, reread.reading():
        state = reread.state
        assert state.subjects["s"][1].schema_id == 7
        assert state.max_id == 9
    admin = admin_client(settings)
    try:
        (described,) = admin.describe_topics([topic])
        assert len(described["partitions"]) == 1
        admin.delete_topics([topic])
    finally:
        admin.close()


def test_cli_check_exits_3_on_a_loss_until_stamped(settings: HubSettings) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | {
        "HUB_BOOTSTRAP_SERVERS": str(settings.bootstrap_servers),
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_TOPIC_PREFIX": settings.topic_prefix,
        "COLUMNS": "200",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub", "continuity", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    first = cli("check")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "first run" in first.stdout
    assert "intact" in cli("check").stdout
    _delete(settings, incarnation_topic(settings))
    lost = cli("check")
    assert lost.returncode == 3, lost.stdout + lost.stderr
    assert "BROKER DATA LOSS" in lost.stdout
    assert cli("check").returncode == 3  # still lost: nothing stamped by a check
    stamped = cli("stamp")
    assert stamped.returncode == 0
    assert "stamped incarnation" in stamped.stdout
    assert cli("check").returncode == 0
