"""``rmt-hub monitor report --publish`` over the session's real broker: the suppressed
report lands on the reports topic, the only topic the monitor's analysts read
(docs/decisions/0016-monitor-access-by-need.md)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from kafka import TopicPartition
from kafka.admin import NewTopic
from typer.testing import CliRunner

from hub.cli.monitor import app as monitor_cli
from hub.config import HubSettings
from hub.kafka import admin_client, consumer, create_topics
from hub.monitor.pseudonym import MonitorKeyring, MonitorPseudonymiser
from hub.monitor.topic import MonitorCodec, publish_events
from tests.monitor.synthetic import RouterStandIn, generate
from topics.catalogue import build_catalogue

pytestmark = pytest.mark.integration

PERIOD = "2021-03/04"


def _read_all(settings: HubSettings, topic: str) -> list[tuple[bytes, bytes]]:
    reader = consumer(settings, enable_auto_commit=False, group_id=None)
    try:
        tp = TopicPartition(topic, 0)
        reader.assign([tp])
        reader.seek_to_beginning(tp)
        (end,) = reader.end_offsets([tp]).values()
        out: list[tuple[bytes, bytes]] = []
        while reader.position(tp) < end:
            for records in reader.poll(timeout_ms=500).values():
                out += [(r.key, r.value) for r in records]
        return out
    finally:
        reader.close()


def test_a_published_report_is_on_the_reports_topic_suppressed(
    monitor_env: Callable[[], HubSettings], monitor_codec: MonitorCodec
) -> None:
    settings = monitor_env()
    catalogue = build_catalogue(settings)
    reports = catalogue.monitor_reports
    admin = admin_client(settings)
    try:
        create_topics(admin, [NewTopic(reports.name, reports.partitions, 1)])
    finally:
        admin.close()
    keys = MonitorPseudonymiser(MonitorKeyring({1: b"\x07" * 32}))
    events = RouterStandIn(keys).run(generate(300, seed=5).records)
    publish_events(settings, catalogue.monitor_events.name, events, monitor_codec)
    env = {
        "HUB_BOOTSTRAP_SERVERS": settings.bootstrap_servers or "",
        "HUB_TOPIC_PREFIX": settings.topic_prefix,
        "HUB_SCHEMA_REGISTRY_URL": settings.schema_registry_url or "",
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_MONITOR_KEY": "",
    }
    result = CliRunner().invoke(
        monitor_cli,
        ["report", "--period", PERIOD, "--format", "json", "--publish"],
        env=env,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    ((key, value),) = _read_all(settings, reports.name)
    assert key == PERIOD.encode()
    document = json.loads(value)
    assert document["period"] == PERIOD
    cells = [
        cell
        for table in document["tables"]
        for row in table["rows"]
        for cell in row["cells"].values()
    ]
    assert any(cell.get("suppressed") for cell in cells)  # 300 people: small cells
    assert "monitor_pseudonym" not in value.decode()
