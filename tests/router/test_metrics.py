"""The router worker's /metrics, /healthz and /readyz over real HTTP: records in, out and
dead-lettered, consent decisions and the latency histogram move as records are routed."""

from __future__ import annotations

import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.router.runtime import RouterProcess
from schemas.models.enums import DeadLetterReason
from schemas.vocabulary import DataCategory, Purpose
from tests.router.helpers import records
from tests.router.helpers.hubtest import Hub, delivered_ids

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

GEMEENTE = "gemeente-amsterdam"
LABOUR_MARKET = (
    DataCategory.IDENTITY,
    DataCategory.CONTACT,
    DataCategory.RESIDENCE,
    DataCategory.LABOUR_MARKET_PROFILE,
    DataCategory.EDUCATION,
    DataCategory.BENEFIT_STATUS,
)


def base_url(worker: RouterProcess, timeout_s: float = 30.0) -> str:
    """The worker's metrics endpoint, from the port it reports in its status."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = worker.status()
        if status and status.get("metrics_port"):
            return f"http://127.0.0.1:{status['metrics_port']}"
        assert worker.running, f"router worker exited with code {worker.returncode}"
        time.sleep(0.1)
    raise AssertionError("the worker reported no metrics port")


def scrape(url: str) -> Samples:
    response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_worker_serves_metrics_that_move_with_the_records_it_routes(hub: Hub) -> None:
    worker = hub.worker(metrics_port=0)
    url = base_url(worker)
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    worker.wait_ready(60)
    deadline = time.monotonic() + 30
    while (ready := httpx.get(f"{url}/readyz", timeout=10)).status_code != 200:
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.1)
    assert ready.json()["checks"] == {"partitions": "ok"}

    outbox = hub.catalogue.outbox("uwv").name
    inbox = hub.catalogue.inbox(GEMEENTE).name
    before = scrape(url)

    who = records.subject()
    hub.grant(who, to=[GEMEENTE], purposes=[Purpose.ARRANGEMENT], categories=LABOUR_MARKET)
    good = records.profile(who)
    bad = records.profile(who, municipality_code="9999")
    hub.publish(good)
    hub.publish(bad)
    hub.wait_dead_letter(bad.event_id)
    hub.wait_for(
        lambda: hub.inbox(GEMEENTE),
        lambda rs: good.event_id in delivered_ids(rs),
        what="the profile in the gemeente's inbox",
    )

    reason = DeadLetterReason.MUNICIPALITY_UNKNOWN.value.lower()
    deadline = time.monotonic() + 15
    while True:  # the counters move once the batch's writes are acknowledged
        after = scrape(url)

        def moved(name: str, /, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)  # noqa: B023

        checks = {
            "in": moved("rmt_records_in_total", topic=outbox, partner="uwv") >= 2,
            "out": moved("rmt_records_out_total", topic=inbox, partner=GEMEENTE) >= 1,
            "dead": moved(
                "rmt_records_dead_lettered_total", topic=outbox, partner="uwv", reason=reason
            )
            >= 1,
            "decisions": moved("rmt_consent_decisions_total", outcome="partial")
            + moved("rmt_consent_decisions_total", outcome="allowed")
            >= 1,
            "latency": moved("rmt_delivery_latency_seconds_count") >= 1,
        }
        if all(checks.values()):
            break
        assert time.monotonic() < deadline, checks
        time.sleep(0.2)
    # the rejection notice goes to the publisher's own inbox
    assert moved("rmt_records_out_total", topic=hub.catalogue.inbox("uwv").name, partner="uwv") >= 1
    lag = [
        v
        for (name, labels), v in after.items()
        if name == "rmt_consumer_lag" and dict(labels)["topic"] == outbox
    ]
    assert lag, "no consumer lag reported for the outbox"
    assert all(v >= 0 for v in lag)
    assert any(name.startswith("process_") for name, _ in after)
