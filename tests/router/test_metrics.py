"""The router worker's /metrics, /healthz and /readyz over real HTTP: records in, out and
dead-lettered, consent decisions and the latency histogram move as records are routed."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.router.runtime import RouterProcess
from schemas.models.enums import DeadLetterReason
from schemas.vocabulary import DataCategory, Purpose
from tests.helpers.waiting import wait_until
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

    def port() -> int | None:
        status = worker.status()
        if status and status.get("metrics_port"):
            return int(status["metrics_port"])
        assert worker.running, f"router worker exited with code {worker.returncode}"
        return None

    found = wait_until(port, timeout_s=timeout_s, what="the worker reports its metrics port")
    return f"http://127.0.0.1:{found}"


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

    def readyz() -> httpx.Response | None:
        response = httpx.get(f"{url}/readyz", timeout=10)
        return response if response.status_code == 200 else None

    ready = wait_until(readyz, timeout_s=30, what="/readyz answers 200")
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
    checks: dict[str, bool] = {}

    def moved(after: Samples, name: str, /, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    def counters_moved() -> Samples | None:  # they move once the writes are acknowledged
        after = scrape(url)
        checks.update(
            {
                "in": moved(after, "rmt_records_in_total", topic=outbox, partner="uwv") >= 2,
                "out": moved(after, "rmt_records_out_total", topic=inbox, partner=GEMEENTE) >= 1,
                "dead": moved(
                    after,
                    "rmt_records_dead_lettered_total",
                    topic=outbox,
                    partner="uwv",
                    reason=reason,
                )
                >= 1,
                "decisions": moved(after, "rmt_consent_decisions_total", outcome="partial")
                + moved(after, "rmt_consent_decisions_total", outcome="allowed")
                >= 1,
                "latency": moved(after, "rmt_delivery_latency_seconds_count") >= 1,
            }
        )
        return after if all(checks.values()) else None

    after = wait_until(counters_moved, timeout_s=15, what=lambda: str(checks), interval_s=0.2)
    # the rejection notice goes to the publisher's own inbox
    publisher = hub.catalogue.inbox("uwv").name
    assert moved(after, "rmt_records_out_total", topic=publisher, partner="uwv") >= 1
    lag = [
        v
        for (name, labels), v in after.items()
        if name == "rmt_consumer_lag" and dict(labels)["topic"] == outbox
    ]
    assert lag, "no consumer lag reported for the outbox"
    assert all(v >= 0 for v in lag)
    assert any(name.startswith("process_") for name, _ in after)
