"""hub.metrics and hub.observability over real HTTP (no broker): the exposition, the
standard names, /healthz, /readyz with passing and failing checks."""

from __future__ import annotations

import socket

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from hub.config import HubSettings
from hub.errors import BrokerUnavailable
from hub.http import HttpServer
from hub.metrics import HubMetrics, process_metrics
from hub.observability import broker_check, observability_router, run_checks

STANDARD = {
    "rmt_records_in": "counter",
    "rmt_records_out": "counter",
    "rmt_records_dead_lettered": "counter",
    "rmt_consent_decisions": "counter",
    "rmt_delivery_latency_seconds": "histogram",
    "rmt_consumer_lag": "gauge",
    "rmt_consents_expiring": "gauge",
}


def _families(text: str) -> dict[str, str]:
    return {f.name: f.type for f in text_string_to_metric_families(text)}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_the_standard_metrics_and_their_types() -> None:
    metrics = HubMetrics()
    metrics.record_in("rmt.partner.uwv.outbox", "uwv", 3)
    metrics.record_out("rmt.partner.sbb.inbox", "sbb")
    metrics.dead_letter("rmt.partner.uwv.outbox", "uwv", "schema")
    metrics.consent_decision("allowed")
    metrics.consent_decision("denied", 2)
    metrics.observe_latency(0.042)
    metrics.set_lag("rmt.partner.uwv.outbox", 3, "rmt-router", 17)
    metrics.set_consents_expiring(4)
    families = _families(metrics.exposition().decode())
    for name, kind in STANDARD.items():
        assert families.get(name) == kind, name
    assert "process_cpu_seconds" in families
    assert metrics.value("rmt_records_in_total", topic="rmt.partner.uwv.outbox", partner="uwv") == 3
    assert metrics.value("rmt_consent_decisions_total", outcome="denied") == 2
    assert metrics.value("rmt_delivery_latency_seconds_count") == 1
    assert metrics.value("rmt_consents_expiring") == 4
    assert metrics.value("rmt_delivery_latency_seconds_bucket", le="0.05") == 1
    assert (
        metrics.value(
            "rmt_consumer_lag", topic="rmt.partner.uwv.outbox", partition="3", group="rmt-router"
        )
        == 17
    )
    assert metrics.value("rmt_records_out_total", topic="nothing", partner="x") == 0


def test_instances_are_isolated_and_the_process_has_one() -> None:
    first, second = HubMetrics(), HubMetrics()
    first.consent_decision("allowed")
    assert second.value("rmt_consent_decisions_total", outcome="allowed") == 0
    assert process_metrics() is process_metrics()


@pytest.mark.parametrize("value", ["111222333", "1112 22 333", "12345678"])
def test_a_bsn_is_never_a_label_value(value: str) -> None:
    with pytest.raises(ValueError, match="citizen service number"):
        HubMetrics(process_collectors=False).record_in("topic", value)


def test_metrics_healthz_readyz_over_http() -> None:
    metrics = HubMetrics()
    ready = {"flag": True}

    def store() -> None:
        if not ready["flag"]:
            raise BrokerUnavailable("store is closed")

    app = FastAPI()
    app.include_router(observability_router(metrics, {"store": store}))
    with (
        HttpServer(app, name="observability-test") as server,
        httpx.Client(base_url=server.url) as client,
    ):
        metrics.record_out("t", "uwv")
        scraped = client.get("/metrics")
        assert scraped.status_code == 200
        assert scraped.headers["content-type"].startswith("text/plain")
        assert 'rmt_records_out_total{partner="uwv",topic="t"} 1.0' in scraped.text
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {"status": "ready", "checks": {"store": "ok"}}
        ready["flag"] = False
        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json() == {
            "status": "not_ready",
            "checks": {"store": "failed: BrokerUnavailable: store is closed"},
        }
        assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_the_broker_check_connects() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        up = HubSettings(bootstrap_servers=f"127.0.0.1:{_closed_port()},127.0.0.1:{port}")
        broker_check(up)()  # the second server answers
    down = HubSettings(bootstrap_servers=f"127.0.0.1:{_closed_port()}")
    ok, results = run_checks({"broker": broker_check(down, timeout_s=0.5)})
    assert not ok
    assert results["broker"].startswith("failed: BrokerUnavailable: no bootstrap server")


def test_other_errors_do_not_leak_their_message() -> None:
    def leaky() -> None:
        raise RuntimeError("postgresql://user:secret@db/x refused")

    ok, results = run_checks({"db": leaky})
    assert not ok
    assert results == {"db": "failed: RuntimeError"}
