"""The aggregating faust worker (`rmt-hub monitor aggregate`) on the session's real broker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import TopicPartition
from kafka.admin import NewTopic

from hub.config import HubSettings
from hub.kafka import admin_client, consumer, create_topics
from hub.monitor.aggregate import Aggregator, Cell
from hub.monitor.pseudonym import MonitorKeyring, MonitorPseudonymiser
from hub.monitor.report import build_report, render_json
from hub.monitor.stream import TABLE
from hub.monitor.topic import MonitorCodec, publish_events
from tests.helpers.waiting import wait_until
from tests.monitor.synthetic import RouterStandIn, generate
from topics.catalogue import build_catalogue

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _worker(
    settings: HubSettings, port: int, log: Path, *args: str
) -> Iterator[subprocess.Popen[bytes]]:
    env = os.environ | {
        "HUB_BOOTSTRAP_SERVERS": settings.bootstrap_servers or "",
        "HUB_TOPIC_PREFIX": settings.topic_prefix,
        "HUB_SCHEMA_REGISTRY_URL": settings.schema_registry_url or "",
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_PSEUDONYM_KEY": "monitor-stream-test-pseudonym-key",  # an external cluster's demand
    }
    code = "from hub.cli.monitor import app; app()"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                code,
                "aggregate",
                "--web-port",
                str(port),
                "--loglevel",
                "INFO",
                *args,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for(
    port: int, ready: Callable[[dict[str, Any]], bool], process: subprocess.Popen[bytes], log: Path
) -> dict[str, Any]:
    status: dict[str, Any] = {}

    def answered() -> dict[str, Any] | None:
        nonlocal status
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            status = httpx.get(f"http://127.0.0.1:{port}/monitor/status", timeout=2).json()
        except httpx.HTTPError:
            return None
        return status if ready(status) else None

    return wait_until(
        answered,
        timeout_s=90,
        what=lambda: f"worker ready: {status}\n{log.read_text(errors='replace')[-3000:]}",
        interval_s=0.3,
    )


def _table_view(settings: HubSettings, topic: str) -> dict[str, dict[str, Any]]:
    """The latest value per key of the worker's table, read from its changelog."""
    reader = consumer(settings, group_id=None, consumer_timeout_ms=2000)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or ())]
        reader.assign(tps)
        reader.seek_to_beginning(*tps)
        view: dict[str, dict[str, Any]] = {}
        for record in reader:
            view[json.loads(record.key)] = json.loads(record.value)
        return view
    finally:
        reader.close()


def test_the_worker_rebuilds_follows_serves_and_keeps_its_table(
    monitor_env: Callable[[], HubSettings], monitor_codec: MonitorCodec, tmp_path: Path
) -> None:
    settings = monitor_env()
    topic = f"{settings.topic_prefix}.monitor.events"
    keys = MonitorPseudonymiser(MonitorKeyring({1: b"\x11" * 32}))
    events = list(RouterStandIn(keys).run(generate(400, seed=5).records))
    first, later = events[:-200], events[-200:]
    publish_events(settings, topic, first, monitor_codec)
    port, log = _free_port(), tmp_path / "worker.log"
    with _worker(settings, port, log) as process:
        # rebuilt from the topic, then the agent reads it all again: duplicates, dropped
        status = _wait_for(port, lambda s: s["duplicates"] >= len(first), process, log)
        assert status["events"] == len(first)
        publish_events(settings, topic, later, monitor_codec)
        status = _wait_for(port, lambda s: s["events"] >= len(events), process, log)
        assert status["events"] == len(events)
        assert status["unreadable"] == 0
        expected = Aggregator()
        expected.apply_all(events)
        served = httpx.get(
            f"http://127.0.0.1:{port}/monitor/report", params={"period": "2021-03/04"}, timeout=30
        )
        assert served.status_code == 200
        assert served.text == render_json(build_report(expected, "2021-03/04"))
        html = httpx.get(
            f"http://127.0.0.1:{port}/monitor/report",
            params={"period": "2021-03/04", "format": "html", "region": "RIJNMOND"},
            timeout=30,
        )
        assert "<svg" in html.text
        bad = httpx.get(f"http://127.0.0.1:{port}/monitor/report", params={"period": "x"})
        assert bad.status_code == 400
        # the table converges to the aggregate (a timer writes what differs)
        changelog = f"{settings.topic_prefix}-monitor-{TABLE}-changelog"
        deadline = time.monotonic() + 30
        want = {f"{r.value}|{p}": c.to_dict() for (r, p), c in expected.cells().items()}
        view: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline:
            view = _table_view(settings, changelog)
            if view == want:
                break
            time.sleep(1)
        assert view == want
        assert Cell.from_dict(view["RIJNMOND|2021-03/04"]) == expected.cell(
            *next(k for k in expected.cells() if k[0].value == "RIJNMOND" and k[1] == "2021-03/04")
        )


def test_regression_the_worker_never_published_a_report_itself(
    monitor_env: Callable[[], HubSettings], monitor_codec: MonitorCodec, tmp_path: Path
) -> None:
    """Issue 20: the analysts read only the reports topic, but only a person running
    ``rmt-hub monitor report --publish`` put anything there. The worker now publishes each
    period's report (suppressed) when it changed, and again after more events."""
    settings = monitor_env()
    catalogue = build_catalogue(settings)
    reports = catalogue.monitor_reports.name
    admin = admin_client(settings)
    try:
        create_topics(admin, [NewTopic(reports, 1, 1)])
    finally:
        admin.close()
    keys = MonitorPseudonymiser(MonitorKeyring({1: b"\x12" * 32}))
    events = list(RouterStandIn(keys).run(generate(300, seed=8).records))
    first, later = events[:-100], events[-100:]
    publish_events(settings, catalogue.monitor_events.name, first, monitor_codec)

    def published() -> dict[str, str]:
        reader = consumer(settings, group_id=None, consumer_timeout_ms=1500)
        try:
            reader.assign([TopicPartition(reports, 0)])
            reader.seek_to_beginning()
            return {r.key.decode(): r.value.decode() for r in reader}
        finally:
            reader.close()

    def expected(applied: list[Any]) -> dict[str, str]:
        aggregator = Aggregator()
        aggregator.apply_all(applied)
        return {p: render_json(build_report(aggregator, p)) for p in aggregator.periods()}

    port, log = _free_port(), tmp_path / "worker.log"
    with _worker(settings, port, log, "--publish-every", "0.5"):
        want = expected(first)
        assert len(want) > 1  # several periods, each its own key
        wait_until(
            lambda: published() == want or None,
            timeout_s=60,
            what=lambda: f"the reports of {sorted(want)} on {reports}",
        )
        publish_events(settings, catalogue.monitor_events.name, later, monitor_codec)
        want = expected(events)
        wait_until(
            lambda: published() == want or None,
            timeout_s=60,
            what=lambda: f"the reports after {len(events)} events on {reports}",
        )
    assert "monitor_pseudonym" not in "".join(want.values())
